#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Odoo single-delivery ingest through the Python binding, two builds side by side (by hand):
#
#   scripts/with-postgres --durable bench/odoo_ingest_python.sh BASE_BUILD NEW_BUILD [EVENTS=2000] [ROUNDS=5]
#
# BASE_BUILD and NEW_BUILD are build trees with the Python binding (e.g. one of an older commit
# made with `git worktree add`). Interleaved rounds, each on emptied tables; prints every round
# and the median of each, then NEW/BASE. The machine is noisy: only the same-run ratio counts.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }
base=$1 new=$2 events=${3:-2000} rounds=${4:-5}
py=$(sed -n 's/^Python3_EXECUTABLE:FILEPATH=//p' "$new/CMakeCache.txt")
py=${py:-python3}
db=fpbench_py
dropdb --if-exists "$db" 2>/dev/null || true
createdb "$db"
"$new/fastepost" --db "dbname=$db" schema install >/dev/null
reset() { psql -X -q -d "$db" -c "TRUNCATE customers, remarks, tasks, integration_events RESTART IDENTITY CASCADE"; }
declare -a rb rn
for ((i = 0; i < rounds; i++)); do
  reset; rb+=("$(PYTHONPATH="$base/bindings/python" "$py" bench/odoo_ingest_python.py "dbname=$db" "$events")")
  reset; rn+=("$(PYTHONPATH="$new/bindings/python" "$py" bench/odoo_ingest_python.py "dbname=$db" "$events")")
  echo "round $((i + 1)): base ${rb[i]} /s, new ${rn[i]} /s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mb=$(median "${rb[@]}") mn=$(median "${rn[@]}")
echo "median: base $mb /s, new $mn /s, new/base $(awk -v a="$mn" -v b="$mb" 'BEGIN {printf "%.2f", a/b}')"
