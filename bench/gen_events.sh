#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fill a fastepost database with generated customers and integration events, in SQL (by hand,
# for the benchmarks; never in ctest). The one generator of bench/crm_stats.sh,
# bench/events_list.sh, bench/prune_latency.sh, bench/big_ingest.sh and bench/scale.sh.
#
#   bench/gen_events.sh DB [--customers N] [--events N] [--oldest DAYS] [--newest DAYS]
#                          [--chunk N] [--dead-every N] [--append PASS/PASSES]
#
# DB         a libpq conninfo or database name; the schema installed, customers and
#            integration_events empty (refused otherwise: the fast path below needs that),
#            except with --append.
# customers  N customers (default 0), as an Odoo import leaves them: name, distinct email,
#            shared phone (one per 5 customers: switchboards), company, crm_source 'odoo',
#            crm_id 'res.partner:<100000000 + n>' (out of the range bench/load_driver.c uses).
# events     N events (default 0), oldest first, created_at evenly spread from --oldest days
#            ago (default 365) to --newest days ago (default 0, i.e. a minute ago) in id order,
#            as a real log is; 50 % odoo, 40 % hubspot, 10 % pipedrive, two event types per
#            source; 85 % success, 8 % error (with a message and a retry time), 2 % dead,
#            5 % pending, except that with --dead-every N only every N-th event is dead (a rare
#            status; the others stay success); an idempotency key each, the customer when there
#            are customers, and a small JSON payload (4 fields, about 100 bytes as jsonb, like a
#            short Odoo write) - the payload of a real delivery is larger, the indexes are not.
# chunk      rows per INSERT statement (default 5,000,000): a progress line each.
# append     add N more events to a database generated before (no customers), indexes and
#            counter triggers in place: pass PASS (1 ...) of PASSES lays its rows over the same
#            days, shifted by PASS/PASSES of the spacing between two rows, so that after every
#            pass the log covers the whole span evenly (ids no longer follow the time across
#            passes, as in a log fed by several senders). How bench/scale.sh grows a database
#            step by step, measuring at each size.
#
# The fast path, for 100M rows: the secondary indexes of both tables are dropped, the rows
# inserted with session_replication_role = replica (no counter triggers, no foreign-key checks:
# customer ids are generated in range), then the heap is vacuumed (visibility map: index-only
# scans), the indexes rebuilt exactly as they were (maintenance_work_mem and
# max_parallel_maintenance_workers: GEN_MWM, default 1GB, and GEN_WORKERS, default 1), and the
# CRM counters recomputed from the table (fastepost_crm_counters_rebuild(), what the schema's
# backfill runs), so the statistics are as exact as if every row had passed the triggers.
# Prints the time of every phase and the sizes at the end.
set -euo pipefail
[[ $# -ge 1 && $1 != -* ]] || { sed -n '6,8p' "$0" >&2; exit 2; }
db=$1
shift
customers=0 events=0 oldest=365 newest=0 chunk=5000000 dead_every=0 pass=0 passes=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --customers) customers=$2 ;;
    --events) events=$2 ;;
    --oldest) oldest=$2 ;;
    --newest) newest=$2 ;;
    --chunk) chunk=$2 ;;
    --dead-every) dead_every=$2 ;;
    --append) [[ $2 =~ ^([0-9]+)/([1-9][0-9]*)$ ]] || { echo "gen_events: --append PASS/PASSES" >&2; exit 2; }
      pass=${BASH_REMATCH[1]} passes=${BASH_REMATCH[2]} ;;
    *) echo "gen_events: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
for v in "$customers" "$events" "$oldest" "$newest" "$chunk" "$dead_every"; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "gen_events: not a whole number: $v" >&2; exit 2; }
done
((oldest > newest)) || { echo "gen_events: --oldest must be more days ago than --newest" >&2; exit 2; }
((chunk > 0)) || chunk=5000000

