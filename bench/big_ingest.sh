#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Ingest on big tables against empty ones (issue 13: with 1M customers, emails and phones, and
# 10M events already there, the single-delivery rate within 10 % of the rate on empty tables,
# and the CRM statistics still < 10 ms there), side by side in one run, fsync on:
#
#   scripts/with-postgres --durable bench/big_ingest.sh [CUSTOMERS=1000000] [EVENTS=10000000]
#
# Environment: ROUNDS (5), PER (1000 deliveries per run), STATS (2000 statistics calls).
# 1. One database stays small (the 1,000 analysed rows of bench_seed in bench/lib.sh); the other
#    gets CUSTOMERS customers and EVENTS events over the past year from bench/gen_events.sh (what a row holds: its header).
# 2. ROUNDS rounds; in each, one process sends PER Odoo deliveries, one transaction each
#    (bench/load_driver.c, new contacts: every delivery creates a customer, matched by email
#    and phone against the big table first), to each database, the order alternating between
#    rounds (the disk's speed drifts); the rows a round added are deleted before the next.
#    Medians and the ratio of medians (big / empty; target >= 0.9).
# 3. fastepost_crm_stats_collect() on the big database, in-process (bench/crm_stats_driver.c):
#    median, p95, p99 (target < 10 ms), and the naive GROUP BY beside it.
# The same comparison, on other sizes and next to other ones, is part 3 of bench/pooler.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
customers=${1:-1000000} events=${2:-10000000}
rounds=${ROUNDS:-5} per=${PER:-1000}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }

build="$root/build/bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target fastepost fastepost_cli >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
cflags=(-O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I "$root/include" -I "$build/include")
cc "${cflags[@]}" bench/load_driver.c -L "$build" -lfastepost -Wl,-rpath,"$build" -o "$build/load_driver"
cc "${cflags[@]}" -I "$(pg_config --includedir)" bench/crm_stats_driver.c -L "$build" -lfastepost -lpq \
  -Wl,-rpath,"$build" -o "$build/crm_stats_driver"
. bench/lib.sh

q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
for db in fpi_empty fpi_big; do
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  createdb "$db"
  "$build/fastepost" --db "dbname=$db" schema install >/dev/null
done
trap 'for db in fpi_empty fpi_big; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; done' EXIT

echo "fsync=$(q postgres 'SHOW fsync') synchronous_commit=$(q postgres 'SHOW synchronous_commit'); load $(uptime | sed 's/.*load average: //')"
echo "== $customers customers + $events events into fpi_big"
bench/gen_events.sh "dbname=fpi_big" --customers "$customers" --events "$events"
q fpi_big "CHECKPOINT"
max_c=$(q fpi_big "SELECT max(id) FROM customers") max_e=$(q fpi_big "SELECT max(id) FROM integration_events")
reset() {
  bench_empty fpi_empty
  q fpi_big "DELETE FROM remarks; DELETE FROM customers WHERE id > $max_c; DELETE FROM integration_events WHERE id > $max_e" >/dev/null
  q fpi_big "VACUUM customers, integration_events, remarks" >/dev/null
}

echo "== $rounds rounds, one process, $per deliveries to each (load $(uptime | sed 's/.*load average: //'))"
empty=() big=()
for ((r = 0; r < rounds; r++)); do
  reset
  if ((r % 2 == 0)); then
    empty+=("$(rate "$build/load_driver" "dbname=fpi_empty" 1 "$per")")
    big+=("$(rate "$build/load_driver" "dbname=fpi_big" 1 "$per")")
  else
    big+=("$(rate "$build/load_driver" "dbname=fpi_big" 1 "$per")")
    empty+=("$(rate "$build/load_driver" "dbname=fpi_empty" 1 "$per")")
  fi
  echo "   round $((r + 1)): empty ${empty[-1]}/s  big ${big[-1]}/s"
done
m_e=$(echo "${empty[*]}" | median) m_b=$(echo "${big[*]}" | median)
echo "   medians: empty $m_e/s, big $m_b/s; big/empty $(ratio "$m_b" "$m_e") (load $(uptime | sed 's/.*load average: //'))"
echo "== CRM statistics on the big tables"
"$build/crm_stats_driver" "dbname=fpi_big" "${STATS:-2000}" 3
