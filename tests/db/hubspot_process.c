/* SPDX-License-Identifier: MIT */
/* HubSpot batch processing against a real database: dedup, ordering, tombstones, merges,
 * malformed events, signatures, retries and concurrent deliveries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "hubspot_request.h"
#include "retry_counts.h"
#include "testdb.h"

TestSuite(hubspot_process, .init = fptest_setup_schema, .fini = fptest_teardown);

#define Q(sql) fptest_scalar(sql)
#define N(sql) fptest_count(sql)

static const char SECRET[] = "hs-client-secret";
static const char URI[] = "https://app.example.com/api/v1/integrations/hubspot";
static const char TS[] = "1764270000000";

static int64_t fixed_clock(void *payload) {
  (void)payload;
  return 1764270000LL * 1000000; /* the request's timestamp */
}

/* One contact event as HubSpot sends it. */
static void event(fastepost__buf *b, const char *type, long long object_id, long long occurred,
                  long long event_id, const char *prop, const char *value, int attempt) {
  fastepost__buf_printf(b, "%s{\"appId\":1,\"portalId\":62515,\"subscriptionId\":7,\"eventId\":%lld,"
                           "\"subscriptionType\":\"%s\",\"objectId\":%lld,\"occurredAt\":%lld,"
                           "\"attemptNumber\":%d,\"changeSource\":\"CRM\"",
                        b->len > 1 ? "," : "", event_id, type, object_id, occurred, attempt);
  if (prop)
    fastepost__buf_printf(b, ",\"propertyName\":\"%s\",\"propertyValue\":\"%s\"", prop, value);
  fastepost__buf_putc(b, '}');
}

/* Sign and process a body with the verifier; returns the batch (free it). */
static fastepost_event_batch *process_signed_range(const char *body, fastepost_status want, bool default_range) {
  fastepost_hubspot_verifier *v = NULL;
  cr_assert_eq(fastepost_hubspot_verifier_new(&v), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_verifier_add_secret(v, SECRET), FASTEPOST_OK);
  fastepost_hubspot_verifier_set_now(v, (1764270000000LL + 1000) * 1000);
  char *sig = NULL;
  cr_assert_eq(fptest_hs_sign(&sig, FASTEPOST_HUBSPOT_VERSION_V3, SECRET, "POST", URI, TS, body, strlen(body)),
               FASTEPOST_OK);
  fastepost_hubspot_options *o = NULL;
  cr_assert_eq(fastepost_hubspot_options_new(&o), FASTEPOST_OK);
  fastepost_hubspot_options_set_clock(o, fixed_clock, NULL);
  /* These tests count occurredAt from the epoch (1000 = 1970-01-01 00:00:01): widen the range
   * of accepted source times to start there. The default range has its own tests below. */
  if (!default_range)
    cr_assert_eq(fastepost_hubspot_options_set_time_range(o, 0, 86400000000LL), FASTEPOST_OK);
  fastepost_event_batch *b = NULL;
  fastepost_status st =
      fptest_hs_process(&b, fptest_conn(), v, "v3", "POST", URI, TS, sig, body, strlen(body), o);
  cr_assert_eq(st, want, "status %s: %s", fastepost_error_name(st), fastepost_error_last()->message);
  cr_assert_not_null(b);
  cr_assert_eq(fastepost_event_batch_status(b), st);
  fastepost_free(sig);
  fastepost_hubspot_options_free(o);
  fastepost_hubspot_verifier_free(v);
  return b;
}

static fastepost_event_batch *process_signed(const char *body, fastepost_status want) {
  return process_signed_range(body, want, false);
}

static fastepost_outcome outcome(const fastepost_event_batch *b, size_t i) {
  return fastepost_event_result_outcome(fastepost_event_batch_get(b, i));
}

