#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Odoo ingestion benchmark (by hand, never in ctest). Run it with fsync on:
#
#   scripts/with-postgres --durable bench/odoo_ingest.sh [EVENTS=3000] [BATCH=50]   (ROUNDS=3)
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
events=${1:-3000}
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
# the pgbench floor: one upsert per transaction, shared by the benchmarks
cp bench/pgbench_upsert.sql "$work/upsert.sql"

# The disk is often shared, so fsync costs drift during a run: the four measurements are
# interleaved over ROUNDS rounds and each rate is total events / total time.
rounds=${ROUNDS:-3}
per=$(( (events + rounds - 1) / rounds ))
have_ar=0
if ruby -e 'require "active_record"; require "pg"' 2>/dev/null && [[ -f "$shared/bench/activerecord_odoo.rb" ]]; then
  have_ar=1
else
  echo "(b) ActiveRecord baseline skipped (scripts/deps bench installs ruby-activerecord ruby-pg)"
fi
rate_of() { sed -E 's/.*= ([0-9.]+) events.*/\1/'; }
t_pg=0 t_single=0 t_batch=0 t_ar=0
for ((r = 0; r < rounds; r++)); do
  reset_tables
  echo "==> round $((r + 1))/$rounds: $per deliveries each"
  tps=$(pgbench -n -c 1 -t "$per" -f "$work/upsert.sql" "$db" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  echo "  pgbench upsert (a):   $tps tps"
  t_pg=$(awk -v t="$t_pg" -v n="$per" -v r="$tps" 'BEGIN {print t + n / r}')
  out=$("$driver" single "dbname=$db" "$per" $((1000000 + r * per)))
  echo "  $out"
  t_single=$(awk -v t="$t_single" -v n="$per" -v r="$(rate_of <<<"$out")" 'BEGIN {print t + n / r}')
  out=$("$driver" batch "dbname=$db" "$per" $((2000000 + r * per)) "$batch")
  echo "  $out"
  t_batch=$(awk -v t="$t_batch" -v n="$per" -v r="$(rate_of <<<"$out")" 'BEGIN {print t + n / r}')
  if [[ $have_ar -eq 1 ]]; then
    "$driver" generate "$per" $((3000000 + r * per)) >"$work/payloads.ndjson"
    out=$(PGUSER=${PGUSER:-postgres} ruby "$shared/bench/activerecord_odoo.rb" "postgresql:///$db" "$work/payloads.ndjson")
    echo "  $out"
    t_ar=$(awk -v t="$t_ar" -v n="$per" -v r="$(rate_of <<<"$out")" 'BEGIN {print t + n / r}')
  fi
done
reset_tables

total=$((per * rounds))
awk -v n="$total" -v a="$t_pg" -v s="$t_single" -v b="$t_batch" -v r="$t_ar" -v bs="$batch" 'BEGIN {
  printf "\n==> Results: %d deliveries per method, events/s on one connection, fsync on\n", n
  printf "  %-26s %8.1f\n", "pgbench upsert (a)", n / a
  printf "  %-26s %8.1f\n", "fastepost single", n / s
  printf "  %-26s %8.1f\n", "fastepost batch (" bs ")", n / b
  if (r > 0) printf "  %-26s %8.1f\n", "ActiveRecord (b)", n / r
  printf "  single / pgbench      = %.2f  (target >= 0.5)\n", a / s
  printf "  batch / single        = %.2f  (target >= 2)\n", s / b
  printf "  batch / pgbench       = %.2f\n", a / b
  if (r > 0) {
    printf "  single / ActiveRecord = %.1f  (target >= 10)\n", r / s
    printf "  batch / ActiveRecord  = %.1f\n", r / b
  }
}'
