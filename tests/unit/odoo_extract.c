/* SPDX-License-Identifier: MIT */
/* The Odoo adapter without a database: shapes, mapping, keys, hostile input, options. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/odoo.h"

static fastepost__sync_record rec;

static void setup(void) { fastepost__sync_record_init(&rec, "odoo"); }
static void teardown(void) { fastepost__sync_record_clear(&rec); }

TestSuite(odoo_extract, .init = setup, .fini = teardown);

static char *fixture(const char *name, size_t *len) {
  char path[4096];
  const char *root = getenv("FASTEPOST_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/tests/fixtures/odoo/%s", root ? root : ".", name);
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static int extract(const char *name, const char *hint, bool form) {
  size_t len;
  char *body = fixture(name, &len);
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  if (hint)
    cr_assert_eq(fastepost_odoo_options_set_event(o, hint), FASTEPOST_OK);
  if (form)
    cr_assert_eq(fastepost_odoo_options_set_content_type(o, "application/x-www-form-urlencoded; charset=utf-8"),
                 FASTEPOST_OK);
  int rc = fastepost__odoo_extract(&rec, body, len, o);
  fastepost_odoo_options_free(o);
  free(body);
  return rc;
}

static void fact_is(const fastepost__fact *f, const char *value) {
  if (!value) {
    cr_assert_neq(f->state, FASTEPOST__FACT_VALUE, "expected no value, got %s", f->value);
    return;
  }
  cr_assert_eq(f->state, FASTEPOST__FACT_VALUE, "expected %s", value);
  cr_assert_str_eq(f->value, value);
}

Test(odoo_extract, native_partner_webhook) {
  cr_assert_eq(extract("partner_webhook.json", NULL, false), FASTEPOST_OK);
  cr_assert_str_eq(rec.model, "res.partner");
  cr_assert_str_eq(rec.event_type, "res.partner");
  cr_assert_str_eq(rec.crm_id, "res.partner:42");
  cr_assert_str_eq(rec.external_id, "res.partner:42");
  cr_assert(rec.owns_customer);
  cr_assert_str_eq(rec.version, "2024-05-03 14:22:07.483920");
  fact_is(&rec.facts.name, "J\xc3\xbcrgen M\xc3\xbcller \xf0\x9f\x8c\x9f"); /* surrogate pair decoded */
  fact_is(&rec.facts.email, "juergen.mueller@example.de");
  fact_is(&rec.facts.phone, "+49 170 1234567"); /* phone false -> mobile */
  fact_is(&rec.facts.company, "Stra\xc3\x9f" "enbau GmbH");
  fact_is(&rec.facts.address, "Friedrichstra\xc3\x9f" "e 123, 10117 Berlin, DE");
  cr_assert_eq(rec.facts.active, 1);
  cr_assert_str_eq(rec.note_body, "Prefers morning deliveries & calls.\n\nGate code: 1234");
  cr_assert_eq(strlen(rec.idempotency_key), 64);
  cr_assert_null(rec.ignore_reason);
  cr_assert(strstr(rec.payload, "\"_id\":42"));
}

Test(odoo_extract, company_contact_is_its_own_company_and_empty_html_is_no_note) {
  cr_assert_eq(extract("partner_company.json", NULL, false), FASTEPOST_OK);
  fact_is(&rec.facts.company, "Stra\xc3\x9f" "enbau GmbH");
  fact_is(&rec.facts.address, "Hafenstra\xc3\x9f" "e 1, Geb\xc3\xa4ude B, 20457 Hamburg, DE");
  cr_assert_null(rec.note_body, "<p><br></p> is empty");
  cr_assert_str_eq(rec.version, "2024-06-14 11:03:27.000000");
}

Test(odoo_extract, false_email_is_empty_with_a_warning) {
  cr_assert_eq(extract("partner_oca_false_email.json", NULL, false), FASTEPOST_OK);
  cr_assert_eq(rec.facts.email.state, FASTEPOST__FACT_EMPTY);
  cr_assert_eq(rec.warnings.count, 1);
  cr_assert(strstr(rec.warnings.items[0], "\"False\" is not an email address"), "%s", rec.warnings.items[0]);
  fact_is(&rec.facts.name, "Zo\xc3\xab Brandt"); /* raw UTF-8 body */
}