#define EXPECT_OUTCOMES(b, ...)                                                                    \
  do {                                                                                             \
    const fastepost_outcome want_[] = {__VA_ARGS__};                                               \
    size_t n_ = sizeof want_ / sizeof want_[0];                                                    \
    cr_assert_eq(fastepost_event_batch_count(b), n_);                                            \
    for (size_t i_ = 0; i_ < n_; i_++)                                                             \
      cr_assert_eq(outcome(b, i_), want_[i_], "event %zu: %s, want %s (%s)", i_,                   \
                   fastepost_outcome_name(outcome(b, i_)), fastepost_outcome_name(want_[i_]),      \
                   fastepost_event_result_error(fastepost_event_batch_get(b, i_)));           \
  } while (0)

/* Build "[...]" from events, process it signed, expect OK; returns the batch. */
#define BATCH(buf) fastepost__buf buf = FASTEPOST__BUF_INIT; fastepost__buf_putc(&buf, '[')
static fastepost_event_batch *run(fastepost__buf *b) {
  fastepost__buf_putc(b, ']');
  fastepost_event_batch *r = process_signed(fastepost__buf_cstr(b), FASTEPOST_OK);
  fastepost__buf_free(b);
  return r;
}

Test(hubspot_process, creation_and_property_changes_build_the_customer) {
  BATCH(b);
  event(&b, "contact.creation", 501, 1000, 1, NULL, NULL, 0);
  event(&b, "contact.propertyChange", 501, 1100, 2, "firstname", "J\xc3\xbcrgen", 0);
  event(&b, "contact.propertyChange", 501, 1200, 3, "lastname", "M\xc3\xbcller", 0);
  event(&b, "contact.propertyChange", 501, 1300, 4, "email", "JM@Example.DE", 0);
  event(&b, "contact.propertyChange", 501, 1400, 5, "mobilephone", "+49 170 1", 0);
  event(&b, "contact.propertyChange", 501, 1500, 6, "city", "Berlin", 0);
  event(&b, "contact.propertyChange", 501, 1600, 7, "address", "Friedrichstr. 1", 0);
  event(&b, "contact.propertyChange", 501, 1700, 8, "company", "ACME", 0);
  event(&b, "contact.propertyChange", 501, 1800, 9, "hs_lead_status", "NEW", 0);
  event(&b, "company.creation", 9001, 1900, 10, NULL, NULL, 0);
  fastepost_event_batch *r = run(&b);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_UPDATED,
                  FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_UPDATED,
                  FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_IGNORED,
                  FASTEPOST_OUTCOME_IGNORED);
  cr_assert_eq(fastepost_event_batch_http_status(r), 200);
  cr_assert_eq(fastepost_event_batch_failed(r), 0);
  cr_assert_str_eq(fastepost_event_batch_event_type(r, 9), "company.creation");
  cr_assert_eq(fastepost_event_batch_object_id(r, 9), 9001);
  fastepost_event_batch_free(r);
  cr_assert_str_eq(Q("SELECT concat_ws('|', name, email, phone, company, address, crm_source, crm_id, active, "
                     "crm_updated_at) FROM customers"),
                   "J\xc3\xbcrgen M\xc3\xbcller|jm@example.de|+49 170 1|ACME|Friedrichstr. 1, Berlin|hubspot|501|t|"
                   "1970-01-01 00:00:01.7");
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE source = 'hubspot' AND status = 'success'"), 10);
  cr_assert_str_eq(Q("SELECT event_type || ' ' || external_id || ' ' || (payload->>'propertyValue') "
                     "FROM integration_events WHERE payload->>'eventId' = '2'"),
                   "contact.propertyChange contact:501 J\xc3\xbcrgen");
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE event_type = 'company.creation' "
                 "AND outcome = 'ignored'"), 1);
  fptest_assert_counters_exact();
}

