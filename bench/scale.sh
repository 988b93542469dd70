#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The dashboard and the event list at scale (issue 18 item 3: `stats crm` < 2 ms median and
# < 10 ms p99 in-process, `events list` with any filter < 50 ms, with 100M events logged):
#
#   nice -n 19 ionice -c3 scripts/with-postgres bench/scale.sh [MILLIONS=100] [CUSTOMERS=1000000]
#
# 1. FIRST (default 10) million events over the past year and CUSTOMERS customers, generated
#    with SQL by bench/gen_events.sh the fast way (loaded without indexes, which are built
#    afterwards; its header says what a row holds), then passes of STEP (default 10) million
#    more, appended with the indexes and counter triggers in place and spread over the same
#    year, until MILLIONS million. UNTIL=HH:MM (UTC) starts no pass after that time: the run
#    then ends at the size reached. Prints the time of every phase and the disk the cluster
#    uses: about 0.6 GB per million events (check `df` first; scripts/with-postgres removes
#    its data directory when the run ends).
# 2. After the first load and after every pass: `fastepost_crm_stats_collect()` in-process
#    (bench/crm_stats_driver.c), STATS calls (default 2000) on one connection, median and p99;
#    the CLI end to end; `fastepost events list` with every filter it has (bench/events_list.sh
#    on this database, RUNS=5 CLI runs each).
# 3. At the end, for the filters the list does not have (type, time range, external id,
#    customer), the plan and time of the obvious query: what an index would have to serve if
#    they were added (one run each, at most 120 s).
# Reads only: fsync makes no difference here, so the plain (fsync off) cluster is fine.
# HOLD=FILE keeps the cluster after the measurements until FILE exists (to look at plans).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
millions=${1:-100} customers=${2:-1000000}
first=${FIRST:-10} step=${STEP:-10}
((first <= millions)) || first=$millions
[[ -n "${PGHOST:-}" && -n "${FASTEPOST_TEST_PGDATA:-}" ]] || { echo "run me inside scripts/with-postgres" >&2; exit 2; }

. bench/lib.sh
build="$root/build/bench"
bench_build "$root" "$build"
bench_cc "$root" "$build" bench/crm_stats_driver.c "$build/crm_stats_driver" -I "$(pg_config --includedir)" -lpq

db=fpscale
createdb "$db"
dsn="host=$PGHOST user=postgres dbname=$db"
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" "$@"; }
load() { uptime | sed 's/.*load average: //'; }
"$build/fastepost" --db "$dsn" schema install >/dev/null
echo "== $millions M events, $customers customers; data directory $FASTEPOST_TEST_PGDATA; $(df -h --output=avail "$FASTEPOST_TEST_PGDATA" | tail -1) free; load $(load)"

disk() {
  q -c "CHECKPOINT"
  echo "   disk: data directory $(du -sh "$FASTEPOST_TEST_PGDATA" | cut -f1) (WAL $(du -sh "$FASTEPOST_TEST_PGDATA/pg_wal" | cut -f1)), $(df -h --output=avail "$FASTEPOST_TEST_PGDATA" | tail -1) left"
}
measure() {
  echo "== $(q -c "SELECT count(*) FROM integration_events") events: stats crm, in-process, ${STATS:-2000} calls (load $(load))"
  "$build/crm_stats_driver" "$dsn" "${STATS:-2000}" 0
  local t0
  t0=$(date +%s%N)
  for _ in $(seq 20); do "$build/fastepost" --db "$dsn" stats crm >/dev/null; done
  echo "fastepost stats crm (CLI, incl. exec + connect): $(( ($(date +%s%N) - t0) / 20000000 )) ms per run"
  echo "== events list, every filter (load $(load))"
  RUNS=${RUNS:-5} FASTEPOST_BENCH_DB=$db FASTEPOST="$build/fastepost" bench/events_list.sh
}

t_gen=$(date +%s)
bench/gen_events.sh "$dsn" --customers "$customers" --events $((first * 1000000))
disk
measure
passes=$(( (millions - first + step - 1) / step ))
for ((k = 1; k <= passes; k++)); do
  if [[ -n "${UNTIL:-}" && $(date -u +%H:%M) > "$UNTIL" ]]; then
    echo "== $UNTIL passed: stopping at this size"
    break
  fi
  n=$step
  ((first + k * step <= millions)) || n=$((millions - first - (k - 1) * step))
  echo "== pass $k of $passes: $n M more events (load $(load))"
  bench/gen_events.sh "$dsn" --events $((n * 1000000)) --append "$k/$((passes + 1))"
  disk
  measure
done
echo "== generation and measurements took $(( $(date +%s) - t_gen )) s in all"

echo "== filters events list does not have: the obvious query, server ms (one run, at most 120 s), and its plan"
mid=$(q -c "SELECT to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') FROM integration_events
            WHERE id = (SELECT max(id) / 2 FROM integration_events)")
while IFS='|' read -r name where; do
  t=$(q -c "SET statement_timeout = '120s'" -c "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM integration_events
            WHERE $where ORDER BY created_at DESC, id DESC LIMIT 50" 2>/dev/null |
      grep -o '"Execution Time": [0-9.]*' | awk '{print $3}') || true
  plan=$(q -c "EXPLAIN (COSTS OFF) SELECT * FROM integration_events WHERE $where ORDER BY created_at DESC, id DESC LIMIT 50" |
         grep -E 'Scan|Sort' | sed -E 's/^ *(-> *)?//' | paste -sd ';' | cut -c1-110)
  printf '   %-28s %10s ms  %s\n' "$name" "${t:->120000}" "$plan"
done <<FILTERS
type (common)|event_type = 'crm.lead.write'
type (none such)|event_type = 'nosuch.type'
time range (1 day, mid-log)|created_at >= '$mid' AND created_at < timestamp '$mid' + interval '1 day'
external id|external_id = 'res.partner:4242'
customer|customer_id = 4242
FILTERS
echo "   load $(load)"

if [[ -n "${HOLD:-}" ]]; then
  echo "== holding the cluster (PGHOST=$PGHOST, database $db) until $HOLD exists"
  while [[ ! -e "$HOLD" ]]; do sleep 5; done
fi
psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)"
