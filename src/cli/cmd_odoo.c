/* SPDX-License-Identifier: MIT */
/* fastepost odoo process, fastepost odoo pull, fastepost odoo push */
#include <stdio.h>
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
             *content_type = NULL, *max_body = NULL, *spool_dir = NULL, *model = NULL;
  const cli_option opts[] = {{"api-key", CLI_STRING, &api_key},
                             {"api-key-file", CLI_STRING, &api_key_file},
                             {"expected-key-file", CLI_STRING, &expected_key_file},
                             {"spool", CLI_STRING, &spool_dir},
                             {"event", CLI_STRING, &event},
                             {"model", CLI_STRING, &model},
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
      (model && fastepost_odoo_options_set_model(o, model) != FASTEPOST_OK) ||
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

/* ---- odoo pull ------------------------------------------------------------------------------ */

/* "YYYY-MM-DD[( |T)HH:MM[:SS]][Z]" (UTC) as microseconds since the epoch; false if not one. */
static bool parse_utc(const char *s, int64_t *us) {
  int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
  char sep = 0;
  if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
    return false;
  const char *p = s + n;
  if (*p == ' ' || *p == 'T') {
    sep = *p;
    int m = 0;
    if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2)
      return false;
    p += 1 + m;
    if (*p == ':' && (sscanf(p + 1, "%2d%n", &sec, &m) != 1 || (p += 1 + m, 0)))
      return false;
  }
  (void)sep;
  if (*p == 'Z')
    p++;
  if (*p || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
    return false;
  /* days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse) */
  int64_t yy = mo <= 2 ? y - 1 : y;
  int64_t era = yy / 400, yoe = yy - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
  *us = ((days * 86400) + h * 3600 + mi * 60 + sec) * INT64_C(1000000);
  return true;
}

static int take_api_key(cli_ctx *ctx, const char *key, void *payload) {
  if (fastepost_odoo_sync_options_set_api_key(payload, key) != FASTEPOST_OK)
    return cli_fail(ctx, "odoo");
  return CLI_OK;
}

static void print_pull(const cli_ctx *ctx, const fastepost_odoo_pull_report *r) {
  static const fastepost_outcome shown[] = {FASTEPOST_OUTCOME_CREATED,  FASTEPOST_OUTCOME_UPDATED,
                                            FASTEPOST_OUTCOME_UNCHANGED, FASTEPOST_OUTCOME_STALE,
                                            FASTEPOST_OUTCOME_IGNORED,  FASTEPOST_OUTCOME_CONFLICT,
                                            FASTEPOST_OUTCOME_DUPLICATE};
  if (ctx->json) {
    printf("{\"status\":\"ok\",\"fetched\":%llu", (unsigned long long)fastepost_odoo_pull_report_fetched(r));
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
      printf(",\"%s\":%llu", fastepost_outcome_name(shown[i]),
             (unsigned long long)fastepost_odoo_pull_report_outcome_count(r, shown[i]));
    printf(",\"failed\":%llu,\"deleted\":%llu,\"pages\":%llu,\"cursors\":{",
           (unsigned long long)fastepost_odoo_pull_report_failed(r),
           (unsigned long long)fastepost_odoo_pull_report_deleted(r),
           (unsigned long long)fastepost_odoo_pull_report_pages(r));
    for (size_t i = 0; i < fastepost_odoo_pull_report_model_count(r); i++) {
      int64_t c = fastepost_odoo_pull_report_cursor_us(r, i);
      char when[64];
      cli_time_utc(when, sizeof when, c / 1000000, true);
      printf("%s", i ? "," : "");
      cli_json_string(stdout, fastepost_odoo_pull_report_model(r, i));
      putchar(':');
      cli_json_string(stdout, c ? when : NULL);
    }
    printf("}}\n");
    return;
  }
  printf("fetched %llu:", (unsigned long long)fastepost_odoo_pull_report_fetched(r));
  for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
    printf(" %s %llu", fastepost_outcome_name(shown[i]),
           (unsigned long long)fastepost_odoo_pull_report_outcome_count(r, shown[i]));
  printf(", failed %llu, deleted %llu, pages %llu\n", (unsigned long long)fastepost_odoo_pull_report_failed(r),
         (unsigned long long)fastepost_odoo_pull_report_deleted(r),
         (unsigned long long)fastepost_odoo_pull_report_pages(r));
  for (size_t i = 0; i < fastepost_odoo_pull_report_model_count(r); i++) {
    int64_t c = fastepost_odoo_pull_report_cursor_us(r, i);
    char when[64] = "none";
    if (c)
      cli_time_utc(when, sizeof when, c / 1000000, false);
    printf("cursor %s: %s\n", fastepost_odoo_pull_report_model(r, i), when);
  }
}

/* The options that reach Odoo, the same for pull and push: where, who, how, how long. */
typedef struct odoo_link {
  const char *url, *database, *user, *key_file, *protocol, *ca_file;
  cli_number timeout;
} odoo_link;

#define ODOO_LINK_INIT {NULL, NULL, NULL, NULL, NULL, NULL, {1, 3600, 60, NULL}}
#define ODOO_LINK_OPTIONS(l)                                                                       \
  {"url", CLI_STRING, &(l).url}, {"database", CLI_STRING, &(l).database}, {"user", CLI_STRING, &(l).user}, \
      {"api-key-file", CLI_STRING, &(l).key_file}, {"protocol", CLI_STRING, &(l).protocol},           \
      {"timeout", CLI_NUMBER, &(l).timeout}, {"ca-file", CLI_STRING, &(l).ca_file}

/* New options with the link's settings, or CLI_USAGE/CLI_FAILURE reported (*out NULL). */
static int odoo_link_options(cli_ctx *ctx, const odoo_link *l, const char *what, fastepost_odoo_sync_options **out) {
  *out = NULL;
  if (!l->url)
    return cli_usage_error(ctx, "--url is required");
  if (!l->key_file)
    return cli_usage_error(ctx, "--api-key-file is required (the key never goes on the command line)");
  fastepost_odoo_sync_protocol proto = FASTEPOST_ODOO_SYNC_PROTOCOL_AUTO;
  if (l->protocol && fastepost_odoo_sync_protocol_parse(&proto, l->protocol) != FASTEPOST_OK)
    return cli_usage_error(ctx, "%s", fastepost_error_last()->message);
  fastepost_odoo_sync_options *o = NULL;
  if (fastepost_odoo_sync_options_new(&o) != FASTEPOST_OK)
    return cli_fail(ctx, what);
  if (fastepost_odoo_sync_options_set_url(o, l->url) || fastepost_odoo_sync_options_set_database(o, l->database) ||
      fastepost_odoo_sync_options_set_user(o, l->user) || fastepost_odoo_sync_options_set_protocol(o, proto) ||
      fastepost_odoo_sync_options_set_timeouts(o, 0, l->timeout.value * INT64_C(1000000)) ||
      fastepost_odoo_sync_options_set_ca_file(o, l->ca_file)) {
    int rc = cli_usage_error(ctx, "%s", fastepost_error_last()->message);
    fastepost_odoo_sync_options_free(o);
    return rc;
  }
  *out = o;
  return CLI_OK;
}

/* After the command's own setters (set_failed: one of them failed, the library's error says
 * which): the key from its file into o, then the database connection. On failure o is freed. */
static int odoo_link_connect(cli_ctx *ctx, const odoo_link *l, fastepost_odoo_sync_options *o, bool set_failed) {
  int rc = set_failed ? cli_usage_error(ctx, "%s", fastepost_error_last()->message)
                      : cli_read_secret_file(ctx, l->key_file, take_api_key, o);
  if (!rc)
    rc = cli_connect(ctx);
  if (rc)
    fastepost_odoo_sync_options_free(o);
  return rc;
}

static int odoo_pull(cli_ctx *ctx, int argc, char **argv) {
  odoo_link l = ODOO_LINK_INIT;
  const char *models = NULL, *since = NULL;
  bool full = false, deletions = false;
  cli_number overlap = {0, 86400, 300, NULL}, page = {1, FASTEPOST_ODOO_SYNC_MAX_PAGE_SIZE,
                                                      FASTEPOST_ODOO_SYNC_DEFAULT_PAGE_SIZE, NULL};
  const cli_option opts[] = {ODOO_LINK_OPTIONS(l),
                             {"models", CLI_STRING, &models},
                             {"since", CLI_STRING, &since},
                             {"full", CLI_FLAG, &full},
                             {"overlap", CLI_NUMBER, &overlap},
                             {"page-size", CLI_NUMBER, &page},
                             {"detect-deletions", CLI_FLAG, &deletions},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  if (since && full)
    return cli_usage_error(ctx, "give --since or --full, not both");
  int64_t since_us = 0;
  if (since && !parse_utc(since, &since_us))
    return cli_usage_error(ctx, "--since: expected YYYY-MM-DD[THH:MM[:SS]][Z] (UTC), not \"%s\"", since);
  fastepost_odoo_sync_options *o = NULL;
  if ((rc = odoo_link_options(ctx, &l, "odoo pull", &o)))
    return rc;
  bool set_failed = (models && fastepost_odoo_sync_options_set_models(o, models)) ||
                    fastepost_odoo_sync_options_set_since(o, since_us) || fastepost_odoo_sync_options_set_full(o, full) ||
                    fastepost_odoo_sync_options_set_overlap(o, overlap.value ? overlap.value * INT64_C(1000000) : 1) ||
                    fastepost_odoo_sync_options_set_page_size(o, (size_t)page.value) ||
                    fastepost_odoo_sync_options_set_detect_deletions(o, deletions);
  if ((rc = odoo_link_connect(ctx, &l, o, set_failed)))
    return rc;
  cli_progress pr;
  cli_progress_init(&pr, ctx);
  fastepost_odoo_sync_options_set_progress(o, cli_progress_cb, &pr);
  fastepost_odoo_pull_report *r = NULL;
  fastepost_status st = fastepost_odoo_pull(&r, ctx->conn, o);
  cli_progress_done(&pr);
  if (st == FASTEPOST_OK)
    print_pull(ctx, r);
  else
    rc = cli_fail(ctx, "odoo pull");
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
  return st == FASTEPOST_OK ? CLI_OK : rc;
}

/* ---- odoo push ------------------------------------------------------------------------------ */

static void print_push(const cli_ctx *ctx, const fastepost_odoo_push_report *r) {
  const char *names[] = {"attempted", "written", "created", "conflicts", "skipped", "failed"};
  uint64_t values[] = {fastepost_odoo_push_report_attempted(r), fastepost_odoo_push_report_written(r),
                       fastepost_odoo_push_report_created(r),   fastepost_odoo_push_report_conflicts(r),
                       fastepost_odoo_push_report_skipped(r),   fastepost_odoo_push_report_failed(r)};
  printf(ctx->json ? "{\"status\":\"ok\"" : "pushed:");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    printf(ctx->json ? ",\"%s\":%llu" : " %s %llu", names[i], (unsigned long long)values[i]);
  printf(ctx->json ? "}\n" : "\n");
}

static int odoo_push(cli_ctx *ctx, int argc, char **argv) {
  odoo_link l = ODOO_LINK_INIT;
  const char *prefer = NULL;
  cli_number limit = {1, FASTEPOST_ODOO_SYNC_MAX_PUSH_LIMIT, FASTEPOST_ODOO_SYNC_DEFAULT_PUSH_LIMIT, NULL};
  const cli_option opts[] = {
      ODOO_LINK_OPTIONS(l), {"prefer", CLI_STRING, &prefer}, {"limit", CLI_NUMBER, &limit}, {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  fastepost_odoo_sync_prefer pref = FASTEPOST_ODOO_SYNC_PREFER_REMOTE;
  if (prefer && fastepost_odoo_sync_prefer_parse(&pref, prefer) != FASTEPOST_OK)
    return cli_usage_error(ctx, "%s", fastepost_error_last()->message);
  fastepost_odoo_sync_options *o = NULL;
  if ((rc = odoo_link_options(ctx, &l, "odoo push", &o)))
    return rc;
  bool set_failed = fastepost_odoo_sync_options_set_prefer(o, pref) ||
                    fastepost_odoo_sync_options_set_push_limit(o, (size_t)limit.value);
  if ((rc = odoo_link_connect(ctx, &l, o, set_failed)))
    return rc;
  fastepost_odoo_push_report *r = NULL;
  fastepost_status st = fastepost_odoo_push(&r, ctx->conn, o);
  if (st == FASTEPOST_OK)
    print_push(ctx, r);
  else
    rc = cli_fail(ctx, "odoo push");
  fastepost_odoo_push_report_free(r);
  fastepost_odoo_sync_options_free(o);
  return st == FASTEPOST_OK ? CLI_OK : rc;
}

const cli_command cli_odoo_commands[] = {
    {"odoo", "process", odoo_process, "Process one Odoo webhook delivery",
     "Usage: fastepost odoo process [--api-key-file FILE] [--expected-key-file FILE]\n"
     "                              [--event HINT] [--model MODEL] [--content-type TYPE]\n"
     "                              [--max-body BYTES]\n"
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
     "  --model MODEL        the model of a body that names none (what ?model= in the URL said),\n"
     "                       e.g. a relayed JSON-RPC read() result: res.partner or crm.lead\n"
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
    {"odoo", "pull", odoo_pull, "Pull changed records from Odoo's external API (reconciliation)",
     "Usage: fastepost odoo pull --url URL --api-key-file FILE [--database DB] [--user LOGIN]\n"
     "                           [--protocol auto|json2|jsonrpc] [--models res.partner,crm.lead]\n"
     "                           [--since ISO|--full] [--overlap SECONDS] [--page-size N]\n"
     "                           [--timeout SECONDS] [--detect-deletions] [--ca-file PEM]\n"
     "                           [--db CONNINFO] [--json]\n"
     "\n"
     "Read the records changed in Odoo since the last pull (search_read, archived included,\n"
     "ordered by write_date, id) and sync each one as a webhook delivery would (event type\n"
     "<model>.pull): what a webhook already delivered comes out duplicate, unchanged or stale.\n"
     "One transaction per page; the cursor (per model, in fastepost_sync_cursors) moves only\n"
     "after its page committed. Run it every few minutes (docs/odoo-sync.md has cron and systemd\n"
     "examples) to catch every delivery Odoo's webhook lost.\n"
     "\n"
     "Options:\n"
     "  --url URL            the Odoo server (https://; http only to localhost)\n"
     "  --api-key-file FILE  the bot user's API key (first line); never on the command line\n"
     "  --database DB        the database (X-Odoo-Database; required for JSON-RPC)\n"
     "  --user LOGIN         the bot user's login (JSON-RPC only)\n"
     "  --protocol P         auto (default: JSON-2 from Odoo 19), json2 or jsonrpc\n"
     "  --models LIST        res.partner (default), crm.lead, comma-separated\n"
     "  --since ISO          start at this UTC time instead of the stored cursor\n"
     "  --full               pull everything (an initial import)\n"
     "  --overlap SECONDS    read again this far below the cursor (default 300): write_date is\n"
     "                       the writing transaction's start, which may commit later\n"
     "  --page-size N        records per request and transaction (default 200, at most 5000)\n"
     "  --timeout SECONDS    per request (default 60); 429/503 answers are retried\n"
     "  --detect-deletions   also make customers whose Odoo record is gone inactive\n"
     "  --ca-file PEM        CA certificates to verify the server with (always verified)\n"
     "  --json               print {\"status\",\"fetched\",\"created\",\"updated\",\"unchanged\",\n"
     "                       \"stale\",\"ignored\",\"conflict\",\"duplicate\",\"failed\",\"deleted\",\n"
     "                       \"pages\",\"cursors\":{model: ISO time or null}}\n"
     "\n"
     "A progress line is drawn on a terminal. Exit status: 0 pulled, 1 failed (Odoo refused the\n"
     "key, unreachable, timeout, database error: what was committed stays), 2 usage error.\n"
     "\n"
     "Example:\n"
     "  fastepost odoo pull --url https://example.odoo.com --database example \\\n"
     "      --api-key-file /etc/fastepost/odoo.key --json\n"},
    {"odoo", "push", odoo_push, "Push local changes of Odoo-linked customers back to Odoo",
     "Usage: fastepost odoo push --url URL --api-key-file FILE [--database DB] [--user LOGIN]\n"
     "                           [--protocol auto|json2|jsonrpc] [--prefer remote|local]\n"
     "                           [--limit N] [--timeout SECONDS] [--ca-file PEM]\n"
     "                           [--db CONNINFO] [--json]\n"
     "\n"
     "Send the changes queued in fastepost_sync_outbox (made to Odoo-linked customers by anyone\n"
     "but the sync itself: the app, psql, an import) to Odoo: name, email, phone and archive\n"
     "state with `write`, or `create` for a customer marked for Odoo (crm_source 'odoo' without a\n"
     "crm_id), whose new id becomes its crm_id. Compare-then-write: when the Odoo record changed\n"
     "after the version last synced, it is not overwritten and a conflict event is logged\n"
     "(--prefer remote, the default; the next pull brings Odoo's values), or ours overwrites it\n"
     "(--prefer local). Each row is one event (source odoo, type res.partner.push); a failed row\n"
     "stays queued and is tried again after a backoff.\n"
     "\n"
     "Options:\n"
     "  --url URL            the Odoo server (https://; http only to localhost)\n"
     "  --api-key-file FILE  the bot user's API key (first line); never on the command line\n"
     "  --database DB        the database (X-Odoo-Database; required for JSON-RPC)\n"
     "  --user LOGIN         the bot user's login (JSON-RPC only)\n"
     "  --protocol P         auto (default: JSON-2 from Odoo 19), json2 or jsonrpc\n"
     "  --prefer remote|local  who wins a conflict (default remote)\n"
     "  --limit N            at most N queued rows per run (default 500)\n"
     "  --timeout SECONDS    per request (default 60); 429/503 answers are retried\n"
     "  --ca-file PEM        CA certificates to verify the server with (always verified)\n"
     "  --json               print {\"status\",\"attempted\",\"written\",\"created\",\"conflicts\",\n"
     "                       \"skipped\",\"failed\"}\n"
     "\n"
     "Exit status: 0 pushed (rows that failed alone are counted and stay queued), 1 failed (Odoo\n"
     "refused the key, unreachable, timeout, database error: the rows stay queued), 2 usage error.\n"
     "\n"
     "Example:\n"
     "  fastepost odoo push --url https://example.odoo.com --database example \\\n"
     "      --api-key-file /etc/fastepost/odoo.key --json\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