q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# The heavy statements: with GEN_NICE=1 their server process (not only this client) runs at
# the lowest CPU and I/O priority (nice 19, ionice idle; root only), so that benchmarks measured
# on the same cluster or machine meanwhile are disturbed less: `nice scripts/with-postgres`
# would slow the measurements as well.
qn() {
  [[ -n "${GEN_NICE:-}" ]] || { q "$@"; return; }
  local app="gen_events_$$" pid="" i
  PGAPPNAME=$app q "$@" &
  local client=$!
  for ((i = 0; i < 100; i++)); do
    pid=$(q -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name = '$app'")
    [[ -z "$pid" ]] || break
    sleep 0.05
  done
  # shellcheck disable=SC2086 # a list of pids
  [[ -z "$pid" ]] || { renice -n 19 -p $pid >/dev/null; ionice -c3 -p $pid 2>/dev/null || true; }
  wait "$client"
}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
empty=$(q -c "SELECT (SELECT count(*) FROM (SELECT 1 FROM customers LIMIT 1) c) +
                     (SELECT count(*) FROM (SELECT 1 FROM integration_events LIMIT 1) e)")
if ((pass > 0)); then
  ((customers == 0)) || { echo "gen_events: --append adds events only" >&2; exit 2; }
else
  [[ $empty == 0 ]] || { echo "gen_events: customers or integration_events is not empty" >&2; exit 1; }
fi

t_all=$(date +%s)
phase_t0=0
phase() { phase_t0=$(date +%s); printf '   %-44s' "$1"; }
done_() { echo " $(( $(date +%s) - phase_t0 )) s"; }

# The secondary indexes (those behind no constraint: the primary keys stay, the ids are
# appended in order), saved to be rebuilt as they were. Appending keeps them.
defs="" drops=""
if ((pass == 0)); then
  defs=$(q -c "SELECT string_agg(regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX ',
                                                'CREATE \\1INDEX IF NOT EXISTS ') || ';', E'\n' ORDER BY i.indexrelid)
               FROM pg_index i WHERE i.indrelid IN ('customers'::regclass, 'integration_events'::regclass)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)")
  drops=$(q -c "SELECT string_agg('DROP INDEX ' || i.indexrelid::regclass || ';', ' ')
                FROM pg_index i WHERE i.indrelid IN ('customers'::regclass, 'integration_events'::regclass)
                AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)")
fi
restore() { # the indexes come back whatever happened (IF NOT EXISTS: those already rebuilt stay)
  if [[ -n "$defs" ]]; then
    q -c "SET maintenance_work_mem = '${GEN_MWM:-1GB}'" -c "SET max_parallel_maintenance_workers = ${GEN_WORKERS:-1}" \
      -c "$defs" >/dev/null 2>&1 || true
  fi
}
trap restore EXIT
[[ -z "$drops" ]] || q -c "$drops"

if ((customers > 0)); then
  phase "$customers customers"
  qn -c "SET session_replication_role = replica" -c "
    INSERT INTO customers (name, email, phone, company, crm_source, crm_id, crm_updated_at, last_synced_at,
                           created_at, updated_at)
    SELECT 'Customer ' || g, 'b' || g || '@big.example', '+4930' || (g % ($customers / 5 + 1)), 'Co ' || (g % 5000),
           'odoo', 'res.partner:' || (g + 100000000), t, t, t, t
    FROM generate_series(1, $customers) g, LATERAL (SELECT (now() AT TIME ZONE 'UTC') - interval '400 days'
           + g * interval '1 second' AS t) x"
  done_
fi
IFS='|' read -r cmin cmax < <(q -c "SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM customers")

# One clock for every chunk: the first event $oldest days ago, the last $newest days (and a
# minute) ago, step microseconds apart.
# Appending: keys continue after the rows there (ids from the sequence), and the pass's rows
# fall PASS/PASSES of a step after the first pass's.
IFS='|' read -r start step < <(q -c "SELECT to_char((now() AT TIME ZONE 'UTC') - interval '$oldest days',
    'YYYY-MM-DD HH24:MI:SS.US'), ($oldest - $newest) * 86400e6 / greatest($events, 1) - 60e6 / greatest($events, 1)")
key0=0 shift_us=0
if ((pass > 0)); then
  key0=$(q -c "SELECT coalesce(max(id), 0) FROM integration_events")
  shift_us=$(echo "$step * $pass / $passes" | bc -l)
