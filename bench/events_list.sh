#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `events list` on a large event log: every filter combination, including filters that match
# nothing (the case that walked the whole index before migration 4).
#
#   scripts/with-postgres --durable bench/events_list.sh [EVENTS]
#   FASTEPOST_BENCH_DB=DBNAME bench/events_list.sh       (a database generated already: bench/scale.sh)
#
# EVENTS (default 5000000) rows are generated with SQL by bench/gen_events.sh (3 sources, 4
# statuses, 'dead' rare: one event in 100,000), over the past year. With FASTEPOST_BENCH_DB the
# list runs on that database as it is, and the comparison with migration 1's indexes (which
# drops indexes) is skipped.
# Prints, per filter, the best of 5 runs of the list's statement as the server executes it
# (EXPLAIN ANALYZE "Execution Time"), and the median and the maximum of RUNS (default 11) runs of
# the whole `fastepost events list` command (process start, connect and output included; on a
# loaded machine the process start alone takes 100-250 ms), then CALLS (default 200) calls of
# fastepost_events_list() in-process per filter (bench/events_list_driver.c): median, p99, max.
# The target is under 50 ms for every filter.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-5000000}
build=${BUILD:-build/bench}
if [[ -z "${FASTEPOST:-}" ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 >/dev/null
  FASTEPOST="$build/fastepost"
fi
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I include -I "$build/include" \
  bench/events_list_driver.c -L "$build" -lfastepost -Wl,-rpath,"$(cd "$build" && pwd)" -o "$build/events_list_driver"
export PGOPTIONS="-c client_min_messages=warning"
if [[ -n "${FASTEPOST_BENCH_DB:-}" ]]; then
  db=$FASTEPOST_BENCH_DB
else
  db=fpbench_events
  createdb -h "$PGHOST" -U postgres "$db"
  trap 'dropdb -h "$PGHOST" -U postgres --if-exists fpbench_events' EXIT
fi
export DATABASE_URL="host=$PGHOST user=postgres dbname=$db"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL")
if [[ -z "${FASTEPOST_BENCH_DB:-}" ]]; then
  "$FASTEPOST" schema install >/dev/null
  echo "==> Generating $events events"
  bench/gen_events.sh "$DATABASE_URL" --events "$events" --dead-every 100000
fi
echo "    $("${PSQL[@]}" -Atc "SELECT count(*) FROM integration_events") events, table and indexes $("${PSQL[@]}" -Atc "SELECT pg_size_pretty(pg_total_relation_size('integration_events'))")"

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
cli_ms() { # median and max wall-clock ms of RUNS (default 11) runs of the CLI
  local s e args=() all=()
  [[ -n "$1" ]] && args+=(--source "$1")
  [[ -n "$2" ]] && args+=(--status "$2")
  for ((i = 0; i < ${RUNS:-11}; i++)); do
    s=$(date +%s%N)
    "$FASTEPOST" --json events list "${args[@]}" --limit 50 >/dev/null
    e=$(date +%s%N)
    all+=($(((e - s) / 1000)))
  done
  printf '%s\n' "${all[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f / %.1f", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }'
}

declare -A after
printf '%-10s %-9s %12s %20s\n' SOURCE STATUS "server ms (best)" "CLI ms (median / max)"
for source in "" odoo pipedrive nosuch; do
  for status in "" success error dead pending; do
    after[$source/$status]=$(server_ms "$source" "$status")
    printf '%-10s %-9s %12s %20s\n' "${source:-*}" "${status:-*}" "${after[$source/$status]}" \
      "$(cli_ms "$source" "$status")"
  done
done

echo "==> fastepost_events_list() in-process (bench/events_list_driver.c)"
"$build/events_list_driver" "$DATABASE_URL" "${CALLS:-200}"

[[ -z "${FASTEPOST_BENCH_DB:-}" ]] || exit 0
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
