#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 13's benchmarks, side by side in one run (by hand, never in ctest), fsync on:
#
#   scripts/with-postgres --durable --pgbouncer bench/pooler.sh [BASELINE=/work/wt/baseline]
#
# Environment: ROUNDS (3), PER (1000: deliveries per single-process run), PER8 (250 per process
# in the 8-process runs), BIG_CUSTOMERS (1000000), BIG_EVENTS (10000000).
#   1. direct, one process, one transaction per delivery (bench/load_driver.c): this tree against
#      BASELINE (the tree before the issue, built in BASELINE/build/bench-pooler, its own
#      driver), and the pgbench one-upsert floor. Targets: this >= baseline, this >= 0.5 x floor.
#   2. 8 processes direct and through PgBouncer (transaction mode, 2 server connections).
#      Target: pooled >= 0.8 x direct.
#   3. one process on empty tables and on BIG_CUSTOMERS customers (emails, phones) +
#      BIG_EVENTS events (generated with SQL). Target: within 10 %; CRM statistics < 10 ms there.
# The machine is shared and its disk noisy: the runs of each comparison are interleaved over
# ROUNDS rounds; medians and the ratio of medians are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
baseline=${1:-/work/wt/baseline}
rounds=${ROUNDS:-3} per=${PER:-1000} per8=${PER8:-250}
big_customers=${BIG_CUSTOMERS:-1000000} big_events=${BIG_EVENTS:-10000000}
[[ -n "${FASTEPOST_TEST_POOLER_DSN:-}" ]] || { echo "run me inside scripts/with-postgres --durable --pgbouncer" >&2; exit 2; }

. bench/lib.sh # bench_build, bench_cc, rate, median, ratio
build="$root/build/bench"
bench_build "$root" "$build"
bench_cc "$root" "$build" bench/load_driver.c "$build/load_driver"
bench_cc "$root" "$build" bench/crm_stats_driver.c "$build/crm_stats_driver" -I "$(pg_config --includedir)" -lpq
bbuild="$baseline/build/bench-pooler"
bench_build "$baseline" "$bbuild"
bench_cc "$baseline" "$bbuild" "$baseline/bench/load_driver.c" "$bbuild/load_driver"

q() { psql -X -qAt -d "$1" -c "$2"; }
for db in fpb_cur fpb_base fpb_big; do
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  createdb "$db"
done
"$build/fastepost" --db "dbname=fpb_cur" schema install >/dev/null
"$build/fastepost" --db "dbname=fpb_big" schema install >/dev/null
"$bbuild/fastepost" --db "dbname=fpb_base" schema install >/dev/null


work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the pgbench floor: one upsert per transaction, shared by the benchmarks
cp bench/pgbench_upsert.sql "$work/upsert.sql"

echo "fsync=$(q postgres 'SHOW fsync') synchronous_commit=$(q postgres 'SHOW synchronous_commit') rounds=$rounds"
echo "== 1. direct, one process, $per deliveries: this tree, baseline, pgbench floor"
cur=() base=() floor=()
for ((r = 0; r < rounds; r++)); do
  bench_empty fpb_cur; bench_empty fpb_base
  cur+=("$(rate "$build/load_driver" "dbname=fpb_cur" 1 "$per")")
  base+=("$(rate "$bbuild/load_driver" "dbname=fpb_base" 1 "$per")")
  floor+=("$(pgbench -n -c 1 -t "$per" -f "$work/upsert.sql" fpb_cur 2>/dev/null | sed -nE 's/^tps = ([0-9.]+).*/\1/p' | xargs printf '%.0f')")
  echo "   round $((r + 1)): this ${cur[-1]}/s  baseline ${base[-1]}/s  pgbench ${floor[-1]} tps"
done
m_cur=$(echo "${cur[*]}" | median) m_base=$(echo "${base[*]}" | median) m_floor=$(echo "${floor[*]}" | median)
echo "   medians: this $m_cur/s, baseline $m_base/s, floor $m_floor tps; this/baseline $(ratio "$m_cur" "$m_base"), this/floor $(ratio "$m_cur" "$m_floor")"

echo "== 2. 8 processes x $per8: direct and through PgBouncer (2 server connections)"
direct=() pooled=()
for ((r = 0; r < rounds; r++)); do
  bench_empty fpb_cur
  direct+=("$(rate "$build/load_driver" "dbname=fpb_cur" 8 "$per8")")
  bench_empty fpb_cur
  pooled+=("$(rate "$build/load_driver" "$FASTEPOST_TEST_POOLER_DSN dbname=fpb_cur" 8 "$per8")")
  echo "   round $((r + 1)): direct ${direct[-1]}/s  pooled ${pooled[-1]}/s"
done
m_d=$(echo "${direct[*]}" | median) m_p=$(echo "${pooled[*]}" | median)
echo "   medians: direct $m_d/s, pooled $m_p/s; pooled/direct $(ratio "$m_p" "$m_d")"

echo "== 3. $big_customers customers + $big_events events already there, against empty tables"
t0=$(date +%s)
q fpb_big "INSERT INTO customers (name, email, phone, company, crm_source, crm_id, crm_updated_at, last_synced_at, created_at, updated_at)
  SELECT 'Big ' || g, 'b' || g || '@big.example', '+4930' || (g % 200000), 'Co ' || (g % 5000), 'odoo',
  'res.partner:' || (g + 100000000), now(), now(), now(), now() FROM generate_series(1, $big_customers) g" >/dev/null
q fpb_big "INSERT INTO integration_events (source, event_type, status, outcome, external_id, idempotency_key, customer_id, attempts, processed_at, created_at, updated_at)
  SELECT CASE WHEN g % 3 = 0 THEN 'hubspot' ELSE 'odoo' END, 'res.partner', CASE WHEN g % 100 = 0 THEN 'error' ELSE 'success' END,
  'updated', 'res.partner:' || (g % $big_customers + 100000000), 'big:' || g, g % $big_customers + 1, 1,
  now() - make_interval(secs => g % 2592000), now() - make_interval(secs => g % 2592000), now()
  FROM generate_series(1, $big_events) g" >/dev/null
q fpb_big "VACUUM ANALYZE" >/dev/null
echo "   generated in $(( $(date +%s) - t0 )) s: $(q fpb_big 'SELECT count(*) FROM customers') customers, $(q fpb_big 'SELECT count(*) FROM integration_events') events"
max_c=$(q fpb_big "SELECT max(id) FROM customers") max_e=$(q fpb_big "SELECT max(id) FROM integration_events")
unbig() {
  q fpb_big "DELETE FROM remarks; DELETE FROM customers WHERE id > $max_c; DELETE FROM integration_events WHERE id > $max_e" >/dev/null
}
empty=() big=()
for ((r = 0; r < rounds; r++)); do
  bench_empty fpb_cur; unbig
  empty+=("$(rate "$build/load_driver" "dbname=fpb_cur" 1 "$per")")
  big+=("$(rate "$build/load_driver" "dbname=fpb_big" 1 "$per")")
  echo "   round $((r + 1)): empty ${empty[-1]}/s  big ${big[-1]}/s"
done
m_e=$(echo "${empty[*]}" | median) m_b=$(echo "${big[*]}" | median)
echo "   medians: empty $m_e/s, big $m_b/s; big/empty $(ratio "$m_b" "$m_e")"
echo "   CRM statistics on the big tables:"
"$build/crm_stats_driver" "dbname=fpb_big" 50 3 | sed 's/^/   /'
for db in fpb_cur fpb_base fpb_big; do psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)"; done
