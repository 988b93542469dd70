/* PostgreSQL client programs run for a connection: see pgtool.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "pgtool.h"

static int collect_version(void *payload, const char *data, size_t len) {
  fastepost__buf *buf = payload;
  if (buf->len < 512)
    fastepost__buf_append(buf, data, len);
  return 0;
}

int fastepost__pgtool_major(int *major, const char *program) {
  *major = 0;
  const char *argv[] = {program, "--version", NULL};
  fastepost__buf out = FASTEPOST__BUF_INIT;
  fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1,
                       .on_stdout = collect_version, .payload = &out};
  int rc = fastepost__proc_run(&p);
  if (!rc && (p.exit_code != 0 || p.signal)) {
    char how[96];
    fastepost__proc_describe(&p, how, sizeof how);
    rc = fastepost__error_set(FASTEPOST_EEXTERNAL, "%s --version %s", program, how);
  }
  if (!rc) {
    /* "pg_dump (PostgreSQL) 15.4 (Debian ...)": the number after the parenthesis, else the
     * first number. */
    const char *s = fastepost__buf_cstr(&out);
    const char *v = strstr(s, ") ");
    v = v ? v + 2 : s;
    while (*v && (*v < '0' || *v > '9'))
      v++;
    *major = atoi(v);
  }
  fastepost__proc_cleanup(&p);
  fastepost__buf_free(&out);
  return rc;
}

static bool is_executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Debian's /usr/bin/pg_dump is pg_wrapper, which picks a version per cluster on its own. */
static bool is_pg_wrapper(const char *path) {
  char target[PATH_MAX];
  ssize_t n = readlink(path, target, sizeof target - 1); /* realpath() is not POSIX.1 base */
  if (n <= 0)
    return false;
  target[n] = '\0';
  const char *base = strrchr(target, '/');
  return strcmp(base ? base + 1 : target, "pg_wrapper") == 0;
}

static int by_number_desc(const void *a, const void *b) {
  double x = atof(*(char *const *)a), y = atof(*(char *const *)b);
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Append "<dir>/<program>" for every N in libroot/N/bin, highest N first. */
static void add_libroot(fastepost__buf *cands, const char *libroot, const char *program) {
  DIR *d = libroot ? opendir(libroot) : NULL;
  if (!d)
    return;
  char *names[64];
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL && n < 64)
    if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
      names[n++] = fastepost__strdup(de->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], by_number_desc);
  for (int i = 0; i < n; i++) {
    if (names[i])
      fastepost__buf_printf(cands, "%s/%s/bin/%s%c", libroot, names[i], program, '\n');
    free(names[i]);
  }
}

/* Debian's layout names the major version: <libroot>/15/bin/pg_dump is PostgreSQL 15. Reading
 * it from the path saves starting the program (a noticeable part of a small backup). 0 when the
 * path is not of that form. */
static int major_from_path(const char *path, const char *libroot) {
  size_t n = libroot ? strlen(libroot) : 0;
  if (!n || strncmp(path, libroot, n) != 0 || path[n] != '/')
    return 0;
  const char *p = path + n + 1;
  int major = 0;
  for (; *p >= '0' && *p <= '9'; p++)
    major = major * 10 + (*p - '0');
  return strncmp(p, "/bin/", 5) == 0 && !strchr(p + 5, '/') ? major : 0;
}

