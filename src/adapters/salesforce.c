/* SPDX-License-Identifier: MIT */
/*
 * The Salesforce Outbound Messages adapter (adapter.h): the configuration
 * ({"organization_ids": [...]}), verification of the message's OrganizationId, each
 * notification into a sync record (Contact and Lead: versioned properties, IsDeleted as a
 * tombstone, a Lead's Description as a remark), and the SOAP answer Salesforce needs: the
 * acknowledgement only after the commit (or the spool), else a fault, so that it retries.
 * Parsing is in salesforce_parse.c. No SQL here. docs/salesforce.md has the set-up.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/salesforce.h"
#include "normalize.h"
#include "util/digest.h"
#include "util/time.h"

#define SOURCE "salesforce"

/* ---- configuration -------------------------------------------------------------------------- */

/* The accepted organisations, each in its 18-character form (only the first 15 characters are
 * compared: they are the id). */
typedef struct sf_config {
  size_t count;
  char (*ids)[FASTEPOST__SF_ID_SIZE];
} sf_config;

static void config_free(void *config) {
  sf_config *c = config;
  if (!c)
    return;
  /* The ids are what a sender must know: wiped like keys. */
  for (volatile char *p = (volatile char *)c->ids; c->ids && p < (volatile char *)(c->ids + c->count); p++)
    *p = 0;
  free(c->ids);
  free(c);
}

static int config_ids(sf_config *c, json_object *list) {
  if (!json_object_is_type(list, json_type_array))
    return fastepost__error_set(FASTEPOST_EINVALID, "salesforce.organization_ids: not an array");
  size_t n = json_object_array_length(list);
  if (n && !(c->ids = calloc(n, sizeof *c->ids)))
    return fastepost__error_oom();
  for (size_t i = 0; i < n; i++) {
    json_object *v = json_object_array_get_idx(list, i);
    if (!json_object_is_type(v, json_type_string))
      return fastepost__error_set(FASTEPOST_EINVALID, "salesforce.organization_ids[%zu]: not a string", i);
    /* The value is not echoed: it is compared like a key. */
    if (!fastepost__sf_id18(c->ids[i], json_object_get_string(v), (size_t)json_object_get_string_len(v)))
      return fastepost__error_set(FASTEPOST_EINVALID,
                                  "salesforce.organization_ids[%zu]: not a Salesforce organization id (15 "
                                  "letters and digits, or 18 with the checksum suffix Salesforce shows)",
                                  i);
    c->count++;
  }
  return FASTEPOST_OK;
}

static int config_new(void **out, json_object *section) {
  *out = NULL;
  sf_config *c = calloc(1, sizeof *c);
  if (!c)
    return fastepost__error_oom();
  int rc = FASTEPOST_OK;
  if (section && !json_object_is_type(section, json_type_object))
    rc = fastepost__error_set(FASTEPOST_EINVALID, "salesforce: not an object");
  if (!rc && section) {
    json_object_object_foreach(section, key, val) {
      if (strcmp(key, "organization_ids") == 0) {
        rc = config_ids(c, val);
      } else {
        char p[64];
        fastepost__preview(p, sizeof p, key, strlen(key));
        rc = fastepost__error_set(FASTEPOST_EINVALID, "salesforce.%s: unknown key (expected organization_ids)", p);
      }
      if (rc)
        break;
    }
  }
  if (rc) {
    config_free(c);
    return rc;
  }
  *out = c;
  return FASTEPOST_OK;
}

/* ---- verification --------------------------------------------------------------------------- */

/* Salesforce signs nothing: the OrganizationId of the message against the configured ones (its
 * docs add IP allow-lists and client certificates, which are the host's business). Every
 * configured id is compared, in constant time, so the time taken says nothing about which. */
static int verify(const void *config, const fastepost_webhook_request *req) {
  const sf_config *c = config;
  if (!c || !c->count)
    return fastepost__error_set(FASTEPOST_ENOKEY, "no Salesforce organization id is configured "
                                                  "(salesforce.organization_ids): every message is refused");
  char org[FASTEPOST__SF_ID_SIZE];
  int rc = fastepost__sf_organization(org, fastepost_webhook_request_body(req), fastepost_webhook_request_body_len(req));
  if (rc)
    return rc;
  unsigned match = 0;
  for (size_t i = 0; i < c->count; i++)
    match |= (unsigned)fastepost__ct_equal(c->ids[i], 15, org, 15);
  memset(org, 0, sizeof org);
  if (!match)
    return fastepost__error_set(FASTEPOST_EAUTH, "the message's OrganizationId is not one of salesforce.organization_ids");
  return FASTEPOST_OK;
}

