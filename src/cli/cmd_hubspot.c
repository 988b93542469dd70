/* fastepost hubspot verify */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Read a whole file ("-" or NULL: stdin) as raw bytes. */
static int read_body(const cli_ctx *ctx, const char *path, char **out, size_t *len) {
  FILE *f = (!path || strcmp(path, "-") == 0) ? stdin : fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "fastepost: cannot open %s: %s\n", path, strerror(errno));
    return CLI_FAILURE;
  }
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap)
      break;
    char *bigger = realloc(buf, cap * 2);
    if (!bigger) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = bigger;
    cap *= 2;
  }
  int failed = ferror(f);
  if (f != stdin)
    fclose(f);
  if (!buf || failed) {
    free(buf);
    fprintf(stderr, "fastepost: cannot read %s\n", path ? path : "standard input");
    (void)ctx;
    return CLI_FAILURE;
  }
  *out = buf;
  *len = n;
  return CLI_OK;
}

static int parse_ms(const cli_ctx *ctx, const char *option, const char *value, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(value, &end, 10);
  if (errno || end == value || *end || v < 0)
    return cli_usage_error(ctx, "--%s needs milliseconds since the epoch, not '%s'", option, value);
  *out = v;
  return CLI_OK;
}

static int hubspot_verify(cli_ctx *ctx, int argc, char **argv) {
  cli_list secrets = {0};
  const char *method = NULL, *uri = NULL, *timestamp = NULL, *signature = NULL;
  const char *version = "v3", *now = NULL, *tolerance = NULL;
  const cli_option opts[] = {{"secret", CLI_LIST, &secrets},     {"method", CLI_STRING, &method},
                             {"uri", CLI_STRING, &uri},          {"timestamp", CLI_STRING, &timestamp},
                             {"signature", CLI_STRING, &signature},
                             {"version", CLI_STRING, &version},  {"now", CLI_STRING, &now},
                             {"tolerance", CLI_STRING, &tolerance},
                             {NULL, CLI_FLAG, NULL}};
  const char *pos[1] = {NULL};
  int npos = 0;
  int rc = cli_parse(ctx, argc, argv, opts, pos, 1, &npos);
  if (rc || ctx->help)
    return rc;
  unsigned ver;
  if (strcmp(version, "v1") == 0)
    ver = FASTEPOST_HUBSPOT_V1;
  else if (strcmp(version, "v2") == 0)
    ver = FASTEPOST_HUBSPOT_V2;
  else if (strcmp(version, "v3") == 0)
    ver = FASTEPOST_HUBSPOT_V3;
  else
    return cli_usage_error(ctx, "--version must be v1, v2 or v3, not '%s'", version);
  if (secrets.count == 0)
    return cli_usage_error(ctx, "at least one --secret is needed");
  if (!signature)
    return cli_usage_error(ctx, "--signature is needed");
  int64_t now_ms = -1, tolerance_ms = FASTEPOST_HUBSPOT_DEFAULT_TOLERANCE_MS;
  if (now && (rc = parse_ms(ctx, "now", now, &now_ms)))
    return rc;
  if (tolerance && (rc = parse_ms(ctx, "tolerance", tolerance, &tolerance_ms)))
    return rc;

  char *body = NULL;
  size_t len = 0;
  if ((rc = read_body(ctx, npos ? pos[0] : NULL, &body, &len)))
    return rc;
  fastepost_hubspot_verifier *v = NULL;
  int secret_index = -1;
  if (fastepost_hubspot_verifier_new(&v) != FASTEPOST_OK ||
      fastepost_hubspot_verifier_set_versions(v, ver) != FASTEPOST_OK ||
      fastepost_hubspot_verifier_set_tolerance(v, tolerance_ms) != FASTEPOST_OK ||
      fastepost_hubspot_verifier_set_max_body(v, len ? len : 1) != FASTEPOST_OK) {
    rc = cli_fail(ctx, "hubspot verify");
    goto done;
  }
  fastepost_hubspot_verifier_set_now(v, now_ms);
  for (int i = 0; i < secrets.count; i++)
    if (fastepost_hubspot_verifier_add_secret(v, secrets.items[i]) != FASTEPOST_OK) {
      rc = cli_fail(ctx, "hubspot verify");
      goto done;
    }
  if (fastepost_hubspot_verify(&secret_index, v, version, method, uri, timestamp, signature, body,
                               len) != FASTEPOST_OK) {
    rc = cli_fail(ctx, "hubspot verify: invalid");
    goto done;
  }
  if (ctx->json)
    printf("{\"status\":\"ok\",\"valid\":true,\"version\":\"%s\",\"secret_index\":%d}\n", version,
           secret_index);
  else
    printf("valid: HubSpot %s signature matches secret #%d (%zu body bytes)\n", version,
           secret_index + 1, len);
  rc = CLI_OK;
done:
  fastepost_hubspot_verifier_free(v);
  free(body);
  return rc;
}

const cli_command cli_hubspot_commands[] = {
    {"hubspot", "verify", hubspot_verify, "Check a HubSpot webhook request signature",
     "Usage: fastepost hubspot verify --secret S [--secret S2 ...] --signature SIG\n"
     "           [--version v1|v2|v3] [--method M] [--uri URL] [--timestamp MS]\n"
     "           [--now MS] [--tolerance MS] [--json] [FILE|-]\n"
     "\n"
     "Verify a HubSpot webhook signature over the raw body read from FILE (default: standard\n"
     "input). Exit 0 when valid, 1 when not (the reason is printed: stale or future timestamp,\n"
     "mismatch, missing value), 2 on a usage error.\n"
     "\n"
     "Options:\n"
     "  --secret S       the app's client secret; repeat it during a rotation\n"
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
     "  fastepost hubspot verify --secret \"$HUBSPOT_SECRET\" --method POST \\\n"
     "    --uri https://app.example.com/api/v1/integrations/hubspot \\\n"
     "    --timestamp 1764270000000 --signature 'aNuH...G7g=' body.json\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
