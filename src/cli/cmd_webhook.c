/* SPDX-License-Identifier: MIT */
/* fastepost webhook process: one command for every CRM source, through fastepost_webhook_process(). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* The largest configuration file, header file and query file read. */
#define LINES_LIMIT (64 * 1024)

/* Names that carry a key or a password: given on the command line, every local user can read
 * them (ps, /proc/PID/cmdline). Matched as substrings, case-insensitively. */
static bool secret_name(const char *name, size_t len) {
  static const char *const words[] = {"authorization", "api-key", "api_key", "apikey", "token",
                                      "secret", "password", "key"};
  for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
    size_t n = strlen(words[w]);
    for (size_t i = 0; i + n <= len; i++) {
      size_t k = 0;
      while (k < n && (name[i + k] | 0x20) == words[w][k]) /* ASCII: the words have no '@' or digits */
        k++;
      if (k == n)
        return true;
    }
  }
  return false;
}

/* The request the command builds, as a web host would. */
typedef struct request {
  fastepost_webhook_request *req;
  char *url; /* --url with the --query parameters appended */
} request;

/* "Name: value" (a header line): set it on the request. */
static int add_header(cli_ctx *ctx, request *r, const char *line, bool from_argv) {
  const char *colon = strchr(line, ':');
  if (!colon || colon == line)
    return cli_usage_error(ctx, "a header must be 'Name: value', not '%.40s'", line);
  char name[256];
  size_t n = (size_t)(colon - line);
  while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
    n--;
  if (n >= sizeof name)
    return cli_usage_error(ctx, "a header name is longer than %zu bytes", sizeof name - 1);
  memcpy(name, line, n);
  name[n] = '\0';
  const char *value = colon + 1;
  while (*value == ' ' || *value == '\t')
    value++;
  if (from_argv && secret_name(name, n))
    fprintf(stderr, "fastepost: warning: --header %s puts a secret on the command line, where every local user can "
                    "read it (ps, /proc/PID/cmdline); use --header-file FILE\n", name);
  if (fastepost_webhook_request_set_header(r->req, name, value) != FASTEPOST_OK)
    return cli_fail(ctx, "webhook process");
  return CLI_OK;
}

/* Append k=v to the URL's query, percent-encoding what is not unreserved (RFC 3986). */
static int add_query(cli_ctx *ctx, request *r, const char *pair, bool from_argv) {
  const char *eq = strchr(pair, '=');
  if (!eq || eq == pair)
    return cli_usage_error(ctx, "a query parameter must be 'name=value', not '%.40s'", pair);
  if (from_argv && secret_name(pair, (size_t)(eq - pair)))
    fprintf(stderr, "fastepost: warning: --query %.*s puts a secret on the command line, where every local user can "
                    "read it (ps, /proc/PID/cmdline); use --query-file FILE\n", (int)(eq - pair), pair);
  size_t ulen = strlen(r->url), plen = strlen(pair);
  char *url = malloc(ulen + 1 + 3 * plen + 1);
  if (!url)
    return cli_usage_error(ctx, "out of memory");
  memcpy(url, r->url, ulen);
  char *o = url + ulen;
  *o++ = strchr(r->url, '?') ? '&' : '?';
  for (const char *p = pair; *p; p++) {
    unsigned char c = (unsigned char)*p;
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (p == eq))
      *o++ = (char)c;
    else
      o += sprintf(o, "%%%02X", c);
  }
  *o = '\0';
  memset(r->url, 0, ulen); /* it may hold a key */
  free(r->url);
  r->url = url;
  return CLI_OK;
}

typedef int (*line_fn)(cli_ctx *ctx, request *r, const char *line, bool from_argv);

/* A file of lines (headers or query parameters), each handed to add; blank lines and lines
 * starting with # are skipped. The buffer is wiped afterwards: it may hold keys. */
static int read_lines(cli_ctx *ctx, request *r, const char *path, line_fn add) {
  char *buf = NULL;
  size_t len = 0;
  if (cli_read_input(&buf, &len, path, LINES_LIMIT))
    return CLI_FAILURE;
  int rc = CLI_OK;
  if (len > LINES_LIMIT || memchr(buf, '\0', len))
    rc = cli_usage_error(ctx, "%s: over %d bytes, or not text", path, LINES_LIMIT);
  for (size_t i = 0; rc == CLI_OK && i < len;) {
    size_t n = 0;
    while (i + n < len && buf[i + n] != '\n')
      n++;
    size_t end = n;
    while (end && (buf[i + end - 1] == '\r' || buf[i + end - 1] == ' ' || buf[i + end - 1] == '\t'))
      end--;
    if (i + n < len)
      buf[i + n] = '\0';
    buf[i + end] = '\0';
    if (end && buf[i] != '#')
      rc = add(ctx, r, buf + i, false);
    i += n + 1;
  }
  memset(buf, 0, len);
  free(buf);
  return rc;
}

