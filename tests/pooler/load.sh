#!/bin/sh
# SPDX-License-Identifier: MIT
# ctest pooler_load: bench/load.sh at a smaller size through PgBouncer (transaction mode, two
# server connections): 8 processes x 200 Odoo deliveries, 20 % duplicates racing across
# processes, 150 overlapping contacts; exact counts, no failure. Skipped (77) without a pooler.
# Arguments: the load driver and the fastepost CLI that the build made.
if [ -z "${FASTEPOST_TEST_POOLER_DSN:-}" ]; then
  echo "SKIPPED: no PgBouncer (run: scripts/with-postgres --pgbouncer ctest -L pooler)"
  exit 77
fi
LOAD_DRIVER=$1 LOAD_CLI=$2 LOAD_VIA=pooler
export LOAD_DRIVER LOAD_CLI LOAD_VIA
exec bash "$(dirname "$0")/../../bench/load.sh" 8 200 150
