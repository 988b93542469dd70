#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a standby suite when scripts/with-postgres --standby started a hot standby; otherwise tell
# ctest it was skipped (77), so a run without one reports a skip, never a pass.
if [ -z "${FASTEPOST_TEST_STANDBY_DSN:-}" ]; then
  echo "SKIPPED: no hot standby (run: scripts/with-postgres --standby ctest -L standby)"
  exit 77
fi
exec "$@"
