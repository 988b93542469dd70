/* fastepost odoo process */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "event_json.h"

static void print_result(const cli_ctx *ctx, fastepost_status st, const fastepost_event_result *r,
                         const char *error) {
  const char *outcome = fastepost_outcome_name(fastepost_event_result_outcome(r));
  if (ctx->json) {
    putchar('{');
    cli_event_result_fields(r, st);
    printf("}\n");
    return;
  }
  if (st == FASTEPOST_OK) {
    printf("%s (HTTP %d)", outcome, fastepost_event_result_http(r, st));
    const char *names[] = {"event", "customer", "remark", "task"};
    int64_t ids[] = {fastepost_event_result_event_id(r), fastepost_event_result_customer_id(r),
                     fastepost_event_result_remark_id(r), fastepost_event_result_task_id(r)};
    for (int i = 0, n = 0; i < 4; i++)
      if (ids[i])
        printf("%s %s %lld", n++ ? "," : ":", names[i], (long long)ids[i]);
    putchar('\n');
  }
  for (size_t i = 0; i < fastepost_event_result_warning_count(r); i++)
    fprintf(stderr, "fastepost: warning: %s\n", fastepost_event_result_warning(r, i));
  if (st != FASTEPOST_OK)
    fprintf(stderr, "fastepost: odoo process: %s (HTTP %d)\n", error, fastepost_status_http(st));
}

static int add_expected(cli_ctx *ctx, const char *key, void *payload) {
  if (!*key)
    return CLI_OK;
  if (fastepost_odoo_options_add_api_key(payload, key) != FASTEPOST_OK)
    return cli_fail(ctx, "odoo process");
  return CLI_OK;
}

typedef struct presented {
  char key[4097];
  bool set;
} presented;

static int take_presented(cli_ctx *ctx, const char *key, void *payload) {
  (void)ctx;
  presented *p = payload;
  if (!p->set) /* several lines: the first is the key */
    snprintf(p->key, sizeof p->key, "%s", key);
  p->set = true;
  return CLI_OK;
}

static int odoo_process(cli_ctx *ctx, int argc, char **argv) {
  const char *api_key = NULL, *api_key_file = NULL, *expected_key_file = NULL, *event = NULL,
             *content_type = NULL, *max_body = NULL, *spool_dir = NULL;
  const cli_option opts[] = {{"api-key", CLI_STRING, &api_key},
                             {"api-key-file", CLI_STRING, &api_key_file},
                             {"expected-key-file", CLI_STRING, &expected_key_file},
                             {"spool", CLI_STRING, &spool_dir},
                             {"event", CLI_STRING, &event},
                             {"content-type", CLI_STRING, &content_type},
                             {"max-body", CLI_STRING, &max_body},
                             {NULL, CLI_FLAG, NULL}};
  const char *file = NULL;
  int rc = cli_parse_file(ctx, argc, argv, opts, &file);
  if (rc || ctx->help)
    return rc;
  if (api_key && api_key_file)
    return cli_usage_error(ctx, "give --api-key-file or --api-key, not both");
  if (api_key)
    fprintf(stderr, "fastepost: warning: --api-key puts the key on the command line, where every local "
                    "user can read it (ps, /proc/PID/cmdline); use --api-key-file FILE or ODOO_API_KEY\n");
  fastepost_odoo_options *o = NULL;
  if (fastepost_odoo_options_new(&o) != FASTEPOST_OK)
    return cli_fail(ctx, "odoo process");
  long limit = FASTEPOST_ODOO_DEFAULT_MAX_BODY;
  if (max_body && (rc = cli_int(ctx, "max-body", max_body, 1, 1L << 30, &limit))) {
    fastepost_odoo_options_free(o);
    return rc;
  }
  if ((event && fastepost_odoo_options_set_event(o, event) != FASTEPOST_OK) ||
      (content_type && fastepost_odoo_options_set_content_type(o, content_type) != FASTEPOST_OK)) {
    rc = cli_usage_error(ctx, "%s", fastepost_error_last()->message);
    fastepost_odoo_options_free(o);
    return rc;
  }
  fastepost_odoo_options_set_max_body(o, (size_t)limit);

  /* The accepted keys: --expected-key-file, else $ODOO_API_KEY; none leaves the options without
   * a key, and the library refuses every request (ENOKEY). The presented key: --api-key-file,
   * --api-key, else $ODOO_API_KEY (an operator who holds the configured key presents it). */
  const char *env_key = getenv("ODOO_API_KEY");
  presented pk = {.set = false};
  rc = CLI_OK;
  if (expected_key_file)
    rc = cli_read_secret_file(ctx, expected_key_file, add_expected, o);
  else if (env_key && *env_key)
    rc = add_expected(ctx, env_key, o);
  if (rc == CLI_OK && api_key_file)
    rc = cli_read_secret_file(ctx, api_key_file, take_presented, &pk);
  else if (rc == CLI_OK)
    take_presented(ctx, api_key ? api_key : env_key ? env_key : "", &pk);
  if (rc != CLI_OK) {
    fastepost_odoo_options_free(o);
    return CLI_FAILURE;
  }

  size_t len = 0;
  char *body = NULL;
  if (cli_read_input(&body, &len, file, (size_t)limit)) {
    memset(&pk, 0, sizeof pk);
    fastepost_odoo_options_free(o);
    return CLI_FAILURE;
  }
  fastepost_spool *spool = NULL;
  if ((rc = cli_connect_or_spool(ctx, spool_dir, &spool))) {
    free(body);
    fastepost_odoo_options_free(o);
    return rc;
  }
  /* With a spool, an unreachable database is not fatal: the delivery is spooled. */
  fastepost_odoo_options_set_spool(o, spool);
  fastepost_event_result *r = NULL;
  fastepost_status st = fastepost_odoo_process(&r, ctx->conn, pk.key, body, len, o);
  memset(&pk, 0, sizeof pk);
  print_result(ctx, st, r, fastepost_event_result_error(r));
  fastepost_event_result_free(r);
  fastepost_odoo_options_free(o);
  fastepost_spool_free(spool);
  free(body);
  return st == FASTEPOST_OK ? CLI_OK : CLI_FAILURE;
}

