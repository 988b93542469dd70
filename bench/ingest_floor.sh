#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Single-delivery ingest against the durable-write floor, side by side (issue 18 item 1; by
# hand, never in ctest):
#
#   scripts/with-postgres --durable bench/ingest_floor.sh [BUILD=build/pybench] [N=2000] [ROUNDS=5]
#
# BUILD is a build tree with the Python binding (Release: see "Odoo ingest through the Python
# binding" in bench/README.md). Each round, on the emptied and seeded tables of one database
# (bench_empty in bench/lib.sh):
#   (a) pgbench, one client: N x bench/pgbench_upsert.sql, one INSERT ... ON CONFLICT DO UPDATE
#       per transaction (the floor);
#   (b) the Python binding: N distinct Odoo deliveries through conn.odoo_process(), one
#       transaction each, with a remark each (bench/odoo_ingest_python.py);
#   (c) the C API: bench/load_driver.c, one process, N deliveries over N contacts (a fifth of
#       them redeliveries, logged as duplicates, as in bench/load.sh).
# The order of (a), (b), (c) rotates from round to round, so that a slow minute of the shared
# disk does not always fall on the same one. Prints each round, the medians and (b)/(a),
# (c)/(a).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
build=${1:-build/pybench} n=${2:-2000} rounds=${3:-5}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }
py=$(bench_python "$build") || exit 2
work=$(mktemp -d)
db=fpbench_floor
trap 'rm -rf "$work"; dropdb --if-exists "$db" 2>/dev/null || true' EXIT
bench_cc "$PWD" "$(cd "$build" && pwd)" bench/load_driver.c "$work/load_driver"
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$build/fastepost" --db "dbname=$db" schema install >/dev/null
floor() { pgbench -n -c 1 -t "$n" -f bench/pgbench_upsert.sql "$db" 2>/dev/null | awk '/^tps/ {printf "%.0f", $3; exit}'; }
python() { PYTHONPATH="$build/bindings/python" "$py" bench/odoo_ingest_python.py "dbname=$db" "$n" | xargs printf '%.0f'; }
capi() { rate "$work/load_driver" "dbname=$db" 1 "$n"; }
echo "fsync=$(psql -X -At -d "$db" -c 'SHOW fsync'), $n per run, $rounds rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A got
bench_rounds "$db" "$rounds" floor python capi
mf=$(median <<<"${got[floor]}") mp=$(median <<<"${got[python]}") mc=$(median <<<"${got[capi]}")
echo "medians: (a) pgbench floor $mf tps, (b) Python binding $mp /s, (c) C API $mc /s"
echo "(b)/(a) $(ratio "$mp" "$mf")   (c)/(a) $(ratio "$mc" "$mf")   load $(cut -d' ' -f1-3 /proc/loadavg)"
