/* SPDX-License-Identifier: MIT */
/* fastepost hubspot verify | process */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "event_json.h"

static int parse_ms(const cli_ctx *ctx, const char *option, const char *value, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(value, &end, 10);
  if (errno || end == value || *end || v < 0)
    return cli_usage_error(ctx, "--%s needs milliseconds since the epoch, not '%s'", option, value);
  *out = v;
  return CLI_OK;
}

/* What `verify` and `process` share: the request as received and a verifier built from the
 * flags. */
typedef struct request {
  const char *method, *uri, *timestamp, *signature, *version;
  char *body;
  size_t len;
  fastepost_hubspot_verifier *v;
  fastepost_webhook_request *req; /* the request as a web host would build it */
  const char *max_events; /* process only */
} request;

static int add_secret(cli_ctx *ctx, const char *secret, void *payload) {
  request *req = payload;
  if (fastepost_hubspot_verifier_add_secret(req->v, secret) != FASTEPOST_OK)
    return cli_fail(ctx, "hubspot");
  return CLI_OK;
}

/* HUBSPOT_CLIENT_SECRET: comma-separated while a secret is rotated, newest first (as the
 * examples read it); empty items are skipped. */
static int add_env_secrets(cli_ctx *ctx, request *req, const char *value) {
  char buf[4097];
  if (strlen(value) >= sizeof buf)
    return cli_usage_error(ctx, "HUBSPOT_CLIENT_SECRET is longer than 4 KiB");
  snprintf(buf, sizeof buf, "%s", value);
  int added = 0;
  int rc = cli_split_secrets(ctx, buf, ',', " \t", add_secret, req, &added);
  memset(buf, 0, sizeof buf);
  if (rc == CLI_OK && !added)
    return cli_usage_error(ctx, "a secret is needed: --secret-file FILE or HUBSPOT_CLIENT_SECRET");
  return rc;
}

static void request_free(request *r) {
  fastepost_hubspot_verifier_free(r->v);
  fastepost_webhook_request_free(r->req);
  free(r->body);
}

static int parse_request(cli_ctx *ctx, int argc, char **argv, request *req, bool process) {
  cli_list secrets = {0};
  const char *now = NULL, *tolerance = NULL, *secret_file = NULL;
  memset(req, 0, sizeof *req);
  req->version = "v3";
  const cli_option opts[] = {{"secret", CLI_LIST, &secrets},     {"secret-file", CLI_STRING, &secret_file},
                             {"method", CLI_STRING, &req->method},
                             {"uri", CLI_STRING, &req->uri},      {"timestamp", CLI_STRING, &req->timestamp},
                             {"signature", CLI_STRING, &req->signature},
                             {"version", CLI_STRING, &req->version}, {"now", CLI_STRING, &now},
                             {"tolerance", CLI_STRING, &tolerance},
                             {process ? "max-events" : NULL, CLI_STRING, &req->max_events},
                             {NULL, CLI_FLAG, NULL}};
  const char *file = NULL;
  int rc = cli_parse_file(ctx, argc, argv, opts, &file);
  if (rc || ctx->help)
    return rc;
  unsigned ver;
  if (strcmp(req->version, "v1") == 0)
    ver = FASTEPOST_HUBSPOT_VERSION_V1;
  else if (strcmp(req->version, "v2") == 0)
    ver = FASTEPOST_HUBSPOT_VERSION_V2;
  else if (strcmp(req->version, "v3") == 0)
    ver = FASTEPOST_HUBSPOT_VERSION_V3;
  else
    return cli_usage_error(ctx, "--version must be v1, v2 or v3, not '%s'", req->version);
  /* The secrets: --secret-file, else $HUBSPOT_CLIENT_SECRET; --secret still works but puts
   * the secret where every local user can read it. */
  const char *env_secret = getenv("HUBSPOT_CLIENT_SECRET");
  if (secrets.count && secret_file)
    return cli_usage_error(ctx, "give --secret-file or --secret, not both");
  if (!secrets.count && !secret_file && !(env_secret && *env_secret))
    return cli_usage_error(ctx, "a secret is needed: --secret-file FILE or HUBSPOT_CLIENT_SECRET");
  if (secrets.count)
    fprintf(stderr, "fastepost: warning: --secret puts the secret on the command line, where every local "
                    "user can read it (ps, /proc/PID/cmdline); use --secret-file FILE or HUBSPOT_CLIENT_SECRET\n");
  if (!req->signature)
    return cli_usage_error(ctx, "--signature is needed");
  int64_t now_ms = 0, tolerance_ms = FASTEPOST_HUBSPOT_DEFAULT_TOLERANCE_US / 1000;
  if (now && (rc = parse_ms(ctx, "now", now, &now_ms)))
    return rc;
  if (tolerance && (rc = parse_ms(ctx, "tolerance", tolerance, &tolerance_ms)))
    return rc;
  long max_events = 0;
  if (req->max_events && (rc = cli_int(ctx, "max-events", req->max_events, 1, 100000, &max_events)))
    return rc;

  if ((rc = cli_read_input(&req->body, &req->len, file, SIZE_MAX)))
    return rc;
  /* The request as a web host builds it: the signature goes into the header its version uses. */
  bool v3 = ver == FASTEPOST_HUBSPOT_VERSION_V3;
  if (fastepost_webhook_request_new(&req->req) != FASTEPOST_OK ||
      fastepost_webhook_request_set_method(req->req, req->method ? req->method : "") != FASTEPOST_OK ||
      fastepost_webhook_request_set_uri(req->req, req->uri ? req->uri : "") != FASTEPOST_OK ||
      fastepost_webhook_request_set_header(req->req, v3 ? "X-HubSpot-Signature-v3" : "X-HubSpot-Signature",
                                           req->signature) != FASTEPOST_OK ||
      (!v3 && fastepost_webhook_request_set_header(req->req, "X-HubSpot-Signature-Version", req->version) !=
                  FASTEPOST_OK) ||
      fastepost_webhook_request_set_header(req->req, "X-HubSpot-Request-Timestamp", req->timestamp) !=
          FASTEPOST_OK ||
      fastepost_webhook_request_set_body(req->req, req->body, req->len) != FASTEPOST_OK)
    return cli_fail(ctx, process ? "hubspot process" : "hubspot verify");
  if (fastepost_hubspot_verifier_new(&req->v) != FASTEPOST_OK ||
      fastepost_hubspot_verifier_set_versions(req->v, ver) != FASTEPOST_OK ||
      fastepost_hubspot_verifier_set_tolerance(req->v, tolerance_ms * 1000) != FASTEPOST_OK ||
      fastepost_hubspot_verifier_set_max_body(req->v, req->len ? req->len : 1) != FASTEPOST_OK ||
      fastepost_hubspot_verifier_set_now(req->v, now_ms * 1000) != FASTEPOST_OK)
    return cli_fail(ctx, process ? "hubspot process" : "hubspot verify");
  if (secret_file)
    return cli_read_secret_file(ctx, secret_file, add_secret, req);
  if (!secrets.count)
    return add_env_secrets(ctx, req, env_secret);
  for (int i = 0; i < secrets.count; i++)
    if ((rc = add_secret(ctx, secrets.items[i], req)))
      return rc;
  return CLI_OK;
}

