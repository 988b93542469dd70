#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Load test, with fsync on:
#
#   scripts/with-postgres --durable bench/load.sh [PROCS=8] [PER=10000] [CONTACTS=5000]
#   scripts/with-postgres --durable --pgbouncer env LOAD_VIA=pooler bench/load.sh 8 500 300
#
# LOAD_VIA=pooler sends the deliveries through PgBouncer (FASTEPOST_TEST_POOLER_DSN, transaction
# mode, 2 server connections); the checks read the database directly. ctest runs a smaller size
# through the pooler (pooler_load, tests/pooler/load.sh), with LOAD_DRIVER and LOAD_CLI naming
# binaries it already built.
#
# PROCS processes x PER Odoo deliveries each, at once, one connection and one transaction per
# delivery (bench/load_driver.c): 20% are redeliveries (duplicates, racing across processes),
# contacts overlap across processes and their versions arrive out of order. Then it checks the
# exact outcome: one customer and one remark per contact, each at its newest version, one event
# per distinct delivery (all successful), exactly PROCS*PER/5 duplicates and CONTACTS creations
# reported, no failure. Prints deliveries per second.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
procs=${1:-8}
per=${2:-10000}
contacts=${3:-5000}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }
(( per % 5 == 0 )) || { echo "PER must be a multiple of 5" >&2; exit 2; }

if [[ -n "${LOAD_DRIVER:-}" && -n "${LOAD_CLI:-}" ]]; then
  driver=$LOAD_DRIVER cli=$LOAD_CLI
else
  build="$root/build/bench"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
  cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I "$root/include" -I "$build/include" \
    -Wall -Wextra -Werror bench/load_driver.c -L "$build" -lfastepost -Wl,-rpath,"$build" -o "$build/load_driver"
  driver=$build/load_driver cli=$build/fastepost
fi

db=fpload$$
# The deliveries' conninfo: the server's socket, or PgBouncer's (a later dbname= wins in libpq).
target="dbname=$db"
if [[ "${LOAD_VIA:-}" == pooler ]]; then
  [[ -n "${FASTEPOST_TEST_POOLER_DSN:-}" ]] || { echo "LOAD_VIA=pooler needs scripts/with-postgres --pgbouncer" >&2; exit 2; }
  target="$FASTEPOST_TEST_POOLER_DSN dbname=$db"
fi
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$cli" --db "dbname=$db" schema install >/dev/null
. bench/lib.sh # bench_seed: the checks below count the 'odoo' rows
bench_seed "$db"
q() { psql -X -At -d "$db" -c "$1"; }
echo "fsync=$(q 'SHOW fsync') synchronous_commit=$(q 'SHOW synchronous_commit'); $procs x $per deliveries, $contacts contacts, via ${LOAD_VIA:-direct}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s.%N)
pids=()
for ((p = 0; p < procs; p++)); do
  timeout 600 "$driver" "$target" "$p" "$procs" "$per" "$contacts" >"$work/$p.out" 2>"$work/$p.err" &
  pids+=($!)
done
fail=0
for pid in "${pids[@]}"; do wait "$pid" || fail=1; done
end=$(date +%s.%N)
cat "$work"/*.err | head -n 20 >&2
[[ $fail -eq 0 ]] || echo "a driver reported failures" >&2

sum() { cat "$work"/*.out | tr ' ' '\n' | grep "^$1=" | cut -d= -f2 | paste -sd+ | bc; }
total=$((procs * per)); unique=$((total * 4 / 5)); dups=$((total - unique))
check() { # name, got, want
  if [[ "$2" == "$3" ]]; then printf '  ok    %-44s %s\n' "$1" "$2"; else printf '  FAIL  %-44s %s (want %s)\n' "$1" "$2" "$3"; fail=1; fi
}
echo "results: created=$(sum created) updated=$(sum updated) unchanged=$(sum unchanged) stale=$(sum stale) duplicate=$(sum duplicate) failed=$(sum failed)"
check "deliveries answered" "$(( $(sum created) + $(sum updated) + $(sum unchanged) + $(sum stale) + $(sum duplicate) + $(sum ignored) ))" "$total"
check "failures" "$(sum failed)" 0
check "reported duplicates" "$(sum duplicate)" "$dups"
check "reported creations" "$(sum created)" "$contacts"
check "customers" "$(q "SELECT count(*) FROM customers WHERE crm_source = 'odoo'")" "$contacts"
check "customers at their newest version" \
  "$(q "SELECT count(*) FROM customers WHERE crm_source = 'odoo' AND name = 'P' || split_part(crm_id, ':', 2) || ' v' || (($unique - split_part(crm_id, ':', 2)::int) / $contacts)")" "$contacts"
check "remarks (one per contact, none twice)" "$(q 'SELECT count(*) FROM remarks')" "$contacts"
check "events (one per distinct delivery)" "$(q "SELECT count(*) FROM integration_events WHERE source = 'odoo'")" "$unique"
check "events not successful" "$(q "SELECT count(*) FROM integration_events WHERE status <> 'success'")" 0
check "distinct idempotency keys" "$(q "SELECT count(DISTINCT idempotency_key) FROM integration_events WHERE source = 'odoo'")" "$unique"
# The statistics counters (the slots summed) against a recount: exact under concurrency too.
check "event counters = recount" "$(q "SELECT count(*) FROM (SELECT source, status, sum(n) AS n FROM fastepost_event_counts GROUP BY 1, 2) c FULL JOIN (SELECT source, status, count(*) AS n FROM integration_events GROUP BY 1, 2) t USING (source, status) WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)")" 0
check "hourly counters = recount" "$(q "SELECT count(*) FROM (SELECT source, hour, status, sum(n) AS n FROM fastepost_event_hourly_counts GROUP BY 1, 2, 3) c FULL JOIN (SELECT source, date_trunc('hour', created_at) AS hour, status, count(*) AS n FROM integration_events GROUP BY 1, 2, 3) t USING (source, hour, status) WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)")" 0
check "customer counters = recount" "$(q "SELECT (SELECT sum(n) FROM fastepost_row_counts WHERE counter = 'customers') - (SELECT count(*) FROM customers) || ' ' || (SELECT sum(n) FROM fastepost_row_counts WHERE counter = 'customers_crm_synced') - (SELECT count(crm_id) FROM customers)")" "0 0"
secs=$(echo "$end - $start" | bc)
printf 'wall time %.1f s: %.0f deliveries/s (%d processes, %.0f per process per s)\n' "$secs" \
  "$(echo "$total / $secs" | bc -l)" "$procs" "$(echo "$total / $secs / $procs" | bc -l)"
# PgBouncer keeps server connections to the database: drop it with FORCE.
psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)"
exit $fail