Test(hubspot_process, generic_object_format_and_phone_fallback) {
  BATCH(b);
  fastepost__buf_puts(&b, "{\"subscriptionType\":\"object.propertyChange\",\"objectTypeId\":\"0-1\","
                          "\"objectId\":70,\"occurredAt\":1000,\"propertyName\":\"mobilephone\","
                          "\"propertyValue\":\"+1 555 0100\"}");
  event(&b, "contact.propertyChange", 70, 1100, 2, "lastname", "Okafor", 0);
  event(&b, "contact.propertyChange", 70, 1200, 3, "phone", "+1 555 0199", 0);
  event(&b, "contact.propertyChange", 70, 1300, 4, "phone", "", 0); /* back to the mobile number */
  fastepost__buf_puts(&b, ",{\"subscriptionType\":\"object.creation\",\"objectTypeId\":\"0-2\","
                          "\"objectId\":71,\"occurredAt\":1000}");
  fastepost_event_batch *r = run(&b);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_UPDATED,
                  FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_IGNORED);
  fastepost_event_batch_free(r);
  cr_assert_str_eq(Q("SELECT concat_ws('|', name, phone, crm_id) FROM customers"), "Okafor|+1 555 0100|70");
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE external_id = 'company:71' AND outcome = 'ignored'"),
               1);
  fptest_assert_counters_exact();
}

Test(hubspot_process, redelivery_with_higher_attempt_number_is_a_duplicate) {
  BATCH(b);
  event(&b, "contact.propertyChange", 7, 5000, 1, "email", "a@x.de", 0);
  event(&b, "contact.propertyChange", 7, 5000, 1, "email", "a@x.de", 3); /* same batch */
  fastepost_event_batch *r = run(&b);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_DUPLICATE);
  int64_t first = fastepost_event_result_event_id(fastepost_event_batch_get(r, 0));
  cr_assert_eq(fastepost_event_result_event_id(fastepost_event_batch_get(r, 1)), first);
  fastepost_event_batch_free(r);
  BATCH(c);
  event(&c, "contact.propertyChange", 7, 5000, 1, "email", "a@x.de", 5); /* a later retry */
  event(&c, "contact.propertyChange", 7, 5000, 2, "email", "a@x.de", 0); /* another eventId */
  r = run(&c);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_DUPLICATE, FASTEPOST_OUTCOME_UNCHANGED);
  fastepost_event_batch_free(r);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 2);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  fptest_assert_counters_exact();
}

Test(hubspot_process, out_of_order_changes_last_writer_wins_per_property) {
  BATCH(b);
  event(&b, "contact.propertyChange", 8, 3000, 1, "firstname", "New", 0);
  event(&b, "contact.propertyChange", 8, 1000, 2, "firstname", "Old", 0);  /* older: stale */
  event(&b, "contact.propertyChange", 8, 2000, 3, "lastname", "Lee", 0);   /* older, other property */
  event(&b, "contact.propertyChange", 8, 3000, 4, "email", "", 0);         /* emptied */
  fastepost_event_batch *r = run(&b);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_STALE, FASTEPOST_OUTCOME_UPDATED,
                  FASTEPOST_OUTCOME_UNCHANGED);
  fastepost_event_batch_free(r);
  cr_assert_str_eq(Q("SELECT name || '|' || crm_updated_at FROM customers"), "New Lee|1970-01-01 00:00:03");
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE outcome = 'stale' AND status = 'success'"), 1);
  cr_assert_str_eq(Q("SELECT value || '|' || version FROM fastepost_crm_properties WHERE property = 'firstname'"),
                   "New|1970-01-01 00:00:03");
  fptest_assert_counters_exact();
}

