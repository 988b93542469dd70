#!/usr/bin/env bash
# Benchmark: `fastepost backup create` vs running pg_dump by hand to the same kind of file, and
# `fastepost stats db` on 100 tables. Run it on a durable throwaway server:
#
#   scripts/with-postgres --durable bench/backup.sh
#
# Environment: ROWS (rows of the big table, default 1000000), RUNS (timed runs each, default 5),
# STATS_TABLES (default 100), STATS_ROWS (rows per stats table, default 100000),
# FASTEPOST (the CLI; default: build it into build/bench).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-9}
STATS_TABLES=${STATS_TABLES:-100}
STATS_ROWS=${STATS_ROWS:-100000}

if [[ -z "${FASTEPOST:-}" ]]; then
  cmake -S "$root" -B build/bench -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
  cmake --build build/bench -j2 >/dev/null
  FASTEPOST="$root/build/bench/fastepost"
fi
[[ -n "${PGHOST:-}" ]] || { echo "run me under scripts/with-postgres --durable" >&2; exit 2; }

work=$(mktemp -d /tmp/fpbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
minimum() { sort -n | head -n 1; }

echo "==> Backup benchmark: one table of $ROWS rows ($(pg_dump --version))"
createdb bench_backup
psql_q bench_backup "CREATE TABLE customers (id bigint PRIMARY KEY, name text, email text,
  amount numeric(12,2), active boolean, created_at timestamp(6));
  INSERT INTO customers SELECT g, 'Kunde ' || g || ' Grüße', 'user' || g || '@example.de',
    (g % 100000) / 100.0, g % 3 = 0, timestamp '2020-01-01' + g * interval '1 second'
  FROM generate_series(1, $ROWS) g"
psql_q bench_backup "VACUUM ANALYZE customers"
psql -X -At -d bench_backup -c "SELECT 'database size: ' || pg_size_pretty(pg_database_size(current_database()))"

pgdump=$(command -v pg_dump)
for fmt in plain custom; do
  ext=sql; [[ $fmt == custom ]] && ext=dump
  : >"$work/manual_$fmt" ; : >"$work/lib_$fmt"; : >"$work/manualsum_$fmt"
  for ((i = 1; i <= RUNS; i++)); do
    # Alternate the order so that caches favour neither side.
    for who in manual lib manualsum; do
      rm -rf "$work/out"; mkdir -m 700 "$work/out"
      t0=$(now_ms)
      if [[ $who == manual ]]; then
        # What an operator would type: pg_dump writes (and fsyncs) the file itself.
        "$pgdump" --dbname=bench_backup --no-password --format=$fmt --file="$work/out/manual.$ext"
      elif [[ $who == manualsum ]]; then
        # The same result as the library's: the dump plus a recorded SHA-256.
        "$pgdump" --dbname=bench_backup --no-password --format=$fmt --file="$work/out/manual.$ext"
        (cd "$work/out" && sha256sum "manual.$ext" >"manual.$ext.sha256" && sync "manual.$ext.sha256")
      else
        "$FASTEPOST" --quiet --db "dbname=bench_backup" backup create --dir "$work/out" --format $fmt >/dev/null
      fi
      echo $(( $(now_ms) - t0 )) >>"$work/${who}_$fmt"
    done
  done
  size=$(du -b "$work"/out/manual.$ext | cut -f1)
  m=$(median <"$work/manual_$fmt"); l=$(median <"$work/lib_$fmt"); ms=$(median <"$work/manualsum_$fmt")
  ratio=$(awk -v m="$m" -v l="$l" 'BEGIN {printf "%.3f", m / l}')
  ratio2=$(awk -v m="$ms" -v l="$l" 'BEGIN {printf "%.3f", m / l}')
  printf '  %-6s (%s bytes, medians of %d)\n' "$fmt" "$size" "$RUNS"
  printf '         pg_dump -f by hand:              %6d ms   ratio %s (target >= 0.95)\n' "$m" "$ratio"
  printf '         pg_dump -f + sha256sum by hand:  %6d ms   ratio %s\n' "$ms" "$ratio2"
  printf '         fastepost backup create:         %6d ms\n' "$l"
  mn=$(minimum <"$work/manual_$fmt"); ln=$(minimum <"$work/lib_$fmt")
  printf '         best runs: by hand %d ms, fastepost %d ms, ratio %s\n' "$mn" "$ln" \
    "$(awk -v m="$mn" -v l="$ln" 'BEGIN {printf "%.3f", m / l}')"
  echo "         runs (ms): by hand $(tr '\n' ' ' <"$work/manual_$fmt")| +sha256sum $(tr '\n' ' ' <"$work/manualsum_$fmt")| fastepost $(tr '\n' ' ' <"$work/lib_$fmt")"
done
dropdb bench_backup

echo
echo "==> stats db: $STATS_TABLES tables of $STATS_ROWS rows"
createdb bench_stats
t0=$(now_ms)
psql_q bench_stats "DO \$\$ BEGIN FOR i IN 1..$STATS_TABLES LOOP
  EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY, v text)', i);
  EXECUTE format('INSERT INTO t%s SELECT g, md5(g::text) FROM generate_series(1, $STATS_ROWS) g', i);
END LOOP; END \$\$"
psql_q bench_stats "VACUUM ANALYZE"
echo "  generated in $(( ($(now_ms) - t0) / 1000 )) s; $(psql -X -At -d bench_stats -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
"$FASTEPOST" --db dbname=bench_stats stats db | head -8
: >"$work/stats"; : >"$work/conn"
for ((i = 1; i <= 20; i++)); do
  t0=$(now_ms); "$FASTEPOST" --db dbname=bench_stats stats db --json >/dev/null; echo $(( $(now_ms) - t0 )) >>"$work/stats"
  t0=$(now_ms); "$FASTEPOST" --db dbname=bench_stats schema status >/dev/null; echo $(( $(now_ms) - t0 )) >>"$work/conn"
done
echo "  fastepost stats db (whole CLI run: start, connect, queries, print): median $(median <"$work/stats") ms over 20 runs"
echo "  for scale, fastepost schema status (start + connect + one query):   median $(median <"$work/conn") ms"
psql -X -d bench_stats -c '\timing on' -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) SELECT pg_total_relation_size(c.oid), pg_table_size(c.oid), pg_indexes_size(c.oid), c.reltuples FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace" | grep -E 'Execution Time'
dropdb bench_stats
