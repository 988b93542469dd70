/* SPDX-License-Identifier: MIT */
/* fastepost backup create | list | path | verify | prune | restore */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "cli.h"
#include "cmd_backup.h"
#include "stats_common.h"

/* path made absolute against the working directory (the library takes absolute paths only);
 * when the working directory is unknown, path as given, which the library then refuses. */
fastepost_status cli_backup_absolute(char **out, const char *path) {
  char cwd[PATH_MAX];
  size_t n = strlen(path) + 1;
  bool rel = path[0] != '/' && getcwd(cwd, sizeof cwd);
  if (rel)
    n += strlen(cwd) + 1;
  if (!(*out = malloc(n)))
    return FASTEPOST_ENOMEM;
  if (rel)
    snprintf(*out, n, "%s/%s", cwd, path);
  else
    memcpy(*out, path, n);
  return FASTEPOST_OK;
}

void cli_time_utc(char *out, size_t outsize, int64_t t, bool iso) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, outsize, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm);
}

fastepost_status cli_backup_default_dir(char **out) {
  const char *v = getenv("FASTEPOST_BACKUP_DIR");
  if (v && *v) {
    *out = NULL;
    return cli_backup_absolute(out, v);
  }
  return fastepost_backup_default_dir(out, getenv("XDG_STATE_HOME"), getenv("HOME"));
}

fastepost_status cli_backup_dir_new(fastepost_backup_dir **out, const char *path) {
  *out = NULL;
  char *abs = NULL;
  fastepost_status st = path && *path ? cli_backup_absolute(&abs, path) : cli_backup_default_dir(&abs);
  if (st == FASTEPOST_OK)
    st = fastepost_backup_dir_new(out, abs);
  free(abs); /* cli_backup_absolute() or the library: both malloc */
  /* The client programs: FASTEPOST_PG_DUMP ... and PATH, which the library does not read. */
  static const char *const vars[] = {"FASTEPOST_PG_DUMP", "FASTEPOST_PG_RESTORE", "FASTEPOST_PSQL"};
  static const fastepost_backup_tool tools[] = {FASTEPOST_BACKUP_TOOL_PG_DUMP,
                                                FASTEPOST_BACKUP_TOOL_PG_RESTORE,
                                                FASTEPOST_BACKUP_TOOL_PSQL};
  for (int i = 0; i < 3 && st == FASTEPOST_OK; i++)
    st = fastepost_backup_dir_set_tool(*out, tools[i], getenv(vars[i]));
  if (st == FASTEPOST_OK)
    st = fastepost_backup_dir_set_search_path(*out, getenv("PATH"));
  if (st != FASTEPOST_OK) {
    fastepost_backup_dir_free(*out);
    *out = NULL;
  }
  return st;
}

/* --dir, else the per-user default: never /tmp or the working directory. */
static int open_dir(cli_ctx *ctx, fastepost_backup_dir **dir, const char *path) {
  if (cli_backup_dir_new(dir, path) == FASTEPOST_OK)
    return CLI_OK;
  bool no_default = (!path || !*path) && fastepost_error_last()->code == FASTEPOST_ENOTFOUND;
  return cli_fail(ctx, no_default ? "backup directory (give --dir, or set FASTEPOST_BACKUP_DIR, "
                                    "XDG_STATE_HOME or HOME)"
                                  : "backup directory");
}

/* SIGINT/SIGTERM during create, verify and restore: the library stops the child program and
 * removes partial files when it sees the flag; we then exit 128 + the signal. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) { interrupted = sig; }

static void catch_interrupts(fastepost_backup_dir *dir) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: the library's wait returns at once */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  fastepost_backup_dir_set_interrupt(dir, &interrupted);
}

static int fail_or_interrupted(cli_ctx *ctx, const char *what) {
  int sig = interrupted;
  if (!sig || fastepost_error_last()->code != FASTEPOST_ECANCELED)
    return cli_fail(ctx, what);
  cli_fail(ctx, what);
  fprintf(stderr, "fastepost: interrupted by %s: the child program was stopped and partial "
                  "files removed\n",
          sig == SIGINT ? "SIGINT" : "SIGTERM");
  return 128 + sig;
}

