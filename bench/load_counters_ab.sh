#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The server's cost of the sync functions with the counter triggers (schema version 12) against
# the functions that count their own rows (version 13), side by side (by hand, never in ctest):
#
#   scripts/with-postgres bench/load_counters_ab.sh [CALLS=5000] [ROUNDS=5]
#
# Two databases of one server: one at version 12 (migrations 1-12 of this tree's schema SQL),
# one at the latest version. pgbench calls fastepost_sync_apply (a new customer and its event
# row, as a created delivery does) CALLS times in each, interleaved over ROUNDS rounds; the disk
# is out of the measure when run without --durable (fsync off). Prints tps per round and the
# ratio of the medians (latest / version 12).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
calls=${1:-5000} rounds=${2:-5}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres" >&2; exit 2; }
. bench/lib.sh
build="$root/build/bench"
bench_build "$root" "$build"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/fastepost" schema sql >"$work/all.sql"
sed '/^-- migration 13:/,$d' "$work/all.sql" >"$work/v12.sql"
for db in fpab12 fpab13; do dropdb --if-exists "$db"; createdb "$db"; done
psql -X -q -1 -d fpab12 -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -f "$work/v12.sql" >/dev/null
"$build/fastepost" --db "dbname=fpab13" schema install >/dev/null
cat >"$work/apply.sql" <<'SQL'
\set k random(1, 1000000000)
BEGIN;
SELECT pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true);
SELECT * FROM fastepost_sync_apply('0', 'odoo', 'res.partner', 'res.partner:' || :k, 'odoo:' || :k,
  '{"id": 1, "name": "Contact", "email": "c@example.com", "write_date": "2026-01-01 10:00:00"}', NULL,
  'create', NULL, 'Contact ' || :k, 'c' || :k || '@example.com', NULL, NULL, NULL, NULL, 'odoo',
  'res.partner:' || :k, '2026-01-01 10:00:00', 'true', NULL, 'false', NULL, NULL);
COMMIT;
SQL
tps() { pgbench -n -M extended -c 1 -t "$calls" -f "$work/apply.sql" "$1" 2>/dev/null | sed -nE 's/^tps = ([0-9.]+).*/\1/p'; }
a=() b=()
for ((r = 1; r <= rounds; r++)); do
  a+=("$(tps fpab12)"); b+=("$(tps fpab13)")
  echo "round $r: version 12 ${a[-1]} tps, latest ${b[-1]} tps"
done
for db in fpab12 fpab13; do
  echo "$db counters exact: $(psql -X -qAt -d "$db" -c "SELECT (SELECT sum(n) FROM fastepost_event_counts) = (SELECT count(*) FROM integration_events) AND (SELECT sum(n) FROM fastepost_row_counts WHERE counter = 'customers_crm_synced') = (SELECT count(crm_id) FROM customers)")"
done
ma=$(median <<<"${a[*]}") mb=$(median <<<"${b[*]}")
echo "median: version 12 $ma tps, latest $mb tps, latest / version 12 $(ratio "$mb" "$ma")"
for db in fpab12 fpab13; do dropdb "$db"; done
