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
 * in a directory of mode 0700. The spool is bounded (files and bytes): when full, spooling fails
 * with FASTEPOST_ETOOBIG. Layout and guarantees: docs/spool.md.
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
 * @param out  receives the spool (free with fastepost_spool_free())
 * @param dir  the directory
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL or "", or when the directory is readable or
 *         writable by group or others (the bodies hold customer data); FASTEPOST_EIO when it
 *         cannot be created or is not a directory; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_open(fastepost_spool **out, const char *dir);
/** Release a spool (the files stay). A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_spool_free(fastepost_spool *spool);
/**
 * Bound the spool: at most max_files deliveries and max_bytes bytes of files.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for 0
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_set_limits(fastepost_spool *spool, size_t max_files,
                                                              uint64_t max_bytes);

/**
 * Spool one delivery durably. The processing functions call this themselves when a spool is set
 * in their options; hosts need it only for a source without that option.
 *
 * @param name          receives the file name (free with fastepost_free()); may be NULL
 * @param spool         the spool
 * @param source        the adapter that will process it on replay: "odoo"
 * @param event         the event hint ("write" ...), or NULL / "" for none
 * @param content_type  the request's Content-Type, or NULL for application/json
 * @param body          the raw body (need not be NUL-terminated)
 * @param len           its length
 * @return FASTEPOST_OK once the file and its directory entry are on disk; FASTEPOST_ETOOBIG
 *         when the spool is full (message with the counts and limits); FASTEPOST_EINVALID for
 *         an unknown source or an option with control characters or over 200 bytes;
 *         FASTEPOST_EIO when writing failed (disk full ...): then no file is left behind
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_put(char **name, fastepost_spool *spool, const char *source,
                                                       const char *event, const char *content_type,
                                                       const char *body, size_t len);

/** One spooled delivery. */
typedef struct fastepost_spool_entry {
  const char *name;         /**< file name in the spool directory */
  const char *source;       /**< "odoo" ... */
  const char *event;        /**< event hint or "" */
  const char *content_type; /**< as given */
  uint64_t bytes;           /**< body length */
  int64_t spooled_at;       /**< microseconds since the Unix epoch, UTC */
} fastepost_spool_entry;

/** The spooled deliveries, oldest first. */
typedef struct fastepost_spool_entries fastepost_spool_entries;

/**
 * List the spooled deliveries, oldest first (the order replay uses). Files that cannot be read
 * as spool records are listed with source "?".
 *
 * @return FASTEPOST_OK; FASTEPOST_EIO; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_list(fastepost_spool_entries **out, fastepost_spool *spool);
/** Number of entries. */
FASTEPOST_EXTERN(size_t) fastepost_spool_entries_count(const fastepost_spool_entries *entries);
/** The i-th entry, or NULL out of range; valid until the list is freed. */
FASTEPOST_EXTERN(const fastepost_spool_entry *) fastepost_spool_entries_get(const fastepost_spool_entries *entries,
                                                                            size_t i);
/** Release a list. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_spool_entries_free(fastepost_spool_entries *entries);

/** What a replay did. */
typedef struct fastepost_spool_replay_report {
  int replayed;  /**< processed and committed (any outcome, failures logged as failed events) */
  int duplicates;/**< of which were already in the database (committed before the spooling) */
  int rejected;  /**< refused without an event row (e.g. an unknown source): kept as <name>.bad */
  int remaining; /**< still spooled when the replay stopped */
} fastepost_spool_replay_report;

/**
 * Process spooled deliveries, oldest first, through the normal processing path, removing each
 * file only after its event is committed. Stops at the first failure to reach the database
 * (the file stays). Only one replay runs at a time per directory (a lock file).
 *
 * @param report  receives the counts; may be NULL
 * @param spool   the spool
 * @param conn    an open connection
 * @param limit   the most deliveries to process; 0 for all
 * @return FASTEPOST_OK; FASTEPOST_ECONN, FASTEPOST_EBUSY, FASTEPOST_EDB when the database failed
 *         (what was committed stays committed); FASTEPOST_EBUSY also when another replay holds
 *         the lock; FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_spool_replay(fastepost_spool_replay_report *report,
                                                          fastepost_spool *spool, fastepost_conn *conn,
                                                          int limit);

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