Test(hubspot_process, deletion_then_late_change_stays_deleted) {
  BATCH(b);
  event(&b, "contact.propertyChange", 9, 1000, 1, "email", "d@x.de", 0);
  event(&b, "contact.deletion", 9, 2000, 2, NULL, NULL, 0);
  event(&b, "contact.privacyDeletion", 9, 2000, 3, NULL, NULL, 0);
  event(&b, "contact.propertyChange", 9, 1500, 4, "firstname", "Zombie", 0); /* late */
  event(&b, "contact.creation", 9, 500, 5, NULL, NULL, 0);                    /* very late */
  /* deleted before it was ever seen: no customer, but a tombstone */
  event(&b, "contact.deletion", 10, 2000, 6, NULL, NULL, 0);
  event(&b, "contact.propertyChange", 10, 1000, 7, "email", "ghost@x.de", 0);
  fastepost_event_batch *r = run(&b);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_UNCHANGED,
                  FASTEPOST_OUTCOME_STALE, FASTEPOST_OUTCOME_STALE, FASTEPOST_OUTCOME_IGNORED,
                  FASTEPOST_OUTCOME_STALE);
  fastepost_event_batch_free(r);
  cr_assert_str_eq(Q("SELECT concat_ws('|', count(*), bool_or(active), max(name)) FROM customers"), "1|f");
  cr_assert_eq(N("SELECT count(*) FROM customers WHERE email = 'ghost@x.de'"), 0);
  cr_assert_eq(N("SELECT count(*) FROM fastepost_crm_properties WHERE property = '_deleted'"), 2);
  fptest_assert_counters_exact();
}

Test(hubspot_process, restore_after_deletion_reactivates) {
  BATCH(b);
  event(&b, "contact.propertyChange", 12, 1000, 1, "email", "r@x.de", 0);
  event(&b, "contact.deletion", 12, 2000, 2, NULL, NULL, 0);
  event(&b, "contact.restore", 12, 1500, 3, NULL, NULL, 0); /* older than the deletion */
  event(&b, "contact.restore", 12, 3000, 4, NULL, NULL, 0);
  event(&b, "contact.propertyChange", 12, 3100, 5, "firstname", "Back", 0);
  fastepost_event_batch *r = run(&b);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_STALE,
                  FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_UPDATED);
  fastepost_event_batch_free(r);
  cr_assert_str_eq(Q("SELECT concat_ws('|', name, email, active) FROM customers"), "Back|r@x.de|t");
  cr_assert_eq(N("SELECT count(*) FROM fastepost_crm_properties WHERE property = '_deleted'"), 0);
  fptest_assert_counters_exact();
}

Test(hubspot_process, merge_retires_the_merged_contacts) {
  BATCH(b);
  event(&b, "contact.propertyChange", 20, 1000, 1, "email", "keep@x.de", 0);
  event(&b, "contact.propertyChange", 21, 1000, 2, "email", "gone@x.de", 0);
  fastepost__buf_printf(&b, ",{\"appId\":1,\"portalId\":62515,\"subscriptionId\":8,\"eventId\":3,"
                            "\"subscriptionType\":\"contact.merge\",\"objectId\":20,\"occurredAt\":2000,"
                            "\"primaryObjectId\":20,\"mergedObjectIds\":[21],\"numberOfPropertiesMoved\":4}");
  event(&b, "contact.propertyChange", 21, 1500, 4, "firstname", "Late", 0); /* before the merge */
  fastepost_event_batch *r = run(&b);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_UPDATED,
                  FASTEPOST_OUTCOME_STALE);
  fastepost_event_batch_free(r);
  cr_assert_str_eq(Q("SELECT string_agg(crm_id || ':' || active, ',' ORDER BY crm_id) FROM customers"),
                   "20:true,21:false");
  cr_assert_str_eq(Q("SELECT value FROM fastepost_crm_properties WHERE crm_id = '21' AND property = '_deleted'"),
                   "merged into 20");
  fptest_assert_counters_exact();
}