const cli_command cli_odoo_commands[] = {
    {"odoo", "process", odoo_process, "Process one Odoo webhook delivery",
     "Usage: fastepost odoo process [--api-key-file FILE] [--expected-key-file FILE]\n"
     "                              [--event HINT] [--content-type TYPE] [--max-body BYTES]\n"
     "                              [--spool DIR] [--db CONNINFO] [--json] [FILE|-]\n"
     "\n"
     "Authenticate and process one Odoo webhook body (from FILE, or standard input with - or no\n"
     "FILE) as a web host would: sync the customer, remark and task link and log the delivery in\n"
     "integration_events, in one transaction.\n"
     "\n"
     "The key the request presented (what the X-Odoo-Api-Key header or the api_key query\n"
     "parameter carried) comes from --api-key-file, else from $ODOO_API_KEY. It is checked\n"
     "against the accepted keys: those in --expected-key-file (one per line, for rotation), else\n"
     "$ODOO_API_KEY. With no accepted key every request is refused (HTTP 401); so is a missing,\n"
     "empty or wrong key. A refused request writes nothing.\n"
     "\n"
     "Options:\n"
     "  --api-key-file FILE  read the presented key from FILE (its first line)\n"
     "  --expected-key-file FILE\n"
     "                       the accepted keys, one per line (instead of $ODOO_API_KEY)\n"
     "  --api-key KEY        the presented key on the command line: deprecated, since every local\n"
     "                       user can read it in ps; prints a warning\n"
     "  --event HINT         create, write, unlink or archive (what ?event= in the URL said);\n"
     "                       unlink and archive make the customer inactive\n"
     "  --content-type TYPE  application/json (default) or application/x-www-form-urlencoded\n"
     "  --max-body BYTES     largest body accepted (default 1048576)\n"
     "  --spool DIR          when the database cannot be reached (refused, shutting down,\n"
     "                       read-only), write the delivery to this spool directory (0700) and\n"
     "                       answer 202 with outcome \"spooled\"; ingest it later with\n"
     "                       `fastepost spool replay --dir DIR`\n"
     "  --json               print {\"status\",\"http_status\",\"outcome\",\"event_id\",\n"
     "                       \"customer_id\",\"remark_id\",\"task_id\",\"warnings\",\"error\"}\n"
     "\n"
     "Exit status: 0 when processed (created, updated, unchanged, stale, ignored, duplicate or\n"
     "spooled), 1 otherwise (bad key, unparseable, conflict, database unavailable, spool full),\n"
     "2 usage error.\n"
     "\n"
     "Example:\n"
     "  ODOO_API_KEY=s3cret fastepost odoo process --api-key-file request.key --json partner.json\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
