/* SPDX-License-Identifier: MIT */
/*
 * The HubSpot adapter (adapter.h): parsed events into sync records, the public processing
 * call (verify, parse, run the batch through the core) and the adapter table for the retry
 * queue. Verification is in hubspot_verify.c, parsing in hubspot_parse.c. No SQL here.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/hubspot_parse.h"
#include "adapters/webhook_config.h"
#include "fastepost/hubspot.h"
#include "internal.h"
#include "util/strv.h"
#include "util/time.h"

/* ---- processing: events -> sync records -> the sync core ------------------------------------ */

#define SOURCE "hubspot"

/* The contact properties synced, and the customer column each feeds, in part order: name is
 * "firstname lastname", phone the first of phone and mobilephone, address
 * "address, city, zip, country". */
static const fastepost__prop_def contact_props[] = {
    {"firstname", FASTEPOST__COL_NAME},  {"lastname", FASTEPOST__COL_NAME},
    {"email", FASTEPOST__COL_EMAIL},     {"phone", FASTEPOST__COL_PHONE},
    {"mobilephone", FASTEPOST__COL_PHONE}, {"company", FASTEPOST__COL_COMPANY},
    {"address", FASTEPOST__COL_ADDRESS}, {"city", FASTEPOST__COL_ADDRESS},
    {"zip", FASTEPOST__COL_ADDRESS},     {"country", FASTEPOST__COL_ADDRESS},
};
#define NCONTACT_PROPS (sizeof contact_props / sizeof contact_props[0])

struct fastepost_hubspot_options {
  size_t max_events;
  fastepost__time_range time_range;
  fastepost__clock clock; /* unset: the server's clock */
};

static const fastepost_hubspot_options hubspot_defaults = {
    .max_events = FASTEPOST_HUBSPOT_DEFAULT_MAX_EVENTS,
    .time_range = FASTEPOST__TIME_RANGE_DEFAULT,
};

fastepost_status fastepost_hubspot_options_new(fastepost_hubspot_options **out) {
  return FASTEPOST__OUT_NEW_COPY(out, hubspot_defaults, "fastepost_hubspot_options_new");
}

void fastepost_hubspot_options_free(fastepost_hubspot_options *opts) { free(opts); }

fastepost_status fastepost_hubspot_options_set_max_events(fastepost_hubspot_options *opts, size_t max_events) {
  if (opts && max_events == 0)
    max_events = FASTEPOST_HUBSPOT_DEFAULT_MAX_EVENTS;
  if (!opts || max_events > 100000)
    return fastepost__error_set(FASTEPOST_EINVALID, "the batch limit must be 1 to 100000 events, not %zu",
                                max_events);
  opts->max_events = max_events;
  return FASTEPOST_OK;
}

FASTEPOST__OPTIONS_TIME_SETTERS(hubspot)

/* A propertyChange: the delivered value of one synced property (lower-case email). */
static int map_property(fastepost__sync_record *rec, const fastepost__hs_event *e) {
  for (size_t i = 0; i < NCONTACT_PROPS; i++) {
    if (strcmp(contact_props[i].name, e->property_name) != 0)
      continue;
    const char *v = e->property_value && *e->property_value ? e->property_value : NULL;
    int rc = fastepost__fact_set(&rec->props[i], v);
    if (rc == FASTEPOST_OK && v && contact_props[i].column == FASTEPOST__COL_EMAIL)
      for (char *p = rec->props[i].value; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return rc ? fastepost__record_fail(rec, rc, "%s", "out of memory") : FASTEPOST_OK;
  }
  return fastepost__record_ignore(rec, "%s%.64s%s", "contact property ", e->property_name, " is not synced");
}

/* contact.merge: the surviving contact is primaryObjectId (else objectId); every other id named
 * (objectId, mergedObjectIds) is retired into it. */
static int map_merge(fastepost__sync_record *rec, const fastepost__hs_event *e) {
  int64_t target = e->primary_object_id.present ? e->primary_object_id.value : e->object_id.value;
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)target);
  free(rec->crm_id);
  rec->crm_id = fastepost__strdup(id);
  int rc = FASTEPOST_OK;
  if (e->object_id.value != target)
    rc = fastepost__strlist_addf(&rec->retired_crm_ids, "%lld", (long long)e->object_id.value);
  for (size_t i = 0; i < e->merged_count && !rc; i++)
    if (e->merged_object_ids[i] != target)
      rc = fastepost__strlist_addf(&rec->retired_crm_ids, "%lld", (long long)e->merged_object_ids[i]);
  if (!rc && !rec->retired_crm_ids.count)
    rc = fastepost__record_ignore(rec, "%s%.64s%s", "", "contact.merge", ": the merge names no contact besides the surviving one");
  return rc || !rec->crm_id ? fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory") : FASTEPOST_OK;
}

