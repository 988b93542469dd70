#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CRM dashboard statistics at 1M and 10M events: `fastepost_crm_stats_collect()` (what
# `fastepost stats crm` prints) against the naive GROUP BY over integration_events, side by side.
# Also the cost of the counting triggers on single-row inserts, alone and with 8 concurrent
# writers (pgbench), with the triggers on and off.
#
#   bench/crm_stats.sh [MILLIONS...]      (default: 1 10; runs itself under scripts/with-postgres --durable)
#
# The bulk load runs with fsync off (ALTER SYSTEM, reverted before anything is measured); the
# measurements run with PostgreSQL's durable defaults. 10M events take a few minutes to load.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [[ -z "${FASTEPOST_TEST_DSN:-}" ]]; then
  exec scripts/with-postgres --durable "$0" "$@"
fi
sizes=("$@"); [[ ${#sizes[@]} -gt 0 ]] || sizes=(1 10)

build="$root/build/bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root/include" -I"$build/include" \
  -I"$(pg_config --includedir)" bench/crm_stats_driver.c -o "$build/crm_stats_driver" \
  -L"$build" -Wl,-rpath,"$build" -lfastepost -lpq

db=fastepost_bench
createdb "$db"
dsn="host=$PGHOST user=postgres dbname=$db"
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
"$build/fastepost" --db "$dsn" schema install

durable() { # on|off
  q -c "ALTER SYSTEM SET fsync = $1" -c "ALTER SYSTEM SET synchronous_commit = $1" \
    -c "SELECT pg_reload_conf()" >/dev/null
}

# Events over the past year from bench/gen_events.sh (three sources, 85% success / 8% error /
# 2% dead / 5% pending, a small JSON payload like a real delivery), generated afresh per size.
for m in "${sizes[@]}"; do
  durable off
  t0=$(date +%s)
  q -c "TRUNCATE integration_events"
  bench/gen_events.sh "$dsn" --events $((m * 1000000))
  q -c "VACUUM ANALYZE fastepost_event_hourly_counts"
  durable on
  q -c "CHECKPOINT"
  echo
  echo "==> $(q -At -c "SELECT count(*) FROM integration_events") events (loaded in $(( $(date +%s) - t0 )) s), table $(q -At -c "SELECT pg_size_pretty(pg_total_relation_size('integration_events'))"), hourly counter rows $(q -At -c "SELECT count(*) FROM fastepost_event_hourly_counts")"
  "$build/crm_stats_driver" "$dsn" 500 5
  # The CLI end to end, process start and connection included.
  t0=$(date +%s%N)
  for _ in $(seq 20); do "$build/fastepost" --db "$dsn" stats crm >/dev/null; done
  echo "fastepost stats crm (CLI, incl. exec + connect): $(( ($(date +%s%N) - t0) / 20000000 )) ms per run"
done

echo
echo "==> Trigger cost on single-row inserts (one transaction each, fsync on), 10 s each"
cat >"$build/insert.sql" <<'SQL'
INSERT INTO integration_events (source, event_type, status, created_at)
VALUES ('hubspot', 'contact.creation', 'success', now() AT TIME ZONE 'UTC');
SQL
# Alternated and repeated: fsync latency on a shared machine varies from one run to the next.
for clients in 1 8; do
  for run in 1 2; do
    for mode in ENABLE DISABLE; do
      q -c "ALTER TABLE integration_events $mode TRIGGER USER"
      tps=$(pgbench -n -h "$PGHOST" -U postgres -c $clients -j 2 -T 10 -f "$build/insert.sql" "$db" 2>/dev/null |
            awk '/^tps/ {printf "%.0f", $3; exit}')
      echo "clients $clients, run $run, triggers ${mode,,}d: $tps inserts/s"
    done
  done
done
q -c "ALTER TABLE integration_events ENABLE TRIGGER USER" -c "SELECT fastepost_crm_counters_rebuild()" >/dev/null