Test(odoo_extract, lead_maps_to_customer_facts_and_remark) {
  cr_assert_eq(extract("lead_webhook.json", NULL, false), FASTEPOST_OK);
  cr_assert_str_eq(rec.crm_id, "crm.lead:118");
  cr_assert_null(rec.link_crm_id);
  cr_assert_not(rec.owns_customer);
  cr_assert(rec.match_phone);
  fact_is(&rec.facts.name, "Jane Doe"); /* from the display name in email_from */
  fact_is(&rec.facts.email, "jane.doe@example.com");
  fact_is(&rec.facts.company, "Doe Logistics");
  fact_is(&rec.facts.phone, "+49 89 987654");
  cr_assert_eq(rec.facts.address.state, FASTEPOST__FACT_EMPTY);
  cr_assert_str_eq(rec.note_body, "Opportunity: Parcel contract 2024\n\nWants a quote for 500 "
                                  "parcels/month.\n\nStart: June\nBudget < 10k\xe2\x82\xac");
  cr_assert_str_eq(rec.note_key, "crm.lead:118");
  cr_assert_eq(rec.barcodes.count, 1);
  cr_assert_str_eq(rec.barcodes.items[0], "FE-0001");
}

Test(odoo_extract, lead_with_partner_links_and_prefers_contact_name) {
  cr_assert_eq(extract("lead_with_partner.json", NULL, false), FASTEPOST_OK);
  cr_assert_str_eq(rec.link_crm_id, "res.partner:42");
  fact_is(&rec.facts.name, "J\xc3\xbcrgen M\xc3\xbcller");
  cr_assert_str_eq(rec.note_body, "Lead: Follow-up visit");
}

Test(odoo_extract, jsonrpc_read_result) {
  cr_assert_eq(extract("jsonrpc_read.json", NULL, false), FASTEPOST_OK);
  cr_assert_str_eq(rec.crm_id, "res.partner:43", "the envelope's id is the RPC id, not the record's");
  fact_is(&rec.facts.address, "Avenue des Dessus-de-Lives 2, 5101 Namur, Belgium");
  cr_assert_str_eq(rec.version, "2024-05-06 10:02:33.000000");
}

Test(odoo_extract, wrappers) {
  cr_assert_eq(extract("wrapper_model_record.json", NULL, false), FASTEPOST_OK);
  cr_assert_str_eq(rec.crm_id, "res.partner:44");
  cr_assert_str_eq(rec.version, "2024-05-06 09:41:12.907311");
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");

  cr_assert_eq(extract("wrapper_event_data.json", NULL, false), FASTEPOST_OK);
  cr_assert_str_eq(rec.model, "res.partner");
  cr_assert_str_eq(rec.event_type, "res.partner.write", "the action from the event name");
  cr_assert_str_eq(rec.version, "2024-05-08 08:00:00.000000", "offset applied");
  fact_is(&rec.facts.name, "Anna Schmidt-Lang");
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");

  cr_assert_eq(extract("wrapper_data.json", NULL, false), FASTEPOST_OK);
  cr_assert_str_eq(rec.crm_id, "crm.lead:120");
  fact_is(&rec.facts.name, "Max Mustermann");
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");

  cr_assert_eq(extract("wrapper_params.json", NULL, false), FASTEPOST_OK);
  cr_assert_str_eq(rec.crm_id, "res.partner:47");
  cr_assert_null(rec.version);
}

Test(odoo_extract, envelopes_with_actions_deactivate) {
  cr_assert_eq(extract("envelope_codezeera_delete.json", NULL, false), FASTEPOST_OK);
  cr_assert_str_eq(rec.crm_id, "res.partner:42", "record_id");
  cr_assert_str_eq(rec.event_type, "res.partner.unlink", "delete means unlink");
  cr_assert_eq(rec.facts.active, 0);
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");
  cr_assert_eq(extract("envelope_ids_trigger.json", NULL, false), FASTEPOST_OK);
  cr_assert_eq(rec.facts.active, 0);
  cr_assert_null(rec.ignore_reason);
}

