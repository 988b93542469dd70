/* SPDX-License-Identifier: MIT */
/* fastepost webhook process: exit codes, the --json shape, standard input, usage errors, the
 * configuration file's checks, headers and query parameters from files, the clock, the spool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "hubspot_request.h"
#include "testdb.h"

static char dir[256];

static void setup(void) {
  fptest_setup_schema();
  fptest_tmpdir(dir, sizeof dir, "cli-webhook");
}

static void teardown(void) {
  fptest_rmtree(dir);
  fptest_teardown();
}

TestSuite(cli_webhook, .init = setup, .fini = teardown);

#define N(sql) fptest_count(sql)

static const char CONFIG[] = "{\"odoo\": {\"api_keys\": [\"odoo-cli-key\"]},"
                             " \"hubspot\": {\"client_secrets\": [\"hs-client-secret\"]}}";

/* A file in the test's directory; returns its path (static, one of four). */
static const char *file(const char *name, const char *content, int mode) {
  static char paths[4][512];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, 512, "%s/%s", dir, name);
  fptest_write_file(p, content, mode);
  return p;
}

/* `fastepost --db ... webhook process <args>` */
#define run(out, size, ...) fptest_cli_db(out, size, "webhook process " __VA_ARGS__)

/* The --json object: the one line of the output that starts with '{' (warnings go to stderr,
 * which the helper captures too). */
static json_object *json_line(const char *out) {
  const char *p = out;
  while (p && *p != '{')
    p = (p = strchr(p, '\n')) ? p + 1 : NULL;
  cr_assert_not_null(p, "no JSON in: %s", out);
  size_t n = strcspn(p, "\n");
  json_tokener *t = json_tokener_new();
  json_object *j = json_tokener_parse_ex(t, p, (int)n);
  json_tokener_free(t);
  cr_assert_not_null(j, "not JSON: %.*s", (int)n, p);
  return j;
}

static const char *jstr(json_object *o, const char *key) {
  json_object *v = NULL;
  return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

Test(cli_webhook, odoo_json_shape_then_duplicate_from_stdin) {
  const char *cfg = file("config.json", CONFIG, 0600);
  const char *headers = file("odoo.headers", "# the key\nX-Odoo-Api-Key: odoo-cli-key\r\n\n", 0600);
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  char out[8192];
  int rc = run(out, sizeof out, "odoo --config '%s' --header-file '%s' --json '%s'", cfg, headers, fx);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert_null(strstr(out, "warning"), "%s", out);
  json_object *j = json_line(out);
  cr_assert_str_eq(jstr(j, "status"), "ok");
  cr_assert_eq(json_object_get_int(json_object_object_get(j, "http_status")), 200);
  cr_assert_null(jstr(j, "error"));
  json_object *resp = json_object_object_get(j, "response");
  cr_assert_str_eq(jstr(resp, "content_type"), "application/json");
  json_object *body = json_tokener_parse(jstr(resp, "body"));
  cr_assert_not_null(body);
  cr_assert_str_eq(jstr(body, "status"), "ok");
  json_object_put(body);
  json_object *events = json_object_object_get(j, "events");
  cr_assert_eq(json_object_array_length(events), 1);
  json_object *e = json_object_array_get_idx(events, 0);
  static const char *const keys[] = {"index", "event_id", "outcome", "customer_id", "remark_id", "external_id",
                                     "error"};
  cr_assert_eq(json_object_object_length(e), sizeof keys / sizeof keys[0]);
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    cr_assert(json_object_object_get_ex(e, keys[i], NULL), "no %s", keys[i]);
  cr_assert_str_eq(jstr(e, "outcome"), "created");
  cr_assert_str_eq(jstr(e, "external_id"), "res.partner:42");
  cr_assert_eq(json_object_get_int64(json_object_object_get(e, "customer_id")),
               N("SELECT id FROM customers WHERE crm_id = 'res.partner:42'"));
  json_object_put(j);

  rc = run(out, sizeof out, "odoo --config '%s' --header-file '%s' --json - < '%s'", cfg, headers, fx);
  cr_assert_eq(rc, 0, "%s", out);
  j = json_line(out);
  cr_assert_str_eq(jstr(json_object_array_get_idx(json_object_object_get(j, "events"), 0), "outcome"), "duplicate");
  json_object_put(j);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);

  /* Without --json: the answer's body, which is the JSON result. */
  rc = run(out, sizeof out, "odoo --config '%s' --header-file '%s' '%s'", cfg, headers, fx);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "{\"status\":\"ok\",\"http_status\":200,\"events\":[{\"index\":0,"), "%s", out);
}

