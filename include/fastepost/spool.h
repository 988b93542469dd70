/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/spool.h
 * @brief A durable spool for webhook deliveries that arrive while PostgreSQL is unreachable.
 *
 * Odoo never retries a failed delivery. With a spool set in the processing options, a delivery
 * that cannot reach the database (no connection, or FASTEPOST_ECONN while processing) is written
 * to a file in the spool directory instead: the raw body plus its source, event hint and
 * content type (never an API key or signature). Processing then returns FASTEPOST_OK with the
 * outcome FASTEPOST_OUTCOME_SPOOLED, and fastepost_event_result_http() says 202.
 *
 * fastepost_spool_replay() (`fastepost spool replay`) later runs every spooled delivery, oldest
 * first, through the normal processing path and removes its file only after the event is
 * committed. A delivery that had in fact been committed before the connection broke is then a
 * duplicate (same idempotency key): every delivery is applied exactly once.
 *
 * Files are written durably (temporary file, fsync, rename, fsync of the directory), mode 0600
 * in a directory of mode 0700 owned by the running user, and carry a SHA-256 checksum. A record
 * that cannot be replayed (unreadable, corrupt, altered, refused) is set aside as `<name>.bad`
 * with its reason in `<name>.bad.reason`, and the rest go on; fastepost_spool_list_bad() shows
 * them and fastepost_spool_requeue() puts a fixed one back. The spool is bounded (files and
 * bytes): when full, or when its disk is full, spooling fails with FASTEPOST_EFULL (HTTP 503).
 * Layout and guarantees: docs/spool.md.
 */
#ifndef FASTEPOST_SPOOL_H
#define FASTEPOST_SPOOL_H

#include "common.h"
#include "conn.h"
#include "events.h"

FASTEPOST_BEGIN_DECLS

/** Default largest number of spooled deliveries. */
#define FASTEPOST_SPOOL_DEFAULT_MAX_FILES 10000
/** Default largest total size of the spool, in bytes: 256 MiB. */
#define FASTEPOST_SPOOL_DEFAULT_MAX_BYTES (256ull * 1024 * 1024)

/** A spool directory. Opaque; not shared between threads without a lock of the caller's. */
typedef struct fastepost_spool fastepost_spool;

/**
 * Open a spool directory, creating it (and its parents) with mode 0700 when missing.
 *
 * The directory must belong to the running user and be closed to group and others (as ssh
 * checks its files: the bodies hold customer data, and a planted record would be replayed).
 * When it is not, or cannot be created, the spool still opens - an unusable spool must never
 * fail a delivery that the database accepts - and fastepost_spool_warning() says what is wrong
 * and how to fix it. Every call that then needs the directory fails with that message:
 * fastepost_spool_put() with FASTEPOST_EFULL (HTTP 503: the server lacks its storage), the
 * others with FASTEPOST_EINVALID (wrong owner or mode) or FASTEPOST_EIO (cannot create or open).
 *
 * @param out  receives the spool (free with fastepost_spool_free())
 * @param dir  the directory (copied)
 * @return FASTEPOST_OK (check fastepost_spool_warning()); FASTEPOST_EINVALID for NULL or "";
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_open(fastepost_spool **out, const char *dir);
/** Release a spool (the files stay). A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_spool_free(fastepost_spool *spool);

/**
 * Why the spool directory is unusable, with how to fix it (e.g. "... is accessible by other
 * users (mode 0777) ...; fix it with chmod 700 DIR"), or "" when it is usable (never NULL,
 * docs/api.md rule 11). Hosts log it at start-up: deliveries still succeed while the database
 * is up.
 *
 * @param spool  the spool, or NULL (gives "")
 * @return borrowed, valid until the spool is freed
 */
