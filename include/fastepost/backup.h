/**
 * @file fastepost/backup.h
 * @brief Database backups with pg_dump: create, list, open for download, verify, prune, restore.
 *
 * Backups live in one directory (a fastepost_backup_dir), one file each, named by the UTC time
 * they were started: `backup_YYYYMMDD_HHMMSS.sql` (plain SQL) or `.dump` (pg_dump's custom
 * format); a second backup in the same second gets `_1`, `_2` ... before the extension. A backup
 * of one table is its own kind, `backup_YYYYMMDD_HHMMSS[_N]_table-NAME.sql|.dump` (data only).
 * Beside each file, `NAME.sha256` holds its SHA-256 in `sha256sum` format. Other files in the
 * directory are ignored and never served.
 *
 * Trust: the directory must be owned by the running user and not writable by group or others,
 * and a backup file (and its checksum) owned by the user with no group/other permission (0600),
 * the way ssh checks its files; otherwise every call refuses it (FASTEPOST_EINVALID, with the
 * chmod/chown command that fixes it). A restore runs only a backup that verifies (checksum,
 * completeness, and for plain SQL nothing psql would run but what pg_dump writes).
 *
 * pg_dump, pg_restore and psql run as child processes, without a shell, each in a process group
 * of its own that dies with the calling thread, and each within a deadline. Secret connection
 * options (libpq's password, sslpassword ...) reach them through the environment (PGPASSWORD)
 * or a private 0600 service file, never the command line. A tool is found as: the path set with
 * fastepost_backup_set_tool(), else the environment variable `FASTEPOST_PG_DUMP` /
 * `FASTEPOST_PG_RESTORE` / `FASTEPOST_PSQL`, else `PATH`, else the highest
 * `/usr/lib/postgresql/N/bin`; its major version must be at least the server's. The environment
 * (those variables, `PATH`, and what the children inherit) is read once, by
 * fastepost_backup_dir_new(): calls never read it. See docs/backup.md.
 */
#ifndef FASTEPOST_BACKUP_H
#define FASTEPOST_BACKUP_H

#include <signal.h>

#include "common.h"
#include "conn.h"

FASTEPOST_BEGIN_DECLS

/** A backup directory and the settings used on it. Opaque; one thread at a time. */
typedef struct fastepost_backup_dir fastepost_backup_dir;

/** The file format of a backup. */
typedef enum fastepost_backup_format {
  FASTEPOST_BACKUP_PLAIN = 0, /**< plain SQL (`.sql`), restored with psql */
  FASTEPOST_BACKUP_CUSTOM = 1 /**< pg_dump's compressed custom format (`.dump`), pg_restore */
} fastepost_backup_format;

/** The external programs a backup directory uses. */
typedef enum fastepost_backup_tool {
  FASTEPOST_TOOL_PG_DUMP = 0,
  FASTEPOST_TOOL_PG_RESTORE = 1,
  FASTEPOST_TOOL_PSQL = 2
} fastepost_backup_tool;

/** What a backup holds. */
typedef enum fastepost_backup_kind {
  FASTEPOST_BACKUP_FULL = 0, /**< the whole database */
  FASTEPOST_BACKUP_TABLE = 1 /**< the rows of one table (data only), restorable into a database
                                  that has the schema */
} fastepost_backup_kind;

/** The longest backup name, with its terminating NUL. */
#define FASTEPOST_BACKUP_NAME_MAX 128

/** One backup as listed. */
typedef struct fastepost_backup_info {
  char name[FASTEPOST_BACKUP_NAME_MAX]; /**< the file name, e.g. backup_20260101_120000.sql */
  int64_t size;                         /**< bytes */
  int64_t time;                         /**< when it was started (from the name), Unix seconds UTC */
  fastepost_backup_format format;       /**< from the extension */
  fastepost_backup_kind kind;           /**< full, or one table */
  char table[72]; /**< for a table backup the table as in the name (`schema.name`, `public.`
                       left out, bytes other than letters, digits, `_ . -` as `_`); else "" */
} fastepost_backup_info;