Test(hubspot_process, malformed_event_fails_alone) {
  BATCH(b);
  event(&b, "contact.propertyChange", 30, 1000, 1, "email", "ok1@x.de", 0);
  fastepost__buf_puts(&b, ",{\"subscriptionType\":\"contact.propertyChange\",\"objectId\":\"abc\","
                          "\"occurredAt\":1000,\"eventId\":2}");
  fastepost__buf_puts(&b, ",42");
  event(&b, "contact.propertyChange", 31, 1000, 3, "email", "ok2@x.de", 0);
  fastepost_event_batch *r = run(&b);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_NONE, FASTEPOST_OUTCOME_NONE,
                  FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(fastepost_event_batch_failed(r), 2);
  cr_assert_eq(fastepost_event_batch_http_status(r), 200);
  const fastepost_event_result *bad = fastepost_event_batch_get(r, 1);
  cr_assert_eq(fastepost_event_result_code(bad), FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_event_result_error(bad), "objectId must be an integer"), "%s",
            fastepost_event_result_error(bad));
  fastepost_event_batch_free(r);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 2);
  cr_assert_str_eq(Q("SELECT string_agg(status || ':' || (error_message LIKE 'event 1: objectId%')::text || ':' || "
                     "(next_attempt_at IS NULL)::text, ',') FROM integration_events WHERE status = 'error' "
                     "AND payload IS NOT NULL"),
                   "error:true:true");
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'error'"), 2);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 4);
  fptest_assert_counters_exact();
}

Test(hubspot_process, refused_requests_write_nothing) {
  const char body[] = "[{\"subscriptionType\":\"contact.creation\",\"objectId\":1,\"occurredAt\":1}]";
  fastepost_hubspot_verifier *v = NULL;
  cr_assert_eq(fastepost_hubspot_verifier_new(&v), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_verifier_add_secret(v, SECRET), FASTEPOST_OK);
  fastepost_hubspot_verifier_set_now(v, 1764270000000LL * 1000);
  char *sig = NULL;
  cr_assert_eq(fptest_hs_sign(&sig, FASTEPOST_HUBSPOT_VERSION_V3, "wrong", "POST", URI, TS, body, strlen(body)),
               FASTEPOST_OK);
  fastepost_event_batch *r = NULL;
  cr_assert_eq(fptest_hs_process(&r, fptest_conn(), v, "v3", "POST", URI, TS, sig, body, strlen(body), NULL),
               FASTEPOST_EAUTH);
  cr_assert_eq(fastepost_event_batch_http_status(r), 401);
  cr_assert_eq(fastepost_event_batch_count(r), 0);
  fastepost_event_batch_free(r);
  /* stale timestamp, correctly signed */
  fastepost_free(sig);
  cr_assert_eq(fptest_hs_sign(&sig, FASTEPOST_HUBSPOT_VERSION_V3, SECRET, "POST", URI, "1764269000000", body,
                                      strlen(body)), FASTEPOST_OK);
  cr_assert_eq(fptest_hs_process(NULL, fptest_conn(), v, NULL, "POST", URI, "1764269000000", sig, body,
                                         strlen(body), NULL), FASTEPOST_EAUTH);
  /* not JSON, and too many events, without a verifier */
  cr_assert_eq(fptest_hs_process(&r, fptest_conn(), NULL, NULL, NULL, NULL, NULL, NULL, "[{", 2, NULL),
               FASTEPOST_EPARSE);
  cr_assert_eq(fastepost_event_batch_http_status(r), 400);
  fastepost_event_batch_free(r);
  fastepost_hubspot_options *o = NULL;
  cr_assert_eq(fastepost_hubspot_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_options_set_max_events(o, 0), FASTEPOST_OK, "0: the default, 100");
  cr_assert_eq(fastepost_hubspot_options_set_max_events(o, 100001), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_options_set_max_events(o, 1), FASTEPOST_OK);
  const char two[] = "[{},{}]";
  cr_assert_eq(fptest_hs_process(NULL, fptest_conn(), NULL, NULL, NULL, NULL, NULL, NULL, two, 7, o),
               FASTEPOST_ETOOBIG);
  fastepost_hubspot_options_free(o);
  fastepost_free(sig);
  fastepost_hubspot_verifier_free(v);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  fptest_assert_counters_exact();
}

