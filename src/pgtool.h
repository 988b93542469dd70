/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL client programs (pg_dump, pg_restore, psql) run on behalf of a connection: finding
 * one new enough for the server, and running it with the connection's parameters. Secret options
 * (libpq's dispchar '*') never travel in the argument list: the password in PGPASSWORD, the
 * others in a 0600 service file of a private 0700 directory (PGSERVICEFILE), removed after.
 * Used by backup.c and export.c (the sql format).
 */
#ifndef FASTEPOST_PGTOOL_H
#define FASTEPOST_PGTOOL_H

#include <libpq-fe.h>

#include "util/proc.h"

/* Run `program --version`; *major receives the major version (15 for "15.4", 9 for "9.6.3"),
 * 0 when the output has no version. FASTEPOST_EEXTERNAL when it cannot be run or fails. */
int fastepost__pgtool_major(int *major, const char *program);

/* The search path used when the caller set none: the server's major-version directory (when
 * need_major > 0), then the usual system directories. */
#define FASTEPOST__PGTOOL_DEFAULT_DIRS "/usr/local/bin:/usr/bin:/bin"
#define FASTEPOST__PGTOOL_LIBROOT "/usr/lib/postgresql"

/*
 * Find a PostgreSQL client program. Candidates in order: `explicit_path` (if set, the only
 * candidate), every directory of `search_path` (':'-separated; NULL or "": `libroot`/<need_major>/bin
 * then FASTEPOST__PGTOOL_DEFAULT_DIRS), then `libroot`/N/bin for each N, highest first; a Debian
 * pg_wrapper found in the directories comes last. The first candidate whose major version is
 * at least `need_major` wins (0: any). Nothing is read from the environment. *out receives a
 * malloc'd path. FASTEPOST_ENOTFOUND when there is none, FASTEPOST_EVERSION when only older ones
 * exist (the message names them).
 */
int fastepost__pgtool_find_in(char **out, const char *program, const char *explicit_path,
                              const char *search_path, const char *libroot, int need_major);

/* The usual search for a connection's server (server_version as PQserverVersion(), 0 when
 * unknown): fastepost__pgtool_find_in() under FASTEPOST__PGTOOL_LIBROOT, major >= the server's. */
int fastepost__pgtool_find(char **out, const char *program, const char *explicit_path,
                           const char *search_path, int server_version);

/*
 * Run a PostgreSQL tool with the connection's parameters (host, port, user ...; `dbname` when
 * not NULL, else the connection's database). argv[1] must be a free slot: it is set to
 * "--dbname=<conninfo>" for the run. The other fields of *p (stdin, stdout, callbacks,
 * base_env, env entries such as PGCONNECT_TIMEOUT (at most 16), deadline, stop flag) are the
 * caller's. Secrets other than the password go in a service file of a fresh 0700 directory
 * under /tmp (a fixed place: the library reads no TMPDIR). On a non-zero exit the error (FASTEPOST_EEXTERNAL) has the tool's stderr;
 * FASTEPOST_EINVALID when a secret cannot be passed safely (a line break in it).
 */
int fastepost__pgtool_run(fastepost__proc *p, PGconn *pg, const char *dbname, const char **argv);

#endif
