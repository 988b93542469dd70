/* SPDX-License-Identifier: MIT */
/*
 * Benchmark driver for the apply half of an initial Odoo import (run by
 * bench/odoo_pull_import.sh, not a test):
 *
 *   odoo_pull_apply CONNINFO N PAGE   apply N partners, PAGE per fastepost_odoo_process_batch()
 *
 * Each page is made just before it is applied and freed after (memory stays bounded, as in the
 * pull): the records as the pull hands them to the sync core (src/odoo_pull.c: search_read's
 * fields with "_model" and "_id"), shaped like the stand-in Odoo's bulk partners. Prints
 * "apply: N records in S s = R records/s (F failed)".
 */
#include <fastepost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4 || atol(argv[2]) <= 0 || atol(argv[3]) <= 0) {
    fprintf(stderr, "usage: odoo_pull_apply CONNINFO N PAGE\n");
    return 2;
  }
  long n = atol(argv[2]), page = atol(argv[3]);
  fastepost_odoo_options *opts = NULL;
  fastepost_conn *conn = NULL;
  if (fastepost_odoo_options_new(&opts) || fastepost_odoo_options_set_host_authenticated(opts, 1) ||
      fastepost_conn_open(&conn, argv[1])) {
    fprintf(stderr, "%s\n", fastepost_error_last()->message);
    return 1;
  }
  char **bodies = calloc((size_t)page, sizeof *bodies);
  size_t *lens = calloc((size_t)page, sizeof *lens);
  const char **keys = calloc((size_t)page, sizeof *keys);
  long failed = 0;
  double t0 = now_s();
  for (long from = 1; from <= n; from += page) {
    size_t k = (size_t)(n - from + 1 < page ? n - from + 1 : page);
    for (size_t j = 0; j < k; j++) {
      long i = from + (long)j;
      char body[1024];
      snprintf(body, sizeof body,
               "{\"id\": %ld, \"write_date\": \"2026-01-01 10:00:00\", \"create_date\": \"2026-01-01 10:00:00\", "
               "\"active\": true, \"name\": \"Partner %ld\", \"email\": \"p%ld@bulk.example\", "
               "\"phone\": \"+49 30 %07ld\", \"street\": false, \"city\": false, \"zip\": false, "
               "\"country_id\": false, \"comment\": false, \"is_company\": false, \"parent_id\": false, "
               "\"company_name\": false, \"commercial_company_name\": false, \"_model\": \"res.partner\", "
               "\"_id\": %ld}",
               i, i, i, i, i);
      bodies[j] = strdup(body);
      lens[j] = strlen(body);
    }
    fastepost_event_batch *results = NULL;
    if (fastepost_odoo_process_batch(&results, conn, keys, (const void *const *)bodies, lens, k, opts)) {
      fprintf(stderr, "page at %ld failed: %s\n", from, fastepost_error_last()->message);
      return 1;
    }
    for (size_t j = 0; j < k; j++) {
      const fastepost_event_result *r = fastepost_event_batch_get(results, j);
      if (fastepost_event_result_code(r) != FASTEPOST_OK && !failed++)
        fprintf(stderr, "first failure: %s\n", fastepost_event_result_error(r));
      free(bodies[j]);
    }
    fastepost_event_batch_free(results);
  }
  double dt = now_s() - t0;
  printf("apply: %ld records in %.3f s = %.1f records/s (%ld failed)\n", n, dt, (double)n / dt, failed);
  free(bodies);
  free(lens);
  free(keys);
  fastepost_conn_free(conn);
  fastepost_odoo_options_free(opts);
  return failed ? 1 : 0;
}