/* ---- notifications -> sync records ---------------------------------------------------------- */

/* The fields synced, and the customer column each feeds, in part order: name "FirstName
 * LastName", phone the first of Phone and MobilePhone, address "street, city, state, postal
 * code, country". Stored per property (sync.h: versioned properties), because an outbound
 * message carries only the fields selected for it: a message without LastName leaves it alone. */
static const fastepost__prop_def contact_props[] = {
    {"FirstName", FASTEPOST__COL_NAME},        {"LastName", FASTEPOST__COL_NAME},
    {"Email", FASTEPOST__COL_EMAIL},           {"Phone", FASTEPOST__COL_PHONE},
    {"MobilePhone", FASTEPOST__COL_PHONE},     {"MailingStreet", FASTEPOST__COL_ADDRESS},
    {"MailingCity", FASTEPOST__COL_ADDRESS},   {"MailingState", FASTEPOST__COL_ADDRESS},
    {"MailingPostalCode", FASTEPOST__COL_ADDRESS}, {"MailingCountry", FASTEPOST__COL_ADDRESS},
};
static const fastepost__prop_def lead_props[] = {
    {"FirstName", FASTEPOST__COL_NAME},   {"LastName", FASTEPOST__COL_NAME},     {"Email", FASTEPOST__COL_EMAIL},
    {"Phone", FASTEPOST__COL_PHONE},      {"MobilePhone", FASTEPOST__COL_PHONE}, {"Company", FASTEPOST__COL_COMPANY},
    {"Street", FASTEPOST__COL_ADDRESS},   {"City", FASTEPOST__COL_ADDRESS},      {"State", FASTEPOST__COL_ADDRESS},
    {"PostalCode", FASTEPOST__COL_ADDRESS}, {"Country", FASTEPOST__COL_ADDRESS},
};
#define NPROPS(a) (sizeof(a) / sizeof(a)[0])

/* A field's value for a property: trimmed; a multi-line street on one line ("a, b"). */
static char *prop_value(const char *v, int column) {
  size_t n = strlen(v);
  fastepost__ascii_trim(&v, &n);
  fastepost__buf b = FASTEPOST__BUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (column == FASTEPOST__COL_ADDRESS && (v[i] == '\r' || v[i] == '\n')) {
      while (i + 1 < n && fastepost__ascii_isspace((unsigned char)v[i + 1]))
        i++;
      fastepost__buf_puts(&b, ", ");
    } else {
      fastepost__buf_putc(&b, v[i]);
    }
  }
  if (!b.len)
    return fastepost__strdup("");
  return fastepost__buf_detach(&b);
}

static int map_props(fastepost__sync_record *rec, const fastepost__sf_notification *n,
                     const fastepost__prop_def *defs, size_t ndefs) {
  rec->prop_defs = defs;
  rec->nprops = ndefs;
  for (size_t i = 0; i < ndefs; i++) {
    const char *v;
    if (!fastepost__sf_field_get(n, defs[i].name, &v))
      continue;
    char *value = v ? prop_value(v, defs[i].column) : NULL;
    if (v && !value)
      return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory");
    int rc = fastepost__fact_set(&rec->props[i], value && *value ? value : NULL); /* nil or "" = empty */
    free(value);
    if (rc)
      return fastepost__record_fail(rec, rc, "%s", "out of memory");
  }
  return FASTEPOST_OK;
}

/* xsd:boolean: 1 true, 0 false, -1 not one. */
static int xsd_bool(const char *v) {
  size_t n = strlen(v);
  fastepost__ascii_trim(&v, &n);
  if ((n == 4 && !memcmp(v, "true", 4)) || (n == 1 && *v == '1'))
    return 1;
  if ((n == 5 && !memcmp(v, "false", 5)) || (n == 1 && *v == '0'))
    return 0;
  return -1;
}

/* The record's version: SystemModstamp, else LastModifiedDate, else CreatedDate (with a
 * warning: without a modification time the order of deliveries decides). */