Test(odoo_extract, hint_from_the_url_wins_and_changes_the_key) {
  cr_assert_eq(extract("partner_webhook.json", NULL, false), FASTEPOST_OK);
  char plain[65];
  strcpy(plain, rec.idempotency_key);
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");
  cr_assert_eq(extract("partner_webhook.json", "archive", false), FASTEPOST_OK);
  cr_assert_str_eq(rec.event_type, "res.partner.archive");
  cr_assert_eq(rec.facts.active, 0);
  cr_assert_str_neq(rec.idempotency_key, plain);
}

Test(odoo_extract, same_version_in_another_shape_has_the_same_key) {
  const char *a = "{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"A\", \"write_date\": \"2024-01-02 03:04:05\"}";
  const char *b = "{\"model\": \"res.partner\", \"record\": {\"id\": 5, \"name\": \"A\", \"write_date\": \"2024-01-02T03:04:05Z\"}}";
  cr_assert_eq(fastepost__odoo_extract(&rec, a, strlen(a), NULL), FASTEPOST_OK);
  char first[65];
  strcpy(first, rec.idempotency_key);
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");
  cr_assert_eq(fastepost__odoo_extract(&rec, b, strlen(b), NULL), FASTEPOST_OK);
  cr_assert_str_eq(rec.idempotency_key, first);
}

Test(odoo_extract, form_body) {
  cr_assert_eq(extract("partner_form.txt", NULL, true), FASTEPOST_OK);
  cr_assert_str_eq(rec.crm_id, "res.partner:48", "a digit string is an id");
  fact_is(&rec.facts.name, "Anna M\xc3\xbcller");
  fact_is(&rec.facts.email, "anna.mueller@example.org");
  fact_is(&rec.facts.phone, "+49 30 1234");
  cr_assert_eq(rec.facts.active, 1, "\"True\"");
  cr_assert(strstr(rec.payload, "\"_id\":\"48\""), "%s", rec.payload);
}

Test(odoo_extract, ids_only_and_unknown_model_are_ignored) {
  cr_assert_eq(extract("partner_ids_only.json", NULL, false), FASTEPOST_OK);
  cr_assert_not_null(rec.ignore_reason);
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");
  cr_assert_eq(extract("unknown_model.json", NULL, false), FASTEPOST_OK);
  cr_assert(strstr(rec.ignore_reason, "sale.order"));
  cr_assert_str_eq(rec.event_type, "sale.order");
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");
  const char *nomodel = "{\"id\": 3, \"name\": \"x\"}";
  cr_assert_eq(fastepost__odoo_extract(&rec, nomodel, strlen(nomodel), NULL), FASTEPOST_OK);
  cr_assert_not_null(rec.ignore_reason);
  cr_assert_str_eq(rec.event_type, "unknown");
}

Test(odoo_extract, task_reference) {
  cr_assert_eq(extract("partner_task_barcode.json", NULL, false), FASTEPOST_OK);
  cr_assert_eq(rec.task_id, 999999);
  cr_assert_eq(rec.barcodes.count, 1);
  cr_assert_str_eq(rec.barcodes.items[0], "FE-0002");
}