FASTEPOST_EXTERN(const char *) fastepost_spool_warning(const fastepost_spool *spool);
/**
 * Bound the spool: at most max_files deliveries and max_bytes bytes of files.
 *
 * @param spool      the spool
 * @param max_files  0 for the default, FASTEPOST_SPOOL_DEFAULT_MAX_FILES
 * @param max_bytes  0 for the default, FASTEPOST_SPOOL_DEFAULT_MAX_BYTES
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a NULL spool
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_set_limits(fastepost_spool *spool, size_t max_files,
                                                              uint64_t max_bytes);

/** The webhook configuration (fastepost/webhook.h). */
typedef struct fastepost_webhook_config fastepost_webhook_config;

/**
 * The configuration replay reads spooled deliveries with: each source's section reaches its
 * adapter (Odoo's barcode fields; sources whose bodies cannot be read without their
 * configuration, such as monday's board columns). Without it, a delivery is read with the
 * adapter's defaults, as before. Replay never verifies again: a delivery is spooled only after
 * it was verified.
 *
 * @param spool  the spool
 * @param cfg    the configuration, or NULL for none (the default). Borrowed: it must outlive
 *               every fastepost_spool_replay() on this spool, or be unset first
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a NULL spool
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_set_webhook_config(fastepost_spool *spool,
                                                                      const fastepost_webhook_config *cfg);

/**
 * Spool one delivery durably. The processing functions call this themselves when a spool is set
 * in their options; hosts need it only for a source without that option.
 *
 * @param name          receives the file name (free with fastepost_free()); may be NULL
 * @param spool         the spool
 * @param source        the adapter that will process it on replay ("odoo", "hubspot": a source
 *                      whose adapter can replay)
 * @param event         the event hint ("write" ...), or NULL / "" for none
 * @param content_type  the request's Content-Type, or NULL for application/json
 * @param body          the raw body (need not be NUL-terminated)
 * @param len           its length
 * @return FASTEPOST_OK once the file and its directory entry are on disk; FASTEPOST_EFULL
 *         when the spool is full (message with the counts and limits), its disk or quota is
 *         full (ENOSPC, EDQUOT), or its directory is unusable (fastepost_spool_warning());
 *         FASTEPOST_EINVALID for an unknown source or an option with control characters or
 *         over 200 bytes; FASTEPOST_EIO when writing failed otherwise. On failure no file is
 *         left behind
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_put(char **name, fastepost_spool *spool, const char *source,
                                                       const char *event, const char *content_type,
                                                       const void *body, size_t len);

/** One spooled delivery, handed out by pointer; the library only ever appends fields. */
typedef struct fastepost_spool_entry {
  const char *name;         /**< file name in the spool directory */
  const char *source;       /**< "odoo" ... */
  const char *event;        /**< event hint or ""; Odoo's also keeps a ?model= hint
                                 ("write?model=res.partner") */
  const char *content_type; /**< as given */
  uint64_t bytes;           /**< body length */
  int64_t spooled_at_us;    /**< microseconds since the Unix epoch, UTC; 0 when unreadable */
  const char *reason;       /**< why the record cannot be replayed ("unreadable: ...",
                                 "corrupt: ...", "altered: ...", "refused: ..."), or "" */
  /* 1.x appends fields here only */
} fastepost_spool_entry;

/** The spooled deliveries, oldest first. */
typedef struct fastepost_spool_entries fastepost_spool_entries;

