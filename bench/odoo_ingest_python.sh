#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Odoo single-delivery ingest through the Python binding, two builds side by side (by hand):
#
#   scripts/with-postgres --durable bench/odoo_ingest_python.sh BASE_BUILD NEW_BUILD [EVENTS=2000] [ROUNDS=5]
#
# BASE_BUILD and NEW_BUILD are build trees with the Python binding (e.g. one of an older commit
# made with `git worktree add`). Interleaved rounds, each build on a database installed by its
# own CLI, emptied and seeded before each round (bench_empty in bench/lib.sh); prints every round
# and the median of each, then NEW/BASE. The machine is noisy: only the same-run ratio counts.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }
base=$1 new=$2 events=${3:-2000} rounds=${4:-5}
. bench/lib.sh
py=$(bench_python "$new") || exit 2
for side in base new; do
  dropdb --if-exists "fpbench_py_$side" 2>/dev/null || true
  createdb "fpbench_py_$side"
done
"$base/fastepost" --db "dbname=fpbench_py_base" schema install >/dev/null
"$new/fastepost" --db "dbname=fpbench_py_new" schema install >/dev/null
trap 'dropdb --if-exists fpbench_py_base 2>/dev/null; dropdb --if-exists fpbench_py_new 2>/dev/null' EXIT
declare -a rb rn
for ((i = 0; i < rounds; i++)); do
  bench_empty fpbench_py_base
  rb+=("$(PYTHONPATH="$base/bindings/python" "$py" bench/odoo_ingest_python.py "dbname=fpbench_py_base" "$events")")
  bench_empty fpbench_py_new
  rn+=("$(PYTHONPATH="$new/bindings/python" "$py" bench/odoo_ingest_python.py "dbname=fpbench_py_new" "$events")")
  echo "round $((i + 1)): base ${rb[i]} /s, new ${rn[i]} /s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mb=$(median "${rb[@]}") mn=$(median "${rn[@]}")
echo "median: base $mb /s, new $mn /s, new/base $(awk -v a="$mn" -v b="$mb" 'BEGIN {printf "%.2f", a/b}')"
