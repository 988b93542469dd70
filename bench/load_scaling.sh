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
. bench/lib.sh # bench_build, bench_cc, median, ratio
build="$root/build/bench"
bench_build "$root" "$build"
bench_cc "$root" "$build" bench/load_driver.c "$build/load_driver"
bench_cc "$root" "$base" bench/load_driver.c "$base/load_driver_scaling"
run() { # driver cli procs: deliveries per second (bench/load.sh checks the outcome)
  local out
  out=$(LOAD_DRIVER=$1 LOAD_CLI=$2 bench/load.sh "$3" $((total / $3)) $((total / 10)) 2>&1) || { echo "$out" >&2; echo 0; return; }
  sed -nE 's/.*: ([0-9]+) deliveries\/s.*/\1/p' <<<"$out"
}
c1=() c8=() b1=() b8=()
for ((r = 1; r <= rounds; r++)); do
  c1+=("$(run "$build/load_driver" "$build/fastepost" 1)")
  b1+=("$(run "$base/load_driver_scaling" "$base/fastepost" 1)")
  c8+=("$(run "$build/load_driver" "$build/fastepost" 8)")
  b8+=("$(run "$base/load_driver_scaling" "$base/fastepost" 8)")
  echo "round $r: this 1 proc ${c1[-1]}/s, 8 procs ${c8[-1]}/s; baseline 1 proc ${b1[-1]}/s, 8 procs ${b8[-1]}/s"
done
mc1=$(median <<<"${c1[*]}") mc8=$(median <<<"${c8[*]}") mb1=$(median <<<"${b1[*]}") mb8=$(median <<<"${b8[*]}")
echo "medians: this 1 proc $mc1/s, 8 procs $mc8/s (8/1 $(ratio "$mc8" "$mc1")); baseline 1 proc $mb1/s, 8 procs $mb8/s (8/1 $(ratio "$mb8" "$mb1")); this/baseline 1 proc $(ratio "$mc1" "$mb1"), 8 procs $(ratio "$mc8" "$mb8")"