static bool known_source(const char *source) {
  for (size_t i = 0; i < fastepost_webhook_source_count(); i++)
    if (strcmp(fastepost_webhook_source_at(i), source) == 0)
      return true;
  return false;
}

static int64_t fixed_clock(void *payload) { return *(const int64_t *)payload; }

static int webhook_process(cli_ctx *ctx, int argc, char **argv) {
  const char *config_file = NULL, *method = "POST", *url = NULL, *content_type = NULL, *spool_dir = NULL,
             *header_file = NULL, *query_file = NULL;
  cli_list headers = {0}, queries = {0};
  cli_number now = {0, 253402300799L /* 9999-12-31 */, 0, NULL};
  const cli_option opts[] = {{"config", CLI_STRING, &config_file},   {"header", CLI_LIST, &headers},
                             {"header-file", CLI_STRING, &header_file}, {"method", CLI_STRING, &method},
                             {"url", CLI_STRING, &url},               {"query", CLI_LIST, &queries},
                             {"query-file", CLI_STRING, &query_file}, {"content-type", CLI_STRING, &content_type},
                             {"now", CLI_NUMBER, &now},               {"spool", CLI_STRING, &spool_dir},
                             {NULL, CLI_FLAG, NULL}};
  const char *pos[2] = {NULL, NULL};
  int npos = 0;
  int rc = cli_parse(ctx, argc, argv, opts, pos, 2, &npos);
  if (rc || ctx->help)
    return rc;
  if (npos < 1)
    return cli_usage_error(ctx, "missing SOURCE (odoo, hubspot, pipedrive, monday, salesforce or zoho)");
  if (!known_source(pos[0]))
    return cli_usage_error(ctx, "unknown source '%.40s' (see 'fastepost webhook process --help')", pos[0]);
  if (npos < 2)
    return cli_usage_error(ctx, "missing BODY_FILE ('-' for standard input)");
  if (!config_file)
    return cli_usage_error(ctx, "--config FILE is needed (docs/webhooks.md)");
  if (!strcmp(config_file, "-") && !strcmp(pos[1], "-"))
    return cli_usage_error(ctx, "the configuration and the body cannot both come from standard input");

  const char *source = pos[0];
  fastepost_webhook_config *cfg = NULL;
  fastepost_webhook_response *resp = NULL;
  fastepost_spool *spool = NULL;
  char default_url[128], *body = NULL;
  size_t len = 0;
  snprintf(default_url, sizeof default_url, "https://localhost/api/v1/integrations/%s", source);
  request r = {NULL, strdup(url ? url : default_url)};
  int64_t now_us = (int64_t)now.value * 1000000;
  if (!r.url || fastepost_webhook_request_new(&r.req) != FASTEPOST_OK) {
    rc = cli_fail(ctx, "webhook process");
    goto done;
  }
  if ((rc = cli_webhook_config(ctx, &cfg, config_file)))
    goto done;
  if (now.text)
    fastepost_webhook_config_set_clock(cfg, fixed_clock, &now_us);
  for (int i = 0; !rc && i < headers.count; i++)
    rc = add_header(ctx, &r, headers.items[i], true);
  if (!rc && header_file)
    rc = read_lines(ctx, &r, header_file, add_header);
  for (int i = 0; !rc && i < queries.count; i++)
    rc = add_query(ctx, &r, queries.items[i], true);
  if (!rc && query_file)
    rc = read_lines(ctx, &r, query_file, add_query);
  if (rc)
    goto done;
  if ((content_type && fastepost_webhook_request_set_header(r.req, "Content-Type", content_type) != FASTEPOST_OK) ||
      fastepost_webhook_request_set_method(r.req, method) != FASTEPOST_OK ||
      fastepost_webhook_request_set_uri(r.req, r.url) != FASTEPOST_OK) {
    rc = cli_fail(ctx, "webhook process");
    goto done;
  }
  if ((rc = cli_read_input(&body, &len, pos[1], SIZE_MAX)))
    goto done;
  if (fastepost_webhook_request_set_body(r.req, body, len) != FASTEPOST_OK) {
    rc = cli_fail(ctx, "webhook process");
    goto done;
  }
  if ((rc = cli_connect_or_spool(ctx, spool_dir, &spool)))
    goto done;
  fastepost_webhook_config_set_spool(cfg, spool);

  fastepost_status st = fastepost_webhook_process(&resp, ctx->conn, source, r.req, cfg);
  if (!resp) {
    rc = cli_fail(ctx, "webhook process");
    goto done;
  }
  int http = fastepost_webhook_response_http_status(resp);
  if (ctx->json) {
    char *json = NULL;
    if (fastepost_webhook_response_json(&json, resp, FASTEPOST_WEBHOOK_JSON_RESPONSE) != FASTEPOST_OK) {
      rc = cli_fail(ctx, "webhook process");
      goto done;
    }
    printf("%s\n", json);
    fastepost_free(json);
  } else {
    size_t n = fastepost_webhook_response_body_len(resp);
    const char *answer = fastepost_webhook_response_body(resp);
    fwrite(answer, 1, n, stdout);
    if (n && answer[n - 1] != '\n')
      putchar('\n');
    if (st != FASTEPOST_OK)
      fprintf(stderr, "fastepost: webhook process: %s (HTTP %d)\n", fastepost_webhook_response_error(resp), http);
  }
  rc = http >= 200 && http < 300 ? CLI_OK : CLI_FAILURE;
done:
  fastepost_webhook_response_free(resp);
  fastepost_webhook_request_free(r.req);
  if (r.url)
    memset(r.url, 0, strlen(r.url));
  free(r.url);
  free(body);
  fastepost_webhook_config_free(cfg);
  fastepost_spool_free(spool);
  return rc;
}

