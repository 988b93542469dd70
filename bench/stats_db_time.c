/* SPDX-License-Identifier: MIT */
/* Time fastepost_stats_db_get() (estimates only) in-process: bench/backup.sh builds and runs it.
 *   stats_db_time CONNINFO [RUNS] */
#include <fastepost.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  fastepost_conn *conn;
  if (argc < 2 || fastepost_conn_open(&conn, argv[1]) != FASTEPOST_OK) {
    fprintf(stderr, "usage: stats_db_time CONNINFO [RUNS] (%s)\n", fastepost_error_last()->message);
    return 2;
  }
  int runs = argc > 2 ? atoi(argv[2]) : 20;
  double ms[1000];
  size_t tables = 0;
  for (int i = 0; i < runs && i < 1000; i++) {
    struct timespec a, b;
    fastepost_stats_db *s;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (fastepost_stats_db_get(&s, conn, NULL, 0) != FASTEPOST_OK) {
      fprintf(stderr, "%s\n", fastepost_error_last()->message);
      return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    tables = fastepost_stats_db_table_count(s);
    fastepost_stats_db_free(s);
    ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  }
  qsort(ms, (size_t)runs, sizeof ms[0], cmp);
  printf("  fastepost_stats_db_get, %zu tables, in-process: median %.1f ms, best %.1f ms, worst "
         "%.1f ms over %d calls (target < 50 ms)\n",
         tables, ms[runs / 2], ms[0], ms[runs - 1], runs);
  fastepost_conn_free(conn);
  return 0;
}