/**
 * A handle on a backup directory. Nothing is created or opened yet: the directory is made
 * (mode 0700, with missing parents) by the first fastepost_backup_create(). The process
 * environment is read now, once (see the file comment).
 *
 * @param out   receives the handle, to release with fastepost_backup_dir_free()
 * @param path  the directory (required: the library has no default; a host may use
 *              fastepost_backup_default_dir()). A relative path is made absolute now.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when path is NULL or ""; FASTEPOST_ENOMEM;
 *         FASTEPOST_EIO when the working directory is unknown
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_dir_new(fastepost_backup_dir **out, const char *path);

/**
 * The per-user default backup directory, for hosts (the CLI, the bindings) whose user gave none:
 * `$FASTEPOST_BACKUP_DIR`, else `$XDG_STATE_HOME/fastepost/backups` (when absolute), else
 * `$HOME/.local/state/fastepost/backups`. Never under /tmp or the working directory.
 *
 * @param out  receives the path (free with fastepost_free())
 * @return FASTEPOST_OK; FASTEPOST_ENOTFOUND when none of the variables is usable (the message
 *         says what to set); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_default_dir(char **out);

/**
 * Bound the waits of the handle's calls. Defaults: 3600000 ms (1 h) for each run of pg_dump,
 * pg_restore or psql (past it the program's process group is killed, partial files removed, and
 * the call fails with FASTEPOST_ETIMEOUT); 60000 ms for `pg_dump --lock-wait-timeout` and the
 * `lock_timeout` of a restore; 10 s for `PGCONNECT_TIMEOUT` of every program (a
 * `connect_timeout` in the connection string wins).
 *
 * @param child_timeout_ms      at least 1000
 * @param lock_wait_timeout_ms  at least 1
 * @param connect_timeout_s     at least 2 (libpq's minimum)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a value out of range (nothing is changed)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_set_timeouts(fastepost_backup_dir *dir,
                                                                int64_t child_timeout_ms,
                                                                int lock_wait_timeout_ms,
                                                                int connect_timeout_s);

/**
 * An interrupt flag for the handle's calls, typically set by the host's SIGINT/SIGTERM handler
 * (`flag = signo;` is async-signal-safe). While a call runs, a non-zero flag stops the child
 * program (its whole process group), removes partial files and makes the call fail with
 * FASTEPOST_ECANCELED; a call started with the flag up fails at once. The library only reads
 * the flag; the host resets it. A signal that interrupts the wait is noticed at once, otherwise
 * within 100 ms.
 *
 * @param flag  borrowed: must stay valid while set; NULL removes it
 */
FASTEPOST_EXTERN(void) fastepost_backup_set_interrupt(fastepost_backup_dir *dir,
                                                      const volatile sig_atomic_t *flag);

/** Release the handle. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_backup_dir_free(fastepost_backup_dir *dir);

/** The absolute directory path. Borrowed: valid until the handle is freed. */
FASTEPOST_EXTERN(const char *) fastepost_backup_dir_path(const fastepost_backup_dir *dir);

/**
 * Use this program for a tool instead of searching for it.
 *
 * @param path  an executable; NULL goes back to searching. Copied.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for an unknown tool; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_set_tool(fastepost_backup_dir *dir,
                                                            fastepost_backup_tool tool,
                                                            const char *path);

/**
 * Report progress of fastepost_backup_create() through the library's common progress callback:
 * `rows` is always 0 and `bytes` the size of the file so far, about every 50 ms while pg_dump
 * runs and once at the end. A non-zero return stops pg_dump, removes the partial file and makes
 * fastepost_backup_create() fail with FASTEPOST_ECANCELED.
 *
 * @param fn       the callback, or NULL for none
 * @param payload  handed to fn; borrowed
 */