int fastepost__pgtool_find_in(char **out, const char *program, const char *explicit_path,
                                const char *env_path, const char *search_path, const char *libroot,
                                int need_major) {
  *out = NULL;
  /* Candidates, one per line. An explicit choice is the only candidate: no silent fallback. */
  fastepost__buf cands = FASTEPOST__BUF_INIT, wrappers = FASTEPOST__BUF_INIT;
  const char *chosen = explicit_path && *explicit_path ? explicit_path
                       : env_path && *env_path        ? env_path
                                                      : NULL;
  if (chosen) {
    fastepost__buf_printf(&cands, "%s\n", chosen);
  } else {
    for (const char *p = search_path ? search_path : ""; *p;) {
      size_t n = strcspn(p, ":");
      if (n) {
        fastepost__buf c = FASTEPOST__BUF_INIT;
        fastepost__buf_printf(&c, "%.*s/%s", (int)n, p, program);
        if (c.data && is_executable(c.data))
          fastepost__buf_printf(is_pg_wrapper(c.data) ? &wrappers : &cands, "%s\n", c.data);
        fastepost__buf_free(&c);
      }
      p += n + (p[n] == ':');
    }
    add_libroot(&cands, libroot, program);
    fastepost__buf_puts(&cands, fastepost__buf_cstr(&wrappers));
  }
  fastepost__buf_free(&wrappers);
  if (cands.oom) {
    fastepost__buf_free(&cands);
    return fastepost__error_oom();
  }

  fastepost__buf too_old = FASTEPOST__BUF_INIT;
  int rc = FASTEPOST_ENOTFOUND;
  bool reported = false;
  char *list = cands.data;
  for (char *line = list; line && *line && rc != FASTEPOST_OK;) {
    char *nl = strchr(line, '\n');
    *nl = '\0';
    if (is_executable(line)) {
      int major = major_from_path(line, libroot);
      if (major > 0 || fastepost__pgtool_major(&major, line) == FASTEPOST_OK) {
        if (major >= need_major) {
          *out = fastepost__strdup(line);
          rc = *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
        } else {
          fastepost__buf_printf(&too_old, "%s%s (%d)", too_old.len ? ", " : "", line, major);
        }
      }
    } else if (chosen) {
      rc = fastepost__error_set(FASTEPOST_ENOTFOUND, "%s not found: %s is not an executable file",
                                program, line);
      reported = true;
      break;
    }
    line = nl + 1;
  }
  char envname[64] = "FASTEPOST_";
  for (size_t i = 0; program[i] && i + 11 < sizeof envname; i++)
    envname[10 + i] = (char)(program[i] >= 'a' && program[i] <= 'z' ? program[i] - 32 : program[i]);
  if (reported)
    ;
  else if (rc == FASTEPOST_ENOTFOUND && too_old.len)
    rc = fastepost__error_set(FASTEPOST_EVERSION,
                              "%s is too old for the PostgreSQL %d server: found only %s; install "
                              "the PostgreSQL %d client (or newer)%s%s",
                              program, need_major, fastepost__buf_cstr(&too_old), need_major,
                              chosen ? "" : " or set ", chosen ? "" : envname);
  else if (rc == FASTEPOST_ENOTFOUND && !chosen)
    rc = fastepost__error_set(FASTEPOST_ENOTFOUND,
                              "%s not found in PATH or %s/*/bin; install the PostgreSQL client "
                              "or set %s",
                              program, libroot ? libroot : "/usr/lib/postgresql", envname);
  else if (rc == FASTEPOST_ENOTFOUND)
    rc = fastepost__error_set(FASTEPOST_ENOTFOUND, "%s not found: %s does not run", program, chosen);
  fastepost__buf_free(&too_old);
  fastepost__buf_free(&cands);
  return rc;
}

/* ---- connection parameters for the child ------------------------------------------------------ */

static void conninfo_value(fastepost__buf *buf, const char *key, const char *val) {
  fastepost__buf_printf(buf, "%s%s='", buf->len ? " " : "", key);
  for (const char *p = val; *p; p++) {
    if (*p == '\'' || *p == '\\')
      fastepost__buf_putc(buf, '\\');
    fastepost__buf_putc(buf, *p);
  }
  fastepost__buf_putc(buf, '\'');
}

/*
 * The parameters of a live connection as a conninfo string for pg_dump & co., without the
 * password (that goes into the environment). Host, port and user are always written; other
 * values only when they differ from libpq's defaults, so that an older tool never meets a
 * keyword it does not know (the child inherits our environment, hence the same defaults).
 */
