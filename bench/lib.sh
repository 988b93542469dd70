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

# The Python interpreter that BUILD's binding was built for (CMake's Python3_EXECUTABLE): the
# same one must run it. Fails when BUILD has no Python binding: py=$(bench_python BUILD) || exit 2
bench_python() {
  [[ -d "$1/bindings/python/fastepost" ]] || { echo "$1 has no Python binding: build it first" >&2; return 2; }
  local py
  py=$(sed -n 's/^Python3_EXECUTABLE:FILEPATH=//p' "$1/CMakeCache.txt")
  echo "${py:-python3}"
}

# Build libfastepost and the fastepost CLI (Release, no tests) from the tree SOURCE into BUILD;
# the build's output goes to BUILD.log and is shown when it fails: bench_build SOURCE BUILD
bench_build() {
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DFASTEPOST_BUILD_TESTS=OFF >/dev/null
  cmake --build "$2" -j2 --target fastepost fastepost_cli >"$2.log" 2>&1 || { cat "$2.log"; return 1; }
}
# Compile a benchmark driver against the library in BUILD, with the public headers of the tree
# INCLUDE_TREE: bench_cc INCLUDE_TREE BUILD DRIVER.c OUT [more cc arguments, e.g. -lpq]
bench_cc() {
  cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I "$1/include" -I "$2/include" "$3" \
    -L "$2" -lfastepost "${@:5}" -Wl,-rpath,"$2" -o "$4"
}

# Seed customers and the event log with 1,000 rows each of a source no benchmark sends ('seed'),
# then analyse them: the state of a database past its first minutes of traffic, once autovacuum
# has counted its rows. Before that (a new database, or right after a TRUNCATE) the sync core
# plans its seen-key lookup at every delivery (migration 16: about 0.1 ms more per delivery),
# a state a live database leaves within a minute and a benchmark round would never leave. With
# BENCH_SEED=0 in the environment only analyse, as right after a TRUNCATE: bench_seed DB
bench_seed() {
  [[ "${BENCH_SEED:-1}" == 0 ]] || psql -X -q -d "$1" \
    -c "INSERT INTO customers (name, email, crm_source, crm_id, created_at, updated_at)
    SELECT 'Seed ' || g, 's' || g || '@seed.example', 'seed', 'seed:' || g, now(), now() FROM generate_series(1, 1000) g" \
    -c "INSERT INTO integration_events (source, event_type, status, idempotency_key, attempts, created_at, updated_at)
    SELECT 'seed', 'seed', 'success', 'seed-' || g, 1, now(), now() FROM generate_series(1, 1000) g"
  psql -X -q -d "$1" -c "VACUUM ANALYZE customers, integration_events, remarks"
}
# Empty the tables a delivery writes, then seed them (the single-delivery benchmarks start each
# round so): bench_empty DB
bench_empty() {
  psql -X -q -d "$1" -c "TRUNCATE customers, remarks, tasks, integration_events RESTART IDENTITY CASCADE"
  bench_seed "$1"
}

# Run the shell functions STEP... ROUNDS times on the emptied and seeded tables of DB
# (bench_empty before each), the order rotating from round to round so that a slow minute of
# the shared disk does not always fall on the same step; print each round; each step's figures
# go to the associative array `got` (declare -A got first): bench_rounds DB ROUNDS STEP...
bench_rounds() {
  local db=$1 rounds=$2 r k m v line
  shift 2
  for ((r = 0; r < rounds; r++)); do
    line="round $((r + 1)):"
    for ((k = 0; k < $#; k++)); do
      m=${@:$(((r + k) % $# + 1)):1}
      bench_empty "$db"
      v=$($m)
      got[$m]+=" $v"
      line+=" $m $v"
    done
    echo "$line"
  done
}
