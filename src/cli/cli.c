/* SPDX-License-Identifier: MIT */
/* Shared plumbing of the CLI: option parsing, connecting, error output. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int set_option(cli_ctx *ctx, const cli_option *o, const char *value) {
  switch (o->kind) {
  case CLI_FLAG:
    *(bool *)o->target = true;
    return CLI_OK;
  case CLI_STRING:
    *(const char **)o->target = value;
    return CLI_OK;
  case CLI_LIST: {
    cli_list *l = o->target;
    if (l->count >= (int)(sizeof l->items / sizeof l->items[0]))
      return cli_usage_error(ctx, "too many --%s options", o->name);
    l->items[l->count++] = value;
    return CLI_OK;
  }
  case CLI_NUMBER:
    ((cli_number *)o->target)->text = value;
    return CLI_OK;
  }
  return CLI_USAGE;
}

/* The command's context, for the helpers that predate a ctx parameter (cli_read_input): every
 * command calls cli_parse first. */
static cli_ctx *current;

int cli_parse(cli_ctx *ctx, int argc, char **argv, const cli_option *opts, const char **pos,
              int max_pos, int *npos) {
  current = ctx;
  const cli_option globals[] = {{"db", CLI_STRING, &ctx->db},
                                {"json", CLI_FLAG, &ctx->json},
                                {"quiet", CLI_FLAG, &ctx->quiet},
                                {"help", CLI_FLAG, &ctx->help},
                                {NULL, CLI_FLAG, NULL}};
  int n = 0;
  bool options_done = false;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
      if (n >= max_pos)
        return cli_usage_error(ctx, "unexpected argument '%s'", arg);
      pos[n++] = arg;
      continue;
    }
    if (strcmp(arg, "--") == 0) {
      options_done = true;
      continue;
    }
    if (strncmp(arg, "--", 2) != 0)
      return cli_usage_error(ctx, "unknown option '%s'", arg);
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const cli_option *found = NULL;
    for (int set = 0; set < 2 && !found; set++)
      for (const cli_option *o = set ? globals : opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
          found = o;
          break;
        }
    if (!found)
      return cli_usage_error(ctx, "unknown option '--%.*s'", (int)len, name);
    const char *value = NULL;
    if (found->kind == CLI_FLAG) {
      if (eq)
        return cli_usage_error(ctx, "option '--%s' takes no value", found->name);
    } else if (eq) {
      value = eq + 1;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return cli_usage_error(ctx, "option '--%s' needs a value", found->name);
    }
    int rc = set_option(ctx, found, value);
    if (rc)
      return rc;
  }
  if (npos)
    *npos = n;
  if (ctx->help && ctx->command)
    fputs(ctx->command->usage, stdout);
  /* Numbers are checked after the whole line is read, in table order: --help wins over a bad
   * value, and an unknown option is reported before one. */
  for (const cli_option *o = opts; !ctx->help && o && o->name; o++) {
    cli_number *num = o->target;
    int rc;
    if (o->kind == CLI_NUMBER && num->text && (rc = cli_int(ctx, o->name, num->text, num->min, num->max, &num->value)))
      return rc;
  }
  return CLI_OK;
}

int cli_connect(cli_ctx *ctx) {
  if (ctx->conn)
    return CLI_OK;
  const char *db = ctx->db ? ctx->db : getenv("DATABASE_URL");
  if (fastepost_conn_open(&ctx->conn, db) != FASTEPOST_OK)
    return cli_fail(ctx, NULL);
  return CLI_OK;
}

/* How to fix the most common set-up mistakes, or NULL: a raw libpq or SQL message alone does not
 * tell a new user what to do. */
