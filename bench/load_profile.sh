#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Where the server spends its time per delivery (by hand, never in ctest):
#
#   FASTEPOST_PG_CONF="shared_preload_libraries = 'pg_stat_statements'" \
#     scripts/with-postgres --durable bench/load_profile.sh [PER=2000] [CONTACTS=500]
#
# One process of bench/load_driver.c (the C API; the Python binding sends the same statements)
# makes PER Odoo deliveries (20 % redeliveries, contacts updated out of order) with
# pg_stat_statements tracking every statement, those inside functions and triggers too
# (track = all). Prints each statement's total time divided by PER: the server's time per
# delivery, top-level statements (the client's) and nested ones (inside the sync functions and
# the counter triggers) apart, since a top-level call's time includes its nested statements.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
per=${1:-2000} contacts=${2:-500}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres" >&2; exit 2; }
. bench/lib.sh
build="$root/build/bench"
bench_build "$root" "$build"
bench_cc "$root" "$build" bench/load_driver.c "$build/load_driver"
db=fpprofile$$
createdb "$db"
q() { psql -X -qAt -d "$db" -c "$1"; }
q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" || {
  echo "pg_stat_statements is not loaded: set FASTEPOST_PG_CONF as above" >&2; exit 2; }
"$build/fastepost" --db "dbname=$db" schema install >/dev/null
q "ALTER DATABASE $db SET pg_stat_statements.track = 'all'"
q "ALTER DATABASE $db SET pg_stat_statements.track_utility = on"
# A warm-up run (plans cached, tables touched), then the measured one on emptied tables.
"$build/load_driver" "dbname=$db" 0 1 200 50 >/dev/null
q "TRUNCATE customers, remarks, tasks, integration_events RESTART IDENTITY CASCADE"
q "SELECT pg_stat_statements_reset()" >/dev/null
t0=$(date +%s.%N)
"$build/load_driver" "dbname=$db" 0 1 "$per" "$contacts"
t1=$(date +%s.%N)
printf 'wall %.3f ms per delivery (client + server + commit)\n' "$(echo "($t1 - $t0) * 1000 / $per" | bc -l)"
psql -X -q -d "$db" -v per="$per" <<'SQL'
\pset footer off
SELECT CASE WHEN toplevel THEN 'top' ELSE 'nested' END AS level,
       round((total_exec_time + total_plan_time)::numeric / :per, 4) AS ms_per_delivery,
       round(calls::numeric / :per, 2) AS calls_per_delivery,
       left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%pg_stat_statements%'
ORDER BY toplevel DESC, total_exec_time + total_plan_time DESC LIMIT 40;
SQL
psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)"
