#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Initial import benchmark (issue 16 item 4; by hand, never in ctest). In ONE run, on the same
# cluster:
#   (a) pgbench's floor: one INSERT ... ON CONFLICT DO UPDATE per transaction (the script of
#       bench/odoo_ingest.sh and bench/odoo_pull.sh), FLOOR_N transactions (default 10000: a
#       rate, which 100,000 would only take longer to measure);
#   (b) `fastepost odoo pull --full` of N partners from the stand-in Odoo server
#       (tests/fake_odoo/fake_odoo.py), pages of PAGE, under /usr/bin/time -v (peak RSS);
#   (c) the apply half alone: the same N records, PAGE per fastepost_odoo_process_batch() (the
#       batch path the pull uses), made page by page by bench/odoo_pull_apply.c, also under
#       /usr/bin/time -v. The stand-in is Python on the same cores; it pages through a sorted
#       index as a database would (tests/fake_odoo/fake_odoo.py), and the pull fetches page k+1
#       while it applies page k, so (b) is close to (c) when the apply is the slower half.
#
#   scripts/with-postgres bench/odoo_pull_import.sh [N=100000] [PAGE=1000]
#
# Uses the build in $BUILD (default build/, RelWithDebInfo); builds only the driver.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
page=${2:-1000}
floor_n=${FLOOR_N:-10000}
build=${BUILD:-build}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres" >&2; exit 2; }
[[ -x "$build/fastepost" ]] || { echo "no $build/fastepost: build first" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (Debian: time) for the peak RSS" >&2; exit 2; }

work=$(mktemp -d)
srv=""
db=fpbench_import
cleanup() { [[ -n "$srv" ]] && kill "$srv" 2>/dev/null; rm -rf "$work"; dropdb --if-exists "$db" 2>/dev/null || true; }
trap cleanup EXIT
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I include -I "$build/include" -Wall -Wextra -Werror \
  bench/odoo_pull_apply.c -L "$build" -lfastepost -Wl,-rpath,"$PWD/$build" -o "$work/odoo_pull_apply"

dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$build/fastepost" --db "dbname=$db" schema install >/dev/null
reset() {
  psql -X -q -d "$db" -c "TRUNCATE customers, remarks, tasks, integration_events RESTART IDENTITY CASCADE; \
    DELETE FROM fastepost_sync_cursors"
  psql -X -q -d "$db" -c "VACUUM ANALYZE customers, integration_events"
}
echo "fsync=$(psql -X -At -d "$db" -c 'SHOW fsync') synchronous_commit=$(psql -X -At -d "$db" -c 'SHOW synchronous_commit')"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "==> (a) pgbench: $floor_n upserts, one per transaction"
cp bench/pgbench_upsert.sql "$work/upsert.sql"
tps=$(pgbench -n -c 1 -t "$floor_n" -f "$work/upsert.sql" "$db" 2>/dev/null | awk '/^tps/ {print $3; exit}')
echo "  $tps tps"
reset

# The stand-in leaves after 30 s without a request: started only now.
python3 tests/fake_odoo/fake_odoo.py "$work/port" >/dev/null 2>&1 &
srv=$!
for _ in $(seq 300); do [[ -s "$work/port" ]] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")"
curl -s -X POST "$url/__admin/bulk" -d "{\"count\": $n, \"tx_start\": \"2026-01-01 10:00:00\"}" >/dev/null
printf 'fake-api-key\n' >"$work/key"
chmod 600 "$work/key"

# "%e %M": elapsed seconds and peak RSS (KiB) of the command, as /usr/bin/time -v reports them.
echo "==> (b) fastepost odoo pull --full: $n partners, pages of $page"
/usr/bin/time -f "%e %M" -o "$work/pull.time" "$build/fastepost" --db "dbname=$db" odoo pull --url "$url" \
  --api-key-file "$work/key" --protocol json2 --full --page-size "$page" --json >"$work/out.json"
cat "$work/out.json"
echo
got=$(psql -X -At -d "$db" -c "SELECT count(*) FROM customers WHERE crm_source = 'odoo'")
ev=$(psql -X -At -d "$db" -c "SELECT count(*) FROM integration_events WHERE event_type = 'res.partner.pull'")
[[ "$got" == "$n" && "$ev" == "$n" ]] || { echo "expected $n customers and events, found $got and $ev" >&2; exit 1; }
kill "$srv" 2>/dev/null || true
srv=""
reset

echo "==> (c) the apply alone: $n records, pages of $page through fastepost_odoo_process_batch()"
/usr/bin/time -f "%e %M" -o "$work/apply.time" "$work/odoo_pull_apply" "dbname=$db" "$n" "$page"
got=$(psql -X -At -d "$db" -c "SELECT count(*) FROM customers WHERE crm_source = 'odoo'")
[[ "$got" == "$n" ]] || { echo "expected $n customers, found $got" >&2; exit 1; }

read -r pull_s pull_kb <"$work/pull.time"
read -r apply_s apply_kb <"$work/apply.time"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v n="$n" -v tps="$tps" -v ps="$pull_s" -v pk="$pull_kb" -v as="$apply_s" -v ak="$apply_kb" 'BEGIN {
  printf "\n==> Results (%d records, one run)\n", n
  printf "  (a) pgbench upsert floor          %9.1f records/s\n", tps
  printf "  (b) fastepost odoo pull --full    %9.1f records/s  (%.1f s, peak RSS %.1f MiB)\n", n / ps, ps, pk / 1024
  printf "  (c) apply alone (process_batch)   %9.1f records/s  (%.1f s, peak RSS %.1f MiB)\n", n / as, as, ak / 1024
  printf "  (b) / (a)                         %9.2f\n", n / ps / tps
  printf "  (c) / (a)                         %9.2f\n", n / as / tps
}'