static int child_conninfo(char **out, PGconn *pg, const char *dbname) {
  *out = NULL;
  PQconninfoOption *opts = PQconninfo(pg);
  PQconninfoOption *defs = PQconndefaults();
  if (!opts || !defs) {
    PQconninfoFree(opts);
    PQconninfoFree(defs);
    return fastepost__error_oom();
  }
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  conninfo_value(&buf, "dbname", dbname ? dbname : PQdb(pg));
  for (PQconninfoOption *o = opts; o->keyword; o++) {
    if (!o->val || !*o->val || strcmp(o->keyword, "dbname") == 0 ||
        strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "client_encoding") == 0 ||
        strcmp(o->keyword, "fallback_application_name") == 0)
      continue;
    const char *def = NULL;
    for (PQconninfoOption *d = defs; d->keyword; d++)
      if (strcmp(d->keyword, o->keyword) == 0)
        def = d->val;
    /* Where and as whom are always spelled out; the rest only when not libpq's default. */
    bool always = strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0 ||
                  strcmp(o->keyword, "port") == 0 || strcmp(o->keyword, "user") == 0;
    if (!always && def && strcmp(def, o->val) == 0)
      continue;
    conninfo_value(&buf, o->keyword, o->val);
  }
  conninfo_value(&buf, "fallback_application_name", "libfastepost");
  PQconninfoFree(opts);
  PQconninfoFree(defs);
  *out = fastepost__buf_detach(&buf);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

/* "PGPASSWORD=..." for the child, or NULL when the connection used no password. */
static int child_password_env(char **out, PGconn *pg) {
  *out = NULL;
  const char *pass = PQpass(pg);
  if (!pass || !*pass)
    return FASTEPOST_OK;
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&buf, "PGPASSWORD=%s", pass);
  *out = fastepost__buf_detach(&buf);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

static void free_secret(char *s) {
  if (s) {
    volatile char *p = s;
    while (*p)
      *p++ = '\0';
  }
  free(s);
}

int fastepost__pgtool_run(fastepost__proc *p, PGconn *pg, const char *dbname, const char **argv) {
  char *conninfo = NULL, *pass = NULL;
  int rc = child_conninfo(&conninfo, pg, dbname);
  if (!rc)
    rc = child_password_env(&pass, pg);
  fastepost__buf dbarg = FASTEPOST__BUF_INIT;
  if (!rc) {
    fastepost__buf_printf(&dbarg, "--dbname=%s", conninfo);
    if (dbarg.oom)
      rc = fastepost__error_oom();
  }
  if (!rc) {
    argv[1] = dbarg.data;
    const char *env[] = {pass, NULL};
    /* Without a password of ours, do not let an inherited one leak to another server. */
    const char *remove[] = {"PGPASSWORD", NULL};
    p->argv = argv;
    p->env = pass ? env : NULL;
    p->env_remove = pass ? NULL : remove;
    rc = fastepost__proc_run(p);
    argv[1] = NULL;
    if (!rc && (p->exit_code != 0 || p->signal)) {
      char how[96];
      fastepost__proc_describe(p, how, sizeof how);
      rc = fastepost__error_set(FASTEPOST_EEXTERNAL, "%s %s%s%s", argv[0], how,
                                p->err && *p->err ? ": " : "", p->err ? p->err : "");
    }
  }
  fastepost__buf_free(&dbarg);
  free(conninfo);
  free_secret(pass);
  return rc;
}

int fastepost__pgtool_find(char **out, const char *program, const char *explicit_path,
                           const char *envname, int server_version) {
  int need = server_version >= 100000 ? server_version / 10000 : 0;
  return fastepost__pgtool_find_in(out, program, explicit_path, envname ? getenv(envname) : NULL,
                                   getenv("PATH"), "/usr/lib/postgresql", need);
}
