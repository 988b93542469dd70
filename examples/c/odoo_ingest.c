/*
 * Ingest one Odoo webhook delivery from standard input, as a web server's handler would:
 * check the key, process the body, answer with the HTTP status the library suggests.
 *
 *   ODOO_API_KEY=secret ./odoo_ingest DSN PRESENTED_KEY [EVENT_HINT] < body.json
 *
 * Prints "HTTP <status> <outcome> event=<id> customer=<id>" and exits 0 for a 2xx answer.
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
  if (argc < 3) {
    fprintf(stderr, "usage: %s DSN PRESENTED_KEY [EVENT_HINT] < body.json\n", argv[0]);
    return 2;
  }
  /* NULL expected key: the library reads ODOO_API_KEY and refuses everything when it is unset. */
  fastepost_status st = fastepost_odoo_authenticate(NULL, argv[2]);
  if (st != FASTEPOST_OK) {
    printf("HTTP %d %s\n", fastepost_status_http(st), fastepost_error_last()->message);
    return 1;
  }
  size_t len = 0;
  char *body = read_stdin(&len);
  fastepost_conn *conn = NULL;
  if (!body || fastepost_conn_open(&conn, argv[1]) != FASTEPOST_OK) {
    printf("HTTP 503 %s\n", fastepost_error_last()->message);
    free(body);
    return 1;
  }
  fastepost_odoo_options *opts = NULL;
  fastepost_odoo_options_new(&opts);
  if (argc > 3 && fastepost_odoo_options_set_event(opts, argv[3]) != FASTEPOST_OK) {
    printf("HTTP 400 %s\n", fastepost_error_last()->message);
    return 1;
  }
  fastepost_event_result *res = NULL;
  st = fastepost_odoo_process(&res, conn, body, len, opts);
  int http = fastepost_status_http(st);
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
