#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the locale host (tests/locale/host.c) under C.UTF-8, then under each test locale, and
# require the same dump from all: the library must behave the same whatever the host's locale.
# Each run also checks what must hold in any locale (the host exits 1 otherwise).
#
#   compare.sh HOST WORKDIR
set -u
host=$1 work=$2
mkdir -p "$work"
status=0
run() { # locale, decimal point
  echo "==> LC_ALL=$1"
  if ! LC_ALL=$1 FASTEPOST_TEST_SETLOCALE=1 "$host" "$2" >"$work/$1.txt" 2>"$work/$1.err"; then
    cat "$work/$1.err"
    echo "FAILED under $1 (dump: $work/$1.txt)"
    status=1
  fi
}
run C.UTF-8 .
for l in de_DE.UTF-8 tr_TR.UTF-8; do
  run "$l" ,
  if ! diff -u "$work/C.UTF-8.txt" "$work/$l.txt"; then
    echo "FAILED: the dump under $l differs from the one under C.UTF-8 (above)"
    status=1
  fi
done
[ $status -eq 0 ] && echo "the same dump in C.UTF-8, de_DE.UTF-8 and tr_TR.UTF-8 ($(wc -l <"$work/C.UTF-8.txt") lines)"
exit $status
