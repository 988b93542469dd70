#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The front of every CRM's webhook path side by side (bench/webhook_front.c): verify, parse,
# answer, per source, in µs per request and as a ratio to Odoo's. No database needed.
#
#   bench/webhook_front.sh [N=20000] [ROUNDS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build="$root/build/bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target fastepost >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I "$root/include" -I "$build/include" -Wall -Wextra -Werror \
  bench/webhook_front.c -L "$build" -lfastepost -Wl,-rpath,"$build" -o "$build/webhook_front"
"$build/webhook_front" "$root" "${1:-20000}" "${2:-5}"
