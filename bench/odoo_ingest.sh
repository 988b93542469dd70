#!/usr/bin/env bash
# Odoo ingestion benchmark (by hand, never in ctest). Run it with fsync on:
#
#   scripts/with-postgres --durable bench/odoo_ingest.sh [EVENTS] [BATCH]
#
# One connection, a stream of distinct deliveries (70% res.partner, 30% crm.lead), side by side:
#   (a) pgbench, one INSERT ... ON CONFLICT DO UPDATE into customers per transaction (the floor
#       of one durable write per event),
#   fastepost single   fastepost_odoo_process(), one transaction per delivery,
#   fastepost batch    fastepost_odoo_process_batch(), BATCH deliveries per transaction,
#   (b) the ActiveRecord service in ../shared/bench/activerecord_odoo.rb (when Ruby and
#       ruby-activerecord are installed: scripts/deps bench).
# Targets: single >= 0.5 x (a) and >= 10 x (b); batch >= 2 x single.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
events=${1:-2000}
batch=${2:-50}
shared=${FASTEPOST_SHARED_DIR:-$root/../shared}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }

build="$root/build/bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I "$root/include" -I "$build/include" \
  -Wall -Wextra -Werror bench/odoo_ingest.c -L "$build" -lfastepost -Wl,-rpath,"$build" -o "$build/odoo_ingest"
driver="$build/odoo_ingest"

db=fpbench
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$build/fastepost" --db "dbname=$db" schema install >/dev/null
reset_tables() { psql -X -q -d "$db" -c "TRUNCATE customers, remarks, tasks, integration_events RESTART IDENTITY CASCADE"; }
echo "fsync=$(psql -X -At -d "$db" -c 'SHOW fsync') synchronous_commit=$(psql -X -At -d "$db" -c 'SHOW synchronous_commit')"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/upsert.sql" <<'SQL'
\set id random(1, 1000000000)
INSERT INTO customers (crm_source, crm_id, name, email, last_synced_at)
VALUES ('pgbench', 'res.partner:' || :id, 'Contact ' || :id, 'pg' || :id || '@bench.example', now())
ON CONFLICT (crm_source, crm_id) WHERE crm_id IS NOT NULL
DO UPDATE SET name = EXCLUDED.name, last_synced_at = EXCLUDED.last_synced_at;
SQL

echo "==> (a) pgbench: one INSERT ... ON CONFLICT DO UPDATE per transaction, 1 connection, $events transactions"
pg_tps=$(pgbench -n -c 1 -t "$events" -f "$work/upsert.sql" "$db" 2>/dev/null | awk '/^tps/ {print $3; exit}')
echo "pgbench: $pg_tps tps"
reset_tables

echo "==> fastepost single: $events deliveries"
single=$("$driver" single "dbname=$db" "$events" 1000000)
echo "$single"
single_rate=$(sed -E 's/.*= ([0-9.]+) events.*/\1/' <<<"$single")
reset_tables

echo "==> fastepost batch: $events deliveries, $batch per batch"
batched=$("$driver" batch "dbname=$db" "$events" 1000000 "$batch")
echo "$batched"
batch_rate=$(sed -E 's/.*= ([0-9.]+) events.*/\1/' <<<"$batched")
reset_tables

ar_rate=""
if ruby -e 'require "active_record"; require "pg"' 2>/dev/null && [[ -f "$shared/bench/activerecord_odoo.rb" ]]; then
  echo "==> (b) ActiveRecord baseline: $events deliveries"
  "$driver" generate "$events" 1000000 >"$work/payloads.ndjson"
  ar=$(PGUSER=${PGUSER:-postgres} ruby "$shared/bench/activerecord_odoo.rb" "postgresql:///$db" "$work/payloads.ndjson")
  echo "$ar"
  ar_rate=$(sed -E 's/.*= ([0-9.]+) events.*/\1/' <<<"$ar")
  reset_tables
else
  echo "==> (b) ActiveRecord baseline skipped (scripts/deps bench installs ruby-activerecord ruby-pg)"
fi

echo
echo "==> Results (events/s on one connection, fsync on)"
printf '  %-28s %10s\n' "pgbench upsert (a)" "$pg_tps" "fastepost single" "$single_rate" \
  "fastepost batch ($batch)" "$batch_rate"
[[ -n "$ar_rate" ]] && printf '  %-28s %10s\n' "ActiveRecord (b)" "$ar_rate"
awk -v s="$single_rate" -v b="$batch_rate" -v a="$pg_tps" -v r="${ar_rate:-0}" 'BEGIN {
  printf "  single / pgbench      = %.2f  (target >= 0.5)\n", s / a
  printf "  batch / single        = %.2f  (target >= 2)\n", b / s
  printf "  batch / pgbench       = %.2f\n", b / a
  if (r > 0) {
    printf "  single / ActiveRecord = %.1f  (target >= 10)\n", s / r
    printf "  batch / ActiveRecord  = %.1f\n", b / r
  }
}'