Test(odoo_extract, hostile_input_fails_clearly) {
  cr_assert_eq(extract("hostile_truncated.json", NULL, false), FASTEPOST_EPARSE);
  cr_assert(strstr(rec.failure_message, "byte"), "%s", rec.failure_message);
  cr_assert_null(rec.payload);
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");

  cr_assert_eq(extract("hostile_bad_id.json", NULL, false), FASTEPOST_EINVALID);
  cr_assert(strstr(rec.failure_message, "_id must be a positive integer id, not \"abc\""), "%s",
            rec.failure_message);
  cr_assert_not_null(rec.payload, "valid JSON is kept for the log");
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");

  const char bad_utf8[] = "{\"_id\": 1, \"_model\": \"res.partner\", \"name\": \"M\xfcller\"}";
  cr_assert_eq(fastepost__odoo_extract(&rec, bad_utf8, sizeof bad_utf8 - 1, NULL), FASTEPOST_EPARSE);
  cr_assert(strstr(rec.failure_message, "UTF-8"));
  cr_assert_null(rec.payload, "never stored when not UTF-8");
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");

  char deep[512] = "{\"_model\": \"res.partner\", \"_id\": 1, \"x\": ";
  for (int i = 0; i < 100; i++)
    strcat(deep, "[");
  for (int i = 0; i < 100; i++)
    strcat(deep, "]");
  strcat(deep, "}");
  cr_assert_eq(fastepost__odoo_extract(&rec, deep, strlen(deep), NULL), FASTEPOST_EPARSE);
  cr_assert(strstr(rec.failure_message, "nested deeper"));
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");

  size_t big = 10 * 1024 * 1024;
  char *huge = malloc(big);
  memset(huge, ' ', big);
  memcpy(huge, "{\"_id\": 1}", 10);
  cr_assert_eq(fastepost__odoo_extract(&rec, huge, big, NULL), FASTEPOST_ETOOBIG);
  cr_assert(strstr(rec.failure_message, "10485760 bytes exceeds the limit of 1048576"), "%s",
            rec.failure_message);
  free(huge);
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");

  const char *bad_date = "{\"_id\": 1, \"_model\": \"res.partner\", \"write_date\": \"yesterday\"}";
  cr_assert_eq(fastepost__odoo_extract(&rec, bad_date, strlen(bad_date), NULL), FASTEPOST_EINVALID);
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");
  const char *array = "[1, 2]";
  cr_assert_eq(fastepost__odoo_extract(&rec, array, strlen(array), NULL), FASTEPOST_EINVALID);
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");
  const char *noid = "{\"_model\": \"crm.lead\", \"name\": \"x\"}";
  cr_assert_eq(fastepost__odoo_extract(&rec, noid, strlen(noid), NULL), FASTEPOST_EINVALID);
}

Test(odoo_extract, datetimes) {
  char out[32];
  cr_assert(fastepost__odoo_datetime(out, sizeof out, "2024-05-03 14:22:07.483920"));
  cr_assert_str_eq(out, "2024-05-03 14:22:07.483920");
  cr_assert(fastepost__odoo_datetime(out, sizeof out, "2024-06-14 11:03:27"));
  cr_assert_str_eq(out, "2024-06-14 11:03:27.000000");
  cr_assert(fastepost__odoo_datetime(out, sizeof out, "2024-05-06T09:41:12.9Z"));
  cr_assert_str_eq(out, "2024-05-06 09:41:12.900000");
  cr_assert(fastepost__odoo_datetime(out, sizeof out, "2024-01-01T00:30:00+01:00"));
  cr_assert_str_eq(out, "2023-12-31 23:30:00.000000");
  cr_assert(fastepost__odoo_datetime(out, sizeof out, "2024-01-01T00:30:00-0230"));
  cr_assert_str_eq(out, "2024-01-01 03:00:00.000000");
  cr_assert(fastepost__odoo_datetime(out, sizeof out, "2024-07-31"));
  cr_assert_str_eq(out, "2024-07-31 00:00:00.000000");
  cr_assert_not(fastepost__odoo_datetime(out, sizeof out, "2024-13-01 00:00:00"));
  cr_assert_not(fastepost__odoo_datetime(out, sizeof out, "2024-05-03 14:22"));
  cr_assert_not(fastepost__odoo_datetime(out, sizeof out, "2024-05-03 14:22:07 junk"));
  cr_assert_not(fastepost__odoo_datetime(out, sizeof out, "False"));
}