Test(cli_webhook, refused_and_malformed_exit_1_and_write_nothing) {
  const char *cfg = file("config.json", CONFIG, 0600);
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  char out[8192];
  /* no key, a wrong key (from the query file), a source without a section */
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --json '%s'", cfg, fx), 1, "%s", out);
  json_object *j = json_line(out);
  cr_assert_str_eq(jstr(j, "status"), "FASTEPOST_EAUTH");
  cr_assert_eq(json_object_get_int(json_object_object_get(j, "http_status")), 401);
  cr_assert_not_null(jstr(j, "error"));
  cr_assert_eq(json_object_array_length(json_object_object_get(j, "events")), 0);
  json_object_put(j);
  const char *query = file("odoo.query", "api_key=wrong-key\nevent=write\n", 0600);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --query-file '%s' '%s'", cfg, query, fx), 1, "%s", out);
  cr_assert(strstr(out, "wrong Odoo API key (HTTP 401)"), "%s", out);
  cr_assert_null(strstr(out, "odoo-cli-key"), "%s", out);
  const char *only_odoo = file("odoo-only.json", "{\"odoo\": {\"api_keys\": [\"k\"]}}", 0600);
  cr_assert_eq(run(out, sizeof out, "hubspot --config '%s' --json '%s'", only_odoo,
                   fptest_source_path("tests/fixtures/hubspot/contact_batch.json")),
               1, "%s", out);
  cr_assert(strstr(out, "\"status\":\"FASTEPOST_ENOKEY\",\"http_status\":401"), "%s", out);
  /* a body that is not JSON: 400 */
  const char *headers = file("odoo.headers", "X-Odoo-Api-Key: odoo-cli-key\n", 0600);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --header-file '%s' --json '%s'", cfg, headers,
                   fptest_source_path("tests/fixtures/odoo/hostile_truncated.json")),
               1, "%s", out);
  cr_assert(strstr(out, "\"http_status\":400"), "%s", out);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
}

