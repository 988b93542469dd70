#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ctest failover (label `failover`): a primary and a streaming standby of its own
# (scripts/with-postgres --standby, run by ctest around this script), synchronous replication
# (a commit the library reported is on the standby too), and four ingesting processes
# (tests/failover/driver.c) on a multi-host conninfo:
#   host=DIR,DIR port=5432,5433 target_session_attrs=read-write
# Mid-stream the primary is stopped (pg_ctl stop -m immediate) and the standby promoted
# (pg_ctl promote). The processes spool what fails, reconnect and carry on, then replay their
# spools. Checked on the new primary: one customer, one remark and one successful event per
# distinct delivery after the spools are replayed and the queued failures retried, no failure.
# Every wait is bounded.
#   failover/run.sh DRIVER CLI
set -euo pipefail
driver=$1 cli=$2
[[ -n "${FASTEPOST_TEST_STANDBY_DSN:-}" ]] || { echo "run me inside scripts/with-postgres --standby" >&2; exit 2; }
dir=$FASTEPOST_TEST_SOCKET_DIR pgbin=$FASTEPOST_TEST_PGBIN
as_pg=()
[[ $(id -u) -ne 0 ]] || as_pg=(runuser -u postgres --)
procs=4 per=250
db=fpfailover
primary() { psql -X -qAt -h "$dir" -p 5432 -d "$1" -c "$2"; }
standby() { psql -X -qAt -h "$dir" -p 5433 -d "$1" -c "$2"; }

# Synchronous replication: without it a commit acknowledged by the old primary may be missing
# on the new one (docs/deployment.md).
primary postgres "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
primary postgres "ALTER SYSTEM SET synchronous_commit = 'on'" >/dev/null
primary postgres "SELECT pg_reload_conf()" >/dev/null
for i in $(seq 100); do
  [[ $(primary postgres "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 1 ]] && break
  [[ $i -lt 100 ]] || { echo "the standby did not become synchronous in 10 s" >&2; exit 1; }
  sleep 0.1
done
primary postgres "CREATE DATABASE $db" >/dev/null
"$cli" --db "host=$dir port=5432 dbname=$db" schema install >/dev/null
for i in $(seq 100); do
  [[ $(standby $db "SELECT to_regclass('integration_events') IS NOT NULL" 2>/dev/null || true) == t ]] && break
  [[ $i -lt 100 ]] || { echo "the schema did not reach the standby in 10 s" >&2; exit 1; }
  sleep 0.1
done

work=$(mktemp -d /tmp/fpfailover.XXXXXX)
trap 'rm -rf "$work"' EXIT
conninfo="host=$dir,$dir port=5432,5433 dbname=$db user=postgres target_session_attrs=read-write connect_timeout=2"
pids=()
for ((p = 0; p < procs; p++)); do
  timeout 300 "$driver" "$conninfo" "$work/spool$p" "$p" "$procs" "$per" >"$work/$p.out" 2>"$work/$p.err" &
  pids+=($!)
done
# Mid-stream: once a quarter of the distinct deliveries are in.
unique=$((procs * per * 4 / 5))
for i in $(seq 300); do
  n=$(primary $db "SELECT count(*) FROM integration_events" 2>/dev/null || echo 0)
  (( n >= unique / 4 )) && break
  [[ $i -lt 300 ]] || { echo "ingestion did not start in 30 s" >&2; exit 1; }
  sleep 0.1
done
echo "stopping the primary after $n events"
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$FASTEPOST_TEST_PGDATA" -m immediate -w -t 30 stop >/dev/null
sleep 0.5
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$FASTEPOST_TEST_STANDBY_PGDATA" -w -t 30 promote >/dev/null
echo "standby promoted"
fail=0
for pid in "${pids[@]}"; do wait "$pid" || fail=1; done
cat "$work"/*.err | head -n 20 >&2
cat "$work"/*.out

# Failures the library queued for retry on the new primary (503 to the sender): the retry
# worker's job; made due now instead of after the backoff.
newdb="host=$dir port=5433 dbname=$db"
standby $db "UPDATE integration_events SET next_attempt_at = now() AT TIME ZONE 'UTC' WHERE status = 'error'" >/dev/null
timeout 120 "$cli" --db "$newdb" events retry || fail=1

sum() { cat "$work"/*.out | tr ' ' '\n' | grep "^$1=" | cut -d= -f2 | paste -sd+ | bc; }
check() { # name, got, want
  if [[ "$2" == "$3" ]]; then printf '  ok    %-48s %s\n' "$1" "$2"; else printf '  FAIL  %-48s %s (want %s)\n' "$1" "$2" "$3"; fail=1; fi
}
total=$((procs * per))
check "deliveries answered" "$(( $(sum ok) + $(sum duplicate) + $(sum spooled) + $(sum queued) ))" "$total"
check "failures" "$(sum failed)" 0
check "left in the spools" "$(sum remaining)" 0
check "spooled deliveries replayed" "$(sum replayed)" "$(sum spooled)"
check "the failover was seen (resets)" "$([[ $(sum resets) -ge 1 ]] && echo yes || echo no)" yes
check "customers (one per distinct delivery)" "$(standby $db 'SELECT count(*) FROM customers')" "$unique"
check "distinct customers by crm id" "$(standby $db 'SELECT count(DISTINCT crm_id) FROM customers')" "$unique"
check "remarks (none twice)" "$(standby $db 'SELECT count(*) FROM remarks')" "$unique"
check "events (one per distinct delivery)" "$(standby $db 'SELECT count(*) FROM integration_events')" "$unique"
check "events not successful" "$(standby $db "SELECT count(*) FROM integration_events WHERE status <> 'success'")" 0
check "new primary is writable" "$(standby postgres 'SELECT NOT pg_is_in_recovery()')" t
exit $fail
