#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Odoo pull benchmark (by hand, never in ctest): a full pull (`fastepost odoo pull --full`) of N
# partners from the stand-in Odoo server (tests/fake_odoo/fake_odoo.py) next to pgbench's floor
# of one INSERT ... ON CONFLICT DO UPDATE per transaction (as bench/odoo_ingest.sh measures it),
# on the same cluster in the same run:
#
#   scripts/with-postgres [--durable] bench/odoo_pull.sh [N=10000] [PAGE=1000]
#
# Uses the build in $BUILD (default build/, RelWithDebInfo); builds nothing. The pull's time
# includes the stand-in server answering (Python, on the same 2 cores), so the rate is a floor
# for the library. Peak RSS of the fastepost process comes from /usr/bin/time when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
page=${2:-1000}
build=${BUILD:-build}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres" >&2; exit 2; }
[[ -x "$build/fastepost" ]] || { echo "no $build/fastepost: build first" >&2; exit 2; }

db=fpbench_pull
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$build/fastepost" --db "dbname=$db" schema install >/dev/null
echo "fsync=$(psql -X -At -d "$db" -c 'SHOW fsync') synchronous_commit=$(psql -X -At -d "$db" -c 'SHOW synchronous_commit')"

work=$(mktemp -d)
python3 tests/fake_odoo/fake_odoo.py "$work/port" >/dev/null 2>&1 &
srv=$!
trap 'kill "$srv" 2>/dev/null; rm -rf "$work"; dropdb --if-exists "$db" 2>/dev/null || true' EXIT
for _ in $(seq 200); do [[ -s "$work/port" ]] && break; sleep 0.1; done
port=$(cat "$work/port")
url="http://127.0.0.1:$port"
curl -s -X POST "$url/__admin/bulk" -d "{\"count\": $n, \"tx_start\": \"2026-01-01 10:00:00\"}" >/dev/null
printf 'fake-api-key\n' >"$work/key"
chmod 600 "$work/key"

# the pgbench floor: one upsert per transaction, shared by the benchmarks
cp bench/pgbench_upsert.sql "$work/upsert.sql"
echo "==> pgbench: $n upserts, one per transaction"
tps=$(pgbench -n -c 1 -t "$n" -f "$work/upsert.sql" "$db" 2>/dev/null | awk '/^tps/ {print $3; exit}')
echo "  $tps tps"
psql -X -q -d "$db" -c "TRUNCATE customers, remarks, tasks, integration_events RESTART IDENTITY CASCADE"

echo "==> fastepost odoo pull --full: $n partners, pages of $page"
timer=()
[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f "%M" -o "$work/rss")
t0=$(date +%s.%N)
"${timer[@]}" "$build/fastepost" --db "dbname=$db" odoo pull --url "$url" --api-key-file "$work/key" \
  --protocol json2 --full --page-size "$page" --json >"$work/out.json"
t1=$(date +%s.%N)
cat "$work/out.json"
created=$(psql -X -At -d "$db" -c "SELECT count(*) FROM customers WHERE crm_source = 'odoo'")
[[ "$created" == "$n" ]] || { echo "expected $n customers, found $created" >&2; exit 1; }
rss=""
[[ -s "$work/rss" ]] && rss=$(cat "$work/rss")
awk -v n="$n" -v t0="$t0" -v t1="$t1" -v tps="$tps" -v rss="$rss" 'BEGIN {
  rate = n / (t1 - t0)
  printf "\n==> Results (%d records)\n", n
  printf "  pgbench upsert floor    %9.1f records/s\n", tps
  printf "  fastepost odoo pull     %9.1f records/s  (%.2f s)\n", rate, t1 - t0
  printf "  pull / pgbench          %9.2f\n", rate / tps
  if (rss != "") printf "  peak RSS of the pull    %9.1f MiB\n", rss / 1024
}'
