/* SPDX-License-Identifier: MIT */
/* `fastepost hubspot verify`: exit codes and messages. Needs no database, but runs the CLI
 * binary (FASTEPOST_CLI, set by ctest), like the other CLI tests in tests/db. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdb.h"
#include "hubspot_request.h"

/* Signed: 'POST' + URL + '[]' + '1764270000000' with secret "new-secret"; see tests/unit/hubspot.c. */
#define ARGS                                                                                    \
  "hubspot verify --method POST --uri https://example.com/api/v1/integrations/hubspot "        \
  "--timestamp 1764270000000 --signature aNuHLlI5QxS/U+zRIzRloIiAeUHPOI1/FDGz+jL7G7g= "

static int run(char *out, size_t size, const char *extra) {
  char args[4096];
  snprintf(args, sizeof args, ARGS "%s %s", extra,
           fptest_source_path("tests/fixtures/hubspot/empty_batch.json"));
  return fptest_cli(out, size, args);
}

Test(hubspot_cli, verify_exit_codes) {
  char out[4096];
  cr_assert_eq(run(out, sizeof out, "--secret old --secret new-secret --now 1764270000000"), 0, "%s", out);
  cr_assert(strstr(out, "valid: HubSpot v3 signature matches secret #2"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "--secret new-secret --now 1764270400000"), 1, "%s", out);
  cr_assert(strstr(out, "stale timestamp"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "--secret new-secret --now 1764269000000"), 1, "%s", out);
  cr_assert(strstr(out, "future timestamp"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "--secret wrong --now 1764270000000"), 1, "%s", out);
  cr_assert(strstr(out, "mismatch"), "%s", out);
  cr_assert_null(strstr(out, "wrong"), "the secret is not echoed: %s", out);
  cr_assert_eq(run(out, sizeof out, "--secret new-secret --now 1764270000000 --json"), 0, "%s", out);
  cr_assert(strstr(out, "\"valid\":true"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "--now 1764270000000"), 2, "no secret is a usage error: %s", out);
  cr_assert_eq(run(out, sizeof out, "--secret s --version v9"), 2, "%s", out);
  cr_assert_eq(fptest_cli(out, sizeof out, "hubspot verify --help"), 0);
  cr_assert(strstr(out, "Usage: fastepost hubspot verify"), "%s", out);
}

/* `fastepost hubspot process`: verify, then ingest; --json per event; refused writes nothing. */
Test(hubspot_cli, process_verifies_then_ingests, .init = fptest_setup_schema, .fini = fptest_teardown) {
  const char *path = fptest_source_path("tests/fixtures/hubspot/contact_batch.json");
  char file[1024];
  snprintf(file, sizeof file, "%s", path);
  size_t len = 0;
  char *body = fptest_read_file(file, &len);
  char *sig = NULL;
  cr_assert_eq(fptest_hs_sign(&sig, FASTEPOST_HUBSPOT_VERSION_V3, "s3cret", "POST",
                                      "https://example.com/api/v1/integrations/hubspot", "1764270000000", body, len),
               FASTEPOST_OK);
  free(body);
  char out[8192], args[4096];
#define COMMON                                                                                     \
  "hubspot process --db '%s' --secret s3cret --method POST "                                       \
  "--uri https://example.com/api/v1/integrations/hubspot --timestamp 1764270000000 "               \
  "--now 1764270001000 --signature '%s' %s '%s'"
  /* a bad signature: exit 1, nothing written */
  snprintf(args, sizeof args, COMMON, fptest_current.conninfo, "AAAA", "", file);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  cr_assert(strstr(out, "mismatch") && strstr(out, "HTTP 401"), "%s", out);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 0);
  snprintf(args, sizeof args, COMMON, fptest_current.conninfo, sig, "--json", file);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "{\"status\":\"ok\",\"code\":0,\"http_status\":200,\"count\":6,\"failed\":1,"), "%s", out);
  cr_assert(strstr(out, "\"index\":0,\"event_type\":\"contact.creation\",\"object_id\":65059681032,"
                        "\"status\":\"ok\",\"code\":0,\"http_status\":200,\"outcome\":\"created\""), "%s", out);
  cr_assert(strstr(out, "\"index\":4,\"event_type\":\"deal.creation\",\"object_id\":777,\"status\":\"ok\","
                        "\"code\":0,\"http_status\":200,\"outcome\":\"ignored\""), "%s", out);
  cr_assert(strstr(out, "\"index\":5,\"event_type\":\"contact.propertyChange\",\"object_id\":65059681032,"
                        "\"status\":\"FASTEPOST_EINVALID\",\"code\":-3,\"http_status\":400,\"outcome\":null"), "%s", out);
  cr_assert_str_eq(fptest_scalar("SELECT name || '|' || email || '|' || crm_id FROM customers"),
                   "Ada <Countess> Lovelace|ada@example.com|65059681032");
  /* the same batch again (text output): every event a duplicate, the bad one failing again */
  snprintf(args, sizeof args, COMMON, fptest_current.conninfo, sig, "", file);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "duplicate") && strstr(out, "batch: 6 events, 1 failed (HTTP 200)"), "%s", out);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 6);
  cr_assert_eq(fptest_cli(out, sizeof out, "hubspot process --help"), 0);
  cr_assert(strstr(out, "Usage: fastepost hubspot process"), "%s", out);
  fastepost_free(sig);
}