/* One backup: the same keys and types as Python's BackupInfo.to_dict() and Ruby's to_h (name,
 * size_bytes, created_at (ISO 8601) and created_at_us as every time of the --json output, format,
 * kind, table: null for a full backup). */
/* The end of a verify or restore: the handle freed; the failure, or CLI_OK with the JSON object
 * {"status":"ok","name":... begun (the caller ends it). */
static int finish(cli_ctx *ctx, fastepost_backup_dir *dir, fastepost_status st, const char *what,
                  const char *name) {
  fastepost_backup_dir_free(dir);
  if (st != FASTEPOST_OK)
    return fail_or_interrupted(ctx, what);
  if (ctx->json) {
    printf("{\"status\":\"ok\",\"name\":");
    cli_json_string(stdout, name);
  }
  return CLI_OK;
}

static void json_info(const fastepost_backup_info *b) {
  printf("{\"name\":");
  cli_json_string(stdout, fastepost_backup_info_name(b));
  printf(",\"size_bytes\":%llu", (unsigned long long)fastepost_backup_info_size(b));
  cli_stats_json_time("created_at", fastepost_backup_info_created_us(b));
  printf(",\"format\":\"%s\",\"kind\":\"%s\",\"table\":",
         fastepost_backup_format_name(fastepost_backup_info_format(b)),
         fastepost_backup_kind_name(fastepost_backup_info_kind(b)));
  if (fastepost_backup_info_kind(b) == FASTEPOST_BACKUP_KIND_TABLE)
    cli_json_string(stdout, fastepost_backup_info_table(b));
  else
    printf("null");
  putchar('}');
}

static void json_list(const fastepost_backup_list *list) {
  putchar('[');
  for (size_t i = 0; i < fastepost_backup_list_count(list); i++) {
    if (i)
      putchar(',');
    json_info(fastepost_backup_list_get(list, i));
  }
  putchar(']');
}

/* The connection pg_dump reads from: --dump-db, else FASTEPOST_DUMP_DATABASE_URL, else the
 * command's own (--db / DATABASE_URL). Behind a transaction pooler the dump should go to the
 * server directly (or to a replica): pg_dump holds one snapshot for its whole run, which a
 * pooler in transaction mode does not promise. *dump is NULL when it is the command's own. */
static int dump_connection(cli_ctx *ctx, fastepost_conn **dump, const char *dump_db) {
  *dump = NULL;
  if (!dump_db || !*dump_db)
    dump_db = getenv("FASTEPOST_DUMP_DATABASE_URL");
  if (!dump_db || !*dump_db)
    return CLI_OK;
  if (fastepost_conn_open(dump, dump_db) != FASTEPOST_OK)
    return cli_fail(ctx, "backup create: --dump-db");
  return CLI_OK;
}

