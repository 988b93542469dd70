#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a database suite through PgBouncer in transaction mode: the suite's FASTEPOST_TEST_DSN is
# replaced by the pooler's, which scripts/with-postgres --pgbouncer exports. Without a pooler,
# tell ctest it was skipped (77), so a run without one reports a skip, never a pass.
if [ -z "${FASTEPOST_TEST_POOLER_DSN:-}" ]; then
  echo "SKIPPED: no PgBouncer (run: scripts/with-postgres --pgbouncer ctest -L pooler)"
  exit 77
fi
FASTEPOST_TEST_DSN=$FASTEPOST_TEST_POOLER_DSN
export FASTEPOST_TEST_DSN
exec "$@"
