/* SPDX-License-Identifier: MIT */
/*
 * The sync core applies one customer normalisation (src/normalize.h) to every record, whatever
 * the adapter made it: whole-record facts (Odoo) and versioned properties (HubSpot), one event
 * at a time and in a batch. Records are built here as an adapter would, so that the rule is
 * checked in the core itself, before and after any adapter's own handling.
 */
#include <string.h>

#include "sync.h"
#include "testdb.h"

TestSuite(sync_normalize, .init = fptest_setup_schema, .fini = fptest_teardown);

static const fastepost__sync_ctx ctx = {FASTEPOST__SYNC_SERVER_CLOCK, false, 0};

/* A contact as a whole-record source sends it. */
static void contact(fastepost__sync_record *rec, const char *crm_id, const char *name, const char *email,
                    const char *phone) {
  fastepost__sync_record_init(rec, "testcrm");
  rec->event_type = fastepost__strdup("contact");
  rec->crm_id = fastepost__strdup(crm_id);
  rec->owns_customer = true;
  fastepost__fact_set(&rec->facts.name, name);
  fastepost__fact_set(&rec->facts.email, email);
  fastepost__fact_set(&rec->facts.phone, phone);
}

static bool has_warning(const fastepost_event_result *r, const char *part) {
  for (size_t i = 0; i < fastepost_event_result_warning_count(r); i++)
    if (strstr(fastepost_event_result_warning(r, i), part))
      return true;
  return false;
}

Test(sync_normalize, facts_are_stored_in_normal_form_and_matched_by_it) {
  fastepost_conn *c = fptest_conn();
  fastepost__sync_record rec;
  fastepost_event_result *r = fastepost__result_new();
  contact(&rec, "p:1", "Ivy", "  IVY.Smith@Example.COM\t", " +49  30\t1234 ");
  cr_assert_eq(fastepost__sync_process(r, c, &rec, &ctx), FASTEPOST_OK, "%s", fastepost_event_result_error(r));
  cr_assert_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(fastepost_event_result_warning_count(r), 0);
  cr_assert_str_eq(fptest_scalar("SELECT email FROM customers WHERE crm_id = 'p:1'"), "ivy.smith@example.com");
  cr_assert_str_eq(fptest_scalar("SELECT phone FROM customers WHERE crm_id = 'p:1'"), "+49 30 1234");
  int64_t id = fastepost_event_result_customer_id(r);
  fastepost__sync_record_clear(&rec);
  fastepost_event_result_free(r);

  /* A record of another kind (not the customer itself) with the same address in another case
   * and padding finds that customer by email. */
  r = fastepost__result_new();
  contact(&rec, "lead:9", NULL, "ivy.smith@EXAMPLE.com ", NULL);
  rec.owns_customer = false;
  cr_assert_eq(fastepost__sync_process(r, c, &rec, &ctx), FASTEPOST_OK, "%s", fastepost_event_result_error(r));
  cr_assert_eq(fastepost_event_result_customer_id(r), id);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 1);
  fastepost__sync_record_clear(&rec);
  fastepost_event_result_free(r);
}

Test(sync_normalize, an_invalid_email_is_stored_as_none_with_a_warning) {
  fastepost_conn *c = fptest_conn();
  fastepost__sync_record rec;
  fastepost_event_result *r = fastepost__result_new();
  /* Refused by the stricter rule although the CSV import alone used to accept it. */
  contact(&rec, "p:2", "Bob", "bob;ops@example.com", "1");
  cr_assert_eq(fastepost__sync_process(r, c, &rec, &ctx), FASTEPOST_OK, "%s", fastepost_event_result_error(r));
  cr_assert_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_CREATED);
  cr_assert(has_warning(r, "is not an email address: stored as empty"));
  cr_assert_str_eq(fptest_scalar("SELECT coalesce(email, '<null>') FROM customers WHERE crm_id = 'p:2'"), "<null>");
  cr_assert_str_eq(fptest_scalar("SELECT name FROM customers WHERE crm_id = 'p:2'"), "Bob");
  fastepost__sync_record_clear(&rec);
  fastepost_event_result_free(r);
}

/* Versioned properties (as HubSpot delivers them), in a batch. */
static const fastepost__prop_def props[] = {{"email", FASTEPOST__COL_EMAIL}, {"phone", FASTEPOST__COL_PHONE}};

static void property(fastepost__sync_record *rec, const char *crm_id, const char *version, int which,
                     const char *value) {
  fastepost__sync_record_init(rec, "testprops");
  rec->event_type = fastepost__strdup("contact.propertyChange");
  rec->crm_id = fastepost__strdup(crm_id);
  rec->owns_customer = true;
  rec->version = fastepost__strdup(version);
  rec->prop_defs = props;
  rec->nprops = 2;
  fastepost__fact_set(&rec->props[which], value);
}

Test(sync_normalize, properties_in_a_batch_get_the_same_rule) {
  fastepost_conn *c = fptest_conn();
  fastepost__sync_record recs[3];
  fastepost_event_result *res[3];
  property(&recs[0], "7", "2024-01-01 00:00:00", 0, " Zoe@Example.ORG ");
  property(&recs[1], "8", "2024-01-01 00:00:00", 0, "zoe@@example.org");
  property(&recs[2], "9", "2024-01-01 00:00:00", 1, "  555   0100 ");
  for (int i = 0; i < 3; i++)
    res[i] = fastepost__result_new();
  cr_assert_eq(fastepost__sync_batch_begin(c), FASTEPOST_OK);
  cr_assert_eq(fastepost__sync_process_many(res, c, recs, 3, &ctx), FASTEPOST_OK);
  cr_assert_eq(fastepost__sync_batch_commit(c), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_result_code(res[0]), FASTEPOST_OK, "%s", fastepost_event_result_error(res[0]));
  cr_assert_str_eq(fptest_scalar("SELECT email FROM customers WHERE crm_id = '7'"), "zoe@example.org");
  cr_assert_str_eq(fptest_scalar("SELECT value FROM fastepost_crm_properties WHERE crm_id = '7' "
                                 "AND property = 'email'"), "zoe@example.org");
  cr_assert(has_warning(res[1], "email \"zoe@@example.org\" is not an email address"));
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE crm_id = '8' AND email IS NOT NULL"), 0);
  cr_assert_str_eq(fptest_scalar("SELECT phone FROM customers WHERE crm_id = '9'"), "555 0100");
  for (int i = 0; i < 3; i++) {
    fastepost__sync_record_clear(&recs[i]);
    fastepost_event_result_free(res[i]);
  }
}