const cli_command cli_webhook_commands[] = {
    {"webhook", "process", webhook_process, "Process one webhook request from any CRM source",
     "Usage: fastepost webhook process SOURCE --config FILE [--header 'Name: value']...\n"
     "           [--header-file FILE] [--method M] [--url URL] [--query 'k=v']... [--query-file FILE]\n"
     "           [--content-type T] [--now UNIX_SECONDS] [--spool DIR] [--db CONNINFO] [--json]\n"
     "           BODY_FILE\n"
     "\n"
     "Process one webhook request as a web host would, through the one entry every CRM source\n"
     "shares: answer a handshake, verify (fail closed), parse the request into its events, sync\n"
     "them in one transaction, and print the answer to send. SOURCE is odoo, hubspot, pipedrive,\n"
     "monday, salesforce or zoho. BODY_FILE is the raw body ('-' for standard input). A refused\n"
     "request writes nothing.\n"
     "\n"
     "Options:\n"
     "  --config FILE      the JSON configuration, one section per source (docs/webhooks.md):\n"
     "                     {\"odoo\": {\"api_keys\": [...]}, \"hubspot\": {\"client_secrets\": [...]}}.\n"
     "                     It holds secrets: refused when others may write it, a warning when\n"
     "                     they may read it (chmod 600)\n"
     "  --header 'N: V'    a request header (repeatable), e.g. 'X-HubSpot-Signature-v3: ...'\n"
     "  --header-file FILE headers, one 'Name: value' per line: use it for keys (Authorization,\n"
     "                     X-Odoo-Api-Key), which --header would show to every local user (ps)\n"
     "  --method M         the HTTP method (default POST)\n"
     "  --url URL          the full URL the request was sent to, as received (signatures and\n"
     "                     monday's JWT audience cover it; default\n"
     "                     https://localhost/api/v1/integrations/SOURCE)\n"
     "  --query 'k=v'      a query parameter appended to the URL, percent-encoded (repeatable)\n"
     "  --query-file FILE  query parameters, one 'k=v' per line (for keys: Odoo's api_key)\n"
     "  --content-type T   the request's Content-Type\n"
     "  --now UNIX_SECONDS the processing clock: signature windows, JWT expiry and event rows\n"
     "                     (default: the host's clock for windows, the server's for rows)\n"
     "  --spool DIR        when the database cannot be reached, write the verified request to\n"
     "                     this spool (answer 202); replay with `fastepost spool replay`\n"
     "  --json             print {\"status\",\"http_status\",\"response\":{\"content_type\",\"body\"},\n"
     "                     \"events\":[{\"index\",\"event_id\",\"outcome\",\"customer_id\",\"remark_id\",\n"
     "                     \"external_id\",\"error\"}],\"error\"}\n"
     "\n"
     "Without --json the answer's body is printed (the JSON result, or the source's own answer:\n"
     "Salesforce's SOAP acknowledgement, monday's challenge).\n"
     "\n"
     "Exit status: 0 for a 2xx answer, 1 otherwise (refused, malformed, database unavailable),\n"
     "2 usage error.\n"
     "\n"
     "Example:\n"
     "  fastepost webhook process odoo --config /etc/app/webhooks.json \\\n"
     "    --header-file request.headers --query event=write --json partner.json\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