static const char *hint_for(const cli_ctx *ctx, const fastepost_error *e) {
  const char *url = getenv("DATABASE_URL");
  bool no_db = !(ctx && ctx->db) && (!url || !*url);
  if (e->code == FASTEPOST_ECONN && no_db)
    return "set DATABASE_URL or --db CONNINFO (e.g. --db 'host=/run/postgresql dbname=app')";
  /* undefined_table, undefined_function, invalid_schema_name: our tables are not there. */
  if (!strcmp(e->sqlstate, "42P01") || !strcmp(e->sqlstate, "42883") || !strcmp(e->sqlstate, "3F000"))
    return "run `fastepost schema install` (the schema is missing or older than this version)";
  /* The library names its own knob; the command's is an option. */
  if (e->code == FASTEPOST_ETIMEOUT && ctx && ctx->command && !strcmp(ctx->command->group, "schema") &&
      ctx->command->name && !strcmp(ctx->command->name, "install"))
    return "give the migrations more time: `fastepost schema install --statement-timeout SECONDS`";
  return NULL;
}

void cli_json_error(const cli_ctx *ctx, int code, const char *message, const char *sqlstate, const char *hint) {
  (void)ctx;
  printf("{\"status\":\"error\",\"code\":");
  cli_json_string(stdout, fastepost_error_name(code));
  printf(",\"http_status\":%d,\"error\":", fastepost_status_http(code));
  cli_json_string(stdout, message);
  cli_json_member(stdout, "sqlstate", sqlstate && *sqlstate ? sqlstate : NULL);
  cli_json_member(stdout, "hint", hint);
  printf("}\n");
  fflush(stdout);
}

int cli_fail(cli_ctx *ctx, const char *what) {
  const fastepost_error *e = fastepost_error_last();
  int code = e->code ? e->code : FASTEPOST_ERROR;
  const char *hint = hint_for(ctx, e);
  if (ctx && ctx->json)
    cli_json_error(ctx, code, *e->message ? e->message : fastepost_strerror(code), e->sqlstate, hint);
  fprintf(stderr, "fastepost: %s%s%s\n", what ? what : "", what ? ": " : "",
          *e->message ? e->message : fastepost_strerror(code));
  if (hint)
    fprintf(stderr, "fastepost: hint: %s\n", hint);
  return CLI_FAILURE;
}

int cli_usage_error(const cli_ctx *ctx, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char help[160];
  if (ctx && ctx->command)
    snprintf(help, sizeof help, "Try 'fastepost %s%s%s --help'.", ctx->command->group,
             ctx->command->name ? " " : "", ctx->command->name ? ctx->command->name : "");
  else
    snprintf(help, sizeof help, "Try 'fastepost --help'.");
  /* With --json, a usage error is JSON too: scripts parse every outcome the same way. */
  if (ctx && ctx->json)
    cli_json_error(ctx, FASTEPOST_EINVALID, msg, NULL, help);
  fprintf(stderr, "fastepost: %s\n%s\n", msg, help);
  return CLI_USAGE;
}

int cli_int(const cli_ctx *ctx, const char *option, const char *value, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(value, &end, 10);
  if (errno || end == value || *end || v < min || v > max)
    return cli_usage_error(ctx, "--%s needs a whole number from %ld to %ld, not '%s'", option, min,
                           max, value);
  *out = v;
  return CLI_OK;
}

void cli_json_member(FILE *f, const char *key, const char *value) {
  fprintf(f, ",\"%s\":", key);
  cli_json_string(f, value);
}

int cli_start(cli_ctx *ctx, int argc, char **argv, const cli_option *opts) {
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  return rc || ctx->help ? rc : cli_connect(ctx);
}

int cli_parse_file(cli_ctx *ctx, int argc, char **argv, const cli_option *opts, const char **file) {
  const char *pos[1] = {NULL};
  int npos = 0;
  int rc = cli_parse(ctx, argc, argv, opts, pos, 1, &npos);
  *file = npos ? pos[0] : NULL;
  return rc;
}

int cli_parse_name(cli_ctx *ctx, int argc, char **argv, const cli_option *opts, const char **name,
                   const char *missing) {
  int npos = 0;
  int rc = cli_parse(ctx, argc, argv, opts, name, name ? 1 : 0, &npos);
  if (rc || ctx->help)
    return rc;
  return name && npos != 1 ? cli_usage_error(ctx, "%s", missing) : CLI_OK;
}

void cli_json_string(FILE *f, const char *s) {
  if (!s) {
    fputs("null", f);
    return;
  }
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (*p < 0x20)
        fprintf(f, "\\u%04x", *p);
      else
        fputc(*p, f);
    }
  }
  fputc('"', f);
}

