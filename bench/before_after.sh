#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two builds side by side (by hand, never in ctest): Odoo single-delivery ingest through the C
# API and CSV export of the customers table through the CLI, the two rates issue 14 ("API 1.0")
# must not lower.
#
#   scripts/with-postgres --durable bench/before_after.sh BASE_SRC BASE_BUILD NEW_BUILD \
#       [EVENTS=2000] [ROWS=1000000] [ROUNDS=5]
#
# BASE_SRC/BASE_BUILD: the source and a Release build tree of the older commit (`git worktree
# add`); NEW_BUILD: a Release build tree of this one. The driver (bench/odoo_ingest.c, single
# mode only) is compiled against each build's own headers. Rounds interleave base and new on
# emptied tables; the medians and new/base are printed. Only the same-run ratio counts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }
base_src=$1 base=$2 new=$3 events=${4:-2000} rows=${5:-1000000} rounds=${6:-5}
work=$(mktemp -d /tmp/fpba.XXXXXX)
trap 'rm -rf "$work"' EXIT
for side in base new; do
  b=${!side} src=$root
  [[ $side == base ]] && src=$base_src
  cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -DFASTEPOST_BENCH_SINGLE_ONLY -I "$src/include" -I "$b/include" \
    "$src/bench/odoo_ingest.c" -L "$b" -lfastepost -Wl,-rpath,"$b" -o "$work/ingest_$side"
done
db=fpbench_ba
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$new/fastepost" --db "dbname=$db" schema install >/dev/null
export DATABASE_URL="dbname=$db"
reset() { psql -X -q -d "$db" -c "TRUNCATE remarks, tasks, integration_events RESTART IDENTITY CASCADE; DELETE FROM customers WHERE crm_source = 'odoo'"; }
# Realistic customer rows for the export: unicode, NULL phones, quotes, commas and line breaks.
psql -X -q -d "$db" -c "INSERT INTO customers (name, email, phone, address)
  SELECT 'Kundin ' || g || ' Müller, \"K\"', 'c' || g || '@example.com',
         CASE WHEN g % 4 = 0 THEN NULL ELSE '+49 30 ' || g END,
         'Straße ' || g || E'\n10117 Berlin'
  FROM generate_series(1, $rows) g" >/dev/null
psql -X -q -d "$db" -c "VACUUM ANALYZE customers"
rate() { sed -E 's/.*= ([0-9.]+) events.*/\1/'; }
export_rate() { # build -> rows/s
  local t0 t1
  t0=$(date +%s.%N)
  "$1/fastepost" export --quiet --table customers --output "$work/out.csv"
  t1=$(date +%s.%N)
  awk -v r="$rows" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", r / (b - a)}'
}
declare -a ib in eb en
for ((i = 0; i < rounds; i++)); do
  off=$((1000000 + i * events * 2))
  reset; ib+=("$("$work/ingest_base" single "dbname=$db" "$events" "$off" | rate)")
  reset; in+=("$("$work/ingest_new" single "dbname=$db" "$events" $((off + events)) | rate)")
  eb+=("$(export_rate "$base")") en+=("$(export_rate "$new")")
  echo "round $((i + 1)): ingest base ${ib[i]} new ${in[i]} events/s; export base ${eb[i]} new ${en[i]} rows/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
mib=$(median "${ib[@]}") min=$(median "${in[@]}") meb=$(median "${eb[@]}") men=$(median "${en[@]}")
echo "median Odoo ingest: base $mib, new $min events/s, new/base $(ratio "$min" "$mib")"
echo "median CSV export:  base $meb, new $men rows/s, new/base $(ratio "$men" "$meb")"
dropdb "$db"
