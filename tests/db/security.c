/* SPDX-License-Identifier: MIT */
/* Security properties against a real database (docs/security.md): no key or secret is stored
 * or echoed anywhere a delivery goes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testdb.h"

TestSuite(security, .init = fptest_setup_schema, .fini = fptest_teardown);

#define KEY "odoo-key-7f3a9c1e5b"

Test(security, api_key_never_in_events_tables_errors_or_spool) {
  setenv("ODOO_API_KEY", KEY, 1);
  char dir[256];
  fptest_tmpdir(dir, sizeof dir, "secspool");
  fastepost_spool *spool = NULL;
  cr_assert_eq(fastepost_spool_open(&spool, dir), FASTEPOST_OK);
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_spool(o, spool), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, KEY), FASTEPOST_OK);
  static const char *const bodies[] = {
      "{\"_model\":\"res.partner\",\"_id\":1,\"name\":\"A\",\"email\":\"a@example.org\"}",
      "{\"_model\":\"res.partner\",\"_id\":\"x\"}", /* refused, logged */
      "{not json",                                 /* refused, logged */
      "{\"_model\":\"res.partner\",\"_id\":2,\"email\":\"a@example.org\"}",
  };
  for (size_t i = 0; i < 4; i++) {
    fastepost_event_result *r = NULL;
    fastepost_odoo_process(&r, fptest_conn(), KEY, bodies[i], strlen(bodies[i]), o);
    cr_assert_null(strstr(fastepost_error_last()->message, KEY));
    const char *err = fastepost_event_result_error(r);
    cr_assert(!err || !strstr(err, KEY));
    fastepost_event_result_free(r);
    /* And once with no database: spooled. */
    fastepost_odoo_process(NULL, NULL, KEY, bodies[i], strlen(bodies[i]), o);
  }
  cr_assert_gt(fptest_count("SELECT count(*) FROM integration_events"), 2);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events e WHERE row_to_json(e)::text LIKE '%" KEY "%'"), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers c WHERE row_to_json(c)::text LIKE '%" KEY "%'"), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM remarks r WHERE row_to_json(r)::text LIKE '%" KEY "%'"), 0);
  /* The spool files hold the bodies and options, never the key. */
  fastepost_spool_entries *l = NULL;
  cr_assert_eq(fastepost_spool_list(&l, spool), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_entries_count(l), 4);
  for (size_t i = 0; i < fastepost_spool_entries_count(l); i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, fastepost_spool_entries_get(l, i)->name);
    char *text = fptest_read_file(path, NULL);
    cr_assert_null(strstr(text, KEY), "%s", path);
    free(text);
  }
  fastepost_spool_entries_free(l);
  /* The CLI's failure output does not echo the key it was given. */
  char out[4096];
  fptest_cli(out, sizeof out, "odoo process --api-key wrong-" KEY " /dev/null");
  cr_assert_null(strstr(out, KEY), "%s", out);
  fastepost_odoo_options_free(o);
  fastepost_spool_free(spool);
  fptest_rmtree(dir);
  unsetenv("ODOO_API_KEY");
}