FASTEPOST_EXTERN(void) fastepost_backup_set_progress(fastepost_backup_dir *dir,
                                                     fastepost_progress_cb fn, void *payload);

/**
 * Back up the connected database with pg_dump. The output is written under a temporary name,
 * fsynced, given its final name (never replacing a file), mode 0600, and its SHA-256 recorded in
 * `NAME.sha256`. On any failure nothing is left behind.
 *
 * @param name    if not NULL, receives the new file's name (free with fastepost_free())
 * @param dir     the backup directory (created 0700 if missing)
 * @param conn    an open connection: pg_dump connects with the same parameters
 * @param format  FASTEPOST_BACKUP_PLAIN or FASTEPOST_BACKUP_CUSTOM
 * @param table   NULL for the whole database, or one table (`name` or `schema.name`), which must
 *                exist: then only its rows are dumped (`--data-only`), into a table backup
 * @return FASTEPOST_OK; FASTEPOST_ENOTFOUND when pg_dump or the table is not found;
 *         FASTEPOST_EVERSION when the only pg_dump is older than the server;
 *         FASTEPOST_EEXTERNAL when pg_dump fails (its error output is in the message);
 *         FASTEPOST_EIO; FASTEPOST_ECANCELED when the progress callback or the interrupt flag
 *         stopped it; FASTEPOST_ETIMEOUT past the deadline; FASTEPOST_EINVALID for an untrusted
 *         directory
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_create(char **name, fastepost_backup_dir *dir,
                                                          fastepost_conn *conn,
                                                          fastepost_backup_format format,
                                                          const char *table);

/**
 * The backups in the directory, newest first (by the time in the name). Files whose names do
 * not follow the pattern, symbolic links and directories are left out. A directory that does not
 * exist yet has no backups.
 *
 * @param out    receives an array (free with fastepost_free()); NULL when there are none
 * @param count  receives the number of entries
 * @param limit  at most this many; 0 or less for all
 * @return FASTEPOST_OK; FASTEPOST_EIO when the directory cannot be read; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_list(fastepost_backup_info **out, size_t *count,
                                                        fastepost_backup_dir *dir, int limit);

/**
 * The absolute path of a backup, for a host that serves the file itself. Only a name that
 * fastepost_backup_list() would show is accepted: `../x`, absolute paths, symbolic links,
 * directories and other files are refused.
 *
 * @param out   receives the path (free with fastepost_free())
 * @param name  a backup name such as `backup_20260101_120000.sql`
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a name that is not a backup name;
 *         FASTEPOST_ENOTFOUND when there is no such backup (or it is not a regular file)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_path(char **out, fastepost_backup_dir *dir,
                                                        const char *name);

/**
 * Open a backup for reading (download), with the same checks as fastepost_backup_path(), done on
 * the opened file itself (no symbolic link is followed).
 *
 * @param fd    receives a read-only file descriptor, to close() by the caller; -1 on failure
 * @param size  if not NULL, receives the file size
 * @param name  a backup name
 * @return FASTEPOST_OK; FASTEPOST_EINVALID; FASTEPOST_ENOTFOUND; FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_open(int *fd, int64_t *size,
                                                        fastepost_backup_dir *dir, const char *name);

/**
 * Check a backup: its owner and mode, its SHA-256 against `NAME.sha256`; that it is complete
 * (plain: pg_dump's last line `-- PostgreSQL database dump complete`; custom: pg_restore can
 * read its table of contents); for plain SQL that it holds nothing psql would run but what
 * pg_dump writes (SQL, COPY data, `\restrict`/`\unrestrict`: any other meta-command such as
 * `\!` is refused); with `deep`, restore it into a scratch database (created on the server of
 * `conn` and dropped afterwards; needs the CREATEDB privilege). fastepost_backup_restore() runs
 * the same checks first.
 *
 * @param conn  an open connection; may be NULL unless deep
 * @param name  a backup name
 * @param deep  non-zero for the test restore
 * @return FASTEPOST_OK; FASTEPOST_ENOTFOUND (no such backup, or no checksum recorded);
 *         FASTEPOST_EIO when the checksum differs; FASTEPOST_EPARSE when a plain file is
 *         incomplete or holds something pg_dump does not write (the message has the line);
 *         FASTEPOST_EEXTERNAL when pg_restore or the test restore fails (with its error output);
 *         FASTEPOST_EINVALID (untrusted directory or file); FASTEPOST_ETIMEOUT,
 *         FASTEPOST_ECANCELED; FASTEPOST_EVERSION, FASTEPOST_EDB
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_verify(fastepost_backup_dir *dir,
                                                          fastepost_conn *conn, const char *name,
                                                          int deep);

/**
 * Delete old backups (and their checksum files). `keep` protects the newest N of each kind (N
 * full backups, and N table backups: a table backup never stands in for a full one);
 * `older_than_days` selects those started more than D days ago. With both, a backup is removed
 * only when it is neither among the newest N nor younger than D days, so a stalled backup job
 * never loses the last N. With only one, that rule alone decides. Temporary `.partial-*` files older than a
 * day (left by a backup process that was killed) are removed too.
 *
 * @param removed        if not NULL, receives the removed backups, newest first (free with
 *                       fastepost_free(); NULL when none)
 * @param count          if not NULL, receives how many were removed
 * @param keep           how many of the newest of each kind to keep, at least 1; negative for
 *                       no such rule (0 is refused: deleting every backup is
 *                       fastepost_backup_prune_all())
 * @param older_than_days remove those older than this many days; negative for no such rule
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when neither rule is given or keep is 0;
 *         FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_prune(fastepost_backup_info **removed,
                                                         size_t *count, fastepost_backup_dir *dir,
                                                         int keep, int older_than_days);

/**
 * Delete every backup (and checksum file) in the directory: the explicit form of "keep none".
 *
 * @param removed  as for fastepost_backup_prune()
 * @param count    as for fastepost_backup_prune()
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (untrusted directory); FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_prune_all(fastepost_backup_info **removed,
                                                             size_t *count,
                                                             fastepost_backup_dir *dir);

/**
 * Restore a backup into a database, all or nothing, and only one that verifies: the checks of
 * fastepost_backup_verify() (without `deep`) run first, on the very file descriptor that is then
 * fed to the program, and a failure sends nothing to the target. Plain backups run with
 * `psql -X -v ON_ERROR_STOP=1 --single-transaction`, custom ones with
 * `pg_restore --single-transaction --exit-on-error`. On the first error everything is rolled
 * back. The target is opened like every connection of the library (fastepost_conn_open(): its
 * connect timeout and session set-up); the program gets `PGCONNECT_TIMEOUT` and, when the
 * target is the server itself rather than a pooler (its `port` setting is the port connected
 * to), `PGOPTIONS` with `lock_timeout` and `statement_timeout` (PgBouncer refuses startup
 * options; the program's deadline bounds it either way). A full backup goes into an empty
 * database (objects that already exist are an error); a table backup into one that has the
 * table.
 *
 * @param conn    an open connection; the target must not be its database unless `force`
 * @param name    a backup name
 * @param target  a libpq connection string or URL naming the target database
 * @param force   non-zero to allow restoring into the connected database
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (no target, or the connected database without force);
 *         FASTEPOST_ENOTFOUND; FASTEPOST_ECONN when the target cannot be reached;
 *         FASTEPOST_EEXTERNAL when psql / pg_restore fails (its error output is in the message);
 *         FASTEPOST_EIO / FASTEPOST_EPARSE when the backup does not verify (nothing was sent);
 *         FASTEPOST_ETIMEOUT, FASTEPOST_ECANCELED; FASTEPOST_EVERSION
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_restore(fastepost_backup_dir *dir,
                                                           fastepost_conn *conn, const char *name,
                                                           const char *target, int force);

FASTEPOST_END_DECLS

#endif
