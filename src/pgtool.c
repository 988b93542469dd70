/* SPDX-License-Identifier: MIT */
/* PostgreSQL client programs run for a connection: see pgtool.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "internal.h"
#include "pgtool.h"
#include "util/fs.h"

static int collect_version(void *payload, const char *data, size_t len) {
  fastepost__buf *buf = payload;
  if (buf->len < 512)
    fastepost__buf_append(buf, data, len);
  return 0;
}

/* The leading decimal integer of s, bounded; ASCII digits only (atof/atoi would do, but the
 * former follows LC_NUMERIC and neither reports overflow). */
static int leading_int(const char *s) {
  int v = 0;
  for (; fastepost__ascii_isdigit((unsigned char)*s) && v < 100000; s++)
    v = v * 10 + (*s - '0');
  return v;
}

/* `--version` needs no environment: an empty one means no read of environ during a call. */
static const char *const no_env[] = {NULL};

int fastepost__pgtool_major(int *major, const char *program) {
  *major = 0;
  const char *argv[] = {program, "--version", NULL};
  fastepost__buf out = FASTEPOST__BUF_INIT;
  fastepost__proc p = {.argv = argv, .base_env = no_env, .stdin_fd = -1, .stdout_fd = -1,
                       .on_stdout = collect_version, .payload = &out,
                       .timeout_ms = 30000};
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
    while (*v && !fastepost__ascii_isdigit((unsigned char)*v))
      v++;
    *major = leading_int(v);
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
  int x = leading_int(*(char *const *)a), y = leading_int(*(char *const *)b);
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
    if (fastepost__ascii_isdigit((unsigned char)de->d_name[0]))
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

/* "<dir>/<program>" for each directory of a ':'-separated list: executables into cands, Debian
 * pg_wrapper links into wrappers. */
static void add_dirs(fastepost__buf *cands, fastepost__buf *wrappers, const char *dirs,
                     const char *program) {
  for (const char *p = dirs; *p;) {
    size_t n = strcspn(p, ":");
    if (n) {
      fastepost__buf c = FASTEPOST__BUF_INIT;
      fastepost__buf_printf(&c, "%.*s/%s", (int)n, p, program);
      if (c.data && is_executable(c.data))
        fastepost__buf_printf(is_pg_wrapper(c.data) ? wrappers : cands, "%s\n", c.data);
      fastepost__buf_free(&c);
    }
    p += n + (p[n] == ':');
  }
}

int fastepost__pgtool_find_in(char **out, const char *program, const char *explicit_path,
                              const char *search_path, const char *libroot, int need_major) {
  *out = NULL;
  /* Candidates, one per line. An explicit choice is the only candidate: no silent fallback. */
  fastepost__buf cands = FASTEPOST__BUF_INIT, wrappers = FASTEPOST__BUF_INIT;
  const char *chosen = explicit_path && *explicit_path ? explicit_path : NULL;
  if (chosen) {
    fastepost__buf_printf(&cands, "%s\n", chosen);
  } else if (search_path && *search_path) {
    add_dirs(&cands, &wrappers, search_path, program);
  } else {
    fastepost__buf dirs = FASTEPOST__BUF_INIT;
    if (need_major > 0 && libroot)
      fastepost__buf_printf(&dirs, "%s/%d/bin:", libroot, need_major);
    fastepost__buf_puts(&dirs, FASTEPOST__PGTOOL_DEFAULT_DIRS);
    add_dirs(&cands, &wrappers, fastepost__buf_cstr(&dirs), program);
    cands.oom |= dirs.oom;
    fastepost__buf_free(&dirs);
  }
  if (!chosen) {
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
  if (reported)
    ;
  else if (rc == FASTEPOST_ENOTFOUND && too_old.len)
    rc = fastepost__error_set(FASTEPOST_EVERSION,
                              "%s is too old for the PostgreSQL %d server: found only %s; install "
                              "the PostgreSQL %d client (or newer)%s%s",
                              program, need_major, fastepost__buf_cstr(&too_old), need_major,
                              chosen ? "" : " or give the path of a newer ", chosen ? "" : program);
  else if (rc == FASTEPOST_ENOTFOUND && !chosen)
    rc = fastepost__error_set(FASTEPOST_ENOTFOUND,
                              "%s not found in %s or %s/*/bin; install the PostgreSQL client, "
                              "or give its path or a search path",
                              program, search_path && *search_path ? search_path
                                                                   : FASTEPOST__PGTOOL_DEFAULT_DIRS,
                              libroot ? libroot : FASTEPOST__PGTOOL_LIBROOT);
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

/* Whether libpq marks the option secret (dispchar '*': password, sslpassword, and whatever a
 * newer libpq adds); those never go on a command line. */
static bool is_secret(const PQconninfoOption *defs, const char *keyword) {
  for (const PQconninfoOption *d = defs; d && d->keyword; d++)
    if (strcmp(d->keyword, keyword) == 0)
      return d->dispchar && d->dispchar[0] == '*';
  return false;
}

/*
 * The parameters of a live connection as a conninfo string for pg_dump & co., without any secret
 * option (those go into the environment or a service file). Host, port and user are always
 * written; other values only when they differ from libpq's defaults, so that an older tool never
 * meets a keyword it does not know (the child's environment is the handle's snapshot, which gave
 * the same defaults). `service` is left out: its values are already resolved here, and the
 * child's service, if any, is the one holding the secrets.
 */
static int child_conninfo(char **out, PGconn *pg, const PQconninfoOption *opts,
                          const PQconninfoOption *defs, const char *dbname) {
  *out = NULL;
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  conninfo_value(&buf, "dbname", dbname ? dbname : PQdb(pg));
  for (const PQconninfoOption *o = opts; o->keyword; o++) {
    if (!o->val || !*o->val || strcmp(o->keyword, "dbname") == 0 ||
        strcmp(o->keyword, "service") == 0 || is_secret(defs, o->keyword) ||
        strcmp(o->keyword, "client_encoding") == 0 ||
        strcmp(o->keyword, "fallback_application_name") == 0)
      continue;
    const char *def = NULL;
    for (const PQconninfoOption *d = defs; d->keyword; d++)
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

/* The secrets of a run: PGPASSWORD for the password (libpq's own variable); every other secret
 * option (sslpassword has no environment variable) in a 0600 service file inside a 0700
 * directory of our own, named by PGSERVICEFILE/PGSERVICE and removed after the run. */
typedef struct secrets {
  char *env[4];        /* "PGPASSWORD=...", "PGSERVICEFILE=...", "PGSERVICE=fastepost", NULL */
  int n;
  char dir[PATH_MAX - 32]; /* the private directory, "" when none */
  char file[PATH_MAX];
} secrets;

static void secrets_free(secrets *s) {
  for (int i = 0; i < s->n; i++)
    free_secret(s->env[i]);
  s->n = 0;
  if (s->file[0])
    unlink(s->file);
  if (s->dir[0])
    rmdir(s->dir);
  s->file[0] = s->dir[0] = '\0';
}

static int env_entry(secrets *s, const char *name, const char *value) {
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&buf, "%s=%s", name, value);
  if (!(s->env[s->n] = fastepost__buf_detach(&buf)))
    return FASTEPOST_ENOMEM;
  s->n++;
  return FASTEPOST_OK;
}

static int service_file(secrets *s, const fastepost__buf *content) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  snprintf(s->dir, sizeof s->dir, "/tmp/fastepost-pg-XXXXXX");
  if (!mkdtemp(s->dir)) { /* mode 0700 */
    int e = errno;
    s->dir[0] = '\0';
    return fastepost__error_set(FASTEPOST_EIO, "cannot create a private directory for the "
                                "connection's secrets: %s", fastepost__errno_text(e, eb, sizeof eb));
  }
  snprintf(s->file, sizeof s->file, "%s/pg_service.conf", s->dir);
  int fd = open(s->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    s->file[0] = '\0';
    return fastepost__error_set(FASTEPOST_EIO, "cannot write the service file for the "
                                "connection's secrets: %s", fastepost__errno_text(e, eb, sizeof eb));
  }
  if (fastepost__write_all(fd, content->data, content->len) != 0) {
    int e = errno;
    close(fd);
    return fastepost__error_set(FASTEPOST_EIO, "cannot write the service file for the "
                                "connection's secrets: %s", fastepost__errno_text(e, eb, sizeof eb));
  }
  close(fd);
  int rc = env_entry(s, "PGSERVICEFILE", s->file);
  return rc ? rc : env_entry(s, "PGSERVICE", "fastepost");
}

static int child_secrets(secrets *s, const PQconninfoOption *opts, const PQconninfoOption *defs) {
  fastepost__buf service = FASTEPOST__BUF_INIT;
  int rc = FASTEPOST_OK;
  for (const PQconninfoOption *o = opts; o->keyword && !rc; o++) {
    if (!o->val || !*o->val || !is_secret(defs, o->keyword))
      continue;
    if (strcmp(o->keyword, "password") == 0) {
      rc = env_entry(s, "PGPASSWORD", o->val);
      continue;
    }
    /* libpq's service file has no quoting: one line per value, surrounding blanks dropped. */
    size_t len = strlen(o->val);
    if (strpbrk(o->val, "\r\n") || fastepost__ascii_isspace((unsigned char)o->val[0]) ||
        fastepost__ascii_isspace((unsigned char)o->val[len - 1])) {
      rc = fastepost__error_set(FASTEPOST_EINVALID,
                                "the connection's %s has a line break or surrounding blanks; it "
                                "cannot be handed to a PostgreSQL client program safely",
                                o->keyword);
      break;
    }
    fastepost__buf_printf(&service, "%s%s=%s\n", service.len ? "" : "[fastepost]\n", o->keyword,
                          o->val);
  }
  if (!rc && service.oom)
    rc = fastepost__error_oom();
  if (!rc && service.len)
    rc = service_file(s, &service);
  if (service.data) {
    volatile char *p = service.data;
    for (size_t i = 0; i < service.len; i++)
      p[i] = '\0';
  }
  fastepost__buf_free(&service);
  return rc;
}

int fastepost__pgtool_run(fastepost__proc *p, PGconn *pg, const char *dbname, const char **argv) {
  char *conninfo = NULL;
  secrets sec;
  memset(&sec, 0, sizeof sec);
  PQconninfoOption *opts = PQconninfo(pg);
  PQconninfoOption *defs = PQconndefaults();
  int rc = opts && defs ? FASTEPOST_OK : fastepost__error_oom();
  if (!rc)
    rc = child_conninfo(&conninfo, pg, opts, defs, dbname);
  if (!rc)
    rc = child_secrets(&sec, opts, defs);
  /* PQconninfo copies values, the password among them. */
  for (PQconninfoOption *o = opts; o && o->keyword; o++)
    if (o->val && is_secret(defs, o->keyword))
      for (volatile char *c = o->val; *c; c++)
        *c = '\0';
  PQconninfoFree(opts);
  PQconninfoFree(defs);
  fastepost__buf dbarg = FASTEPOST__BUF_INIT;
  if (!rc) {
    fastepost__buf_printf(&dbarg, "--dbname=%s", conninfo);
    if (dbarg.oom)
      rc = fastepost__error_oom();
  }
  /* The caller's entries (PGCONNECT_TIMEOUT, PGOPTIONS ...) plus the secrets. */
  const char *env[24];
  size_t k = 0;
  for (const char *const *e = p->env; e && *e && k < 16; e++)
    env[k++] = *e;
  for (int i = 0; i < sec.n; i++)
    env[k++] = sec.env[i];
  env[k] = NULL;
  const char *const *caller_env = p->env, *const *caller_remove = p->env_remove;
  if (!rc) {
    argv[1] = dbarg.data;
    /* Without a password of ours, do not let an inherited one leak to another server. */
    const char *remove[] = {"PGPASSWORD", NULL};
    bool has_pass = false;
    for (int i = 0; i < sec.n; i++)
      has_pass |= strncmp(sec.env[i], "PGPASSWORD=", 11) == 0;
    p->argv = argv;
    p->env = env;
    p->env_remove = has_pass ? caller_remove : remove;
    rc = fastepost__proc_run(p);
    argv[1] = NULL;
    p->env = caller_env;
    p->env_remove = caller_remove;
    if (!rc && (p->exit_code != 0 || p->signal)) {
      char how[96];
      fastepost__proc_describe(p, how, sizeof how);
      rc = fastepost__error_set(FASTEPOST_EEXTERNAL, "%s %s%s%s", argv[0], how,
                                p->err && *p->err ? ": " : "", p->err ? p->err : "");
    }
  }
  fastepost__buf_free(&dbarg);
  free(conninfo);
  secrets_free(&sec);
  return rc;
}

int fastepost__pgtool_find(char **out, const char *program, const char *explicit_path,
                           const char *search_path, int server_version) {
  int need = server_version >= 100000 ? server_version / 10000 : 0;
  return fastepost__pgtool_find_in(out, program, explicit_path, search_path,
                                   FASTEPOST__PGTOOL_LIBROOT, need);
}
