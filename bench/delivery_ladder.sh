#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What bounds a single delivery, step by step, against the durable-write floor (issue 18 item 1;
# by hand, never in ctest):
#
#   scripts/with-postgres --durable bench/delivery_ladder.sh [BUILD=build/pybench] [N=2000] [ROUNDS=3]
#
# Each round, on the emptied and seeded tables of one database (bench_empty in bench/lib.sh),
# interleaved, N transactions each, one client, fsync on:
#   floor   pgbench, bench/pgbench_upsert.sql: one INSERT ... ON CONFLICT per transaction;
#   rows    pgbench -M prepared, bench/pgbench_delivery_rows.sql: the rows a delivery writes and
#           nothing else, in one round trip (the bound of any implementation);
#   calls1  pgbench -M prepared, bench/pgbench_delivery_calls.sql in one round trip: the
#           library's statements with no client work and the decision made nowhere;
#   calls2  the same in two round trips, as the library sends them on a direct connection;
#   calls2x the same unnamed (-M extended), as it sends them through a transaction pooler;
#   python  N distinct deliveries through the Python binding (bench/odoo_ingest_python.py).
# Prints each round, then the medians and each as a ratio to the floor.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
build=${1:-build/pybench} n=${2:-2000} rounds=${3:-3}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }
py=$(bench_python "$build") || exit 2
work=$(mktemp -d)
db=fpbench_ladder
trap 'rm -rf "$work"; dropdb --if-exists "$db" 2>/dev/null || true' EXIT
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$build/fastepost" --db "dbname=$db" schema install >/dev/null
# One round trip: the calls without the pipeline break between the two rounds.
awk '/^\\endpipeline$/ && !done {getline; done = 1; next} {print}' bench/pgbench_delivery_calls.sql \
  >"$work/calls1.sql"
tps() { # mode script
  local out
  out=$(pgbench -n -c 1 -t "$n" -M "$1" -f "$2" "$db" 2>&1) || { echo "$out" >&2; exit 1; }
  awk '/^tps/ {printf "%.0f", $3; exit}' <<<"$out"
}
floor() { tps simple bench/pgbench_upsert.sql; }
rows() { tps prepared bench/pgbench_delivery_rows.sql; }
calls1() { tps prepared "$work/calls1.sql"; }
calls2() { tps prepared bench/pgbench_delivery_calls.sql; }
calls2x() { tps extended bench/pgbench_delivery_calls.sql; }
python() { PYTHONPATH="$build/bindings/python" "$py" bench/odoo_ingest_python.py "dbname=$db" "$n" | xargs printf '%.0f'; }
steps=(floor rows calls1 calls2 calls2x python)
declare -A got
echo "fsync=$(psql -X -At -d "$db" -c 'SHOW fsync'), $n per run, $rounds rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
bench_rounds "$db" "$rounds" "${steps[@]}"
mf=$(median <<<"${got[floor]}")
for m in "${steps[@]}"; do
  mm=$(median <<<"${got[$m]}")
  printf '%-8s median %6s /s  %s x the floor\n' "$m" "$mm" "$(ratio "$mm" "$mf")"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
