#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The example alert rules (examples/prometheus) are valid and fire when they should:
# `promtool check rules` and `promtool test rules` from Debian's prometheus package
# (scripts/deps metrics). Without promtool: skipped (77), never passed.
set -euo pipefail
dir=$1/examples/prometheus
command -v promtool >/dev/null || { echo "skipped: promtool is not installed (scripts/deps metrics)"; exit 77; }
promtool check rules "$dir/fastepost-alerts.yml"
cd "$dir" && promtool test rules fastepost-alerts.test.yml
