/* SPDX-License-Identifier: MIT */
/*
 * Ingest one Odoo webhook delivery from standard input, as a CGI handler would: configure the
 * accepted key, process the body with the key the request presented, answer with the HTTP status
 * the library suggests. Keys travel in the environment, never on the command line (where every
 * local user could read them with ps):
 *
 *   ODOO_API_KEY=secret HTTP_X_ODOO_API_KEY=secret ./odoo_ingest DSN [EVENT_HINT] < body.json
 *
 * ODOO_API_KEY is the configured key; HTTP_X_ODOO_API_KEY is the request's X-Odoo-Api-Key
 * header as a CGI server passes it. Prints "HTTP <status> <outcome> event=<id> customer=<id>"
 * and exits 0 for a 2xx answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastepost.h>

static char *read_stdin(size_t *len) {
  size_t cap = 65536, n = 0, got;
  char *buf = malloc(cap);
  while (buf && (got = fread(buf + n, 1, cap - n, stdin)) > 0) {
    n += got;
    if (n == cap) {
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger)
        free(buf);
      buf = bigger;
    }
  }
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("libfastepost %s\n", fastepost_libversion(NULL, NULL, NULL));
    return 0;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: ODOO_API_KEY=KEY HTTP_X_ODOO_API_KEY=KEY %s DSN [EVENT_HINT] < body.json\n", argv[0]);
    return 2;
  }
  fastepost_odoo_options *opts = NULL;
  if (fastepost_odoo_options_new(&opts) != FASTEPOST_OK) {
    printf("HTTP 500 %s\n", fastepost_error_last()->message);
    return 1;
  }
  /* No configured key: none is added, and processing refuses every request (401). */
  const char *configured = getenv("ODOO_API_KEY");
  if (configured && *configured)
    fastepost_odoo_options_add_api_key(opts, configured);
  if (argc > 2 && fastepost_odoo_options_set_event(opts, argv[2]) != FASTEPOST_OK) {
    printf("HTTP 400 %s\n", fastepost_error_last()->message);
    fastepost_odoo_options_free(opts);
    return 1;
  }
  size_t len = 0;
  char *body = read_stdin(&len);
  fastepost_conn *conn = NULL;
  if (!body || fastepost_conn_open(&conn, argv[1]) != FASTEPOST_OK) {
    printf("HTTP 503 %s\n", fastepost_error_last()->message);
    fastepost_odoo_options_free(opts);
    fastepost_conn_free(conn);
    free(body);
    return 1;
  }
  fastepost_event_result *res = NULL;
  fastepost_status st = fastepost_odoo_process(&res, conn, getenv("HTTP_X_ODOO_API_KEY"), body, len, opts);
  int http = fastepost_event_result_http(res, st);
  printf("HTTP %d %s event=%lld customer=%lld%s%s\n", http,
         st == FASTEPOST_OK ? fastepost_outcome_name(fastepost_event_result_outcome(res))
                            : fastepost_error_name(st),
         (long long)(res ? fastepost_event_result_event_id(res) : 0),
         (long long)(res ? fastepost_event_result_customer_id(res) : 0),
         st == FASTEPOST_OK ? "" : " ", st == FASTEPOST_OK ? "" : fastepost_error_last()->message);
  fastepost_event_result_free(res);
  fastepost_odoo_options_free(opts);
  fastepost_conn_free(conn);
  free(body);
  return http < 300 ? 0 : 1;
}