static int map_version(fastepost__sync_record *rec, const fastepost__sf_notification *n,
                       const fastepost__time_range *range, int64_t now_us) {
  static const char *const keys[] = {"SystemModstamp", "LastModifiedDate", "CreatedDate"};
  for (size_t k = 0; k < 3; k++) {
    const char *v;
    if (!fastepost__sf_field_get(n, keys[k], &v) || !v)
      continue;
    int64_t us;
    char text[32];
    if (!fastepost__time_parse_iso(&us, v)) {
      char p[64], msg[160];
      fastepost__preview(p, sizeof p, v, strlen(v));
      snprintf(msg, sizeof msg, "%s \"%s\" is not a dateTime", keys[k], p);
      return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", msg);
    }
    if (fastepost__sync_time_check(us, range, now_us, keys[k]))
      return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", fastepost_error_last()->message);
    if (!fastepost__time_format(text, sizeof text, us) || !(rec->version = fastepost__strdup(text)))
      return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory");
    if (k == 2)
      fastepost__strlist_add(&rec->warnings, "no SystemModstamp or LastModifiedDate in the notification: "
                                             "CreatedDate orders it (add SystemModstamp to the outbound "
                                             "message's fields)");
    return FASTEPOST_OK;
  }
  return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s",
                     "the notification carries no SystemModstamp, LastModifiedDate or CreatedDate: add "
                     "SystemModstamp to the outbound message's fields");
}

/* The dedup key: the organisation, Notification/Id and the record's version. Salesforce may
 * send one notification twice; a notification sent again after the record changed carries the
 * latest data (its docs), which is then not a duplicate but a newer version. */
static int dedup_key(fastepost__sync_record *rec, const char *org, const char *notification_id) {
  const char *parts[] = {SOURCE, org, notification_id, rec->version ? rec->version : ""};
  size_t lens[] = {strlen(SOURCE), strlen(org), strlen(notification_id), strlen(parts[3])};
  char hex[FASTEPOST__SHA256_HEX_LEN + 1];
  if (fastepost__sha256_hex(hex, 4, parts, lens) || !(rec->idempotency_key = fastepost__strdup(hex)))
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory");
  return FASTEPOST_OK;
}

static bool any_prop(const fastepost__sync_record *rec) {
  for (size_t i = 0; i < rec->nprops; i++)
    if (rec->props[i].state != FASTEPOST__FACT_ABSENT)
      return true;
  return false;
}

/* A Contact or Lead (the customer in Salesforce) into rec. */
static int map_person(fastepost__sync_record *rec, const fastepost__sf_notification *n, const char *id18,
                      bool lead) {
  rec->owns_customer = true;
  char key[96];
  snprintf(key, sizeof key, "%s:%s", n->sobject, id18);
  if (!(rec->model = fastepost__strdup(n->sobject)) || !(rec->crm_id = fastepost__strdup(key)))
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory");
  int rc = lead ? map_props(rec, n, lead_props, NPROPS(lead_props))
                : map_props(rec, n, contact_props, NPROPS(contact_props));
  if (rc)
    return rc;
  const char *v;
  if (fastepost__sf_field_get(n, "IsDeleted", &v) && v) {
    int deleted = xsd_bool(v);
    if (deleted < 0)
      return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", "IsDeleted is not a boolean");
    if (deleted) {
      rec->tombstone = true;
      rec->facts.active = 0;
    }
  }
  if (lead && fastepost__sf_field_get(n, "Description", &v) && v) {
    size_t len = strlen(v);
    fastepost__ascii_trim(&v, &len);
    if (len) {
      snprintf(key, sizeof key, "%s:%s:Description", n->sobject, id18);
      if (!(rec->note_body = fastepost__strndup(v, len)) || !(rec->note_key = fastepost__strdup(key)))
        return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory");
    }
  }
  if (!any_prop(rec) && !rec->tombstone && !rec->note_body)
    return fastepost__record_ignore(rec, "%s%.80s%s", "the ", n->sobject, " notification carries no synced field");
  return FASTEPOST_OK;
}

/* One notification into a sync record (no database). A malformed notification becomes a failed
 * record, which the core logs as an error row; the others of the message still apply. */