/* Issue 11 item 5: the secret comes from --secret-file or HUBSPOT_CLIENT_SECRET, never needs to
 * be in argv; --secret still works but warns. */
Test(hubspot_cli, secret_from_a_file_or_the_environment) {
  char dir[256], file[512], rotated[512], empty[512], out[4096], args[1024];
  fptest_tmpdir(dir, sizeof dir, "hubsecret");
  snprintf(file, sizeof file, "%s/secret", dir);
  snprintf(rotated, sizeof rotated, "%s/rotated", dir);
  snprintf(empty, sizeof empty, "%s/empty", dir);
  fptest_write_file(file, "new-secret\n", 0600);
  fptest_write_file(rotated, "old\n\n  new-secret  \n", 0600);
  fptest_write_file(empty, "", 0600);
  unsetenv("HUBSPOT_CLIENT_SECRET");
  snprintf(args, sizeof args, "--secret-file '%s' --now 1764270000000", file);
  cr_assert_eq(run(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "matches secret #1") && !strstr(out, "warning"), "%s", out);
  snprintf(args, sizeof args, "--secret-file '%s' --now 1764270000000", rotated);
  cr_assert_eq(run(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "matches secret #2"), "one per line, blank lines skipped: %s", out);
  snprintf(args, sizeof args, "--secret-file '%s' --now 1764270000000", empty);
  cr_assert_eq(run(out, sizeof out, args), 1, "an empty file is refused, not 'no secret': %s", out);
  snprintf(args, sizeof args, "--secret-file '%s/missing' --now 1764270000000 --json", dir);
  cr_assert_eq(run(out, sizeof out, args), 1, "%s", out);
  cr_assert(strstr(out, "\"http_status\":500") && strstr(out, "cannot open the secret file"), "%s", out);
  snprintf(args, sizeof args, "--secret-file '%s' --secret new-secret --now 1764270000000", file);
  cr_assert_eq(run(out, sizeof out, args), 2, "both: a usage error: %s", out);
  cr_assert_eq(run(out, sizeof out, "--now 1764270000000 --json"), 2, "none: a usage error: %s", out);
  cr_assert(strstr(out, "HUBSPOT_CLIENT_SECRET") && strstr(out, "\"http_status\":400"), "%s", out);

  /* The environment: several comma-separated while rotating. */
  setenv("HUBSPOT_CLIENT_SECRET", "old, new-secret", 1);
  cr_assert_eq(run(out, sizeof out, "--now 1764270000000"), 0, "%s", out);
  cr_assert(strstr(out, "matches secret #2") && !strstr(out, "warning"), "%s", out);
  setenv("HUBSPOT_CLIENT_SECRET", " , ", 1);
  cr_assert_eq(run(out, sizeof out, "--now 1764270000000"), 2, "only separators: no secret: %s", out);
  unsetenv("HUBSPOT_CLIENT_SECRET");

  /* --secret: accepted, with a warning that ps shows it. */
  cr_assert_eq(run(out, sizeof out, "--secret new-secret --now 1764270000000"), 0, "%s", out);
  cr_assert(strstr(out, "warning: --secret puts the secret on the command line"), "%s", out);
  fptest_rmtree(dir);
}
