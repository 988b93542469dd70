#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Delivery latency while the event log is pruned (issue 13: p99 < 50 ms while 1M old events are
# deleted under 4 ingesting processes):
#
#   scripts/with-postgres --durable bench/prune_latency.sh [OLD_EVENTS=1000000] [PROCS=4] [PER=3000]
#
# 1. OLD_EVENTS events 30-60 days old are generated with SQL by bench/gen_events.sh (the counters
#    recomputed from the table, so the statistics are exact from the start).
# 2. Round A: PROCS processes x PER Odoo deliveries (bench/load_driver.c), no prune: latency
#    p50/p99 per delivery.
# 3. Round B: the same load again (round A's rows removed), and one second in, `fastepost events prune
#    --older-than 7` in the background. Only the deliveries that started while the prune ran
#    count (their start on CLOCK_MONOTONIC, which every process shares). The prune must finish
#    inside the load, else the script says so.
# 4. Checks: every old event gone, no young one, the counters equal to a recount of the table.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
old=${1:-1000000} procs=${2:-4} per=${3:-3000}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }

. bench/lib.sh
build="$root/build/bench"
bench_build "$root" "$build"
bench_cc "$root" "$build" bench/load_driver.c "$build/load_driver"
driver=$build/load_driver cli=$build/fastepost

db=fpprune$$
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$cli" --db "dbname=$db" schema install >/dev/null
q() { psql -X -At -d "$db" -c "$1"; }
work=$(mktemp -d)
trap 'rm -rf "$work"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
mono_us() { python3 -c 'import time; print(int(time.monotonic() * 1e6))'; }
echo "fsync=$(q 'SHOW fsync') synchronous_commit=$(q 'SHOW synchronous_commit'); $old old events, $procs x $per deliveries per round"

bench/gen_events.sh "dbname=$db" --events "$old" --oldest 60 --newest 30
OLD="created_at < (now() AT TIME ZONE 'UTC') - interval '29 days'"

# One round: PROCS drivers, contacts offset so that round B's deliveries are new ones.
round() { # name, contact count
  local pids=() p fail=0
  for ((p = 0; p < procs; p++)); do
    LOAD_LATENCY_OUT="$work/$1.$p.lat" timeout 900 "$driver" "dbname=$db" "$p" "$procs" "$per" "$2" \
      >"$work/$1.$p.out" 2>"$work/$1.$p.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
  cat "$work/$1".*.err | head -n 5 >&2
  return $fail
}
# p50 and p99 (ms) of the latencies whose start lies in [from, to] (µs, monotonic).
pct() { # from to files...
  local from=$1 to=$2
  shift 2
  cat "$@" | awk -v from="$from" -v to="$to" '$1 >= from && $1 <= to { print $2 }' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "n=0"; exit }
      i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
      printf "n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms\n", NR, v[i50] / 1000, v[i99] / 1000, v[NR] / 1000 }'
}

echo "== A. $procs x $per deliveries, no prune"
round a 2000
echo "   $(pct 0 9e18 "$work"/a.*.lat)"
# Round B must apply the same deliveries again, not find them as duplicates.
q "DELETE FROM remarks; DELETE FROM customers; DELETE FROM integration_events WHERE NOT ($OLD)" >/dev/null; q "VACUUM ANALYZE" >/dev/null

echo "== B. the same load while 'events prune --older-than 7' deletes $old events"
round b 2000 &
load=$!
sleep 1
from=$(mono_us)
p0=$(date +%s.%N)
"$cli" --db "dbname=$db" events prune --older-than 7 --status all --json >"$work/prune.json"
to=$(mono_us)
p1=$(date +%s.%N)
wait "$load" || echo "a driver reported failures" >&2
last=$(cat "$work"/b.*.lat | awk '{ s = $1 + $2; if (s > m) m = s } END { printf "%.0f", m }')
echo "   prune: $(printf '%.1f' "$(echo "$p1 - $p0" | bc)") s: $(cat "$work/prune.json")"
(( last > to )) || echo "   NOTE: the load ended before the prune: raise PER" >&2
echo "   during the prune: $(pct "$from" "$to" "$work"/b.*.lat)"
echo "   whole round B:    $(pct 0 9e18 "$work"/b.*.lat)"
# Per process: one process far above the others points at a lock it shares with the prune (the
# counters' slot is the backend pid modulo 8), all of them at the machine (CPU, fsync).
for ((p = 0; p < procs; p++)); do
  echo "   process $p: A $(pct 0 9e18 "$work/a.$p.lat" | sed 's/ max=.*//'); B during the prune $(pct "$from" "$to" "$work/b.$p.lat" | sed 's/ max=.*//')"
done

fail=0
check() { if [[ "$2" == "$3" ]]; then printf '  ok    %-40s %s\n' "$1" "$2"; else printf '  FAIL  %-40s %s (want %s)\n' "$1" "$2" "$3"; fail=1; fi; }
check "old events left" "$(q "SELECT count(*) FROM integration_events WHERE $OLD")" 0
check "young events (the two rounds' deliveries)" "$(q "SELECT count(*) > 0 FROM integration_events")" t
check "counters = table (all time)" "$(q "SELECT count(*) FROM (SELECT source, status, sum(n) AS n FROM fastepost_event_counts GROUP BY 1, 2 HAVING sum(n) <> 0) c
  FULL JOIN (SELECT source, status, count(*) AS n FROM integration_events GROUP BY 1, 2) t USING (source, status) WHERE c.n IS DISTINCT FROM t.n")" 0
check "counters = table (hourly)" "$(q "SELECT count(*) FROM (SELECT source, hour, status, sum(n) AS n FROM fastepost_event_hourly_counts GROUP BY 1, 2, 3 HAVING sum(n) <> 0) c
  FULL JOIN (SELECT source, date_trunc('hour', created_at) AS hour, status, count(*) AS n FROM integration_events GROUP BY 1, 2, 3) t
  USING (source, hour, status) WHERE c.n IS DISTINCT FROM t.n")" 0
exit $fail