static int notification_record(fastepost__sync_record *rec, const char *org, const char *action_id,
                               const fastepost__sf_notification *n, const fastepost__time_range *range,
                               int64_t now_us) {
  fastepost__sync_record_init(rec, SOURCE);
  rec->event_type = fastepost__strdup(n->sobject ? n->sobject : "unknown");
  fastepost__buf payload = FASTEPOST__BUF_INIT;
  if (fastepost__sf_notification_json(&payload, org, action_id, n) == FASTEPOST_OK)
    rec->payload = fastepost__buf_detach(&payload);
  fastepost__buf_free(&payload);
  if (!rec->event_type || !rec->payload)
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory");
  const char *id;
  char id18[FASTEPOST__SF_ID_SIZE] = "";
  bool has_id = fastepost__sf_field_get(n, "Id", &id) && id;
  if (has_id && fastepost__sf_id18(id18, id, strlen(id)) && n->sobject) {
    char ext[128];
    snprintf(ext, sizeof ext, "%s:%s", n->sobject, id18);
    if (!(rec->external_id = fastepost__strdup(ext)))
      return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory");
  }
  if (n->error)
    return fastepost__record_fail(rec, n->error, "%s", n->error_message ? n->error_message : "malformed notification");
  char nid[FASTEPOST__SF_ID_SIZE];
  if (!fastepost__sf_id18(nid, n->id, strlen(n->id)))
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", "the notification's Id is not a Salesforce id");
  bool contact = strcmp(n->sobject, "Contact") == 0, lead = strcmp(n->sobject, "Lead") == 0;
  if (!contact && !lead) {
    int rc = dedup_key(rec, org, nid);
    return rc ? rc : fastepost__record_ignore(rec, "%s%.80s%s", "Salesforce ", n->sobject, " notifications are not synced (only Contact and Lead)");
  }
  if (!has_id)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", "the notification's sObject has no Id");
  if (!*id18)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", "the sObject's Id is not a Salesforce id");
  int rc = map_version(rec, n, range, now_us);
  if (!rc)
    rc = dedup_key(rec, org, nid);
  return rc ? rc : map_person(rec, n, id18, lead);
}

static int records_of(fastepost__records *out, const fastepost__sf_message *m, const fastepost__time_range *range,
                      int64_t now_us) {
  int rc = fastepost__records_alloc(out, m->count, SOURCE);
  for (size_t i = 0; !rc && i < m->count; i++) {
    fastepost__sync_record_clear(&out->items[i]);
    notification_record(&out->items[i], m->organization_id, m->action_id, &m->items[i], range, now_us);
  }
  return rc;
}

static int read_body(fastepost__records *out, const void *body, size_t len, const fastepost__time_range *range,
                     int64_t now_us) {
  fastepost__sf_message m;
  int rc = fastepost__sf_parse(&m, body, len, FASTEPOST__SF_MAX_NOTIFICATIONS);
  if (!rc)
    rc = records_of(out, &m, range, now_us);
  fastepost__sf_message_free(&m);
  return rc;
}

/* After verify: the organisation was checked; the source times must lie in the default range. */
static int parse(fastepost__records *out, const void *config, const void *body, size_t len, int64_t now_us) {
  (void)config;
  const fastepost__time_range range = FASTEPOST__TIME_RANGE_DEFAULT;
  return read_body(out, body, len, &range, now_us);
}

/* A stored notification (its JSON form) again, for a retry. It was accepted once: no time range. */
static int reprocess(fastepost__sync_record *rec, const void *config, const char *payload, const char *event_type,
                     int64_t now_us) {
  (void)config;
  /* event_type: the payload holds the sObject type; the stored one names a failed record */
  fastepost__sf_notification n;
  char org[FASTEPOST__SF_ID_SIZE];
  char *action_id = NULL;
  int rc = fastepost__sf_notification_from_json(&n, org, &action_id, payload);
  if (rc)
    return fastepost__record_unreadable(rec, SOURCE, event_type, rc, fastepost_error_last()->message);
  fastepost__sync_record_clear(rec);
  const fastepost__time_range any = FASTEPOST__TIME_RANGE_ANY;
  notification_record(rec, org, action_id, &n, &any, now_us);
  fastepost__sf_notification_free(&n);
  free(action_id);
  return FASTEPOST_OK;
}

/* A spooled message: the body as received and verified; no time range (it was checked, if at
 * all, against a clock that has moved on). */
static int replay(fastepost__records *out, const void *config, const void *body, size_t len, const char *event,
                  const char *content_type, int64_t now_us) {
  (void)config;
  (void)event;
  (void)content_type;
  const fastepost__time_range any = FASTEPOST__TIME_RANGE_ANY;
  return read_body(out, body, len, &any, now_us);
}

