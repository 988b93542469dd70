#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `events list` on a large event log: every filter combination, including filters that match
# nothing (the case that walked the whole index before migration 4).
#
#   scripts/with-postgres --durable bench/events_list.sh [EVENTS]
#
# EVENTS (default 5000000) rows are generated with SQL (3 sources, 4 statuses, 'dead' rare).
# Prints, per filter, the best of 5 runs of the list's statement as the server executes it
# (EXPLAIN ANALYZE "Execution Time") and of the whole `fastepost events list` command (process
# start, connect and output included). The target is under 50 ms for every filter.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-5000000}
build=${BUILD:-build/bench}
if [[ -z "${FASTEPOST:-}" ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 >/dev/null
  FASTEPOST="$build/fastepost"
fi
createdb -h "$PGHOST" -U postgres fpbench_events
trap 'dropdb -h "$PGHOST" -U postgres --if-exists fpbench_events' EXIT
export DATABASE_URL="host=$PGHOST user=postgres dbname=fpbench_events"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL")
export PGOPTIONS="-c client_min_messages=warning"
"$FASTEPOST" schema install >/dev/null

echo "==> Generating $events events"
"${PSQL[@]}" <<SQL
INSERT INTO integration_events (source, event_type, status, outcome, external_id, attempts,
                                error_message, created_at, updated_at, processed_at)
SELECT (ARRAY['odoo','hubspot','odoo','shop'])[1 + g % 4], 'res.partner.write',
       CASE WHEN g % 100000 = 0 THEN 'dead' WHEN g % 10 = 0 THEN 'error'
            WHEN g % 97 = 0 THEN 'pending' ELSE 'success' END,
       'updated', 'res.partner:' || g, 1, CASE WHEN g % 10 = 0 THEN 'simulated' END,
       timestamp '2024-01-01' + g * interval '1 second', timestamp '2024-01-01',
       timestamp '2024-01-01' + g * interval '1 second'
FROM generate_series(1, $events) g;
VACUUM ANALYZE integration_events;
SQL
echo "    table: $("${PSQL[@]}" -Atc "SELECT pg_size_pretty(pg_total_relation_size('integration_events'))")"

server_ms() { # best of 5 "Execution Time" of the list's statement for source $1, status $2
  local where="WHERE true" best=999999 t
  [[ -n "$1" ]] && where+=" AND source = '$1'"
  [[ -n "$2" ]] && where+=" AND status = '$2'"
  for _ in 1 2 3 4 5; do
    t=$("${PSQL[@]}" -Atc "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM integration_events $where
         ORDER BY created_at DESC, id DESC LIMIT 50" | grep -o '"Execution Time": [0-9.]*' | awk '{print $3}')
    if (($(echo "$t < $best" | bc))); then best=$t; fi
  done
  echo "$best"
}
cli_ms() { # best of 5 wall-clock ms of the CLI
  local best=999999 s e t args=()
  [[ -n "$1" ]] && args+=(--source "$1")
  [[ -n "$2" ]] && args+=(--status "$2")
  for _ in 1 2 3 4 5; do
    s=$(date +%s%N)
    "$FASTEPOST" --json events list "${args[@]}" --limit 50 >/dev/null
    e=$(date +%s%N)
    t=$(((e - s) / 1000))
    if ((t < best)); then best=$t; fi
  done
  echo "scale=1; $best / 1000" | bc
}

declare -A after
printf '%-10s %-9s %12s %10s\n' SOURCE STATUS "server ms" "CLI ms"
for source in "" odoo nosuch; do
  for status in "" success error dead pending; do
    after[$source/$status]=$(server_ms "$source" "$status")
    printf '%-10s %-9s %12s %10s\n' "${source:-*}" "${status:-*}" "${after[$source/$status]}" \
      "$(cli_ms "$source" "$status")"
  done
done

echo "==> Before migration 4 (its indexes dropped, migration 1's source index back), server ms"
"${PSQL[@]}" <<SQL
DROP INDEX index_integration_events_on_source_created_at_id, index_integration_events_on_status_created_at_id,
           index_integration_events_on_source_status_created_at_id;
CREATE INDEX index_integration_events_on_source_and_created_at ON integration_events (source, created_at DESC);
ANALYZE integration_events;
SQL
printf '%-10s %-9s %12s %12s\n' SOURCE STATUS "before ms" "after ms"
for source in "" odoo nosuch; do
  for status in "" success error dead pending; do
    printf '%-10s %-9s %12s %12s\n' "${source:-*}" "${status:-*}" "$(server_ms "$source" "$status")" \
      "${after[$source/$status]}"
  done
done