void cli_size_pretty(char *out, size_t outsize, long long bytes) {
  /* pg_size_pretty's rule: switch unit once the value reaches 10240 of the current one. */
  static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
  double v = (double)bytes;
  size_t u = 0;
  while (u + 1 < sizeof units / sizeof units[0] && (v >= 10239.5 || v <= -10239.5)) {
    v /= 1024.0;
    u++;
  }
  if (u == 0)
    snprintf(out, outsize, "%lld bytes", bytes);
  else
    snprintf(out, outsize, "%.0f %s", v, units[u]);
}

static double monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, const cli_ctx *ctx) {
  memset(p, 0, sizeof *p);
  p->enabled = !ctx->quiet && !ctx->json && isatty(STDERR_FILENO);
  p->start = p->last = monotonic_seconds();
}

int cli_progress_cb(uint64_t rows, uint64_t bytes, void *payload) {
  cli_progress *p = payload;
  p->rows = rows;
  p->bytes = bytes;
  double t = monotonic_seconds();
  if (!p->enabled || t - p->last < 0.2)
    return 0;
  p->last = t;
  double mb = (double)bytes / 1e6, secs = t - p->start;
  fputs("\r\033[K ", stderr);
  if (rows)
    fprintf(stderr, " %llu rows ", (unsigned long long)rows);
  fprintf(stderr, " %.1f MB  %.1f MB/s", mb, secs > 0 ? mb / secs : 0.0);
  p->drawn = true;
  return 0;
}

void cli_progress_done(cli_progress *p) {
  if (p->drawn)
    fputs("\r\033[K", stderr);
  p->drawn = false;
}

int cli_read_input(char **out, size_t *len, const char *path, size_t limit) {
  bool use_stdin = !path || strcmp(path, "-") == 0;
  const char *name = use_stdin ? "standard input" : path;
  FILE *f = use_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    char msg[600];
    snprintf(msg, sizeof msg, "cannot open %s: %s", name, strerror(errno));
    if (current && current->json)
      cli_json_error(current, FASTEPOST_EIO, msg, NULL, NULL);
    fprintf(stderr, "fastepost: %s\n", msg);
    return CLI_FAILURE;
  }
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      if (n > limit) /* enough to say it is too big */
        break;
      char *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
      if (!bigger) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  bool failed = ferror(f) != 0;
  if (!use_stdin)
    fclose(f);
  if (!buf || failed) {
    char msg[600];
    snprintf(msg, sizeof msg, "cannot read %s%s", name, buf ? "" : ": out of memory");
    if (current && current->json)
      cli_json_error(current, buf ? FASTEPOST_EIO : FASTEPOST_ENOMEM, msg, NULL, NULL);
    fprintf(stderr, "fastepost: %s\n", msg);
    free(buf);
    return CLI_FAILURE;
  }
  *out = buf;
  *len = n;
  return CLI_OK;
}

int cli_connect_or_spool(cli_ctx *ctx, const char *dir, fastepost_spool **spool) {
  *spool = NULL;
  if (!dir)
    return cli_connect(ctx);
  if (fastepost_spool_open(spool, dir) != FASTEPOST_OK)
    return cli_fail(ctx, "spool");
  /* An unusable directory does not stop a delivery the database accepts; say why now, not
   * only when the spool is needed. */
  const char *warning = fastepost_spool_warning(*spool);
  if (*warning)
    fprintf(stderr, "fastepost: warning: %s\n", warning);
  const char *db = ctx->db ? ctx->db : getenv("DATABASE_URL");
  if (!ctx->conn && fastepost_conn_open(&ctx->conn, db) != FASTEPOST_OK) {
    fprintf(stderr, "fastepost: warning: database unreachable: %s\n", fastepost_error_last()->message);
    ctx->conn = NULL;
  }
  return CLI_OK;
}

/* A secret file that cannot be used: said on stderr and, with --json, as the JSON error object.
 * The path is the operator's own argument; nothing of the file's content is printed. */
