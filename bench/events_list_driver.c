/* SPDX-License-Identifier: MIT */
/*
 * bench/events_list_driver: time fastepost_events_list() in-process, for every combination of
 * its filters (source: none, odoo, pipedrive, one that matches nothing; status: none and each
 * of the four), on one connection. What `fastepost events list` costs without the process
 * start, which on a loaded machine dominates the CLI's wall-clock time.
 *
 *   events_list_driver CONNINFO CALLS [LIMIT=50]
 *
 * Prints one line per combination: rows returned, median, p99 and max in milliseconds.
 */
#include <fastepost.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timing.h"

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: %s CONNINFO CALLS [LIMIT=50]\n", argv[0]);
    return 2;
  }
  int calls = atoi(argv[2]);
  size_t limit = argc > 3 ? (size_t)atol(argv[3]) : 50;
  if (calls < 1) {
    fprintf(stderr, "CALLS must be at least 1\n");
    return 2;
  }
  fastepost_conn *conn = NULL;
  if (fastepost_conn_open(&conn, argv[1]) != FASTEPOST_OK) {
    fprintf(stderr, "%s\n", fastepost_error_last()->message);
    return 1;
  }
  static const char *const sources[] = {NULL, "odoo", "pipedrive", "nosuch"};
  static const char *const statuses[] = {NULL, "success", "error", "dead", "pending"};
  double *t = calloc((size_t)calls, sizeof *t);
  if (!t)
    return 1;
  printf("%-10s %-9s %6s %11s %11s %11s   (limit %zu, %d calls each)\n", "SOURCE", "STATUS", "rows", "median ms",
         "p99 ms", "max ms", limit, calls);
  for (size_t s = 0; s < sizeof sources / sizeof *sources; s++)
    for (size_t k = 0; k < sizeof statuses / sizeof *statuses; k++) {
      size_t rows = 0;
      for (int i = 0; i < calls; i++) {
        fastepost_event_list *list = NULL;
        double t0 = now_ms();
        if (fastepost_events_list(&list, conn, sources[s], statuses[k], limit) != FASTEPOST_OK) {
          fprintf(stderr, "%s\n", fastepost_error_last()->message);
          return 1;
        }
        t[i] = now_ms() - t0;
        rows = fastepost_event_list_count(list);
        fastepost_event_list_free(list);
      }
      qsort(t, (size_t)calls, sizeof *t, cmp);
      printf("%-10s %-9s %6zu %11.3f %11.3f %11.3f\n", sources[s] ? sources[s] : "*", statuses[k] ? statuses[k] : "*",
             rows, t[calls / 2], quantile(t, calls, 0.99), t[calls - 1]);
    }
  free(t);
  fastepost_conn_free(conn);
  return 0;
}
