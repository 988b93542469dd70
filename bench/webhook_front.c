/* SPDX-License-Identifier: MIT */
/*
 * The front of each CRM's webhook path, side by side in one run (issue 15): what
 * fastepost_webhook_process() does for a request before the sync core (verify the key or
 * signature, parse the body into records, build the answer), for the ok fixture of every source
 * (tests/fixtures/<source>/ok.*), interleaved over ROUNDS rounds, medians, each as a ratio to
 * Odoo's. The database part is the one sync core every source shares (bench/odoo_ingest.sh).
 *
 *   webhook_front SOURCE_DIR [N=20000] [ROUNDS=5]
 *
 * Called with no connection and no spool, the call stops after parsing ("conn is NULL"), so
 * nothing but the front is timed; each call is checked to have got that far.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fastepost.h>

static const char *const sources[] = {"odoo", "hubspot", "pipedrive", "monday", "salesforce", "zoho"};
#define NSOURCES (sizeof sources / sizeof sources[0])

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) {
    buf[n] = '\0';
    if (len)
      *len = (size_t)n;
  }
  return buf;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct src {
  fastepost_webhook_config *cfg;
  fastepost_webhook_request *req;
} src;

static int load(src *s, const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/fixtures/%s/config.json", dir, name);
  size_t len = 0;
  char *json = slurp(path, &len);
  if (!json || fastepost_webhook_config_new(&s->cfg) || fastepost_webhook_config_load_json(s->cfg, json, len)) {
    fprintf(stderr, "%s: %s\n", path, fastepost_error_last()->message);
    return 1;
  }
  free(json);
  char *body = NULL;
  const char *exts[] = {"json", "xml", "form"};
  for (size_t i = 0; i < 3 && !body; i++) {
    snprintf(path, sizeof path, "%s/tests/fixtures/%s/ok.%s", dir, name, exts[i]);
    body = slurp(path, &len);
  }
  if (!body || fastepost_webhook_request_new(&s->req) || fastepost_webhook_request_set_body(s->req, body, len))
    return 1;
  free(body);
  snprintf(path, sizeof path, "%s/tests/fixtures/%s/ok.query", dir, name);
  char *query = slurp(path, NULL);
  char uri[2048];
  int n = snprintf(uri, sizeof uri, "https://localhost/api/v1/integrations/%s", name);
  for (char *line = query ? strtok(query, "\n") : NULL; line; line = strtok(NULL, "\n"))
    n += snprintf(uri + n, sizeof uri - (size_t)n, "%c%s", strchr(uri, '?') ? '&' : '?', line);
  free(query);
  fastepost_webhook_request_set_uri(s->req, uri);
  snprintf(path, sizeof path, "%s/tests/fixtures/%s/ok.headers", dir, name);
  char *headers = slurp(path, NULL);
  for (char *line = headers ? strtok(headers, "\n") : NULL; line; line = strtok(NULL, "\n")) {
    char *colon = strchr(line, ':');
    if (!colon)
      continue;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ')
      v++;
    fastepost_webhook_request_set_header(s->req, line, v);
  }
  free(headers);
  return 0;
}

/* One call; 0 when it got past verification and parsing (to the missing connection). */
static int once(const src *s, const char *name) {
  fastepost_webhook_response *r = NULL;
  fastepost_webhook_process(&r, NULL, name, s->req, s->cfg);
  int ok = r && strstr(fastepost_webhook_response_error(r), "conn is NULL") != NULL;
  if (!ok)
    fprintf(stderr, "%s: stopped early: %s\n", name, r ? fastepost_webhook_response_error(r) : "no response");
  fastepost_webhook_response_free(r);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: webhook_front SOURCE_DIR [N] [ROUNDS]\n");
    return 2;
  }
  long n = argc > 2 ? atol(argv[2]) : 20000, rounds = argc > 3 ? atol(argv[3]) : 5;
  src s[NSOURCES] = {{0}};
  for (size_t i = 0; i < NSOURCES; i++)
    if (load(&s[i], argv[1], sources[i]) || once(&s[i], sources[i]))
      return 1;
  double us[NSOURCES][64];
  if (rounds > 64)
    rounds = 64;
  for (long r = 0; r < rounds; r++)
    for (size_t i = 0; i < NSOURCES; i++) {
      double t0 = now_s();
      for (long k = 0; k < n; k++)
        once(&s[i], sources[i]);
      us[i][r] = (now_s() - t0) / (double)n * 1e6;
    }
  double odoo = 0;
  printf("%-11s %12s %12s %10s\n", "source", "us/request", "requests/s", "vs odoo");
  for (size_t i = 0; i < NSOURCES; i++) {
    qsort(us[i], (size_t)rounds, sizeof us[i][0], cmp);
    double med = us[i][rounds / 2];
    if (i == 0)
      odoo = med;
    printf("%-11s %12.1f %12.0f %9.2fx\n", sources[i], med, 1e6 / med, med / odoo);
    fastepost_webhook_request_free(s[i].req);
    fastepost_webhook_config_free(s[i].cfg);
  }
  return 0;
}
