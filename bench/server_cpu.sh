#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Where a single delivery's time goes: the server's CPU per delivery against the pgbench floor's
# per transaction, and the client's, side by side (by hand, never in ctest; issues 13 and 18):
#
#   scripts/with-postgres --durable bench/server_cpu.sh [BUILD=build/pybench] [N=2000] [ROUNDS=3]
#   FASTEPOST_PG_CONF="shared_preload_libraries = 'pg_stat_statements'
#   pg_stat_statements.track = all
#   pg_stat_statements.track_planning = on" scripts/with-postgres --durable bench/server_cpu.sh ...
#
# BUILD has the Python binding (see bench/ingest_floor.sh). Each round, on emptied and vacuumed
# tables (as bench/ingest_floor.sh, so that a plan made on empty tables shows): N distinct Odoo
# deliveries through the Python binding (bench/odoo_ingest_python.py), then N pgbench
# transactions of bench/pgbench_upsert.sql. Server CPU is the user + system time of every
# PostgreSQL process (backends, WAL writer, checkpointer, autovacuum; a backend that exited is
# in the postmaster's children's time), from /proc, divided by N; client CPU is the Python
# process's. With pg_stat_statements loaded (second form) it then prints the statements of one
# more run by server time per delivery, nested ones (inside the sync functions) included.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh # bench_empty, bench_python
build=${1:-build/pybench} n=${2:-2000} rounds=${3:-3}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 2; }
py=$(bench_python "$build") || exit 2
db=fpbench_cpu
times=$(mktemp)
trap 'rm -f "$times"; dropdb --if-exists "$db" 2>/dev/null || true' EXIT
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$build/fastepost" --db "dbname=$db" schema install >/dev/null
tick=$(getconf CLK_TCK)
# CPU seconds of the server's processes so far, in clock ticks (utime, stime, cutime, cstime).
server_ticks() {
  local s=0 p
  for p in $(pgrep -u "$(stat -c %U "$PGHOST")" -f postgres); do
    s=$((s + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$s"
}
per() { echo "($2 - $1) * 1000 / $tick / $n" | bc -l | xargs printf '%.3f'; } # ms per delivery
deliver=(env PYTHONPATH="$build/bindings/python" "$py" bench/odoo_ingest_python.py "dbname=$db" "$n")
echo "fsync=$(psql -X -At -d "$db" -c 'SHOW fsync'), $n per run, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
  bench_empty "$db"
  a=$(server_ticks)
  rate=$(/usr/bin/time -f '%U %S' -o "$times" "${deliver[@]}")
  b=$(server_ticks)
  read -r cu cs <"$times"
  c=$(server_ticks)
  tps=$(pgbench -n -c 1 -t "$n" -f bench/pgbench_upsert.sql "$db" 2>/dev/null | awk '/^tps/ {printf "%.0f", $3}')
  d=$(server_ticks)
  printf 'round %d: Python %.0f /s, server CPU %s ms per delivery, client CPU %s ms; floor %s tps, server CPU %s ms per transaction\n' \
    "$r" "$rate" "$(per "$a" "$b")" "$(echo "($cu + $cs) * 1000 / $n" | bc -l | xargs printf '%.3f')" \
    "$tps" "$(per "$c" "$d")"
done
if psql -X -At -d "$db" -c "SHOW shared_preload_libraries" | grep -q pg_stat_statements; then
  psql -X -q -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
  bench_empty "$db"
  psql -X -q -d "$db" -c "SELECT pg_stat_statements_reset()" >/dev/null
  "${deliver[@]}" >/dev/null
  psql -X -d "$db" -c "SELECT calls, round((total_exec_time / $n)::numeric, 4) AS exec_ms, \
    round((total_plan_time / $n)::numeric, 4) AS plan_ms, toplevel, \
    left(regexp_replace(query, '\s+', ' ', 'g'), 80) AS statement FROM pg_stat_statements \
    WHERE query !~ 'pg_stat_statements' ORDER BY total_exec_time + total_plan_time DESC LIMIT 16"
fi