Test(odoo_extract, emails) {
  const char *cases[][2] = {
      {" Jane@Example.COM ", "jane@example.com"},
      {"\"Jane Doe\" <Jane@Example.com>", "jane@example.com"},
      {"Doe, Jane <jane@x.de>", "jane@x.de"},
      {"False", NULL},
      {"jane@", NULL},
      {"@x.de", NULL},
      {"a@b@c.de", NULL},
      {"jane doe@x.de", NULL},
      {"jane@localhost", NULL},
      {"<jane@x.de", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *e = fastepost__odoo_email(cases[i][0]);
    if (cases[i][1])
      cr_assert_str_eq(e, cases[i][1], "%s", cases[i][0]);
    else
      cr_assert_null(e, "%s -> %s", cases[i][0], e);
    free(e);
  }
}

Test(odoo_extract, authentication_fails_closed) {
  cr_assert_eq(fastepost_odoo_authenticate("s3cret", "s3cret"), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_authenticate("s3cret", "s3creT"), FASTEPOST_EAUTH);
  cr_assert_eq(fastepost_odoo_authenticate("s3cret", "s3cret "), FASTEPOST_EAUTH);
  cr_assert_eq(fastepost_odoo_authenticate("s3cret", NULL), FASTEPOST_EAUTH);
  cr_assert(strstr(fastepost_error_last()->message, "X-Odoo-Api-Key"));
  cr_assert_eq(fastepost_odoo_authenticate("", "anything"), FASTEPOST_ENOKEY);
  unsetenv("ODOO_API_KEY");
  cr_assert_eq(fastepost_odoo_authenticate(NULL, "anything"), FASTEPOST_ENOKEY);
  cr_assert_eq(fastepost_odoo_authenticate(NULL, ""), FASTEPOST_ENOKEY);
  setenv("ODOO_API_KEY", "", 1);
  cr_assert_eq(fastepost_odoo_authenticate(NULL, ""), FASTEPOST_ENOKEY);
  /* The library reads no environment variable: the host passes the key. */
  setenv("ODOO_API_KEY", "from-env", 1);
  cr_assert_eq(fastepost_odoo_authenticate(NULL, "from-env"), FASTEPOST_ENOKEY);
  unsetenv("ODOO_API_KEY");
  cr_assert_eq(fastepost_status_http(FASTEPOST_ENOKEY), 401);
  cr_assert_eq(fastepost_status_http(FASTEPOST_EAUTH), 401);
}

Test(odoo_extract, options_and_http_mapping) {
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_event(o, "unlink"), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_event(o, "destroy"), FASTEPOST_EINVALID);
  cr_assert_str_eq(o->hint, "unlink", "unchanged after a refused value");
  cr_assert_eq(fastepost_odoo_options_set_event(o, NULL), FASTEPOST_OK);
  cr_assert_str_eq(o->hint, "");
  cr_assert_eq(fastepost_odoo_options_set_content_type(o, "text/xml"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_content_type(o, "Application/JSON; charset=utf-8"), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_max_body(o, 0), FASTEPOST_OK, "0: the default, 1 MiB");
  cr_assert_eq(fastepost_odoo_options_set_max_body(NULL, 1), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_max_depth(o, 0), FASTEPOST_OK, "0: the default, 32");
  cr_assert_eq(fastepost_odoo_options_set_max_depth(o, 1), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_max_depth(o, 5), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_barcode_fields(o, " , "), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_barcode_fields(o, "x_code, ref"), FASTEPOST_OK);
  cr_assert_eq(o->barcode_fields.count, 2);
  cr_assert_str_eq(o->barcode_fields.items[1], "ref");
  fastepost_odoo_options_free(o);
  fastepost_odoo_options_free(NULL);
  cr_assert_eq(fastepost_status_http(FASTEPOST_OK), 200);
  cr_assert_eq(fastepost_status_http(FASTEPOST_EPARSE), 400);
  cr_assert_eq(fastepost_status_http(FASTEPOST_EINVALID), 400);
  cr_assert_eq(fastepost_status_http(FASTEPOST_ETOOBIG), 413);
  cr_assert_eq(fastepost_status_http(FASTEPOST_ECONFLICT), 409);
  cr_assert_eq(fastepost_status_http(FASTEPOST_ECONN), 503);
  cr_assert_eq(fastepost_status_http(FASTEPOST_EDB), 500);
  cr_assert_str_eq(fastepost_outcome_name(FASTEPOST_OUTCOME_STALE), "stale");
}

Test(odoo_extract, nul_characters_become_replacement_characters) {
  const char *body = "{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"e\\u0000f\"}";
  cr_assert_eq(fastepost__odoo_extract(&rec, body, strlen(body), NULL), FASTEPOST_OK);
  fact_is(&rec.facts.name, "e\xef\xbf\xbd" "f");
  cr_assert(strstr(rec.payload, "\"e\xef\xbf\xbd" "f\""), "%s", rec.payload);
}

Test(odoo_extract, a_native_body_is_never_unwrapped) {
  const char *body = "{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"Outer\", "
                     "\"data\": {\"_id\": 6, \"name\": \"Inner\"}}";
  cr_assert_eq(fastepost__odoo_extract(&rec, body, strlen(body), NULL), FASTEPOST_OK);
  cr_assert_str_eq(rec.crm_id, "res.partner:5");
  fact_is(&rec.facts.name, "Outer");
}

Test(odoo_extract, many2one_as_pair_or_digits) {
  const char *body = "{\"jsonrpc\": \"2.0\", \"id\": 9, \"model\": \"crm.lead\", \"result\": [{\"id\": 119, "
                     "\"name\": \"Visit\", \"partner_id\": [42, \"J\\u00fcrgen\"], \"task_id\": \"17\"}]}";
  cr_assert_eq(fastepost__odoo_extract(&rec, body, strlen(body), NULL), FASTEPOST_OK);
  cr_assert_str_eq(rec.crm_id, "crm.lead:119");
  cr_assert_str_eq(rec.link_crm_id, "res.partner:42");
  cr_assert_eq(rec.task_id, 17);
  cr_assert_str_eq(rec.note_body, "Lead: Visit");
  fastepost__sync_record_clear(&rec);
  fastepost__sync_record_init(&rec, "odoo");
  const char *bad = "{\"_id\": 5, \"_model\": \"crm.lead\", \"name\": \"x\", \"partner_id\": \"abc\", \"task_id\": 1.5}";
  cr_assert_eq(fastepost__odoo_extract(&rec, bad, strlen(bad), NULL), FASTEPOST_OK);
  cr_assert_null(rec.link_crm_id);
  cr_assert_eq(rec.task_id, 0);
  cr_assert_eq(rec.warnings.count, 2, "both wrong types are reported");
}

Test(odoo_extract, api_key_options) {
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, ""), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_add_api_key(NULL, "k"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(NULL, true), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, "old-key"), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, "new-key"), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(o, false), FASTEPOST_OK);
  fastepost_odoo_options_free(o);
}

