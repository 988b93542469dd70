/*
 * The Odoo adapter's internals, shared with events.c (reprocessing) and the unit tests.
 * The adapter knows payload shapes and nothing about SQL: it turns a body into a
 * fastepost__sync_record (sync.h) and hands it to the core.
 */
#ifndef FASTEPOST_ODOO_PRIVATE_H
#define FASTEPOST_ODOO_PRIVATE_H

#include "sync.h"

struct fastepost_odoo_options {
  fastepost__strlist api_keys; /* accepted keys; none: every request is refused (ENOKEY) */
  bool host_authenticated;     /* the host checked the request itself: no key check */
  char hint[16];            /* "" or create / write / unlink / archive */
  bool form;                /* application/x-www-form-urlencoded */
  size_t max_body;
  int max_depth;
  fastepost__strlist barcode_fields;
  fastepost__time_range time_range; /* accepted write_date range */
  fastepost_clock_fn clock;
  void *clock_payload;
  fastepost_spool *spool;   /* borrowed; NULL: no spooling */
};

/* Turn a body into a record (no database). Returns FASTEPOST_OK when the record is usable, else
 * the failure code, which is also in rec->failure with rec->failure_message; a failed record
 * can still be logged by the core. opts may be NULL (defaults). rec must be initialised. */
int fastepost__odoo_extract(fastepost__sync_record *rec, const char *body, size_t len,
                            const fastepost_odoo_options *opts);

/* Process a stored payload again (events.c): the event row event_id is claimed instead of a
 * new one being written. event_type gives back the hint ("res.partner.unlink"). now_us is the
 * retry run's clock (FASTEPOST__SYNC_SERVER_CLOCK: the server's), so that the row's timestamps
 * and its next backoff follow the clock the due check used. */
int fastepost__odoo_reprocess(fastepost_event_result **out, fastepost_conn *conn, int64_t event_id,
                              const char *payload, const char *event_type, int max_attempts, int64_t now_us);

/* Process a spooled delivery (spool.c): the normal path with the spooled hint and content type,
 * no body limit (it was accepted once) and no spooling. */
int fastepost__odoo_replay(fastepost_event_result **out, fastepost_conn *conn, const char *body, size_t len,
                           const char *event, const char *content_type);

/* Normalise an Odoo or ISO 8601 datetime to "YYYY-MM-DD HH:MM:SS.ffffff" UTC (out >= 32 bytes).
 * Returns false when s is not one. */
bool fastepost__odoo_datetime(char *out, size_t outsize, const char *s);
/* The same as microseconds since the epoch (no formatting); false when s is not a datetime. */
bool fastepost__odoo_datetime_us(int64_t *us, const char *s);

/* The address in an email field ("Jane <JANE@X.DE>" -> "jane@x.de"), or NULL (not an address
 * or out of memory). Free with free(). */
char *fastepost__odoo_email(const char *raw);

#endif
