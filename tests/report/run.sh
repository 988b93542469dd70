#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the report suite when chromium is installed; otherwise tell ctest it was skipped (77).
if ! command -v chromium >/dev/null 2>&1; then
  echo "SKIPPED: chromium is not installed (install it with: scripts/deps report)"
  exit 77
fi
exec "$@"