fi
role=replica
((pass == 0)) || role=origin # appending: the counter triggers count the rows
status_sql="CASE WHEN (g / 10 * 7919 + g) % 100 < 85 THEN 'success' WHEN (g / 10 * 7919 + g) % 100 < 93 THEN 'error' WHEN (g / 10 * 7919 + g) % 100 < 95 THEN 'dead' ELSE 'pending' END"
((dead_every > 0)) && status_sql="CASE WHEN g % $dead_every = 0 THEN 'dead' WHEN (g / 10 * 7919 + g) % 100 BETWEEN 85 AND 92 THEN 'error'
  WHEN (g / 10 * 7919 + g) % 100 >= 95 THEN 'pending' ELSE 'success' END"
for ((lo = 1; lo <= events; lo += chunk)); do
  hi=$((lo + chunk - 1)); ((hi <= events)) || hi=$events
  phase "events $lo-$hi"
  qn -c "SET session_replication_role = $role" -c "
    INSERT INTO integration_events (source, event_type, status, outcome, external_id, idempotency_key, payload,
                                    error_message, attempts, next_attempt_at, customer_id, processed_at,
                                    created_at, updated_at)
    SELECT src, (CASE src WHEN 'odoo' THEN ARRAY['res.partner.write', 'crm.lead.write']
                          WHEN 'hubspot' THEN ARRAY['contact.propertyChange', 'contact.creation']
                          ELSE ARRAY['updated.person', 'added.person'] END)[1 + g / 10 % 2],
           st, CASE st WHEN 'success' THEN (ARRAY['updated', 'created', 'unchanged'])[1 + g % 3] END,
           (CASE src WHEN 'odoo' THEN 'res.partner:' WHEN 'hubspot' THEN 'contact:' ELSE 'person:' END) || (g % 2000003),
           src || ':' || ($key0 + g),
           jsonb_build_object('id', g % 2000003, 'name', 'Contact ' || (g % 2000003),
                              'email', 'c' || (g % 2000003) || '@example.com', 'write_date', ts),
           CASE WHEN st IN ('error', 'dead') THEN 'connection to the CRM lost' END,
           CASE st WHEN 'pending' THEN 0 WHEN 'success' THEN 1 WHEN 'error' THEN 2 ELSE 5 END,
           CASE st WHEN 'error' THEN ts + interval '1 hour' END,
           CASE WHEN $cmax > 0 THEN $cmin + g % ($cmax - $cmin + 1) END,
           CASE WHEN st <> 'pending' THEN ts + interval '20 milliseconds' END, ts, ts
    FROM generate_series($lo::bigint, $hi) g,
         LATERAL (SELECT (ARRAY['odoo', 'hubspot', 'odoo', 'hubspot', 'odoo', 'hubspot', 'odoo', 'hubspot', 'odoo',
                                'pipedrive'])[1 + g % 10] AS src, $status_sql AS st,
                         timestamp '$start' + ((g - 1) * $step + $shift_us) * interval '1 microsecond' AS ts) x"
  done_
done

phase "VACUUM ANALYZE"
qn -c "VACUUM ANALYZE customers, integration_events"
done_
while IFS= read -r def; do
  [[ -n "$def" ]] || continue
  name=$(sed -E 's/^CREATE (UNIQUE )?INDEX IF NOT EXISTS ([^ ]+) .*/\2/' <<<"$def")
  phase "index ${name:0:38}"
  qn -c "SET maintenance_work_mem = '${GEN_MWM:-1GB}'" -c "SET max_parallel_maintenance_workers = ${GEN_WORKERS:-1}" -c "$def"
  done_
done <<<"$defs"
trap - EXIT
if ((pass == 0)); then
  phase "counters (fastepost_crm_counters_rebuild)"
  qn -c "SELECT fastepost_crm_counters_rebuild()" -c "ANALYZE" >/dev/null
  done_
fi
echo "   generated in $(( $(date +%s) - t_all )) s: $(q -c "SELECT count(*) FROM customers") customers," \
  "$(q -c "SELECT count(*) FROM integration_events") events; integration_events" \
  "$(q -c "SELECT pg_size_pretty(pg_relation_size('integration_events'))") heap +" \
  "$(q -c "SELECT pg_size_pretty(pg_indexes_size('integration_events'))") indexes; database" \
  "$(q -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
