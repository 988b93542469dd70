/* `fastepost hubspot verify`: exit codes and messages. Needs no database, but runs the CLI
 * binary (FASTEPOST_CLI, set by ctest), like the other CLI tests in tests/db. */
#include <stdio.h>
#include <string.h>

#include "testdb.h"

/* Signed: 'POST' + URL + '[]' + '1764270000000' with secret "new-secret"; see tests/unit/hubspot.c. */
#define ARGS                                                                                    \
  "hubspot verify --method POST --uri https://example.com/api/v1/integrations/hubspot "        \
  "--timestamp 1764270000000 --signature aNuHLlI5QxS/U+zRIzRloIiAeUHPOI1/FDGz+jL7G7g= "

static int run(char *out, size_t size, const char *extra) {
  char args[2048];
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