static int hubspot_verify(cli_ctx *ctx, int argc, char **argv) {
  request req;
  int rc = parse_request(ctx, argc, argv, &req, false);
  if (rc || ctx->help) {
    request_free(&req);
    return rc;
  }
  size_t secret_index = 0;
  if (fastepost_hubspot_verify(&secret_index, req.v, req.req) != FASTEPOST_OK) {
    rc = cli_fail(ctx, "hubspot verify: invalid");
  } else {
    if (ctx->json)
      printf("{\"status\":\"ok\",\"valid\":true,\"version\":\"%s\",\"secret_index\":%zu}\n", req.version,
             secret_index);
    else
      printf("valid: HubSpot %s signature matches secret #%zu (%zu body bytes)\n", req.version,
             secret_index + 1, req.len);
    rc = CLI_OK;
  }
  request_free(&req);
  return rc;
}

static int hubspot_process(cli_ctx *ctx, int argc, char **argv) {
  request req;
  int rc = parse_request(ctx, argc, argv, &req, true);
  fastepost_hubspot_options *o = NULL;
  if (rc || ctx->help || (rc = cli_connect(ctx)))
    goto done;
  if (fastepost_hubspot_options_new(&o) != FASTEPOST_OK ||
      (req.max_events && fastepost_hubspot_options_set_max_events(o, (size_t)atol(req.max_events)) != FASTEPOST_OK)) {
    rc = cli_fail(ctx, "hubspot process");
    goto done;
  }
  fastepost_event_batch *b = NULL;
  fastepost_status st = fastepost_hubspot_process(&b, ctx->conn, req.v, req.req, o);
  char error[1024];
  snprintf(error, sizeof error, "%s", st == FASTEPOST_OK ? "" : fastepost_error_last()->message);
  size_t n = fastepost_event_batch_count(b), failed = fastepost_event_batch_failed(b);
  if (ctx->json) {
    cli_event_batch_json(b, st, error);
  } else {
    for (size_t i = 0; i < n; i++) {
      const fastepost_event_result *r = fastepost_event_batch_get(b, i);
      const char *outcome = fastepost_outcome_name(fastepost_event_result_outcome(r));
      printf("%3zu  %-28s %-14lld %s", i, fastepost_event_batch_event_type(b, i),
             (long long)fastepost_event_batch_object_id(b, i),
             fastepost_event_result_code(r) == FASTEPOST_OK ? outcome : "FAILED");
      if (fastepost_event_result_code(r) != FASTEPOST_OK)
        printf(": %s", fastepost_event_result_error(r));
      putchar('\n');
    }
    if (st == FASTEPOST_OK)
      printf("batch: %zu events, %zu failed (HTTP %d)\n", n, failed, fastepost_status_http(st));
    else
      fprintf(stderr, "fastepost: hubspot process: %s (HTTP %d)\n", error, fastepost_status_http(st));
  }
  fastepost_event_batch_free(b);
  rc = st == FASTEPOST_OK ? CLI_OK : CLI_FAILURE;
done:
  fastepost_hubspot_options_free(o);
  request_free(&req);
  return rc;
}

