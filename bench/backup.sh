#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: `fastepost backup create` vs running pg_dump by hand to the same kind of file, and
# `fastepost stats db` on 100 tables. Run it on a durable throwaway server:
#
#   scripts/with-postgres --durable bench/backup.sh
#
# Environment: ROWS (rows of the big table, default 1000000), RUNS (timed runs each, default 5),
# STATS_TABLES (default 100), STATS_ROWS (rows per stats table, default 100000),
# FASTEPOST (the CLI; default: build it into build/bench), SKIP_BACKUP=1 (only the stats part).
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

if [[ -z "${SKIP_BACKUP:-}" ]]; then
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
# Baselines, each writing the same kind of file by hand:
#   dump      pg_dump -f FILE (note: pg_dump 15 does not fsync plain output, only archives)
#   dumpsync  pg_dump -f FILE && sync FILE (durable, as the library is)
#   dumpsum   the same plus sha256sum FILE > FILE.sha256 (the library's whole result)
variants=(dump dumpsync dumpsum lib)
label() {
  case $1 in
    dump) echo "pg_dump -f by hand" ;; dumpsync) echo "pg_dump -f + sync by hand" ;;
    dumpsum) echo "pg_dump -f + sync + sha256sum" ;; lib) echo "fastepost backup create" ;;
  esac
}
for fmt in plain custom; do
  ext=sql; [[ $fmt == custom ]] && ext=dump
  for v in "${variants[@]}"; do : >"$work/${v}_$fmt"; done
  for ((i = 1; i <= RUNS; i++)); do
    # Interleave the variants so that load changes on the machine hit all of them alike.
    for v in "${variants[@]}"; do
      rm -rf "$work/out"; mkdir -m 700 "$work/out"
      f="$work/out/manual.$ext"
      t0=$(now_ms)
      case $v in
        dump) "$pgdump" --dbname=bench_backup --no-password --format=$fmt --file="$f" ;;
        dumpsync) "$pgdump" --dbname=bench_backup --no-password --format=$fmt --file="$f" && sync "$f" ;;
        dumpsum) "$pgdump" --dbname=bench_backup --no-password --format=$fmt --file="$f" && sync "$f" &&
                 (cd "$work/out" && sha256sum "manual.$ext" >"manual.$ext.sha256" && sync "manual.$ext.sha256" .) ;;
        lib) "$FASTEPOST" --quiet --db "dbname=bench_backup" backup create --dir "$work/out" --format $fmt >/dev/null ;;
      esac
      echo $(( $(now_ms) - t0 )) >>"$work/${v}_$fmt"
    done
  done
  size=$(du -b "$work"/out/backup_*.$ext | cut -f1)
  l=$(median <"$work/lib_$fmt"); lmin=$(minimum <"$work/lib_$fmt")
  printf '  %s format, %s bytes; median (best) of %d runs; ratio = baseline / fastepost\n' "$fmt" "$size" "$RUNS"
  for v in "${variants[@]}"; do
    m=$(median <"$work/${v}_$fmt"); mn=$(minimum <"$work/${v}_$fmt")
    printf '    %-30s %6d ms (%6d)' "$(label $v)" "$m" "$mn"
    # Also the median of per-round ratios: the variants of one round ran seconds apart, so
    # this is the figure least disturbed by load that changes during the run.
    [[ $v != lib ]] && awk -v m="$m" -v l="$l" -v a="$mn" -v b="$lmin" \
      -v pr="$(paste "$work/${v}_$fmt" "$work/lib_$fmt" | awk '{print $1 / $2}' | median)" \
      'BEGIN {printf "   ratio %.3f (best %.3f, per round %.3f)", m / l, a / b, pr}'
    echo "   runs: $(tr '\n' ' ' <"$work/${v}_$fmt")"
  done
done
dropdb bench_backup
fi

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
"$FASTEPOST" --db dbname=bench_stats stats db >"$work/stats.txt"
head -n 8 "$work/stats.txt"
: >"$work/stats"; : >"$work/conn"
for ((i = 1; i <= 20; i++)); do
  t0=$(now_ms); "$FASTEPOST" --db dbname=bench_stats stats db --json >/dev/null; echo $(( $(now_ms) - t0 )) >>"$work/stats"
  t0=$(now_ms); "$FASTEPOST" --db dbname=bench_stats schema status >/dev/null; echo $(( $(now_ms) - t0 )) >>"$work/conn"
done
echo "  fastepost stats db (whole CLI run: start, connect, queries, print): median $(median <"$work/stats") ms over 20 runs"
echo "  for scale, fastepost schema status (start + connect + one query):   median $(median <"$work/conn") ms"
# In-process timing of the library call itself, without process start and connect.
bindir=$(dirname "$FASTEPOST")
cc -O2 -o "$work/stats_db_time" bench/stats_db_time.c -I include -I "$bindir/include" \
  -L "$bindir" -lfastepost -Wl,-rpath,"$bindir"
"$work/stats_db_time" "dbname=bench_stats" 50
dropdb bench_stats