/* Turn one parsed event into a sync record (no database). A malformed event becomes a failed
 * record, which the core logs as an error row. */
static int event_record(fastepost__sync_record *rec, const fastepost__hs_event *e,
                        const fastepost__time_range *range, int64_t now_us) {
  fastepost__sync_record_init(rec, SOURCE);
  rec->event_type = fastepost__strdup(e->type && *e->type ? e->type : "unknown");
  rec->payload = e->json ? fastepost__strdup(e->json) : NULL;
  char key[FASTEPOST__HS_KEY_SIZE];
  if (fastepost__hs_dedup_key(key, e) == FASTEPOST_OK)
    rec->idempotency_key = fastepost__strdup(key);
  if (e->object_id.present) {
    char ext[96];
    snprintf(ext, sizeof ext, "%.32s:%lld", e->object_type ? e->object_type : "object",
             (long long)e->object_id.value);
    rec->external_id = fastepost__strdup(ext);
  }
  if (!rec->event_type)
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory");
  if (e->error)
    return fastepost__record_fail(rec, e->error, "%s", e->error_message ? e->error_message : "malformed event");
  if (!e->object_type || strcmp(e->object_type, "contact") != 0)
    return fastepost__record_ignore(rec, "%s%.64s%s", "HubSpot ", e->object_type ? e->object_type : e->type, " events are not synced");

  /* occurredAt is in milliseconds: check before scaling to microseconds, so that no value a
   * sender can put there overflows (9223372036854775806 would wrap to 1969). */
  if (e->occurred_at.value > INT64_MAX / 1000)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", "occurredAt is out of range (beyond year 9999): refused, not retried");
  int64_t occurred_us = e->occurred_at.value * 1000;
  if (fastepost__sync_time_check(occurred_us, range, now_us, "occurredAt"))
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", fastepost_error_last()->message);
  char id[24], version[32];
  snprintf(id, sizeof id, "%lld", (long long)e->object_id.value);
  fastepost__time_format(version, sizeof version, occurred_us);
  rec->crm_id = fastepost__strdup(id);
  rec->version = fastepost__strdup(version);
  if (!rec->crm_id || !rec->version)
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "%s", "out of memory");
  rec->owns_customer = true; /* a contact is the customer */
  rec->prop_defs = contact_props;
  rec->nprops = NCONTACT_PROPS;
  const char *a = e->action ? e->action : "";
  if (strcmp(a, "creation") == 0) {
    rec->create_bare = true;
  } else if (strcmp(a, "propertyChange") == 0) {
    if (!e->property_name)
      return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", "a propertyChange event needs propertyName");
    return map_property(rec, e);
  } else if (strcmp(a, "deletion") == 0 || strcmp(a, "privacyDeletion") == 0) {
    rec->tombstone = true;
    rec->facts.active = 0;
  } else if (strcmp(a, "restore") == 0) {
    rec->restore = true;
    rec->facts.active = 1;
  } else if (strcmp(a, "merge") == 0) {
    return map_merge(rec, e);
  } else {
    return fastepost__record_ignore(rec, "%s%.64s%s", "contact.", a, " events are not synced");
  }
  return FASTEPOST_OK;
}

/* ---- processing --------------------------------------------------------------------------- */

static int64_t clock_now(const fastepost_hubspot_options *opts) {
  return fastepost__clock_now(opts ? &opts->clock : NULL);
}

/* The parsed events into records; an event that cannot be used is a failed record. */
static int records_of(fastepost__records *out, const fastepost__hs_batch *parsed, const fastepost__time_range *range,
                      int64_t now_us) {
  int rc = fastepost__records_alloc(out, parsed->count, SOURCE);
  for (size_t i = 0; !rc && i < parsed->count; i++) {
    fastepost__sync_record_clear(&out->items[i]);
    event_record(&out->items[i], &parsed->events[i], range, now_us);
  }
  return rc;
}