Test(hubspot_process, failed_event_is_retried_from_its_payload) {
  fptest_exec("CREATE FUNCTION fail_busy() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$");
  fptest_exec("CREATE TRIGGER fail_busy BEFORE INSERT OR UPDATE ON customers "
              "FOR EACH ROW EXECUTE FUNCTION fail_busy()");
  BATCH(b);
  event(&b, "contact.propertyChange", 40, 1000, 1, "firstname", "Retry", 0);
  event(&b, "company.creation", 41, 1000, 2, NULL, NULL, 0);
  fastepost_event_batch *r = run(&b);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_NONE, FASTEPOST_OUTCOME_IGNORED);
  cr_assert_eq(fastepost_event_result_code(fastepost_event_batch_get(r, 0)), FASTEPOST_EBUSY);
  fastepost_event_batch_free(r);
  cr_assert_str_eq(Q("SELECT status || '|' || (next_attempt_at IS NOT NULL) FROM integration_events "
                     "WHERE external_id = 'contact:40'"), "error|true");
  fptest_exec("DROP TRIGGER fail_busy ON customers");
  fptest_exec("UPDATE integration_events SET next_attempt_at = localtimestamp - interval '1 second' "
              "WHERE next_attempt_at IS NOT NULL");
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 1);
  cr_assert_eq(rep.succeeded, 1);
  cr_assert_str_eq(Q("SELECT concat_ws('|', status, outcome, attempts) FROM integration_events "
                     "WHERE external_id = 'contact:40'"), "success|created|2");
  cr_assert_str_eq(Q("SELECT name || '|' || crm_id FROM customers"), "Retry|40");
  /* HubSpot's own redelivery is now a duplicate */
  BATCH(c);
  event(&c, "contact.propertyChange", 40, 1000, 1, "firstname", "Retry", 4);
  r = run(&c);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_DUPLICATE);
  fastepost_event_batch_free(r);
  fptest_assert_counters_exact();
}