/* ---- the answer ----------------------------------------------------------------------------- */

/* The acknowledgement, byte for byte as Salesforce's own samples show it: without exactly this
 * (HTTP 200 alone, or an empty body) Salesforce sends the message again for 24 hours. */
static const char ACK[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
    " <soapenv:Body>\n"
    "  <notificationsResponse xmlns=\"http://soap.sforce.com/2005/09/outbound\">\n"
    "   <Ack>true</Ack>\n"
    "  </notificationsResponse>\n"
    " </soapenv:Body>\n"
    "</soapenv:Envelope>\n";

#define CONTENT_TYPE "text/xml; charset=utf-8"

/* A SOAP 1.1 fault. The texts are fixed: no database message, no input, no secret. */
static int fault(fastepost__response *resp, int http_status, const char *code, const char *text) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\n"
                        " <soapenv:Body>\n"
                        "  <soapenv:Fault>\n"
                        "   <faultcode>soapenv:%s</faultcode>\n"
                        "   <faultstring>%s</faultstring>\n"
                        "  </soapenv:Fault>\n"
                        " </soapenv:Body>\n"
                        "</soapenv:Envelope>\n",
                        code, text);
  if (b.oom) {
    fastepost__buf_free(&b);
    return fastepost__error_oom();
  }
  int rc = fastepost__response_set(resp, http_status, CONTENT_TYPE, b.data, b.len);
  fastepost__buf_free(&b);
  return rc;
}

/* Whether every notification of the message is in the event log (committed: processed, or
 * logged as an error row that the retry queue owns from now on). A notification the core could
 * not even log (the database refused the row) has no event id. */
static bool all_logged(const fastepost_event_batch *b) {
  size_t n = fastepost_event_batch_count(b);
  for (size_t i = 0; i < n; i++)
    if (fastepost_event_result_event_id(fastepost_event_batch_get(b, i)) <= 0)
      return false;
  return true;
}

/* The acknowledgement only once every notification is committed to the event log (processed,
 * or logged as an error row that the retry queue owns from now on: sending the message again
 * would mend nothing) or safely spooled, whatever the call's status (a message of one
 * notification gets that notification's code from fastepost_webhook_process()). Otherwise a
 * fault, which Salesforce retries: 400 for a message refused for its organisation or its shape
 * (as Salesforce's own receiver samples answer), 401 when nothing is configured, 413 for a body
 * over the limit, 500 when the database failed and a notification is not in the log. */
static int respond(fastepost__response *resp, const void *config, const fastepost_event_batch *b, int rc,
                   bool spooled) {
  (void)config;
  bool parsed = rc == FASTEPOST_OK || fastepost_event_batch_count(b) > 0;
  if (rc != FASTEPOST_ENOMEM && parsed && (spooled || all_logged(b)))
    return fastepost__response_set(resp, 200, CONTENT_TYPE, ACK, sizeof ACK - 1);
  if (rc == FASTEPOST_OK) /* a notification not logged: the database failed */
    rc = FASTEPOST_EDB;
  switch (rc) {
  case FASTEPOST_EAUTH:
    return fault(resp, 400, "Client", "The OrganizationId of the message is missing or not accepted.");
  case FASTEPOST_ENOKEY:
    return fault(resp, 401, "Client", "This endpoint accepts no Salesforce organization.");
  case FASTEPOST_EPARSE:
  case FASTEPOST_EINVALID:
    return fault(resp, 400, "Client", "The request is not an acceptable Salesforce outbound message.");
  case FASTEPOST_ETOOBIG:
    return fault(resp, 413, "Client", "The request body is too large.");
  default:
    return fault(resp, 500, "Server", "The notifications could not be stored; send them again later.");
  }
}

const fastepost__adapter fastepost__salesforce_adapter = {
    .source = SOURCE,
    .dedup_key = "OrganizationId, Notification/Id and the record's version (a notification sent again with "
                 "newer data is not a duplicate)",
    .version_key = "SystemModstamp, else LastModifiedDate, else CreatedDate",
    .config_new = config_new,
    .config_free = config_free,
    .verify = verify,
    .parse = parse,
    .respond = respond,
    .reprocess = reprocess,
    .replay = replay,
};
