#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 8 processes against 1, this tree and a baseline side by side (by hand, never in ctest):
#
#   scripts/with-postgres --durable bench/load_scaling.sh BASE_BUILD [ROUNDS=3] [TOTAL=2000]
#   scripts/with-postgres --durable --pgbouncer env LOAD_VIA=pooler bench/load_scaling.sh ...
#
# BASE_BUILD: a Release build tree of the baseline with its fastepost CLI and libfastepost
# (its bench/load_driver.c is compiled against it here). Each round runs bench/load.sh (which
# checks the exact outcome and the counters) with 1 process x TOTAL deliveries and 8 processes x
# TOTAL/8, for this tree and for the baseline, interleaved; prints every run and, per tree, the
# medians and 8 / 1. On two cores the bound is the CPU per delivery and what the deliveries wait
# for (the commit's fsync, a row another one holds).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
base=$1 rounds=${2:-3} total=${3:-2000}
[[ -n "${PGHOST:-}" ]] || { echo "run me inside scripts/with-postgres --durable" >&2; exit 2; }
build="$root/build/bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target fastepost fastepost_cli >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
cflags=(-O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror)
cc "${cflags[@]}" -I "$root/include" -I "$build/include" bench/load_driver.c -L "$build" -lfastepost \
  -Wl,-rpath,"$build" -o "$build/load_driver"
cc "${cflags[@]}" -I "$root/include" -I "$base/include" bench/load_driver.c -L "$base" -lfastepost \
  -Wl,-rpath,"$base" -o "$base/load_driver_scaling"
run() { # driver cli procs: deliveries per second (bench/load.sh checks the outcome)
  local out
  out=$(LOAD_DRIVER=$1 LOAD_CLI=$2 bench/load.sh "$3" $((total / $3)) $((total / 10)) 2>&1) || { echo "$out" >&2; echo 0; return; }
  sed -nE 's/.*: ([0-9]+) deliveries\/s.*/\1/p' <<<"$out"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
c1=() c8=() b1=() b8=()
for ((r = 1; r <= rounds; r++)); do
  c1+=("$(run "$build/load_driver" "$build/fastepost" 1)")
  b1+=("$(run "$base/load_driver_scaling" "$base/fastepost" 1)")
  c8+=("$(run "$build/load_driver" "$build/fastepost" 8)")
  b8+=("$(run "$base/load_driver_scaling" "$base/fastepost" 8)")
  echo "round $r: this 1 proc ${c1[-1]}/s, 8 procs ${c8[-1]}/s; baseline 1 proc ${b1[-1]}/s, 8 procs ${b8[-1]}/s"
done
r() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
mc1=$(median "${c1[@]}") mc8=$(median "${c8[@]}") mb1=$(median "${b1[@]}") mb8=$(median "${b8[@]}")
echo "medians: this 1 proc $mc1/s, 8 procs $mc8/s (8/1 $(r "$mc8" "$mc1")); baseline 1 proc $mb1/s, 8 procs $mb8/s (8/1 $(r "$mb8" "$mb1")); this/baseline 1 proc $(r "$mc1" "$mb1"), 8 procs $(r "$mc8" "$mb8")"
