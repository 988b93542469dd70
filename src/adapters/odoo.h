/* SPDX-License-Identifier: MIT */
/*
 * The Odoo adapter's internals (adapter.h), shared by its three files and the unit tests:
 *   odoo.c          options, the key check, the public processing calls, the adapter table
 *   odoo_extract.c  a body into the JSON record it carries, and into a sync record
 *   odoo_map.c      a res.partner / crm.lead record into customer facts, remark and task
 * The adapter knows payload shapes and nothing about SQL: it turns a body into a
 * fastepost__sync_record (sync.h) and hands it to the core.
 */
#ifndef FASTEPOST_ADAPTERS_ODOO_H
#define FASTEPOST_ADAPTERS_ODOO_H

#include <json-c/json.h>

#include "adapters/adapter.h"
#include "fastepost/odoo.h"
#include "fastepost/spool.h"
#include "sync.h"

struct fastepost_odoo_options {
  fastepost__strlist api_keys; /* accepted keys; none: every request is refused (ENOKEY) */
  bool host_authenticated;     /* the host checked the request itself: no key check */
  char hint[16];            /* "" or create / write / unlink / archive */
  char model[64];           /* "" or the model hint (?model=res.partner): used when the body names none */
  bool form;                /* application/x-www-form-urlencoded */
  size_t max_body;
  int max_depth;
  fastepost__strlist barcode_fields;
  fastepost__time_range time_range; /* accepted write_date range */
  fastepost__clock clock;   /* unset: the server's clock */
  fastepost_spool *spool;   /* borrowed; NULL: no spooling */
};

/* Turn a body into a record (no database). Returns FASTEPOST_OK when the record is usable, else
 * the failure code, which is also in rec->failure with rec->failure_message; a failed record
 * can still be logged by the core. opts may be NULL (defaults). rec must be initialised.
 * The dedup key (rec->idempotency_key) is a SHA-256 over model, record id, write_date and the
 * event hint when the record has a write_date (its version key, rec->version), else over the
 * canonical body and the hint. */
int fastepost__odoo_extract(fastepost__sync_record *rec, const void *body, size_t len,
                            const fastepost_odoo_options *opts);
/* The same for a body already parsed (root, borrowed): the pull's search_read records, which
 * would otherwise be written out and parsed again, one by one. No size limit: the page that
 * holds root had the HTTP client's. */
int fastepost__odoo_extract_parsed(fastepost__sync_record *rec, const json_object *root,
                                   const fastepost_odoo_options *opts);

/* Whether s is an Odoo model name as a hint may give it ("res.partner": lower-case letters,
 * digits, '_' and '.', starting with a letter, at most 63 bytes). */
bool fastepost__odoo_model_name_valid(const char *s);

/* Parse a comma-separated list of barcode fields into o->barcode_fields. */
int fastepost__odoo_set_barcode_fields(fastepost_odoo_options *o, const char *fields);
/* An event hint as stored ("update" -> "write", "delete" -> "unlink"), or NULL when unknown. */
const char *fastepost__odoo_hint(const char *s);

/* Normalise an Odoo or ISO 8601 datetime to "YYYY-MM-DD HH:MM:SS.ffffff" UTC (out >= 32 bytes).
 * Returns false when s is not one. */
bool fastepost__odoo_datetime(char *out, size_t outsize, const char *s);
/* (As microseconds: fastepost__time_parse_iso() in util/time.h.) */

/* ---- field readers (odoo_extract.c), used by the mapping ---- */

/* json-c's getters take non-const pointers although they only read. */
const char *fastepost__odoo_jstr(const json_object *v);
/* A copy of [s, s+n) without surrounding white space (a NUL inside becomes U+FFFD). */
char *fastepost__odoo_trimmed(const char *s, size_t n);
/* A text field: ABSENT when the key is missing; EMPTY for false, null, "", [], {} or white
 * space only; else the trimmed text in *out (numbers as written, a many2one pair as its name). */
fastepost__fact_state fastepost__odoo_text(const json_object *rec, const char *key, char **out);
/* An HTML field as plain text, with the same states. */
fastepost__fact_state fastepost__odoo_html(const json_object *rec, const char *key, char **out);
/* A boolean (true/false or the strings form bodies carry); -1 when absent or not a boolean. */
int fastepost__odoo_bool(const json_object *rec, const char *key);
/* An id: a positive integer, digits, or [id, "name"]; 0 when empty, -1 for a wrong type. */
int64_t fastepost__odoo_id(const json_object *v);

/* ---- mapping (odoo_map.c) ---- */

/* The address in an email field ("Jane <JANE@X.DE>" -> "jane@x.de"), or NULL (not an address
 * or out of memory). Free with free(). */
char *fastepost__odoo_email(const char *raw);
/* The display name of an email_from value ("\"Jane Doe\" <jane@x>" -> "Jane Doe"), or NULL. */
char *fastepost__odoo_display_name(const char *raw);
/* A res.partner record (id > 0) into rec; hint is the event hint ("" when none). */
void fastepost__odoo_map_partner(fastepost__sync_record *rec, const json_object *r, const char *hint,
                                 int64_t id, const fastepost__strlist *barcode_fields);
/* A crm.lead record (id > 0) into rec. */
void fastepost__odoo_map_lead(fastepost__sync_record *rec, const json_object *r, int64_t id,
                              const fastepost__strlist *barcode_fields);

#endif