static int secret_file_error(const cli_ctx *ctx, int code, const char *what, const char *path) {
  char msg[1024];
  snprintf(msg, sizeof msg, "cannot %s the secret file %s", what, path);
  if (ctx && ctx->json)
    cli_json_error(ctx, code, msg, NULL, NULL);
  fprintf(stderr, "fastepost: %s\n", msg);
  return CLI_FAILURE;
}

int cli_split_secrets(cli_ctx *ctx, char *buf, char sep, const char *trailing, cli_secret_fn add, void *payload,
                      int *added) {
  int rc = CLI_OK;
  *added = 0;
  for (char *item = buf, *next; item && rc == CLI_OK; item = next) {
    next = strchr(item, sep);
    if (next)
      *next++ = '\0';
    size_t len = strlen(item);
    while (len && strchr(trailing, item[len - 1]))
      item[--len] = '\0';
    while (*item == ' ' || *item == '\t')
      item++;
    if (*item) {
      rc = add(ctx, item, payload);
      ++*added;
    }
  }
  return rc;
}

int cli_read_secret_file(cli_ctx *ctx, const char *path, cli_secret_fn add, void *payload) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return secret_file_error(ctx, FASTEPOST_EIO, "open", path);
  char buf[4097];
  size_t n = fread(buf, 1, sizeof buf, f);
  bool failed = ferror(f) != 0;
  fclose(f);
  if (failed || n == sizeof buf) {
    memset(buf, 0, sizeof buf);
    return secret_file_error(ctx, failed ? FASTEPOST_EIO : FASTEPOST_ETOOBIG, failed ? "read" : "use (over 4 KiB)",
                             path);
  }
  buf[n] = '\0';
  int added = 0;
  int rc = cli_split_secrets(ctx, buf, '\n', " \t\r", add, payload, &added);
  if (rc == CLI_OK && !added) /* an empty file gives one empty secret: refused, never "none given" */
    rc = add(ctx, "", payload);
  /* The buffer held secrets: do not leave them in freed stack memory. */
  memset(buf, 0, sizeof buf);
  return rc;
}

#define CONFIG_LIMIT (1024 * 1024)

/* The configuration file: JSON (docs/webhooks.md). It holds secrets: one that others may write
 * is refused (they could add a key of theirs), one that others may read is loaded with a
 * warning (fixtures and demos keep test secrets in ordinary files). */
int cli_webhook_config(cli_ctx *ctx, fastepost_webhook_config **out, const char *path) {
  *out = NULL;
  if (!path)
    return CLI_OK;
  struct stat st;
  if (strcmp(path, "-") != 0 && stat(path, &st) == 0) {
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
      char msg[1200];
      snprintf(msg, sizeof msg, "the configuration file %s may be written by others (mode %03o): refused; "
                                "chmod go-w it", path, (unsigned)(st.st_mode & 0777));
      if (ctx->json)
        cli_json_error(ctx, FASTEPOST_EINVALID, msg, NULL, NULL);
      fprintf(stderr, "fastepost: %s\n", msg);
      return CLI_FAILURE;
    }
    if (st.st_mode & (S_IRGRP | S_IROTH))
      fprintf(stderr, "fastepost: warning: the configuration file %s holds secrets and may be read by others "
                      "(mode %03o): chmod 600 it\n", path, (unsigned)(st.st_mode & 0777));
  }
  char *json = NULL;
  size_t len = 0;
  if (cli_read_input(&json, &len, path, CONFIG_LIMIT))
    return CLI_FAILURE;
  int rc = CLI_OK;
  fastepost_webhook_config *cfg = NULL;
  if (len > CONFIG_LIMIT) {
    if (ctx->json)
      cli_json_error(ctx, FASTEPOST_ETOOBIG, "the configuration file is over 1 MiB", NULL, NULL);
    fprintf(stderr, "fastepost: %s: the configuration file is over 1 MiB\n", path);
    rc = CLI_FAILURE;
  } else if (fastepost_webhook_config_new(&cfg) != FASTEPOST_OK ||
             fastepost_webhook_config_load_json(cfg, json, len) != FASTEPOST_OK) {
    rc = cli_fail(ctx, path);
  }
  memset(json, 0, len);
  free(json);
  if (rc)
    fastepost_webhook_config_free(cfg);
  else
    *out = cfg;
  return rc;
}