/**
 * List the spooled deliveries, oldest first (the order replay uses). A record that cannot be
 * read, is damaged or fails its checksum is listed with source "?" and its reason (the next
 * replay sets it aside); it never makes the listing fail.
 *
 * @param out    receives the list (free with fastepost_spool_entries_free())
 * @param spool  the spool
 * @return FASTEPOST_OK; FASTEPOST_EINVALID or FASTEPOST_EIO for an unusable directory (see
 *         fastepost_spool_warning()) or one that cannot be read; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_list(fastepost_spool_entries **out, fastepost_spool *spool);

/**
 * List the records set aside by replays (`<name>.bad`), oldest first, each with its reason.
 * Entry names are those of the `.bad` files; source, event and sizes are filled in when the
 * record can still be parsed, else source is "?".
 *
 * @param out    receives the list (free with fastepost_spool_entries_free())
 * @param spool  the spool
 * @return as fastepost_spool_list()
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_list_bad(fastepost_spool_entries **out,
                                                            fastepost_spool *spool);

/**
 * Put a set-aside record back into the spool once it was fixed (or the cause was, e.g. a
 * missing table): it must parse as a spool record of a known source, is sealed with a fresh
 * checksum (the operator vouches for its contents) and keeps its place in arrival order; the
 * `.bad` file and its reason are removed.
 *
 * @param spool  the spool
 * @param name   the record's name, with or without ".bad" (a name, never a path)
 * @return FASTEPOST_OK; FASTEPOST_ENOTFOUND (no such set-aside record); FASTEPOST_EPARSE or
 *         FASTEPOST_EIO (still not a readable record: the message says why); FASTEPOST_EINVALID
 *         (not a record name, unknown source, unusable directory); FASTEPOST_EFULL
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_requeue(fastepost_spool *spool, const char *name);
/** Number of entries. */
FASTEPOST_EXTERN(size_t) fastepost_spool_entries_count(const fastepost_spool_entries *entries);
/** The i-th entry, or NULL out of range; valid until the list is freed. */
FASTEPOST_EXTERN(const fastepost_spool_entry *) fastepost_spool_entries_get(const fastepost_spool_entries *entries,
                                                                            size_t i);
/** Release a list. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_spool_entries_free(fastepost_spool_entries *entries);

/** What a replay did. Opaque. */
typedef struct fastepost_spool_replay_report fastepost_spool_replay_report;

/** Release a report. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_spool_replay_report_free(fastepost_spool_replay_report *report);
/** Processed and committed (any outcome, failures logged as failed events). */
FASTEPOST_EXTERN(size_t) fastepost_spool_replay_report_replayed(const fastepost_spool_replay_report *report);
/** Of which were already in the database (committed before the spooling). */
FASTEPOST_EXTERN(size_t) fastepost_spool_replay_report_duplicates(const fastepost_spool_replay_report *report);
/**
 * Set aside as `<name>.bad` with a reason: unreadable, corrupt or altered records, and those
 * refused without an event row (e.g. an unknown source).
 */
FASTEPOST_EXTERN(size_t) fastepost_spool_replay_report_rejected(const fastepost_spool_replay_report *report);
/** Still spooled when the replay stopped. */
FASTEPOST_EXTERN(size_t) fastepost_spool_replay_report_remaining(const fastepost_spool_replay_report *report);

/**
 * Process spooled deliveries, oldest first, through the normal processing path, removing each
 * file only after its event is committed. A record that cannot be replayed is set aside with
 * its reason and the replay goes on. Stops at the first failure to reach the database (the
 * file stays). Only one replay runs at a time per directory (a flock() on `.lock`, which also
 * excludes another handle or thread of the same process).
 *
 * @param report  receives the counts (free with fastepost_spool_replay_report_free()), also on
 *                failure whenever memory allowed; may be NULL
 * @param spool   the spool
 * @param conn    an open connection
 * @param limit   the most records to process (replayed or set aside); 0 for the default: all
 * @return FASTEPOST_OK; FASTEPOST_ECONN, FASTEPOST_EBUSY, FASTEPOST_EDB when the database failed
 *         (what was committed stays committed); FASTEPOST_EBUSY also when another replay holds
 *         the lock; FASTEPOST_EINVALID or FASTEPOST_EIO for an unusable directory; FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_replay(fastepost_spool_replay_report **report,
                                                          fastepost_spool *spool, fastepost_conn *conn,
                                                          size_t limit);

/**
 * The HTTP status to answer for a processed delivery: 202 when it was spooled (status
 * FASTEPOST_OK, outcome FASTEPOST_OUTCOME_SPOOLED), else fastepost_status_http(status).
 *
 * @param result  the result, or NULL
 * @param status  what the processing function returned
 */
FASTEPOST_EXTERN(int) fastepost_event_result_http(const fastepost_event_result *result, fastepost_status status);

FASTEPOST_END_DECLS

#endif