/* The adapter table (src/adapters/adapter.h), found in the one registry: the Odoo adapter's
 * verify reads the key from the X-Odoo-Api-Key header (which wins when present, even empty),
 * else from the api_key query parameter (percent-decoded). */
Test(odoo_extract, adapter_table_verifies_a_request_from_header_or_query) {
  const fastepost__adapter *a = fastepost__adapter_find("odoo");
  cr_assert_not_null(a);
  cr_assert_str_eq(a->source, "odoo");
  cr_assert_not_null(a->verify);
  cr_assert_not_null(a->parse);
  cr_assert_not_null(a->reprocess);
  cr_assert_not_null(a->replay);
  cr_assert_null(fastepost__adapter_find("nosuch"));
  cr_assert_eq(fastepost__adapter_find("hubspot"), &fastepost__hubspot_adapter);
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  cr_assert_eq(a->verify(o, req), FASTEPOST_ENOKEY, "no key configured: fail closed");
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, "k 1&x"), FASTEPOST_OK);
  cr_assert_eq(a->verify(o, req), FASTEPOST_EAUTH, "no key presented");
  cr_assert_eq(fastepost_webhook_request_set_uri(req, "https://h/odoo?event=write&api_key=k+1%26x#f"), FASTEPOST_OK);
  cr_assert_eq(a->verify(o, req), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_webhook_request_set_header(req, "x-odoo-api-key", "wrong"), FASTEPOST_OK);
  cr_assert_eq(a->verify(o, req), FASTEPOST_EAUTH, "the header wins over the query");
  cr_assert_eq(fastepost_webhook_request_set_header(req, "X-ODOO-API-KEY", "k 1&x"), FASTEPOST_OK);
  cr_assert_eq(a->verify(o, req), FASTEPOST_OK);
  /* parse: one body, one record, with its dedup and version keys */
  fastepost__records recs = {0};
  const char body[] = "{\"_id\": 4, \"_model\": \"res.partner\", \"name\": \"A\", \"write_date\": \"2024-01-02 03:04:05\"}";
  cr_assert_eq(a->parse(&recs, o, body, strlen(body), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_eq(recs.count, 1);
  cr_assert_str_eq(recs.items[0].external_id, "res.partner:4");
  cr_assert_str_eq(recs.items[0].version, "2024-01-02 03:04:05.000000");
  cr_assert_eq(strlen(recs.items[0].idempotency_key), 64);
  fastepost__records_free(&recs);
  fastepost_webhook_request_free(req);
  fastepost_odoo_options_free(o);
}
