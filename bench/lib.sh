# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers shared by the benchmark scripts (sourced: `. bench/lib.sh`).

# PROCS processes of DRIVER (bench/load_driver.c or a tree's own copy) on CONNINFO, PER
# deliveries each, over PROCS * PER contacts: deliveries per second, wall clock.
rate() { # driver conninfo procs per
  local t0 t1 pids=() p
  t0=$(date +%s.%N)
  for ((p = 0; p < $3; p++)); do
    timeout 900 "$1" "$2" "$p" "$3" "$4" $(($3 * $4)) >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  t1=$(date +%s.%N)
  echo "$3 * $4 / ($t1 - $t0)" | bc -l | xargs printf '%.0f'
}
# The median of the numbers on stdin (separated by spaces or newlines).
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# A / B with two decimals.
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