/* n processes deliver the same body (with differing attemptNumbers) at once. */
Test(hubspot_process, concurrent_deliveries_are_idempotent) {
  enum { N_CHILDREN = 8 };
  char bodies[N_CHILDREN][2048];
  for (int i = 0; i < N_CHILDREN; i++) {
    BATCH(b);
    /* Recent times: without options the default range of source times applies. */
    const long long t = 1764260000000LL;
    event(&b, "contact.creation", 60, t + 1000, 1, NULL, NULL, i);
    event(&b, "contact.propertyChange", 60, t + 1100, 2, "email", "same@x.de", i);
    event(&b, "contact.propertyChange", 60, t + 1200 + i % 2 * 100, 3 + i % 2, "firstname", i % 2 ? "B" : "A", i);
    event(&b, "contact.propertyChange", 61 + i, t + 1000, 10 + i, "email", "other@x.de", 0);
    fastepost__buf_putc(&b, ']');
    snprintf(bodies[i], sizeof bodies[i], "%s", fastepost__buf_cstr(&b));
    fastepost__buf_free(&b);
  }
  int gate[2];
  cr_assert_eq(pipe(gate), 0);
  pid_t pids[N_CHILDREN];
  for (int i = 0; i < N_CHILDREN; i++) {
    pids[i] = fork();
    cr_assert_geq(pids[i], 0);
    if (pids[i] == 0) {
      close(gate[1]);
      fastepost_conn *c = NULL;
      if (fastepost_conn_open(&c, fptest_current.conninfo) != FASTEPOST_OK)
        _exit(2);
      char ch;
      (void)!read(gate[0], &ch, 1);
      fastepost_status st = fptest_hs_process(NULL, c, NULL, NULL, NULL, NULL, NULL, NULL, bodies[i],
                                                      strlen(bodies[i]), NULL);
      fastepost_conn_free(c);
      _exit(st == FASTEPOST_OK ? 0 : 1);
    }
  }
  close(gate[0]);
  struct timespec ts = {0, 200000000L};
  nanosleep(&ts, NULL);
  close(gate[1]);
  for (int i = 0; i < N_CHILDREN; i++) {
    int status = 0;
    waitpid(pids[i], &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
  }
  cr_assert_str_eq(Q("SELECT concat_ws('|', name, email) FROM customers WHERE crm_id = '60'"), "B|same@x.de");
  /* creation, email, two firstnames: one row each; the other contacts: one created, the rest conflicts */
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE external_id = 'contact:60'"), 4);
  cr_assert_eq(N("SELECT count(*) FROM customers WHERE email = 'other@x.de'"), 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE outcome = 'conflict'"), N_CHILDREN - 1);
  fptest_assert_counters_exact();
}

/* ---- source times that cannot poison state (issue 11 item 6) ---- */

/* One contact property change at occurredAt (ms), processed with the default time range. */
static fastepost_event_batch *change_at(long long occurred, long long event_id, const char *value) {
  BATCH(b);
  event(&b, "contact.propertyChange", 801, occurred, event_id, "firstname", value, 0);
  fastepost__buf_putc(&b, ']');
  fastepost_event_batch *r = process_signed_range(fastepost__buf_cstr(&b), FASTEPOST_OK, true);
  fastepost__buf_free(&b);
  return r;
}

Test(hubspot_process, occurred_at_outside_the_sane_range_is_refused_and_cannot_poison_later_changes) {
  /* 1970, a millisecond before 2000, year 287168 (stored as such before), INT64_MAX - 1 ms
   * (overflowed to 1969), and a day and a minute past the (fixed) clock. */
  static const long long bad[] = {1000LL, 946684799999LL, 9000000000000000LL, 9223372036854775806LL,
                                  1764270000000LL + 86400000LL + 60000LL};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fastepost_event_batch *b = change_at(bad[i], (long long)i + 1, "Poison");
    const fastepost_event_result *r = fastepost_event_batch_get(b, 0);
    cr_assert_eq(fastepost_event_result_code(r), FASTEPOST_EINVALID, "occurredAt %lld: %s", bad[i],
                 fastepost_event_result_error(r));
    cr_assert(strstr(fastepost_event_result_error(r), "occurredAt"), "%s", fastepost_event_result_error(r));
    fastepost_event_batch_free(b);
  }
  /* Logged as failed, never queued for a retry (it can never become valid), nothing applied. */
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'error' AND next_attempt_at IS NULL"), 5);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 5);
  cr_assert_eq(N("SELECT count(*) FROM fastepost_crm_properties"), 0);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  /* A genuine change afterwards applies, and a later one wins. */
  fastepost_event_batch *b = change_at(1764269000000LL, 10, "Real");
  cr_assert_eq(outcome(b, 0), FASTEPOST_OUTCOME_CREATED, "%s",
               fastepost_event_result_error(fastepost_event_batch_get(b, 0)));
  fastepost_event_batch_free(b);
  b = change_at(1764269500000LL, 11, "Later");
  cr_assert_eq(outcome(b, 0), FASTEPOST_OUTCOME_UPDATED);
  fastepost_event_batch_free(b);
  cr_assert_str_eq(Q("SELECT name || '|' || crm_updated_at FROM customers"), "Later|2025-11-27 18:51:40");
  fptest_assert_counters_exact();
}

Test(hubspot_process, time_range_is_configurable) {
  fastepost_hubspot_options *o = NULL;
  cr_assert_eq(fastepost_hubspot_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_options_set_time_range(NULL, 0, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_options_set_time_range(o, -1, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_options_set_time_range(o, 0, -1), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_options_set_time_range(o, 0, INT64_MAX), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_options_set_time_range(o, INT64_MAX, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_options_set_time_range(o, 0, 3600000000LL), FASTEPOST_OK);
  fastepost_hubspot_options_free(o);
  fptest_assert_counters_exact();
}
