/* SPDX-License-Identifier: MIT */
/*
 * Benchmark driver for HubSpot batch ingestion (run by bench/hubspot_ingest.sh, not a test).
 *
 *   hubspot_ingest CONNINFO N OFFSET B
 *
 * Processes N contact events in signed batches of B through fastepost_hubspot_process() (v3
 * verification included; the signatures are computed before the clock starts). Each contact
 * gets a creation and email, firstname and lastname changes, so four events per contact, all
 * distinct (contact ids from OFFSET). Prints "fastepost hubspot: N events in S s = R events/s".
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

static const char URL[] = "https://app.example.com/api/v1/integrations/hubspot";

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: hubspot_ingest CONNINFO N OFFSET BATCH\n");
    return 2;
  }
  long n = atol(argv[2]), off = atol(argv[3]), per = atol(argv[4]);
  if (n < 1 || per < 1 || per > 100)
    return 2;
  long nbatches = (n + per - 1) / per;
  char **bodies = calloc((size_t)nbatches, sizeof *bodies), **sigs = calloc((size_t)nbatches, sizeof *sigs);
  fastepost_webhook_request **reqs = calloc((size_t)nbatches, sizeof *reqs);
  char ts[32];
  snprintf(ts, sizeof ts, "%lld", (long long)time(NULL) * 1000);
  static const char *const props[] = {"email", "firstname", "lastname"};
  for (long b = 0, e = 0; b < nbatches; b++) {
    size_t cap = (size_t)per * 400 + 16, len = 0;
    char *body = malloc(cap);
    len += (size_t)snprintf(body + len, cap - len, "[");
    for (long k = 0; k < per && e < n; k++, e++) {
      long contact = off + e / 4, kind = e % 4;
      len += (size_t)snprintf(body + len, cap - len,
                              "%s{\"eventId\":%ld,\"subscriptionId\":%ld,\"portalId\":62515,\"appId\":1,"
                              "\"occurredAt\":%ld,\"subscriptionType\":\"contact.%s\",\"attemptNumber\":0,"
                              "\"objectId\":%ld,\"changeSource\":\"CRM\"",
                              k ? "," : "", off * 4 + e, 7 + kind, 1764260000000L + e,
                              kind ? "propertyChange" : "creation", contact);
      if (kind == 1)
        len += (size_t)snprintf(body + len, cap - len,
                                ",\"propertyName\":\"email\",\"propertyValue\":\"c%ld@bench.example\"", contact);
      else if (kind)
        len += (size_t)snprintf(body + len, cap - len, ",\"propertyName\":\"%s\",\"propertyValue\":\"Name%ld\"",
                                props[kind - 1], contact);
      len += (size_t)snprintf(body + len, cap - len, "}");
    }
    snprintf(body + len, cap - len, "]");
    bodies[b] = body;
    /* The request as a web host builds it (fastepost/webhook.h), signed as HubSpot would. */
    if (fastepost_webhook_request_new(&reqs[b]) || fastepost_webhook_request_set_uri(reqs[b], URL) ||
        fastepost_webhook_request_set_header(reqs[b], "X-HubSpot-Request-Timestamp", ts) ||
        fastepost_webhook_request_set_body(reqs[b], body, strlen(body)) ||
        fastepost_hubspot_sign(&sigs[b], reqs[b], FASTEPOST_HUBSPOT_VERSION_V3, "bench-secret") ||
        fastepost_webhook_request_set_header(reqs[b], "X-HubSpot-Signature-v3", sigs[b]))
      return 1;
  }
  fastepost_conn *conn = NULL;
  fastepost_hubspot_verifier *v = NULL;
  if (fastepost_conn_open(&conn, argv[1]) || fastepost_hubspot_verifier_new(&v) ||
      fastepost_hubspot_verifier_add_secret(v, "bench-secret")) {
    fprintf(stderr, "%s\n", fastepost_error_last()->message);
    return 1;
  }
  long failed = 0;
  double t0 = now_s();
  for (long b = 0; b < nbatches; b++) {
    fastepost_event_batch *r = NULL;
    if (fastepost_hubspot_process(&r, conn, v, reqs[b], NULL)) {
      fprintf(stderr, "batch %ld: %s\n", b, fastepost_error_last()->message);
      return 1;
    }
    failed += (long)fastepost_event_batch_failed(r);
    fastepost_event_batch_free(r);
  }
  double dt = now_s() - t0;
  printf("fastepost hubspot (batch %ld): %ld events in %.2f s = %.1f events/s (%ld failed)\n", per, n, dt, n / dt,
         failed);
  for (long b = 0; b < nbatches; b++) {
    free(bodies[b]);
    fastepost_free(sigs[b]);
    fastepost_webhook_request_free(reqs[b]);
  }
  free(reqs);
  free(bodies);
  free(sigs);
  fastepost_hubspot_verifier_free(v);
  fastepost_conn_free(conn);
  return failed ? 1 : 0;
}