static int parse_body(fastepost__records *out, const fastepost_hubspot_options *opts, const void *body, size_t len,
                      int64_t now_us) {
  fastepost__hs_batch parsed;
  int rc = fastepost__hs_parse_batch(&parsed, body, len, opts ? opts->max_events : 0);
  if (rc)
    return rc;
  const fastepost__time_range def = FASTEPOST__TIME_RANGE_DEFAULT;
  rc = records_of(out, &parsed, opts ? &opts->time_range : &def, now_us);
  fastepost__hs_batch_free(&parsed);
  return rc;
}

fastepost_status fastepost_hubspot_process(fastepost_event_batch **out, fastepost_conn *conn,
                                           const fastepost_hubspot_verifier *verifier,
                                           const fastepost_webhook_request *req,
                                           const fastepost_hubspot_options *opts) {
  if (out)
    *out = NULL;
  fastepost_event_batch *b = NULL;
  if (fastepost__event_batch_new(&b, 0))
    return FASTEPOST_ENOMEM;
  if (!conn || !req)
    return fastepost__event_batch_finish(
        out, b, fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_process: NULL argument"));
  int rc;
  /* Refused requests write nothing: verify before anything else, over the raw bytes. */
  if (verifier && (rc = fastepost_hubspot_verify(NULL, verifier, req)))
    return fastepost__event_batch_finish(out, b, rc);
  int64_t now_us = clock_now(opts);
  fastepost__records recs = {0};
  if ((rc = parse_body(&recs, opts, fastepost_webhook_request_body(req), fastepost_webhook_request_body_len(req),
                       now_us)))
    return fastepost__event_batch_finish(out, b, rc);
  fastepost_event_batch *full = NULL;
  if ((rc = fastepost__event_batch_new(&full, recs.count))) {
    fastepost__records_free(&recs);
    return fastepost__event_batch_finish(out, b, rc);
  }
  fastepost_event_batch_free(b);
  for (size_t i = 0; i < recs.count; i++)
    fastepost__event_batch_describe(full, i, recs.items[i].event_type, recs.items[i].external_id);
  fastepost__sync_ctx ctx = {.now_us = now_us, .max_attempts = FASTEPOST_EVENTS_MAX_ATTEMPTS};
  rc = fastepost__adapter_run_batch(full, conn, recs.items, NULL, recs.count, &ctx);
  /* Not acknowledged while an event is in no log and no retry queue (as the generic entry,
   * webhook_process.c): HubSpot delivers the request again. */
  if (!rc)
    rc = fastepost__event_batch_require_logged(full, "request");
  fastepost__records_free(&recs);
  return fastepost__event_batch_finish(out, full, rc);
}

/* ---- the adapter table (adapter.h) ------------------------------------------------------- */

/* The configuration of the generic entry: {"hubspot": {"client_secrets": [...], ...}}
 * (docs/webhooks.md), a verifier and processing options. */
typedef struct hubspot_config {
  fastepost_hubspot_verifier *verifier;
  fastepost_hubspot_options *options;
} hubspot_config;

static void config_free(void *config) {
  hubspot_config *c = config;
  if (!c)
    return;
  if (c->verifier) /* (free(NULL) would record an error over the one being reported) */
    fastepost_hubspot_verifier_free(c->verifier); /* wipes the secrets */
  fastepost_hubspot_options_free(c->options);
  free(c);
}

/* "versions": ["v3"] (the default), or with "v1" / "v2", which have no replay protection. */
static int config_versions(fastepost_hubspot_verifier *v, const struct json_object *section) {
  fastepost__strlist names = {0};
  int rc = fastepost__config_strings(&names, section, SOURCE, "versions", false);
  unsigned bits = 0;
  for (size_t i = 0; !rc && i < names.count; i++) {
    const char *n = names.items[i];
    unsigned bit = !strcmp(n, "v1")   ? FASTEPOST_HUBSPOT_VERSION_V1
                   : !strcmp(n, "v2") ? FASTEPOST_HUBSPOT_VERSION_V2
                   : !strcmp(n, "v3") ? FASTEPOST_HUBSPOT_VERSION_V3
                                      : 0;
    if (!bit)
      rc = fastepost__error_set(FASTEPOST_EINVALID, "hubspot.versions[%zu]: not v1, v2 or v3", i);
    bits |= bit;
  }
  fastepost__strlist_free(&names);
  return rc || !bits ? rc : fastepost_hubspot_verifier_set_versions(v, bits);
}

static int config_new(void **out, struct json_object *section) {
  static const char *const keys[] = {"client_secrets", "versions", "tolerance_seconds", "max_body", "max_events",
                                     NULL};
  *out = NULL;
  hubspot_config *c = calloc(1, sizeof *c);
  int rc = c ? fastepost__config_keys(section, SOURCE, keys) : fastepost__error_oom();
  if (!rc)
    rc = fastepost_hubspot_verifier_new(&c->verifier);
  if (!rc)
    rc = fastepost_hubspot_options_new(&c->options);
  fastepost__strlist secrets = {0};
  if (!rc)
    rc = fastepost__config_strings(&secrets, section, SOURCE, "client_secrets", true);
  if (!rc && secrets.count > FASTEPOST_HUBSPOT_MAX_SECRETS)
    rc = fastepost__error_set(FASTEPOST_EINVALID, "hubspot.client_secrets: more than %d", FASTEPOST_HUBSPOT_MAX_SECRETS);
  for (size_t i = 0; !rc && i < secrets.count; i++)
    rc = fastepost_hubspot_verifier_add_secret(c->verifier, secrets.items[i]);
  fastepost__config_wipe(&secrets);
  if (!rc)
    rc = config_versions(c->verifier, section);
  uint64_t tolerance_s = FASTEPOST_HUBSPOT_DEFAULT_TOLERANCE_US / 1000000, max_body = FASTEPOST_HUBSPOT_DEFAULT_MAX_BODY,
           max_events = FASTEPOST_HUBSPOT_DEFAULT_MAX_EVENTS;
  if (!rc && !(rc = fastepost__config_uint(&tolerance_s, section, SOURCE, "tolerance_seconds", 1, 86400)))
    rc = fastepost_hubspot_verifier_set_tolerance(c->verifier, (int64_t)tolerance_s * 1000000);
  if (!rc && !(rc = fastepost__config_uint(&max_body, section, SOURCE, "max_body", 1, (uint64_t)1 << 30)))
    rc = fastepost_hubspot_verifier_set_max_body(c->verifier, (size_t)max_body);
  if (!rc && !(rc = fastepost__config_uint(&max_events, section, SOURCE, "max_events", 1, 100000)))
    rc = fastepost_hubspot_options_set_max_events(c->options, (size_t)max_events);
  if (rc) {
    config_free(c);
    return rc;
  }
  *out = c;
  return FASTEPOST_OK;
}

static int verify_request(const void *config, const fastepost_webhook_request *req) {
  return fastepost_hubspot_verify(NULL, ((const hubspot_config *)config)->verifier, req);
}

static int parse_request(fastepost__records *out, const void *config, const void *body, size_t len, int64_t now_us) {
  return parse_body(out, ((const hubspot_config *)config)->options, body, len, now_us);
}

static int reprocess(fastepost__sync_record *rec, const void *config, const char *payload, const char *event_type,
                     int64_t now_us) {
  (void)config;
  (void)event_type; /* the payload holds it */
  fastepost__hs_event e;
  fastepost__hs_parse_event(&e, payload, payload ? strlen(payload) : 0);
  /* The time range was checked when the request came in (with its options, gone now): a retry
   * only keeps the arithmetic safe. */
  const fastepost__time_range any = FASTEPOST__TIME_RANGE_ANY;
  fastepost__sync_record_clear(rec);
  event_record(rec, &e, &any, now_us);
  fastepost__hs_event_free(&e);
  return FASTEPOST_OK; /* a failed record is logged by the core */
}

/* A spooled batch (a host that spools HubSpot requests itself): the body as received, already
 * verified, with no event limit and no time range. */
static int replay(fastepost__records *out, const void *config, const void *body, size_t len, const char *event,
                  const char *content_type, int64_t now_us) {
  (void)config;
  (void)event;
  (void)content_type;
  fastepost__hs_batch parsed;
  int rc = fastepost__hs_parse_batch(&parsed, body, len, 100000);
  if (rc)
    return rc;
  const fastepost__time_range any = FASTEPOST__TIME_RANGE_ANY;
  rc = records_of(out, &parsed, &any, now_us);
  fastepost__hs_batch_free(&parsed);
  return rc;
}

const fastepost__adapter fastepost__hubspot_adapter = {
    .source = SOURCE,
    .dedup_key = "appId, portalId, subscriptionId, eventId, objectId, occurredAt, type and propertyName "
                 "(not attemptNumber)",
    .version_key = "occurredAt",
    .config_new = config_new,
    .config_free = config_free,
    .verify = verify_request,
    .parse = parse_request,
    .reprocess = reprocess,
    .replay = replay,
};
