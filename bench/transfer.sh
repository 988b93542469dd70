#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Data transfer benchmark: fastepost export/import side by side with psql's \copy, on a
# customers table of realistic rows (unicode, NULLs, quotes, line breaks), plus peak RSS.
#
#   scripts/with-postgres --durable bench/transfer.sh [ROWS] [RSS_ROWS]
#
# ROWS (default 1000000) rows for the timed comparisons; RSS_ROWS (default 6000000, about
# 1 GiB of CSV) rows for the peak-memory run. Each timing is the best of 3 runs.
# Needs /usr/bin/time (Debian package `time`, in `scripts/deps bench`).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
rss_rows=${2:-6000000}
build=${BUILD:-build/bench}
if [[ -z "${FASTEPOST:-}" ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 >/dev/null
  FASTEPOST="$build/fastepost"
fi
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d /tmp/fpbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
createdb -h "$PGHOST" -U postgres fpbench
export DATABASE_URL="host=$PGHOST user=postgres dbname=fpbench"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=terse -d "$DATABASE_URL")
export PGOPTIONS="-c client_min_messages=warning"
"$FASTEPOST" schema install >/dev/null

# Deterministic, realistic rows: names in several scripts, ~25% NULL phones, some addresses with
# commas, quotes and line breaks, unique e-mails (the table has a unique index on lower(email)).
fill() { # fill N [OFFSET]
  "${PSQL[@]}" <<SQL
INSERT INTO customers (name, email, phone, company, address, crm_source, crm_id, crm_updated_at,
                       last_synced_at, active, created_at, updated_at)
SELECT (ARRAY['Anna Müller','José García','Zoë Dubois','Олег Петров','李 伟','Søren Kierkegaard',
              'Mary O''Brien','Ahmed Al-Hassan','Łukasz Żółć','Yūki Tanaka'])[1 + g % 10] || ' ' || g,
       'user' || g || '@' || (ARRAY['example.com','beispiel.de','exemple.fr','пример.рф'])[1 + g % 4],
       CASE WHEN g % 4 = 0 THEN NULL ELSE '+49 30 ' || lpad((g::bigint * 7919 % 10000000)::text, 7, '0') END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE (ARRAY['Müller GmbH','ACME, Inc.','"Quoted" Ltd','Café Zoë'])[1 + g % 4] END,
       CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 THEN 'Hauptstraße ' || g % 200 || E'\n' || (10000 + g % 89999) || ' Berlin'
            ELSE g % 200 || ' Main Street, Springfield' END,
       CASE WHEN g % 2 = 0 THEN 'odoo' ELSE 'hubspot' END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'res.partner:' || g END,
       timestamp '2024-01-01' + (g % 100000) * interval '1 minute',
       CASE WHEN g % 6 = 0 THEN NULL ELSE timestamp '2024-06-01' + (g % 50000) * interval '1 second' END,
       g % 9 <> 0,
       timestamp '2023-01-01' + (g % 500000) * interval '1 minute',
       timestamp '2023-06-01' + (g % 500000) * interval '1 minute'
FROM generate_series(${2:-0} + 1, ${2:-0} + $1) g;
SQL
}

# Best of 3 wall-clock seconds of a command (output to /dev/null unless redirected inside).
best() {
  local best=999999 t s e
  for _ in 1 2 3; do
    [[ -n "${BEFORE:-}" ]] && eval "$BEFORE"
    s=$(date +%s.%N)
    eval "$1"
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    if (($(echo "$t < $best" | bc))); then best=$t; fi
  done
  echo "$best"
}
ratio() { echo "scale=2; $1 / $2" | bc; }
rss() { # peak RSS in MiB of a command
  /usr/bin/time -v bash -c "$1" 2>"$work/time.txt" >/dev/null
  awk '/Maximum resident set size/ {printf "%.1f", $6 / 1024}' "$work/time.txt"
}

echo "==> Filling customers with $rows rows"
fill "$rows"
"${PSQL[@]}" -c "VACUUM ANALYZE customers"
echo "    table: $("${PSQL[@]}" -Atc "SELECT pg_size_pretty(pg_total_relation_size('customers'))")"

echo "==> CSV export (best of 3)"
t_psql_csv=$(best "psql -X -d \"\$DATABASE_URL\" -c '\\copy customers TO STDOUT (FORMAT csv, HEADER)' > $work/psql.csv")
t_fp_csv=$(best "\"$FASTEPOST\" export --quiet --table customers --output $work/fp.csv")
cmp -s "$work/psql.csv" "$work/fp.csv" && same=identical || same=DIFFERENT
echo "    psql \\copy: ${t_psql_csv}s  fastepost: ${t_fp_csv}s  ratio (psql/fastepost): $(ratio "$t_psql_csv" "$t_fp_csv")  output: $same ($(du -h "$work/fp.csv" | cut -f1))"

echo "==> NDJSON export (best of 3)"
t_psql_nd=$(best "psql -X -d \"\$DATABASE_URL\" -c '\\copy (SELECT row_to_json(c) FROM customers c) TO STDOUT' > $work/psql.ndjson")
t_fp_nd=$(best "\"$FASTEPOST\" export --quiet --table customers --format ndjson --output $work/fp.ndjson")
echo "    psql \\copy: ${t_psql_nd}s  fastepost: ${t_fp_nd}s  ratio (psql/fastepost): $(ratio "$t_psql_nd" "$t_fp_nd")"
rm -f "$work/psql.ndjson" "$work/fp.ndjson"

echo "==> CSV import into the empty table (best of 3; same file; indexes in place)"
export BEFORE="\"\${PSQL[@]}\" -c 'TRUNCATE customers RESTART IDENTITY CASCADE; CHECKPOINT'"
t_psql_in=$(best "psql -X -q -d \"\$DATABASE_URL\" -c '\\copy customers FROM $work/fp.csv (FORMAT csv, HEADER)'")
t_fp_in=$(best "\"$FASTEPOST\" import --quiet --table customers $work/fp.csv >/dev/null")
unset BEFORE
echo "    psql \\copy: ${t_psql_in}s  fastepost (validated, all-or-nothing): ${t_fp_in}s  ratio: $(ratio "$t_psql_in" "$t_fp_in")"
rm -f "$work/psql.csv"

echo "==> Peak RSS on a large file ($rss_rows rows)"
"${PSQL[@]}" -c "TRUNCATE customers RESTART IDENTITY CASCADE"
fill "$rss_rows"
rss_export=$(rss "\"$FASTEPOST\" export --quiet --table customers --output $work/big.csv")
size=$(du -h "$work/big.csv" | cut -f1)
"${PSQL[@]}" -c "TRUNCATE customers RESTART IDENTITY CASCADE; CHECKPOINT"
s=$(date +%s.%N)
rss_import=$(rss "\"$FASTEPOST\" import --quiet --table customers $work/big.csv")
e=$(date +%s.%N)
echo "    file: $size  export peak RSS: ${rss_export} MiB  import peak RSS: ${rss_import} MiB (import took $(echo "$e - $s" | bc)s)"
echo "    rows imported: $("${PSQL[@]}" -Atc 'SELECT count(*) FROM customers')"
