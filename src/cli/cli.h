/* SPDX-License-Identifier: MIT */
/*
 * The fastepost command-line tool: shared declarations. The CLI is a thin client of the public
 * API (it includes only <fastepost.h>); each command group lives in its own cmd_<group>.c.
 */
#ifndef FASTEPOST_CLI_H
#define FASTEPOST_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <fastepost.h>

/* Exit codes, as documented in docs/cli.md. */
enum { CLI_OK = 0, CLI_FAILURE = 1, CLI_USAGE = 2 };

/* What every command receives: the global options and a lazily opened connection. */
typedef struct cli_ctx {
  const char *db;   /* --db, else DATABASE_URL, else NULL (libpq's PG* defaults) */
  bool json;        /* --json: machine-readable output on stdout */
  bool quiet;       /* --quiet: no progress output */
  bool help;        /* --help was given for this command */
  fastepost_conn *conn;
  const struct cli_command *command;
} cli_ctx;

typedef int (*cli_fn)(cli_ctx *ctx, int argc, char **argv);

typedef struct cli_command {
  const char *group;   /* "schema" */
  const char *name;    /* "install", or NULL for a one-word command */
  cli_fn run;
  const char *summary; /* one line for the command list */
  const char *usage;   /* the full --help text: synopsis, options, examples */
} cli_command;

/* Option kinds for cli_parse(). */
typedef enum { CLI_FLAG, CLI_STRING, CLI_LIST, CLI_NUMBER } cli_opt_kind;

/* A whole-number option (CLI_NUMBER): the range, the default, and the text given. cli_parse()
 * checks the text with cli_int() once every argument is read (not with --help), so a command
 * states its bounds in its option table instead of repeating the check after parsing. */
typedef struct cli_number {
  long min, max;
  long value;       /* the default until the option is given */
  const char *text; /* as given, or NULL */
} cli_number;

/* A repeatable option's values (e.g. --where ... --where ...). */
typedef struct cli_list {
  const char *items[64];
  int count;
} cli_list;

typedef struct cli_option {
  const char *name;   /* without the dashes: "limit" */
  cli_opt_kind kind;
  void *target;       /* bool * (flag), const char ** (string), cli_list * (list), cli_number * */
} cli_option;

/*
 * Parse a command's arguments: `--name value`, `--name=value`, flags, positionals (up to
 * max_pos), `--` ends options, `-` is a positional. The global options --db, --json, --quiet
 * and --help are accepted everywhere. Returns CLI_OK, or CLI_USAGE after printing what was
 * wrong. When --help was given, ctx->help is set and the usage has been printed.
 */
int cli_parse(cli_ctx *ctx, int argc, char **argv, const cli_option *opts, const char **pos,
              int max_pos, int *npos);

/* cli_parse() for a command that takes at most one positional argument (a file, "-" for standard
 * input): *file receives it, or NULL when none was given. */
int cli_parse_file(cli_ctx *ctx, int argc, char **argv, const cli_option *opts, const char **file);

/* cli_parse() for a command that names one thing (a backup, a spool record) when name is not NULL:
 * *name receives it, and without it the usage error `missing` (saying what to give) is returned.
 * With name NULL, no positional argument is accepted. */
int cli_parse_name(cli_ctx *ctx, int argc, char **argv, const cli_option *opts, const char **name,
                   const char *missing);

/* cli_parse() for a command without positional arguments, then cli_connect() unless --help
 * was given. Use: `int rc = cli_start(...); if (rc || ctx->help) return rc;`. */
int cli_start(cli_ctx *ctx, int argc, char **argv, const cli_option *opts);

/* Open ctx->conn if needed. Returns CLI_OK or CLI_FAILURE after printing the error. */
int cli_connect(cli_ctx *ctx);

/* Print "fastepost: <what>: <message from fastepost_error_last()>" on stderr, with a hint for a
 * missing connection setting or schema, and with --json also the JSON error object (see
 * cli_json_error) on stdout; return CLI_FAILURE. `what` may be NULL. Every command reports its
 * failures through this (or cli_json_error) so that --json always prints JSON. */
int cli_fail(cli_ctx *ctx, const char *what);
/* The JSON error object every failure prints with --json, on stdout:
 * {"status":"error","code":"FASTEPOST_...","http_status":N,"error":msg,"sqlstate":s|null,
 *  "hint":h|null}. http_status is fastepost_status_http(code), always present. */
void cli_json_error(const cli_ctx *ctx, int code, const char *message, const char *sqlstate, const char *hint);
/* Print "fastepost: <message>" and the hint to use --help (with --json also the JSON error
 * object, code FASTEPOST_EINVALID); return CLI_USAGE. */
