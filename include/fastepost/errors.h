/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/errors.h
 * @brief Error codes and the per-thread description of the last failure.
 *
 * Every call that can fail returns a fastepost_status: 0 on success, one of the negative
 * codes below on failure. The codes are part of the ABI: they are never renumbered or removed.
 * After a failure, fastepost_error_last() says what went wrong and with which input.
 */
#ifndef FASTEPOST_ERRORS_H
#define FASTEPOST_ERRORS_H

#include "common.h"

FASTEPOST_BEGIN_DECLS

/** Error codes. Values are stable: new codes are only ever appended. */
typedef enum fastepost_error_code {
  FASTEPOST_OK = 0,          /**< success */
  FASTEPOST_ERROR = -1,      /**< a failure with no more specific code */
  FASTEPOST_ENOMEM = -2,     /**< out of memory */
  FASTEPOST_EINVALID = -3,   /**< an argument or input value is invalid */
  FASTEPOST_ENOTFOUND = -4,  /**< the named object (table, column, file, record) does not exist */
  FASTEPOST_ECONFLICT = -5,  /**< the request conflicts with existing data */
  FASTEPOST_EPARSE = -6,     /**< the input could not be parsed (JSON, CSV, date ...) */
  FASTEPOST_EDB = -7,        /**< the database refused a statement (see the SQLSTATE) */
  FASTEPOST_ECONN = -8,      /**< no connection to the database, or it was lost */
  FASTEPOST_EIO = -9,        /**< reading or writing a file or stream failed */
  FASTEPOST_EEXTERNAL = -10, /**< an external program (pg_dump, psql ...) failed */
  FASTEPOST_EAUTH = -11,     /**< authentication failed: wrong key or signature */
  FASTEPOST_ETOOBIG = -12,   /**< the input exceeds a configured limit */
  FASTEPOST_ENOKEY = -13,    /**< no secret is configured, so every request is refused */
  FASTEPOST_EVERSION = -14,  /**< an incompatible version (server, tool or schema) */
  FASTEPOST_ECANCELED = -15, /**< a callback asked to stop */
  FASTEPOST_EBUSY = -16,     /**< a transient failure (serialization, deadlock, a held lock): try again */
  FASTEPOST_ETIMEOUT = -17,  /**< a wait ran out: connect, statement or child-program deadline */
  FASTEPOST_EFULL = -18,     /**< server-side storage is full (spool limit, disk): not the sender's fault */
  FASTEPOST_EREADONLY = -19  /**< the server accepts no writes (hot standby, read-only transaction) */
} fastepost_error_code;

/** Description of the last failure on the calling thread. */
typedef struct fastepost_error {
  int code;             /**< the fastepost_error_code of the failure (FASTEPOST_OK if none) */
  const char *message;  /**< what failed and with which input; never NULL, "" when none */
  const char *sqlstate; /**< the five-character PostgreSQL SQLSTATE, or "" when not from the server */
} fastepost_error;

/**
 * The last failure on the calling thread.
 *
 * @return never NULL; borrowed, valid until the next library call on this thread
 */
FASTEPOST_EXTERN(const fastepost_error *) fastepost_error_last(void);

/** Forget the last failure on the calling thread. */
FASTEPOST_EXTERN(void) fastepost_error_clear(void);

/**
 * Fixed English text for an error code, e.g. "database error" for FASTEPOST_EDB.
 *
 * @return a static string; "unknown error" for codes this version does not know
 */
FASTEPOST_EXTERN(const char *) fastepost_strerror(int code);

/**
 * The symbolic name of an error code, e.g. "FASTEPOST_EDB". The bindings use it to pick an
 * exception class.
 *
 * @return a static string; "FASTEPOST_UNKNOWN" for codes this version does not know
 */
FASTEPOST_EXTERN(const char *) fastepost_error_name(int code);

FASTEPOST_END_DECLS

#endif
