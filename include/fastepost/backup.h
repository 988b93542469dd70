/* SPDX-License-Identifier: MIT */
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
 * or a private 0600 service file under /tmp, never the command line.
 *
 * No hidden configuration (docs/api.md rule 14): the library reads no environment variable and
 * does not search `PATH`. A tool is the path set with fastepost_backup_dir_set_tool(), else the
 * first one new enough (major version at least the server's) in the directories of
 * fastepost_backup_dir_set_search_path(), by default `/usr/lib/postgresql/<server major>/bin`,
 * then `/usr/local/bin:/usr/bin:/bin`; after those, every `/usr/lib/postgresql/N/bin`, highest
 * N first. Hosts (the CLI, the bindings) pass `FASTEPOST_PG_DUMP` ... and `PATH` on through
 * these setters. The child programs inherit the process environment as it was when the handle
 * was made (fastepost_backup_dir_new()), plus the connection's settings. See docs/backup.md.
 */
#ifndef FASTEPOST_BACKUP_H
#define FASTEPOST_BACKUP_H

#include <signal.h>

#include "common.h"
#include "conn.h"

FASTEPOST_BEGIN_DECLS

/** A backup directory and the settings used on it. Opaque; one thread at a time. */
typedef struct fastepost_backup_dir fastepost_backup_dir;

/** One backup as listed. Opaque: read it with the fastepost_backup_info_*() getters. */
typedef struct fastepost_backup_info fastepost_backup_info;

/** A list of backups (listed, or removed by a prune), newest first. Opaque. */
typedef struct fastepost_backup_list fastepost_backup_list;

/** The file format of a backup. Text forms: "plain", "custom". */
typedef enum fastepost_backup_format {
  FASTEPOST_BACKUP_FORMAT_PLAIN = 0, /**< plain SQL (`.sql`), restored with psql */
  FASTEPOST_BACKUP_FORMAT_CUSTOM = 1 /**< pg_dump's compressed custom format (`.dump`), pg_restore */
} fastepost_backup_format;

/** The external programs a backup directory uses. Text forms: "pg_dump", "pg_restore", "psql". */
typedef enum fastepost_backup_tool {
  FASTEPOST_BACKUP_TOOL_PG_DUMP = 0,
  FASTEPOST_BACKUP_TOOL_PG_RESTORE = 1,
  FASTEPOST_BACKUP_TOOL_PSQL = 2
} fastepost_backup_tool;

/** What a backup holds. Text forms: "full", "table". */
typedef enum fastepost_backup_kind {
  FASTEPOST_BACKUP_KIND_FULL = 0, /**< the whole database */
  FASTEPOST_BACKUP_KIND_TABLE = 1 /**< the rows of one table (data only), restorable into a
                                       database that has the schema */
} fastepost_backup_kind;

/** The longest backup name, with its terminating NUL. */
#define FASTEPOST_BACKUP_NAME_MAX 128

/** "plain" or "custom"; "" for a value out of range. Static, never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_backup_format_name(fastepost_backup_format format);
/**
 * The format of a text form ("plain", "custom").
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for any other text (out untouched)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_format_parse(fastepost_backup_format *out,
                                                                const char *text);
/** "full" or "table"; "" for a value out of range. Static, never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_backup_kind_name(fastepost_backup_kind kind);
/**
 * The kind of a text form ("full", "table").
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for any other text (out untouched)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_kind_parse(fastepost_backup_kind *out,
                                                              const char *text);
/** "pg_dump", "pg_restore" or "psql"; "" for a value out of range. Static, never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_backup_tool_name(fastepost_backup_tool tool);
/**
 * The tool of a program name ("pg_dump", "pg_restore", "psql").
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for any other text (out untouched)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_tool_parse(fastepost_backup_tool *out,
                                                              const char *text);

/**
 * A handle on a backup directory. Nothing is created or opened yet: the directory is made
 * (mode 0700, with missing parents) by the first fastepost_backup_create(). The environment
 * the child programs will inherit is copied now (calls never read `environ`, so they may run
 * while another thread calls setenv()); nothing in it configures the library.
 *
 * @param out   receives the handle, to release with fastepost_backup_dir_free()
 * @param path  the directory, an absolute path (the library has no default and does not
 *              resolve paths against the working directory; a host may use
 *              fastepost_backup_default_dir()). Copied.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when path is NULL, "" or relative; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_dir_new(fastepost_backup_dir **out,
                                                           const char *path);

/**
 * The per-user default backup directory of the XDG base directory rules, for hosts whose user
 * gave none, computed from the values the host passes (the library reads no environment):
 * `<state_home>/fastepost/backups` when state_home is absolute, else
 * `<home>/.local/state/fastepost/backups` when home is absolute and not "/". A host that has a
 * variable of its own (the CLI's `FASTEPOST_BACKUP_DIR`) checks it first.
 *
 * @param out         receives the path (free with fastepost_free())
 * @param state_home  the value of `XDG_STATE_HOME`, or NULL
 * @param home        the value of `HOME`, or NULL
 * @return FASTEPOST_OK; FASTEPOST_ENOTFOUND when neither is usable; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_default_dir(char **out, const char *state_home,
                                                               const char *home);

/**
 * Bound the waits of the handle's calls. Each value 0 means its default: 1 hour for each run
 * of pg_dump, pg_restore or psql (past it the program's process group is killed, partial files
 * removed, and the call fails with FASTEPOST_ETIMEOUT); 60 s for `pg_dump --lock-wait-timeout`
 * and the `lock_timeout` of a restore; 10 s for `PGCONNECT_TIMEOUT` of every program (a
 * `connect_timeout` in the connection string wins). Every wait is bounded: there is no "none".
 *
 * @param child_timeout_us      microseconds, at least 1 s (or 0)
 * @param lock_wait_timeout_us  microseconds, at least 1 ms (or 0); used in whole milliseconds
 * @param connect_timeout_us    microseconds, at least 2 s (libpq's minimum; or 0); used in whole
 *                              seconds, rounded up
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a value out of range (nothing is changed)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_dir_set_timeouts(fastepost_backup_dir *dir,
                                                                    int64_t child_timeout_us,
                                                                    int64_t lock_wait_timeout_us,
                                                                    int64_t connect_timeout_us);

/**
 * An interrupt flag for the handle's calls, typically set by the host's SIGINT/SIGTERM handler
 * (`flag = signo;` is async-signal-safe). While a call runs, a non-zero flag stops the child
 * program (its whole process group), removes partial files and makes the call fail with
 * FASTEPOST_ECANCELED; a call started with the flag up fails at once. The library only reads
 * the flag; the host resets it. A signal that interrupts the wait is noticed at once, otherwise
 * within 100 ms.
 *
 * @param flag  borrowed: must stay valid while set; NULL removes it
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when dir is NULL
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_dir_set_interrupt(
    fastepost_backup_dir *dir, const volatile sig_atomic_t *flag);

/** Release the handle. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_backup_dir_free(fastepost_backup_dir *dir);

/** The absolute directory path. Borrowed: valid until the handle is freed; "" for NULL. */
FASTEPOST_EXTERN(const char *) fastepost_backup_dir_path(const fastepost_backup_dir *dir);

/**
 * Use this program for a tool instead of searching for it (the CLI passes `FASTEPOST_PG_DUMP`,
 * `FASTEPOST_PG_RESTORE`, `FASTEPOST_PSQL` here). It is the only candidate: when it does not run
 * or is too old, the call fails rather than fall back to another.
 *
 * @param path  an executable; NULL or "" goes back to searching. Copied.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for an unknown tool; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_dir_set_tool(fastepost_backup_dir *dir,
                                                                fastepost_backup_tool tool,
                                                                const char *path);

/**
 * Where to search for pg_dump, pg_restore and psql: directories separated by ':' (a `PATH`
 * value; the CLI and the bindings pass `PATH`). Default (NULL or ""):
 * `/usr/lib/postgresql/<server major>/bin:/usr/local/bin:/usr/bin:/bin`. After these
 * directories every `/usr/lib/postgresql/N/bin` is tried, highest N first, and Debian's
 * `pg_wrapper` links found in them come last.
 *
 * @param search_path  the directories; copied
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when dir is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_dir_set_search_path(fastepost_backup_dir *dir,
                                                                       const char *search_path);

/**
 * Report progress of fastepost_backup_create() through the library's common progress callback:
 * `rows` is always 0 and `bytes` the size of the file so far, about every 50 ms while pg_dump
 * runs and once at the end. A non-zero return stops pg_dump, removes the partial file and makes
 * fastepost_backup_create() fail with FASTEPOST_ECANCELED.
 *
 * @param fn       the callback, or NULL for none
 * @param payload  handed to fn; borrowed
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when dir is NULL
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_dir_set_progress(fastepost_backup_dir *dir,
                                                                    fastepost_progress_cb fn,
                                                                    void *payload);

/**
 * Back up the connected database with pg_dump. The output is written under a temporary name,
 * fsynced, given its final name (never replacing a file), mode 0600, and its SHA-256 recorded in
 * `NAME.sha256`. On any failure nothing is left behind.
 *
 * @param name    if not NULL, receives the new file's name (free with fastepost_free())
 * @param dir     the backup directory (created 0700 if missing)
 * @param conn    an open connection: pg_dump connects with the same parameters
 * @param format  FASTEPOST_BACKUP_FORMAT_PLAIN or FASTEPOST_BACKUP_FORMAT_CUSTOM
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
 * @param out    receives the list (free with fastepost_backup_list_free()), possibly empty
 * @param limit  at most this many; 0 for all (the default)
 * @return FASTEPOST_OK; FASTEPOST_EIO when the directory cannot be read; FASTEPOST_EINVALID
 *         (untrusted directory); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_dir_list(fastepost_backup_list **out,
                                                            const fastepost_backup_dir *dir,
                                                            size_t limit);

/** How many backups the list holds; 0 for NULL. */
FASTEPOST_EXTERN(size_t) fastepost_backup_list_count(const fastepost_backup_list *list);
/** The i-th backup (0 is the newest). Borrowed: valid until the list is freed; NULL out of
 * range. */
FASTEPOST_EXTERN(const fastepost_backup_info *) fastepost_backup_list_get(
    const fastepost_backup_list *list, size_t i);
/** Release a list and its entries. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_backup_list_free(fastepost_backup_list *list);

/** The file name, e.g. `backup_20260101_120000.sql`. Borrowed, never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_backup_info_name(const fastepost_backup_info *info);
/** The file size in bytes. */
FASTEPOST_EXTERN(uint64_t) fastepost_backup_info_size(const fastepost_backup_info *info);
/** When the backup was started (the time in its name), microseconds since the epoch UTC. */
FASTEPOST_EXTERN(int64_t) fastepost_backup_info_created_us(const fastepost_backup_info *info);
/** The format, from the extension. */
FASTEPOST_EXTERN(fastepost_backup_format) fastepost_backup_info_format(
    const fastepost_backup_info *info);
/** Full, or one table. */
FASTEPOST_EXTERN(fastepost_backup_kind) fastepost_backup_info_kind(
    const fastepost_backup_info *info);
/** For a table backup the table as in the name (`schema.name`, `public.` left out, bytes other
 * than letters, digits, `_ . -` as `_`); "" for a full backup. Borrowed, never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_backup_info_table(const fastepost_backup_info *info);

/**
 * The absolute path of a backup, for a host that serves the file itself. Only a name that
 * fastepost_backup_dir_list() would show is accepted: `../x`, absolute paths, symbolic links,
 * directories and other files are refused.
 *
 * @param out   receives the path (free with fastepost_free())
 * @param name  a backup name such as `backup_20260101_120000.sql`
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a name that is not a backup name;
 *         FASTEPOST_ENOTFOUND when there is no such backup (or it is not a regular file)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_path(char **out, const fastepost_backup_dir *dir,
                                                        const char *name);

/**
 * Open a backup for reading (download), with the same checks as fastepost_backup_path(), done on
 * the opened file itself (no symbolic link is followed).
 *
 * @param fd    receives a read-only file descriptor, to close() by the caller; -1 on failure
 * @param size  if not NULL, receives the file size in bytes
 * @param name  a backup name
 * @return FASTEPOST_OK; FASTEPOST_EINVALID; FASTEPOST_ENOTFOUND; FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_open(int *fd, uint64_t *size,
                                                        const fastepost_backup_dir *dir,
                                                        const char *name);

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
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_verify(const fastepost_backup_dir *dir,
                                                          fastepost_conn *conn, const char *name,
                                                          int deep);

/**
 * Delete old backups (and their checksum files). `keep` protects the newest N of each kind (N
 * full backups, and N table backups: a table backup never stands in for a full one);
 * `older_than_us` selects those started more than that long ago. With both, a backup is removed
 * only when it is neither among the newest N nor younger than the age, so a stalled backup job
 * never loses the last N. With only one, that rule alone decides. Temporary `.partial-*` files
 * older than a day (left by a backup process that was killed) are removed too.
 *
 * @param removed        receives the removed backups, newest first (free with
 *                       fastepost_backup_list_free()); also on a failure part-way, when it then
 *                       holds those removed before the failure (NULL only when nothing could
 *                       be allocated)
 * @param keep           how many of the newest of each kind to keep; 0 for no such rule
 *                       (deleting every backup is fastepost_backup_prune_all())
 * @param older_than_us  remove those started more than this many microseconds ago; 0 for no
 *                       such rule (86400000000 is one day)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when neither rule is given or older_than_us is
 *         negative; FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_prune(fastepost_backup_list **removed,
                                                         fastepost_backup_dir *dir, size_t keep,
                                                         int64_t older_than_us);

/**
 * Delete every backup (and checksum file) in the directory: the explicit form of "keep none".
 *
 * @param removed  as for fastepost_backup_prune()
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (untrusted directory); FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_prune_all(fastepost_backup_list **removed,
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
FASTEPOST_EXTERN(fastepost_status) fastepost_backup_restore(const fastepost_backup_dir *dir,
                                                           fastepost_conn *conn, const char *name,
                                                           const char *target, int force);

FASTEPOST_END_DECLS

#endif
