/* SPDX-License-Identifier: MIT */
/* Restoring a backup with psql (plain) or pg_restore (custom), all or nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/backup_int.h"
#include "pgtool.h"

/* Whether pg reaches the server itself rather than a pooler: PgBouncer answers `port` with the
 * server's setting, which is not the port we connected to (nor is it behind a port mapping;
 * then no startup options are sent either, which only loses the server-side timeouts). */
static bool direct_connection(PGconn *pg) {
  PGresult *r = PQexec(pg, "SELECT current_setting('port')");
  const char *port = PQport(pg);
  bool direct = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                strcmp(PQgetvalue(r, 0, 0), port && *port ? port : "5432") == 0;
  PQclear(r);
  return direct;
}

int fastepost__backup_restore_fd(const fastepost_backup_dir *dir, PGconn *pg, const char *dbname,
                                 int fd, fastepost_backup_format format) {
  bool plain = format == FASTEPOST_BACKUP_FORMAT_PLAIN;
  char *tool = NULL;
  int rc = fastepost__backup_find_tool(
      &tool, dir, plain ? FASTEPOST_BACKUP_TOOL_PSQL : FASTEPOST_BACKUP_TOOL_PG_RESTORE,
      PQserverVersion(pg));
  if (rc)
    return rc;
  if (lseek(fd, 0, SEEK_SET) != 0) {
    free(tool);
    return fastepost__error_set(FASTEPOST_EIO, "cannot rewind the backup: %s",
                                FASTEPOST__ERRNO_TEXT());
  }
  /* The file goes in as stdin: the tool never opens a path that could have changed. */
  const char *psql_argv[] = {tool, NULL, "--no-password", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                             "--single-transaction", "-f", "-", NULL};
  const char *restore_argv[] = {tool, NULL, "--no-password", "--single-transaction",
                                "--exit-on-error", NULL};
  /* The handle's connect timeout; on a direct connection also the session's lock and statement
   * timeouts (a pooler refuses startup options). */
  char ct[48], opts[128];
  snprintf(ct, sizeof ct, "PGCONNECT_TIMEOUT=%d", dir->connect_timeout_s);
  snprintf(opts, sizeof opts, "PGOPTIONS=-c lock_timeout=%lld -c statement_timeout=%lld",
           (long long)dir->lock_wait_timeout_ms, (long long)(dir->child_timeout_us / 1000));
  const char *env[] = {ct, direct_connection(pg) ? opts : NULL, NULL};
  fastepost__proc p = {.base_env = (const char *const *)dir->child_env, .env = env,
                       .stdin_fd = fd, .stdout_fd = -1,
                       .timeout_ms = dir->child_timeout_us / 1000, .stop_flag = dir->stop_flag};
  rc = fastepost__pgtool_run(&p, pg, dbname, plain ? psql_argv : restore_argv);
  fastepost__proc_cleanup(&p);
  free(tool);
  return rc;
}

/* Whether two connections reach the same database: same server (postmaster start time) and
 * same database oid. Host names cannot tell (a socket and localhost may be one server). */
static int same_database(bool *same, PGconn *a, PGconn *b) {
  const char *sql = "SELECT pg_postmaster_start_time()::text || '/' || d.oid::text "
                    "FROM pg_database d WHERE d.datname = current_database()";
  PGresult *ra = PQexec(a, sql), *rb = PQexec(b, sql);
  int rc = FASTEPOST_OK;
  if (PQresultStatus(ra) != PGRES_TUPLES_OK || PQresultStatus(rb) != PGRES_TUPLES_OK ||
      PQntuples(ra) != 1 || PQntuples(rb) != 1)
    rc = fastepost__error_set(FASTEPOST_EDB, "cannot identify the target database: %s",
                              PQerrorMessage(PQresultStatus(ra) != PGRES_TUPLES_OK ? a : b));
  else
    *same = strcmp(PQgetvalue(ra, 0, 0), PQgetvalue(rb, 0, 0)) == 0;
  PQclear(ra);
  PQclear(rb);
  return rc;
}

/* The backup opened and checked: a bad backup touches nothing, the target is not even opened. */
static int open_checked(int *fd, fastepost_backup_format *format, const fastepost_backup_dir *dir,
                        const char *name, int server_version) {
  int dirfd;
  *fd = -1;
  int rc = fastepost__backup_open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  *format = FASTEPOST_BACKUP_FORMAT_PLAIN;
  fastepost__backup_parse_name(name, NULL, NULL, format);
  rc = fastepost__backup_open_file(fd, NULL, dirfd, dir->path, name);
  if (!rc) {
    rc = fastepost__backup_check(dir, dirfd, *fd, name, *format, server_version);
    if (rc && rc != FASTEPOST_ENOMEM)
      fastepost__error_prefix("refusing to restore %s, which does not verify (nothing was sent "
                              "to the target)", name);
  }
  if (dirfd >= 0)
    close(dirfd);
  if (rc && *fd >= 0) {
    close(*fd);
    *fd = -1;
  }
  return rc;
}

fastepost_status fastepost_backup_restore(const fastepost_backup_dir *dir, fastepost_conn *conn,
                                          const char *name, const char *target, int force) {
  if (!target || !*target)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "restore needs a target database (a connection string)");
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  int fd;
  fastepost_backup_format format;
  int rc = open_checked(&fd, &format, dir, name, PQserverVersion(pg));
  if (rc)
    return rc;
  /* The same session set-up as every connection of the library (timeouts and all). */
  fastepost_conn *tconn = NULL;
  PGconn *tpg = NULL;
  rc = fastepost_conn_open(&tconn, target);
  if (rc)
    fastepost__error_prefix("cannot connect to the restore target");
  else if (!(tpg = fastepost__conn_pg(tconn)))
    rc = fastepost_error_last()->code;
  bool same = false;
  if (!rc)
    rc = same_database(&same, pg, tpg);
  if (!rc && same && !force)
    rc = fastepost__error_set(FASTEPOST_EINVALID,
                              "the restore target is the connected database %s; restore into "
                              "another database, or force it",
                              PQdb(pg));
  if (!rc) {
    rc = fastepost__backup_restore_fd(dir, tpg, PQdb(tpg), fd, format);
    if (rc && rc != FASTEPOST_ENOMEM)
      fastepost__error_prefix("restoring %s into %s (nothing was changed)", name, PQdb(tpg));
  }
  fastepost_conn_free(tconn);
  close(fd);
  return rc;
}
