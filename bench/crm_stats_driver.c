/* SPDX-License-Identifier: MIT */
/*
 * bench/crm_stats_driver: time fastepost_crm_stats_collect() against the naive GROUP BY over
 * integration_events that a dashboard would otherwise run, on the same connection.
 *
 *   crm_stats_driver CONNINFO STATS_ITERATIONS NAIVE_ITERATIONS
 *
 * Prints one line per method: calls, mean, median, p95, p99 and max in milliseconds. NAIVE_ITERATIONS
 * may be 0 (at 100M events one naive GROUP BY takes minutes).
 */
#include <fastepost.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timing.h"

static const char naive_sql[] =
    "SELECT source, count(*) AS total_events, "
    "count(*) FILTER (WHERE created_at >= (now() AT TIME ZONE 'UTC') - interval '24 hours'), "
    "count(*) FILTER (WHERE status = 'success'), "
    "count(*) FILTER (WHERE status IN ('success', 'error', 'dead')), max(created_at) "
    "FROM integration_events GROUP BY source";


static void report(const char *name, double *t, int n) {
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += t[i];
  qsort(t, (size_t)n, sizeof *t, cmp);
  printf("%-28s calls %5d  mean %9.3f ms  median %9.3f ms  p95 %9.3f ms  p99 %9.3f ms  max %9.3f ms\n", name,
         n, sum / n, t[n / 2], quantile(t, n, 0.95), quantile(t, n, 0.99), t[n - 1]);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s CONNINFO STATS_ITERATIONS NAIVE_ITERATIONS\n", argv[0]);
    return 2;
  }
  int n_stats = atoi(argv[2]), n_naive = atoi(argv[3]);
  fastepost_conn *conn = NULL;
  if (fastepost_conn_open(&conn, argv[1]) != FASTEPOST_OK) {
    fprintf(stderr, "%s\n", fastepost_error_last()->message);
    return 1;
  }
  double *t = calloc((size_t)(n_stats > n_naive ? n_stats : n_naive) + 1, sizeof *t);
  /* One warm-up call each, so both start with a warm cache and planned statements. */
  fastepost_crm_stats *s = NULL;
  if (fastepost_crm_stats_collect(&s, conn, NULL) != FASTEPOST_OK) {
    fprintf(stderr, "%s\n", fastepost_error_last()->message);
    return 1;
  }
  const fastepost_crm_source_stats *h = fastepost_crm_stats_find_source(s, "hubspot");
  printf("check: hubspot total %llu, last 24 h %llu, rate %.1f %%\n", (unsigned long long)h->total_events,
         (unsigned long long)h->events_24h, h->success_rate);
  fastepost_crm_stats_free(s);
  for (int i = 0; i < n_stats; i++) {
    double t0 = now_ms();
    if (fastepost_crm_stats_collect(&s, conn, NULL) != FASTEPOST_OK) {
      fprintf(stderr, "%s\n", fastepost_error_last()->message);
      return 1;
    }
    t[i] = now_ms() - t0;
    fastepost_crm_stats_free(s);
  }
  report("fastepost stats crm (all)", t, n_stats);

  if (n_naive > 0) {
    PGconn *pg = PQconnectdb(argv[1]);
    PQclear(PQexec(pg, naive_sql));
    for (int i = 0; i < n_naive; i++) {
      double t0 = now_ms();
      PGresult *r = PQexec(pg, naive_sql);
      t[i] = now_ms() - t0;
      if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s\n", PQerrorMessage(pg));
        return 1;
      }
      if (i == 0)
        printf("check: naive hubspot row: total %s, last 24 h %s\n",
               PQgetvalue(r, 0, 0)[0] == 'h' ? PQgetvalue(r, 0, 1) : PQgetvalue(r, 1, 1),
               PQgetvalue(r, 0, 0)[0] == 'h' ? PQgetvalue(r, 0, 2) : PQgetvalue(r, 1, 2));
      PQclear(r);
    }
    report("naive GROUP BY (events only)", t, n_naive);
    PQfinish(pg);
  }
  fastepost_conn_free(conn);
  free(t);
  return 0;
}
