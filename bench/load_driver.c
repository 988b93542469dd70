/* SPDX-License-Identifier: MIT */
/*
 * One process of bench/load.sh: PER deliveries through fastepost_odoo_process(), one
 * transaction each, on its own connection. 80% are this process's share of the unique
 * deliveries (unique delivery k goes to process k % NPROCS), 20% are redeliveries of any unique
 * delivery (any process's, so duplicates race across processes), shuffled with a fixed seed.
 * Unique delivery k is version k / CONTACTS of contact k % CONTACTS + 1: contacts overlap across
 * processes and versions arrive out of order (stale ones are logged and not applied).
 *
 *   load_driver CONNINFO PROC NPROCS PER CONTACTS
 * prints: created= updated= unchanged= stale= duplicate= ignored= failed= seconds=
 * With LOAD_LATENCY_OUT=FILE in the environment it also writes one line per delivery to FILE:
 * its start on CLOCK_MONOTONIC and its latency, both in microseconds (bench/prune_latency.sh
 * keeps the deliveries that ran while a prune did).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fastepost.h>

static unsigned long long rng_state;
static unsigned long long rng(void) { /* xorshift64*: fixed seeds, same run every time */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: load_driver CONNINFO PROC NPROCS PER CONTACTS\n");
    return 2;
  }
  const char *conninfo = argv[1];
  long proc = atol(argv[2]), nprocs = atol(argv[3]), per = atol(argv[4]), contacts = atol(argv[5]);
  long unique_per = per * 4 / 5, unique_total = unique_per * nprocs;
  long *plan = malloc((size_t)per * sizeof *plan);
  for (long j = 0; j < unique_per; j++)
    plan[j] = proc + nprocs * j;
  rng_state = 0x9E3779B97F4A7C15ULL ^ (unsigned long long)(proc + 1) * 0x100000001B3ULL;
  for (long j = unique_per; j < per; j++)
    plan[j] = (long)(rng() % (unsigned long long)unique_total);
  for (long j = per - 1; j > 0; j--) { /* Fisher-Yates */
    long r = (long)(rng() % (unsigned long long)(j + 1)), t = plan[j];
    plan[j] = plan[r];
    plan[r] = t;
  }
  /* Every delivery presents the configured key, as Odoo would: the check is part of the cost. */
  static const char key[] = "load-driver-key";
  fastepost_odoo_options *opts = NULL;
  if (fastepost_odoo_options_new(&opts) != FASTEPOST_OK || fastepost_odoo_options_add_api_key(opts, key) != FASTEPOST_OK) {
    fprintf(stderr, "load_driver: %s\n", fastepost_error_last()->message);
    return 1;
  }
  fastepost_conn *conn = NULL;
  if (fastepost_conn_open(&conn, conninfo) != FASTEPOST_OK) {
    fprintf(stderr, "load_driver: %s\n", fastepost_error_last()->message);
    return 1;
  }
  long counts[9] = {0}, failed = 0;
  const char *lat_path = getenv("LOAD_LATENCY_OUT");
  FILE *lat = lat_path && *lat_path ? fopen(lat_path, "w") : NULL;
  if (lat_path && *lat_path && !lat) {
    perror(lat_path);
    return 1;
  }
  double t0 = now_s();
  for (long j = 0; j < per; j++) {
    double d0 = now_s();
    long k = plan[j], c = k % contacts + 1, v = k / contacts;
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"_model\":\"res.partner\",\"_id\":%ld,\"name\":\"P%ld v%ld\",\"email\":\"c%ld@load.example\","
                     "\"comment\":\"<p>Notes for contact %ld</p>\",\"write_date\":\"2024-01-01 %02ld:%02ld:%02ld\"}",
                     c, c, v, c, c, v / 3600, v / 60 % 60, v % 60);
    fastepost_event_result *r = NULL;
    fastepost_status st = fastepost_odoo_process(&r, conn, key, body, (size_t)n, opts);
    if (st == FASTEPOST_OK) {
      counts[fastepost_event_result_outcome(r)]++;
    } else {
      failed++;
      fprintf(stderr, "load_driver %ld: delivery %ld: %s\n", proc, k, fastepost_event_result_error(r));
    }
    fastepost_event_result_free(r);
    if (lat)
      fprintf(lat, "%lld %lld\n", (long long)(d0 * 1e6), (long long)((now_s() - d0) * 1e6));
  }
  double secs = now_s() - t0;
  if (lat)
    fclose(lat);
  printf("created=%ld updated=%ld unchanged=%ld stale=%ld duplicate=%ld ignored=%ld failed=%ld seconds=%.3f\n",
         counts[FASTEPOST_OUTCOME_CREATED], counts[FASTEPOST_OUTCOME_UPDATED], counts[FASTEPOST_OUTCOME_UNCHANGED],
         counts[FASTEPOST_OUTCOME_STALE], counts[FASTEPOST_OUTCOME_DUPLICATE], counts[FASTEPOST_OUTCOME_IGNORED],
         failed, secs);
  fastepost_conn_free(conn);
  fastepost_odoo_options_free(opts);
  free(plan);
  return failed ? 1 : 0;
}