static int backup_create(cli_ctx *ctx, int argc, char **argv) {
  const char *dir_path = NULL, *format = "plain", *table = NULL, *dump_db = NULL;
  const cli_option opts[] = {{"dir", CLI_STRING, &dir_path},
                             {"format", CLI_STRING, &format},
                             {"table", CLI_STRING, &table},
                             {"dump-db", CLI_STRING, &dump_db},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  fastepost_backup_format fmt;
  if (fastepost_backup_format_parse(&fmt, format) != FASTEPOST_OK)
    return cli_usage_error(ctx, "--format must be plain or custom, not '%s'", format);
  fastepost_conn *dump = NULL;
  if ((rc = dump_connection(ctx, &dump, dump_db)))
    return rc;
  if (!dump && (rc = cli_connect(ctx)))
    return rc;
  fastepost_backup_dir *dir;
  if ((rc = open_dir(ctx, &dir, dir_path))) {
    fastepost_conn_free(dump);
    return rc;
  }
  cli_progress pr;
  cli_progress_init(&pr, ctx);
  fastepost_backup_dir_set_progress(dir, cli_progress_cb, &pr);
  catch_interrupts(dir);
  char *name = NULL;
  int st = fastepost_backup_create(&name, dir, dump ? dump : ctx->conn, fmt, table);
  cli_progress_done(&pr);
  fastepost_conn_free(dump);
  if (st != FASTEPOST_OK) {
    fastepost_backup_dir_free(dir);
    return fail_or_interrupted(ctx, "backup create");
  }
  int fd = -1;
  uint64_t size = 0;
  if (fastepost_backup_open(&fd, &size, dir, name) == FASTEPOST_OK)
    close(fd);
  char pretty[32];
  cli_size_pretty(pretty, sizeof pretty, (long long)size);
  if (ctx->json) {
    printf("{\"status\":\"ok\"");
    cli_json_member(stdout, "name", name);
    cli_json_member(stdout, "dir", fastepost_backup_dir_path(dir));
    printf(",\"size\":%llu}\n", (unsigned long long)size);
  } else {
    printf("Backup created: %s (%s) in %s\n", name, pretty, fastepost_backup_dir_path(dir));
  }
  fastepost_free(name);
  fastepost_backup_dir_free(dir);
  return CLI_OK;
}

/* Parse --dir, the command's other options and the NAME positional (none when name is NULL),
 * then open the directory; shared by list, path, verify, restore. */
static int name_and_dir(cli_ctx *ctx, int argc, char **argv, cli_option *extra, const char **name,
                        fastepost_backup_dir **dir) {
  const char *dir_path = NULL;
  cli_option opts[8] = {{"dir", CLI_STRING, &dir_path}};
  int k = 1;
  for (cli_option *o = extra; o && o->name && k < 7; o++)
    opts[k++] = *o;
  opts[k] = (cli_option){NULL, CLI_FLAG, NULL};
  int rc = cli_parse_name(ctx, argc, argv, opts, name, "which backup? Give its NAME (see 'fastepost backup list')");
  return rc || ctx->help ? rc : open_dir(ctx, dir, dir_path);
}

static int backup_list(cli_ctx *ctx, int argc, char **argv) {
  cli_number limit = {0, 1000000, 10, NULL};
  cli_option extra[] = {{"limit", CLI_NUMBER, &limit}, {NULL, CLI_FLAG, NULL}};
  fastepost_backup_dir *dir = NULL;
  int rc = name_and_dir(ctx, argc, argv, extra, NULL, &dir);
  if (rc || ctx->help)
    return rc;
  fastepost_backup_list *list = NULL;
  if (fastepost_backup_dir_list(&list, dir, (size_t)limit.value) != FASTEPOST_OK) {
    fastepost_backup_dir_free(dir);
    return cli_fail(ctx, "backup list");
  }
  if (ctx->json) {
    printf("{\"dir\":");
    cli_json_string(stdout, fastepost_backup_dir_path(dir));
    printf(",\"backups\":");
    json_list(list);
    printf("}\n");
  } else if (fastepost_backup_list_count(list) == 0) {
    printf("No backups in %s\n", fastepost_backup_dir_path(dir));
  } else {
    size_t n = fastepost_backup_list_count(list);
    int w = 32;
    for (size_t i = 0; i < n; i++)
      if ((int)strlen(fastepost_backup_info_name(fastepost_backup_list_get(list, i))) > w)
        w = (int)strlen(fastepost_backup_info_name(fastepost_backup_list_get(list, i)));
    printf("%-*s %-5s %10s  %s\n", w, "NAME", "KIND", "SIZE", "TIME");
    for (size_t i = 0; i < n; i++) {
      const fastepost_backup_info *b = fastepost_backup_list_get(list, i);
      char size[32], when[32];
      cli_size_pretty(size, sizeof size, (long long)fastepost_backup_info_size(b));
      cli_time_utc(when, sizeof when, fastepost_backup_info_created_us(b) / 1000000, false);
      printf("%-*s %-5s %10s  %s\n", w, fastepost_backup_info_name(b),
             fastepost_backup_kind_name(fastepost_backup_info_kind(b)), size, when);
    }
  }
  fastepost_backup_list_free(list);
  fastepost_backup_dir_free(dir);
  return CLI_OK;
}

static int backup_path(cli_ctx *ctx, int argc, char **argv) {
  const char *name = NULL;
  fastepost_backup_dir *dir = NULL;
  int rc = name_and_dir(ctx, argc, argv, NULL, &name, &dir);
  if (rc || ctx->help)
    return rc;
  char *path = NULL;
  int st = fastepost_backup_path(&path, dir, name);
  fastepost_backup_dir_free(dir);
  if (st != FASTEPOST_OK)
    return cli_fail(ctx, "backup path");
  if (ctx->json) {
    printf("{\"name\":");
    cli_json_string(stdout, name);
    cli_json_member(stdout, "path", path);
    printf("}\n");
  } else {
    printf("%s\n", path);
  }
  fastepost_free(path);
  return CLI_OK;
}

static int backup_verify(cli_ctx *ctx, int argc, char **argv) {
  bool deep = false;
  cli_option extra[] = {{"deep", CLI_FLAG, &deep}, {NULL, CLI_FLAG, NULL}};
  const char *name = NULL;
  fastepost_backup_dir *dir = NULL;
  int rc = name_and_dir(ctx, argc, argv, extra, &name, &dir);
  if (rc || ctx->help)
    return rc;
  /* Only the test restore needs the database. */
  if (deep && (rc = cli_connect(ctx))) {
    fastepost_backup_dir_free(dir);
    return rc;
  }
  catch_interrupts(dir);
  rc = finish(ctx, dir, fastepost_backup_verify(dir, deep ? ctx->conn : NULL, name, deep),
              "backup verify", name);
  if (rc)
    return rc;
  if (ctx->json) {
    printf(",\"deep\":%s}\n", deep ? "true" : "false");
  } else {
    printf("%s: OK (checksum%s%s)\n", name, strstr(name, ".dump") ? ", archive contents" : "",
           deep ? ", test restore" : "");
  }
  return CLI_OK;
}

static int backup_prune(cli_ctx *ctx, int argc, char **argv) {
  const char *dir_path = NULL, *keep_s = NULL, *older_s = NULL;
  bool all = false;
  const cli_option opts[] = {{"dir", CLI_STRING, &dir_path},
                             {"keep", CLI_STRING, &keep_s},
                             {"older-than", CLI_STRING, &older_s},
                             {"all", CLI_FLAG, &all},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  long keep = 0, older = 0;
  if (all && (keep_s || older_s))
    return cli_usage_error(ctx, "--all deletes every backup; it takes no --keep or --older-than");
  if (!all && !keep_s && !older_s)
    return cli_usage_error(ctx, "give --keep N, --older-than DAYS, or both (or --all)");
  if (keep_s && strcmp(keep_s, "0") == 0)
    return cli_usage_error(ctx, "--keep must be at least 1; to delete every backup, use --all");
  if (keep_s && (rc = cli_int(ctx, "keep", keep_s, 1, 1000000, &keep)))
    return rc;
  if (older_s && (rc = cli_int(ctx, "older-than", older_s, 0, 1000000, &older)))
    return rc;
  fastepost_backup_dir *dir;
  if ((rc = open_dir(ctx, &dir, dir_path)))
    return rc;
  fastepost_backup_list *removed = NULL;
  /* --older-than 0 means "every backup started before now": 1 us is the library's nearest. */
  int64_t older_us = older_s ? (older ? (int64_t)older * 86400 * 1000000 : 1) : 0;
  int st = all ? fastepost_backup_prune_all(&removed, dir)
               : fastepost_backup_prune(&removed, dir, (size_t)keep, older_us);
  size_t n = fastepost_backup_list_count(removed);
  if (ctx->json) {
    /* A failure part-way has removed some backups already: one object says both, the error
     * in the fields every --json failure has (cli_json_error) and what is gone. */
    const fastepost_error *e = fastepost_error_last();
    int code = e->code ? e->code : FASTEPOST_ERROR;
    if (st == FASTEPOST_OK) {
      printf("{\"status\":\"ok\",\"http_status\":200,\"removed\":");
    } else {
      printf("{\"status\":\"error\",\"code\":");
      cli_json_string(stdout, fastepost_error_name(code));
      printf(",\"http_status\":%d,\"error\":", fastepost_status_http(code));
      cli_json_string(stdout, *e->message ? e->message : fastepost_strerror(code));
      printf(",\"removed\":");
    }
    json_list(removed);
    printf("}\n");
  } else {
    for (size_t i = 0; i < n; i++)
      printf("removed %s\n", fastepost_backup_info_name(fastepost_backup_list_get(removed, i)));
    if (st == FASTEPOST_OK)
      printf("%zu backup%s removed from %s\n", n, n == 1 ? "" : "s", fastepost_backup_dir_path(dir));
  }
  fastepost_backup_list_free(removed);
  fastepost_backup_dir_free(dir);
  if (st != FASTEPOST_OK) {
    bool json = ctx->json;
    ctx->json = false; /* the JSON object was printed above */
    rc = cli_fail(ctx, "backup prune");
    ctx->json = json;
    return rc;
  }
  return CLI_OK;
}

static int backup_restore(cli_ctx *ctx, int argc, char **argv) {
  const char *target = NULL;
  bool force = false;
  cli_option extra[] = {{"target", CLI_STRING, &target},
                        {"force", CLI_FLAG, &force},
                        {NULL, CLI_FLAG, NULL}};
  const char *name = NULL;
  fastepost_backup_dir *dir = NULL;
  int rc = name_and_dir(ctx, argc, argv, extra, &name, &dir);
  if (rc || ctx->help)
    return rc;
  if (!target || !*target) {
    fastepost_backup_dir_free(dir);
    return cli_usage_error(ctx, "restore needs --target CONNINFO (the database to restore into)");
  }
  if ((rc = cli_connect(ctx))) {
    fastepost_backup_dir_free(dir);
    return rc;
  }
  catch_interrupts(dir);
  rc = finish(ctx, dir, fastepost_backup_restore(dir, ctx->conn, name, target, force),
              "backup restore", name);
  if (rc)
    return rc;
  if (ctx->json) {
    printf("}\n");
  } else {
    printf("Restored %s. Run ANALYZE on the target: backups carry no planner statistics.\n", name);
  }
  return CLI_OK;
}

#define DIR_HELP                                                                                   \
  "  --dir D         the backup directory (default: $FASTEPOST_BACKUP_DIR, else\n"                 \
  "                  $XDG_STATE_HOME/fastepost/backups, else ~/.local/state/fastepost/backups).\n" \
  "                  It must be yours and not writable by others; backups must be 0600.\n"

const cli_command cli_backup_commands[] = {
    {"backup", "create", backup_create, "Back up the database with pg_dump",
     "Usage: fastepost backup create [--dir D] [--format plain|custom] [--table T] [--dump-db CONNINFO]\n"
     "                               [--json]\n"
     "\n"
     "Run pg_dump and store its output as backup_YYYYMMDD_HHMMSS.sql (UTC; .dump for the custom\n"
     "format) with mode 0600, plus NAME.sha256. Written under a temporary name, synced to disk and\n"
     "then renamed: a failed or interrupted backup (SIGINT/SIGTERM: exit 130/143) leaves nothing\n"
     "behind. pg_dump runs with --lock-wait-timeout=60000 and a deadline of 1 hour.\n"
     "\n"
     DIR_HELP
     "  --format F      plain (SQL, default) or custom (compressed, restored with pg_restore)\n"
     "  --table T       back up only this table's rows (name or schema.name), as a table backup\n"
     "                  backup_..._table-NAME.sql: restore it into a database that has the schema\n"
     "  --dump-db C     the server pg_dump reads from (default: FASTEPOST_DUMP_DATABASE_URL, else\n"
     "                  the --db connection). Behind PgBouncer in transaction mode, point it at the\n"
     "                  server itself or a replica: pg_dump needs one session for its snapshot\n"
     "\n"
     "pg_dump is found as $FASTEPOST_PG_DUMP, else in PATH, else the newest\n"
     "/usr/lib/postgresql/N/bin; it must be at least as new as the server. The password is passed\n"
     "in the environment, never on the command line.\n"
     "\n"
     "Example: fastepost backup create --format custom\n"},
    {"backup", "list", backup_list, "List backups, newest first",
     "Usage: fastepost backup list [--dir D] [--limit N] [--json]\n"
     "\n"
     "Show the backups in the directory, newest first, with size and time (UTC). Other files are\n"
     "ignored. Needs no database.\n"
     "\n"
     DIR_HELP
     "  --limit N       show at most N (default 10; 0 for all)\n"},
    {"backup", "path", backup_path, "Print the path of a backup (for download)",
     "Usage: fastepost backup path NAME [--dir D] [--json]\n"
     "\n"
     "Print the absolute path of a backup that 'backup list' shows. Anything else (../x, absolute\n"
     "paths, symbolic links, other files) is refused. Needs no database.\n"
     "\n"
     DIR_HELP},
    {"backup", "verify", backup_verify, "Check a backup's checksum (and contents)",
     "Usage: fastepost backup verify NAME [--deep] [--dir D] [--json]\n"
     "\n"
     "Compare the backup with its recorded SHA-256 and check that it is complete (plain: pg_dump's\n"
     "last line; custom: pg_restore --list reads its table of contents) and, for plain SQL, that\n"
     "it holds no psql meta-command pg_dump does not write (such as \\!). Restore runs the same\n"
     "checks first.\n"
     "\n"
     DIR_HELP
     "  --deep          also restore it into a scratch database, which is dropped afterwards\n"
     "                  (connects to the database; needs the CREATEDB privilege)\n"},
    {"backup", "prune", backup_prune, "Delete old backups",
     "Usage: fastepost backup prune [--keep N] [--older-than DAYS] [--all] [--dir D] [--json]\n"
     "\n"
     "Delete backups (and their .sha256 files). --keep N (at least 1) keeps the newest N full\n"
     "backups and the newest N table backups; --older-than DAYS deletes those started more than\n"
     "DAYS days ago. With both, a backup is deleted only when it is neither among the newest N nor\n"
     "younger than DAYS days. --all deletes every backup. Prints what was removed.\n"
     "\n"
     DIR_HELP
     "\n"
     "Example (cron): fastepost backup prune --keep 7 --older-than 30\n"},
    {"backup", "restore", backup_restore, "Restore a backup into a database (all or nothing)",
     "Usage: fastepost backup restore NAME --target CONNINFO [--force] [--dir D] [--json]\n"
     "\n"
     "Restore into the database CONNINFO names, in one transaction: plain backups with psql\n"
     "(ON_ERROR_STOP, --single-transaction), custom ones with pg_restore --single-transaction.\n"
     "Only a backup that verifies is restored (see 'backup verify'); on the first error nothing is\n"
     "changed. The target is a new, empty database for a full backup, and a database that has the\n"
     "schema for a table backup. SIGINT/SIGTERM stop it (exit 130/143), nothing committed.\n"
     "\n"
     "  --target C      the database to restore into (libpq connection string or URL)\n"
     "  --force         allow the target to be the database of --db (normally refused)\n"
     DIR_HELP
     "\n"
     "Example: createdb app_copy && fastepost backup restore backup_20260101_120000.sql \\\n"
     "           --target 'dbname=app_copy'\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
