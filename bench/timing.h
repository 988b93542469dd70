/* SPDX-License-Identifier: MIT */
/* Timing helpers shared by the in-process benchmark drivers (header-only: each driver is one
 * file compiled by its script). */
#ifndef FASTEPOST_BENCH_TIMING_H
#define FASTEPOST_BENCH_TIMING_H

#include <time.h>

/* Monotonic milliseconds. */
static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* qsort comparison of doubles, ascending. */
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The q-quantile of n sorted values (nearest rank). */
static double quantile(const double *t, int n, double q) {
  int i = (int)(n * q);
  return t[i < n ? i : n - 1];
}

#endif