const cli_command cli_hubspot_commands[] = {
    {"hubspot", "verify", hubspot_verify, "Check a HubSpot webhook request signature",
     "Usage: fastepost hubspot verify [--secret-file FILE] --signature SIG\n"
     "           [--version v1|v2|v3] [--method M] [--uri URL] [--timestamp MS]\n"
     "           [--now MS] [--tolerance MS] [--json] [FILE|-]\n"
     "\n"
     "Verify a HubSpot webhook signature over the raw body read from FILE (default: standard\n"
     "input). Exit 0 when valid, 1 when not (the reason is printed: stale or future timestamp,\n"
     "mismatch, missing value), 2 on a usage error.\n"
     "\n"
     "Options:\n"
     "  --secret-file FILE  the app's client secret(s), one per line, newest first (several\n"
     "                   during a rotation); without it, $HUBSPOT_CLIENT_SECRET (several\n"
     "                   comma-separated)\n"
     "  --secret S       the secret on the command line: deprecated, since every local user\n"
     "                   can read it in ps; prints a warning (repeat it during a rotation)\n"
     "  --signature SIG  X-HubSpot-Signature-v3 (v3) or X-HubSpot-Signature (v1, v2)\n"
     "  --version V      v3 (default), or v1 / v2, which have no replay protection\n"
     "  --method M       the HTTP method, e.g. POST (v2, v3)\n"
     "  --uri URL        the full URL the request was sent to, as received (v2, v3);\n"
     "                   v3 decodes HubSpot's 12 escapes (%3A %2F %3F ...) itself\n"
     "  --timestamp MS   X-HubSpot-Request-Timestamp, milliseconds since the epoch (v3)\n"
     "  --now MS         the clock to judge the timestamp by (default: now)\n"
     "  --tolerance MS   the replay window in both directions (default 300000 = 5 minutes)\n"
     "\n"
     "Example:\n"
     "  HUBSPOT_CLIENT_SECRET=... fastepost hubspot verify --method POST \\\n"
     "    --uri https://app.example.com/api/v1/integrations/hubspot \\\n"
     "    --timestamp 1764270000000 --signature 'aNuH...G7g=' body.json\n"},
    {"hubspot", "process", hubspot_process, "Verify a HubSpot webhook batch, then ingest it",
     "Usage: fastepost hubspot process [--secret-file FILE] --signature SIG\n"
     "           [--version v1|v2|v3] [--method M] [--uri URL] [--timestamp MS]\n"
     "           [--now MS] [--tolerance MS] [--max-events N] [--db CONNINFO] [--json] [FILE|-]\n"
     "\n"
     "Verify the request exactly as `fastepost hubspot verify` does, then ingest the batch (a JSON\n"
     "array of events, from FILE or standard input) as a web host would: one integration_events\n"
     "row per event; contact events create, update, deactivate or merge customers (crm_source\n"
     "hubspot, crm_id = objectId), last writer wins per property by occurredAt. A refused\n"
     "request writes nothing. Prints one line per event (index, type, objectId, outcome).\n"
     "\n"
     "Options: those of `hubspot verify`, and\n"
     "  --max-events N   largest batch accepted (default 100, HubSpot's limit)\n"
     "  --json           print {\"status\",\"code\",\"http_status\",\"count\",\"failed\",\"error\",\n"
     "                   \"events\":[{\"index\",\"event_type\",\"object_id\", and the fields of\n"
     "                   an event result (docs/events.md)}]}\n"
     "\n"
     "Exit status: 0 when the batch was committed (events that failed alone are listed and\n"
     "logged), 1 when it was refused (signature, not JSON, too big) or the database failed,\n"
     "2 usage error.\n"
     "\n"
     "Example:\n"
     "  fastepost hubspot process --secret-file /etc/app/hubspot.secret --method POST \\\n"
     "    --uri https://app.example.com/api/v1/integrations/hubspot \\\n"
     "    --timestamp 1764270000000 --signature 'aNuH...G7g=' --json batch.json\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