int cli_usage_error(const cli_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Parse a non-negative integer option value; CLI_USAGE with a message if it is not one. */
int cli_int(const cli_ctx *ctx, const char *option, const char *value, long min, long max, long *out);

/*
 * Read a file, or standard input for NULL or "-", as raw bytes. Stops once more than `limit`
 * bytes were read (so the caller can tell the input is too big without reading it all).
 * *out is malloc'd (free with free()). CLI_OK, or CLI_FAILURE after printing why.
 */
int cli_read_input(char **out, size_t *len, const char *path, size_t limit);
/* The webhook configuration in the JSON file path ("-": standard input; docs/webhooks.md) into
 * *out (NULL when path is NULL). It holds secrets: a file others may write is refused, one they
 * may read is loaded with a warning. CLI_OK, or the failure reported. */
int cli_webhook_config(cli_ctx *ctx, fastepost_webhook_config **out, const char *path);

/* Receives one secret of a secret file (see cli_read_secret_file); copies it. Returns CLI_OK,
 * or CLI_FAILURE after reporting the error (through cli_fail). */
typedef int (*cli_secret_fn)(cli_ctx *ctx, const char *secret, void *payload);

/*
 * Split buf in place at each sep and hand every item to add(), in order, with the characters of
 * `trailing` cut from its end and blanks from its start; empty items are skipped. *added counts
 * the items handed over. Returns CLI_OK or add()'s first failure (the rest are not handed over).
 * One rule for secret files (lines) and HUBSPOT_CLIENT_SECRET (commas), so they cannot drift.
 */
int cli_split_secrets(cli_ctx *ctx, char *buf, char sep, const char *trailing, cli_secret_fn add, void *payload,
                      int *added);

/*
 * Read a file of secrets (API keys, client secrets): one per line, at most 4 KiB, surrounding
 * white space and empty lines are not part of a secret (an empty file gives one empty secret,
 * so that it is refused rather than taken as "none"). Each is handed to add() in file order.
 * Secrets never travel in argv (ps shows it); nothing of the file is printed. Returns CLI_OK,
 * or CLI_FAILURE after printing why (with --json, as the JSON error object), or add()'s failure.
 */
int cli_read_secret_file(cli_ctx *ctx, const char *path, cli_secret_fn add, void *payload);

/*
 * For a command that processes a delivery with --spool DIR: open the spool (an unusable
 * directory is said on stderr at once: it does not stop a delivery the database accepts), then
 * connect without failing, since with a spool an unreachable database is not fatal (the delivery
 * is spooled; ctx->conn stays NULL). Without dir, cli_connect(). Returns CLI_OK, or CLI_FAILURE
 * after reporting why; *spool receives the spool (NULL without dir; free with
 * fastepost_spool_free()).
 */
int cli_connect_or_spool(cli_ctx *ctx, const char *dir, fastepost_spool **spool);

/* Write s as a JSON string literal (quotes included); NULL writes null. */
void cli_json_string(FILE *f, const char *s);
/* Write `,"key":"value"` (a member after the first of an object); NULL value writes null. */
void cli_json_member(FILE *f, const char *key, const char *value);

/* Human-readable size like pg_size_pretty: "123 bytes", "45 kB", "6 MB". */
void cli_size_pretty(char *out, size_t outsize, long long bytes);

/* A progress line on stderr, drawn only on a terminal and not with --quiet or --json: rows
 * (when the operation counts any), megabytes and rate, redrawn at most 5 times a second. */
typedef struct cli_progress {
  bool enabled;
  bool drawn;
  double start, last;
  uint64_t rows, bytes; /* the latest figures reported, drawn or not */
} cli_progress;

void cli_progress_init(cli_progress *p, const cli_ctx *ctx);
/* A fastepost_progress_cb; payload is the cli_progress. Never asks to stop. */
int cli_progress_cb(uint64_t rows, uint64_t bytes, void *payload);
/* Erase the line. */
void cli_progress_done(cli_progress *p);

/* Every command group registers here (one array per cmd_<group>.c, terminated by a NULL run). */
extern const cli_command cli_schema_commands[];
extern const cli_command cli_transfer_commands[];
extern const cli_command cli_hubspot_commands[];
extern const cli_command cli_crmstats_commands[];
extern const cli_command cli_backup_commands[];
extern const cli_command cli_stats_commands[];
extern const cli_command cli_spool_commands[];

/* A Unix time as "2026-01-01 12:00:00 UTC", or ISO 8601 "2026-01-01T12:00:00Z" (cmd_backup.c). */
void cli_time_utc(char *out, size_t outsize, int64_t t, bool iso);
extern const cli_command cli_odoo_commands[];
extern const cli_command cli_events_commands[];
extern const cli_command cli_retention_commands[];
extern const cli_command cli_report_commands[];
extern const cli_command cli_webhook_commands[];

/* Generators run by the build (src/cli/docgen.c): the manual page fastepost(1) (group NULL) or
 * fastepost-GROUP(1) as roff, and the bash or zsh completion script, from the command tables
 * (NULL-terminated). Return CLI_OK, or CLI_USAGE for an unknown group or shell. */
int cli_docgen_man(FILE *f, const cli_command *const *tables, const char *group);
int cli_docgen_completion(FILE *f, const cli_command *const *tables, const char *shell);
/* Every page (fastepost.1 and fastepost-GROUP.1 for each group) into the directory dir. */
int cli_docgen_man_pages(const cli_command *const *tables, const char *dir);

#endif
