/* SPDX-License-Identifier: MIT */
/*
 * Benchmark driver for Odoo ingestion (run by bench/odoo_ingest.sh, not a test).
 *
 *   odoo_ingest generate N OFFSET           print N distinct deliveries as NDJSON
 *   odoo_ingest single CONNINFO N OFFSET    process them one call per delivery
 *   odoo_ingest batch CONNINFO N OFFSET B   process them B deliveries per batch call
 *
 * Deliveries are native Odoo webhook bodies, 70% res.partner and 30% crm.lead, all distinct
 * (ids OFFSET..OFFSET+N-1). Prints "fastepost <mode>: N events in S s = R events/s".
 */
#include <fastepost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void make_body(char *out, size_t size, long i) {
  if (i % 10 < 7) {
    char comment[64] = "false"; /* a third of the contacts carry HTML notes */
    if (i % 3 == 0)
      snprintf(comment, sizeof comment, "\"<p>Customer note <b>%ld</b></p>\"", i);
    snprintf(out, size,
             "{\"_action\": \"Send Webhook Notification(#12)\", \"_id\": %ld, \"_model\": \"res.partner\", "
             "\"active\": true, \"city\": \"Berlin\", \"comment\": %s, \"company_name\": false, "
             "\"country_code\": \"DE\", \"email\": \"contact%ld@bench.example\", \"id\": %ld, "
             "\"mobile\": false, \"name\": \"Kontakt %ld M\\u00fcller\", \"parent_name\": \"Firma %ld GmbH\", "
             "\"phone\": \"+49 30 %07ld\", \"street\": \"Stra\\u00dfe %ld\", \"street2\": false, "
             "\"write_date\": \"2024-05-03 14:22:07.%06ld\", \"zip\": \"10117\"}",
             i, comment, i, i, i, i, i, i, i % 1000000);
  } else {
    snprintf(out, size,
             "{\"_action\": \"Send Webhook Notification(#15)\", \"_id\": %ld, \"_model\": \"crm.lead\", "
             "\"contact_name\": \"Lead Person %ld\", \"description\": \"<p>Interested in %ld parcels a "
             "month.</p>\", \"email_from\": \"\\\"Lead Person %ld\\\" <lead%ld@bench.example>\", \"id\": %ld, "
             "\"name\": \"Deal %ld\", \"partner_id\": false, \"partner_name\": \"Lead Co %ld\", "
             "\"phone\": \"+49 89 %07ld\", \"type\": \"opportunity\", "
             "\"write_date\": \"2024-05-06 09:41:12.%06ld\"}",
             i, i, i % 900 + 100, i, i, i, i, i, i, i % 1000000);
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "generate") == 0) {
    long n = atol(argv[2]), off = atol(argv[3]);
    char body[2048];
    for (long i = off; i < off + n; i++) {
      make_body(body, sizeof body, i);
      puts(body);
    }
    return 0;
  }
  if (argc < 5) {
    fprintf(stderr, "usage: odoo_ingest generate N OFFSET | single CONNINFO N OFFSET | "
                    "batch CONNINFO N OFFSET BATCH\n");
    return 2;
  }
  const char *mode = argv[1];
  long n = atol(argv[3]), off = atol(argv[4]);
  long batch = argc > 5 ? atol(argv[5]) : 50;
  if (n <= 0 || batch <= 0)
    return 2;
  /* Every delivery presents the configured key, as Odoo would: the check is part of the cost. */
  static const char key[] = "bench-odoo-key";
  fastepost_odoo_options *opts = NULL;
  if (fastepost_odoo_options_new(&opts) != FASTEPOST_OK || fastepost_odoo_options_add_api_key(opts, key) != FASTEPOST_OK) {
    fprintf(stderr, "%s\n", fastepost_error_last()->message);
    return 1;
  }
  fastepost_conn *conn = NULL;
  if (fastepost_conn_open(&conn, argv[2]) != FASTEPOST_OK) {
    fprintf(stderr, "%s\n", fastepost_error_last()->message);
    return 1;
  }
  /* Build every body first: the clock measures processing only. */
  char **bodies = calloc((size_t)n, sizeof *bodies);
  size_t *lens = calloc((size_t)n, sizeof *lens);
  for (long i = 0; i < n; i++) {
    char body[2048];
    make_body(body, sizeof body, off + i);
    bodies[i] = strdup(body);
    lens[i] = strlen(body);
  }
  long failures = 0;
  double t0 = now_s();
  if (strcmp(mode, "single") == 0) {
    for (long i = 0; i < n; i++)
      if (fastepost_odoo_process(NULL, conn, key, bodies[i], lens[i], opts) != FASTEPOST_OK) {
        if (!failures++)
          fprintf(stderr, "first failure: %s\n", fastepost_error_last()->message);
      }
  }
#ifndef FASTEPOST_BENCH_SINGLE_ONLY /* bench/before_after.sh builds the single mode against older APIs too */
  else {
    const char **keys = calloc((size_t)batch, sizeof *keys);
    for (long j = 0; j < batch; j++)
      keys[j] = key;
    for (long i = 0; i < n; i += batch) {
      size_t k = (size_t)(n - i < batch ? n - i : batch);
      fastepost_event_batch *results = NULL;
      if (fastepost_odoo_process_batch(&results, conn, keys, (const void *const *)(bodies + i), lens + i, k, opts) !=
          FASTEPOST_OK)
        fprintf(stderr, "batch failed: %s\n", fastepost_error_last()->message);
      for (size_t j = 0; j < k; j++) {
        const fastepost_event_result *r = fastepost_event_batch_get(results, j);
        if (fastepost_event_result_code(r) != FASTEPOST_OK && !failures++)
          fprintf(stderr, "first failure: %s\n", fastepost_event_result_error(r));
      }
      fastepost_event_batch_free(results);
    }
    free(keys);
  }
#endif
  double dt = now_s() - t0;
  printf("fastepost %s: %ld events in %.3f s = %.1f events/s (%ld failed)\n", mode, n, dt, (double)n / dt,
         failures);
  for (long i = 0; i < n; i++)
    free(bodies[i]);
  free(bodies);
  free(lens);
  fastepost_conn_free(conn);
  fastepost_odoo_options_free(opts);
  return failures ? 1 : 0;
}
