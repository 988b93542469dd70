#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# HubSpot batch ingestion vs the Odoo single-delivery path (by hand, never in ctest), fsync on:
#
#   scripts/with-postgres --durable bench/hubspot_ingest.sh [EVENTS=2000] [BATCH=100]   (ROUNDS=3)
#
# One connection each, interleaved over ROUNDS rounds (the shared disk drifts):
#   odoo single     fastepost_odoo_process(), one transaction per delivery (bench/odoo_ingest.c)
#   hubspot batch   fastepost_hubspot_process(), BATCH signed events per request, v3 verification
#                   included: creation + email + firstname + lastname per contact, so three of
#                   four events update a customer through the versioned-property path.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
events=${1:-2000}
batch=${2:-100}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }

build="$root/build/bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
for d in odoo_ingest hubspot_ingest; do
  cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I "$root/include" -I "$build/include" \
    -Wall -Wextra -Werror "bench/$d.c" -L "$build" -lfastepost -Wl,-rpath,"$build" -o "$build/$d"
done

db=fpbench_hs
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$build/fastepost" --db "dbname=$db" schema install >/dev/null
reset_tables() { psql -X -q -d "$db" -c "TRUNCATE customers, remarks, tasks, integration_events, fastepost_crm_properties RESTART IDENTITY CASCADE"; }
echo "fsync=$(psql -X -At -d "$db" -c 'SHOW fsync') synchronous_commit=$(psql -X -At -d "$db" -c 'SHOW synchronous_commit')"

rounds=${ROUNDS:-3}
per=$(( (events + rounds - 1) / rounds ))
rate_of() { sed -E 's/.*= ([0-9.]+) events.*/\1/'; }
t_odoo=0 t_hs=0
for ((r = 0; r < rounds; r++)); do
  reset_tables
  echo "==> round $((r + 1))/$rounds: $per events each"
  out=$("$build/odoo_ingest" single "dbname=$db" "$per" $((1000000 + r * per)))
  echo "  $out"
  t_odoo=$(awk -v t="$t_odoo" -v n="$per" -v r="$(rate_of <<<"$out")" 'BEGIN {print t + n / r}')
  out=$("$build/hubspot_ingest" "dbname=$db" "$per" $((2000000 + r * per)) "$batch")
  echo "  $out"
  t_hs=$(awk -v t="$t_hs" -v n="$per" -v r="$(rate_of <<<"$out")" 'BEGIN {print t + n / r}')
done
reset_tables
total=$((per * rounds))
awk -v n="$total" -v o="$t_odoo" -v h="$t_hs" -v bs="$batch" 'BEGIN {
  printf "\n==> Results: %d events per method, events/s on one connection, fsync on\n", n
  printf "  %-28s %8.1f\n", "odoo single", n / o
  printf "  %-28s %8.1f\n", "hubspot batch (" bs ", verified)", n / h
  printf "  hubspot batch / odoo single = %.2f\n", o / h
}'