Test(cli_webhook, usage_errors_exit_2) {
  const char *cfg = file("config.json", CONFIG, 0600);
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  char out[8192];
  cr_assert_eq(run(out, sizeof out, "--config '%s' ''", cfg), 2, "%s", out); /* "" is no source */
  cr_assert_eq(run(out, sizeof out, "acme --config '%s' '%s'", cfg, fx), 2, "%s", out);
  cr_assert(strstr(out, "unknown source 'acme'"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo '%s'", fx), 2, "%s", out);
  cr_assert(strstr(out, "--config"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s'", cfg), 2, "%s", out);
  cr_assert(strstr(out, "BODY_FILE"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --header 'no colon' '%s'", cfg, fx), 2, "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --query '=v' '%s'", cfg, fx), 2, "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --now yesterday '%s'", cfg, fx), 2, "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --bogus '%s'", cfg, fx), 2, "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --json '%s' extra", cfg, fx), 2, "%s", out);
  cr_assert(strstr(out, "\"http_status\":400"), "%s", out); /* --json: the JSON error object */
  cr_assert_eq(run(out, sizeof out, "%s", "--help"), 0, "%s", out);
  cr_assert(strstr(out, "--header-file") && strstr(out, "salesforce"), "%s", out);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
}

/* The configuration file: others may not write it; malformed JSON names the key, not the
 * secret; a key on the command line is warned about. */
Test(cli_webhook, configuration_file_checks) {
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  char out[8192];
  const char *writable = file("writable.json", CONFIG, 0666);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --json '%s'", writable, fx), 1, "%s", out);
  cr_assert(strstr(out, "may be written by others"), "%s", out);
  const char *readable = file("readable.json", CONFIG, 0644);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --header 'X-Odoo-Api-Key: odoo-cli-key' '%s'", readable, fx),
               0, "%s", out);
  cr_assert(strstr(out, "may be read by others"), "%s", out);
  cr_assert(strstr(out, "--header X-Odoo-Api-Key puts a secret on the command line"), "%s", out);
  const char *bad = file("bad.json", "{\"odoo\": {\"api_keys\": \"super-s3cret\"}}", 0600);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s' --json '%s'", bad, fx), 1, "%s", out);
  cr_assert(strstr(out, "odoo.api_keys: not an array"), "%s", out);
  cr_assert_null(strstr(out, "super-s3cret"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo --config '%s/missing.json' '%s'", dir, fx), 1, "%s", out);
}

/* HubSpot: the signature over --method, --url and the body, judged by --now. */
Test(cli_webhook, hubspot_signature_with_now) {
  const char *cfg = file("config.json", CONFIG, 0600);
  const char *fx = fptest_source_path("tests/fixtures/hubspot/contact_batch.json");
  size_t len;
  char *body = fptest_read_file(fx, &len);
  const char *uri = "https://app.example.com/api/v1/integrations/hubspot";
  char *sig = NULL;
  cr_assert_eq(fptest_hs_sign(&sig, FASTEPOST_HUBSPOT_VERSION_V3, "hs-client-secret", "POST", uri, "1764270000000",
                              body, len),
               FASTEPOST_OK);
  char out[16384];
#define HS_ARGS "hubspot --config '%s' --url '%s' --header 'X-HubSpot-Signature-v3: %s' " \
                "--header 'X-HubSpot-Request-Timestamp: 1764270000000' %s --json '%s'"
  cr_assert_eq(run(out, sizeof out, HS_ARGS, cfg, uri, sig, "", fx), 1, "%s", out); /* stale by the host's clock */
  cr_assert(strstr(out, "stale"), "%s", out);
  cr_assert_eq(run(out, sizeof out, HS_ARGS, cfg, uri, sig, "--now 1764270001", fx), 0, "%s", out);
  json_object *j = json_line(out);
  json_object *events = json_object_object_get(j, "events");
  cr_assert_eq(json_object_array_length(events), 6);
  cr_assert_str_eq(jstr(json_object_array_get_idx(events, 0), "external_id"), "contact:65059681032");
  cr_assert_not_null(jstr(json_object_array_get_idx(events, 5), "error"));
  json_object_put(j);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE processed_at = '2025-11-27 19:00:01'"), 6);
  fastepost_free(sig);
  free(body);
}

/* No database: with --spool the verified request is spooled (202, exit 0), and replayed. */
Test(cli_webhook, spool_when_the_database_is_unreachable) {
  const char *cfg = file("config.json", CONFIG, 0600);
  const char *headers = file("odoo.headers", "X-Odoo-Api-Key: odoo-cli-key\n", 0600);
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  char spool[300], out[8192], args[4096];
  snprintf(spool, sizeof spool, "%s/spool", dir);
  snprintf(args, sizeof args,
           "--db 'host=/nonexistent connect_timeout=1' webhook process odoo --config '%s' --header-file '%s' "
           "--query event=unlink --spool '%s' --json '%s'",
           cfg, headers, spool, fx);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  json_object *j = json_line(out);
  cr_assert_eq(json_object_get_int(json_object_object_get(j, "http_status")), 202);
  cr_assert_str_eq(jstr(json_object_array_get_idx(json_object_object_get(j, "events"), 0), "outcome"), "spooled");
  json_object_put(j);
  snprintf(args, sizeof args, "--db '%s' spool replay --dir '%s'", fptest_current.conninfo, spool);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert_str_eq(fptest_scalar("SELECT event_type || ' ' || active::text FROM integration_events e JOIN customers c "
                                 "ON c.id = e.customer_id"),
                   "res.partner.unlink false");
}

/* `spool replay --config` and `events retry --config` read each payload with its source's section:
 * Odoo's barcode_fields decide which task a partner is linked to; without the configuration the
 * same payload links none. */
Test(cli_webhook, replay_and_retry_with_the_config) {
  fptest_exec("INSERT INTO tasks (id, barcode) VALUES (10, 'FE-0001'), (11, 'FE-0002'), (12, 'FE-0003')");
  const char *cfg = file("barcodes.json",
                         "{\"odoo\": {\"api_keys\": [\"odoo-cli-key\"], \"barcode_fields\": [\"x_fe_code\"]}}", 0600);
  const char *headers = file("odoo.headers", "X-Odoo-Api-Key: odoo-cli-key\n", 0600);
  char spool[300], out[8192], args[4096];
  snprintf(spool, sizeof spool, "%s/spool", dir);
  for (int id = 60; id <= 61; id++) {
    char name[32], body[256];
    snprintf(name, sizeof name, "p%d.json", id);
    snprintf(body, sizeof body, "{\"_id\": %d, \"_model\": \"res.partner\", \"name\": \"P %d\", \"x_fe_code\": \"FE-000%d\"}",
             id, id, id - 59);
    const char *fx = file(name, body, 0600);
    snprintf(args, sizeof args,
             "--db 'host=/nonexistent connect_timeout=1' webhook process odoo --config '%s' --header-file '%s' "
             "--spool '%s' --json '%s'",
             cfg, headers, spool, fx);
    cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  }
  /* the older one without the configuration: no task; the next with it: task 11 */
  snprintf(args, sizeof args, "--db '%s' spool replay --dir '%s' --limit 1", fptest_current.conninfo, spool);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert_eq(N("SELECT count(*) FROM tasks WHERE customer_id IS NOT NULL"), 0);
  snprintf(args, sizeof args, "--db '%s' spool replay --dir '%s' --config '%s'", fptest_current.conninfo, spool, cfg);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert_eq(N("SELECT customer_id FROM tasks WHERE id = 11"),
               N("SELECT id FROM customers WHERE crm_id = 'res.partner:61'"));

  /* a transiently failed event, retried with the configuration: task 12 */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, external_id, idempotency_key, payload, "
              "attempts, next_attempt_at) VALUES ('odoo', 'res.partner', 'error', 'res.partner:62', 'k62', "
              "'{\"_id\": 62, \"_model\": \"res.partner\", \"name\": \"P 62\", \"x_fe_code\": \"FE-0003\"}', 1, "
              "localtimestamp - interval '1 minute')");
  snprintf(args, sizeof args, "--db '%s' events retry --config '%s' --json", fptest_current.conninfo, cfg);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert_eq(N("SELECT customer_id FROM tasks WHERE id = 12"),
               N("SELECT id FROM customers WHERE crm_id = 'res.partner:62'"));
  /* a configuration others may write is refused before anything runs */
  const char *open_cfg = file("open.json", "{\"odoo\": {\"api_keys\": [\"k\"]}}", 0666);
  chmod(open_cfg, 0666);
  snprintf(args, sizeof args, "--db '%s' events retry --config '%s'", fptest_current.conninfo, open_cfg);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  cr_assert(strstr(out, "may be written by others"), "%s", out);
}

/* Every source that left its fixtures (tests/fixtures/<source>/config.json, ok.<json|xml|form>,
 * ok.headers, ok.query when there is one, ok.expect) is processed through the command as the
 * demo and the binding tests do, at the default URL and without a clock, and creates the
 * customer ok.expect names. Odoo and HubSpot always have theirs. */
Test(cli_webhook, every_source_fixture_creates_its_customer) {
  size_t checked = 0;
  bool odoo = false, hubspot = false;
  for (size_t i = 0; i < fastepost_webhook_source_count(); i++) {
    const char *source = fastepost_webhook_source_at(i);
    char rel[256], cfg[512], headers[512], query[512], body[512] = "", expect_path[512];
    struct stat st;
    snprintf(rel, sizeof rel, "tests/fixtures/%s/config.json", source);
    snprintf(cfg, sizeof cfg, "%s", fptest_source_path(rel));
    if (stat(cfg, &st) != 0)
      continue; /* that source has not left its fixtures (yet) */
    static const char *const exts[] = {"json", "xml", "form"};
    for (size_t e = 0; e < 3 && !*body; e++) {
      snprintf(rel, sizeof rel, "tests/fixtures/%s/ok.%s", source, exts[e]);
      if (stat(fptest_source_path(rel), &st) == 0)
        snprintf(body, sizeof body, "%s", fptest_source_path(rel));
    }
    cr_assert(*body, "%s: config.json without ok.json, ok.xml or ok.form", source);
    snprintf(rel, sizeof rel, "tests/fixtures/%s/ok.headers", source);
    snprintf(headers, sizeof headers, "%s", fptest_source_path(rel));
    snprintf(rel, sizeof rel, "tests/fixtures/%s/ok.query", source);
    snprintf(query, sizeof query, "%s", fptest_source_path(rel));
    bool has_query = stat(query, &st) == 0;
    snprintf(rel, sizeof rel, "tests/fixtures/%s/ok.expect", source);
    snprintf(expect_path, sizeof expect_path, "%s", fptest_source_path(rel));
    size_t len;
    char *expect = fptest_read_file(expect_path, &len);
    expect[strcspn(expect, "\r\n")] = '\0';

    char out[16384];
    int rc = run(out, sizeof out, "%s --config '%s' --header-file '%s' %s%s%s --json '%s'", source, cfg, headers,
                 has_query ? "--query-file '" : "", has_query ? query : "", has_query ? "'" : "", body);
    cr_assert_eq(rc, 0, "%s: %s", source, out);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM customers WHERE crm_source = '%s' AND crm_id = '%s'", source,
             expect);
    cr_assert_eq(N(sql), 1, "%s: no customer %s after: %s", source, expect, out);
    free(expect);
    odoo = odoo || !strcmp(source, "odoo");
    hubspot = hubspot || !strcmp(source, "hubspot");
    checked++;
  }
  cr_assert(odoo && hubspot, "the Odoo and HubSpot fixtures are missing");
  cr_log_info("%zu sources' fixtures processed", checked);
}
