/* SPDX-License-Identifier: MIT */
/* fastepost export | import */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- export --------------------------------------------------------------------------------- */

static int add_columns(const cli_ctx *ctx, fastepost_export_options *o, const char *list) {
  char *copy = strdup(list);
  if (!copy)
    return cli_usage_error(ctx, "out of memory");
  int rc = CLI_OK;
  for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ')
      tok++;
    size_t n = strlen(tok);
    while (n && tok[n - 1] == ' ')
      tok[--n] = '\0';
    if (n && fastepost_export_options_add_column(o, tok) != FASTEPOST_OK)
      rc = CLI_FAILURE;
  }
  free(copy);
  return rc;
}

/* "col", "col asc" or "col desc". */
static int add_order(fastepost_export_options *o, const char *spec) {
  size_t n = strlen(spec);
  int desc = 0;
  if (n > 5 && strcasecmp(spec + n - 5, " desc") == 0) {
    desc = 1;
    n -= 5;
  } else if (n > 4 && strcasecmp(spec + n - 4, " asc") == 0) {
    n -= 4;
  }
  char *col = strndup(spec, n);
  int rc = col ? fastepost_export_options_add_order(o, col, desc) : FASTEPOST_ENOMEM;
  free(col);
  return rc;
}

static int export_cmd(cli_ctx *ctx, int argc, char **argv) {
  const char *table = NULL, *format = "csv", *columns = NULL, *limit = NULL, *output = NULL;
  cli_list where = {{0}, 0}, order = {{0}, 0}, schema = {{0}, 0};
  const cli_option opts[] = {{"table", CLI_STRING, &table},   {"format", CLI_STRING, &format},
                             {"columns", CLI_STRING, &columns}, {"where", CLI_LIST, &where},
                             {"order", CLI_LIST, &order},     {"limit", CLI_STRING, &limit},
                             {"output", CLI_STRING, &output}, {"schema", CLI_LIST, &schema},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  fastepost_export_format fmt;
  if (fastepost_export_format_parse(&fmt, format) != FASTEPOST_OK)
    return cli_usage_error(ctx, "%s", fastepost_error_last()->message);
  long lim = 0; /* 0: every row */
  if (limit && (rc = cli_int(ctx, "limit", limit, 1, 2147483647L, &lim)))
    return rc;
  if (!table && fmt != FASTEPOST_EXPORT_FORMAT_SQL && !output)
    return cli_usage_error(ctx, "--table is required (or --output DIR to export every table)");
  fastepost_export_options *o = NULL;
  if (fastepost_export_options_new(&o) != FASTEPOST_OK)
    return cli_fail(ctx, "export");
  /* The library reads no environment (docs/api.md rule 14): the sql format's pg_dump comes from
   * FASTEPOST_PG_DUMP, else the PATH, both passed on here. */
  rc = fastepost_export_options_set_tool_path(o, getenv("FASTEPOST_PG_DUMP"));
  if (!rc)
    rc = fastepost_export_options_set_search_path(o, getenv("PATH"));
  if (!rc && table)
    rc = fastepost_export_options_set_table(o, table);
  if (!rc)
    rc = fastepost_export_options_set_format(o, fmt);
  if (!rc && columns && add_columns(ctx, o, columns))
    rc = FASTEPOST_EINVALID;
  for (int i = 0; !rc && i < where.count; i++)
    rc = fastepost_export_options_add_filter_expr(o, where.items[i]);
  for (int i = 0; !rc && i < order.count; i++)
    rc = add_order(o, order.items[i]);
  for (int i = 0; !rc && i < schema.count; i++)
    rc = fastepost_export_options_add_schema(o, schema.items[i]);
  if (!rc)
    rc = fastepost_export_options_set_limit(o, (uint64_t)lim);
  if (rc) {
    fastepost_export_options_free(o);
    return cli_usage_error(ctx, "%s", fastepost_error_last()->message);
  }
  if ((rc = cli_connect(ctx))) {
    fastepost_export_options_free(o);
    return rc;
  }
  cli_progress pr;
  cli_progress_init(&pr, ctx);
  fastepost_export_options_set_progress(o, cli_progress_cb, &pr);
  size_t tables = 0;
  uint64_t rows = 0;
  bool all = !table && fmt != FASTEPOST_EXPORT_FORMAT_SQL;
  if (all)
    rc = fastepost_export_all(&tables, ctx->conn, output, o);
  else if (output && strcmp(output, "-") != 0)
    rc = fastepost_export_to_file(&rows, ctx->conn, output, o);
  else
    rc = fastepost_export_to_fd(&rows, ctx->conn, STDOUT_FILENO, o);
  cli_progress_done(&pr);
  fastepost_export_options_free(o);
  if (rc)
    return cli_fail(ctx, "export");
  bool to_stdout = !output || strcmp(output, "-") == 0;
  if (ctx->json && !to_stdout) {
    /* The same keys as Python's ExportResult.to_dict() and Ruby's to_h (plus "status"). */
    printf("{\"status\":\"ok\",\"format\":\"%s\",\"output\":", fastepost_export_format_name(fmt));
    cli_json_string(stdout, output);
    if (all)
      printf(",\"tables\":%zu}\n", tables);
    else
      printf(",\"rows\":%llu,\"bytes\":%llu}\n", (unsigned long long)rows,
             (unsigned long long)pr.bytes);
  } else if (!to_stdout && !ctx->quiet) {
    char size[32];
    cli_size_pretty(size, sizeof size, (long long)pr.bytes);
    if (all)
      fprintf(stderr, "Exported %zu tables into %s.\n", tables, output);
    else if (fmt == FASTEPOST_EXPORT_FORMAT_SQL)
      fprintf(stderr, "Exported %s of SQL to %s.\n", size, output);
    else
      fprintf(stderr, "Exported %llu rows (%s) to %s.\n", (unsigned long long)rows, size, output);
  }
  return CLI_OK;
}

/* ---- import --------------------------------------------------------------------------------- */

static void print_report(const cli_ctx *ctx, const fastepost_import_report *r, const char *table,
                         int status) {
  size_t n = fastepost_import_report_error_count(r);
  unsigned long long total = fastepost_import_report_error_total(r);
  bool dry = fastepost_import_report_dry_run(r);
  if (ctx->json) {
    /* The keys of Python's ImportReport.to_dict() and Ruby's to_h, plus "status" (and the error
     * object's code, http_status and error on failure). */
    printf("{\"status\":\"%s\"", status == FASTEPOST_OK ? "ok" : total ? "rejected" : "error");
    cli_json_member(stdout, "table", table);
    printf(",\"dry_run\":%s,\"rows_read\":%llu,\"rows_inserted\":%llu,\"rows_updated\":%llu,"
           "\"rows_skipped\":%llu,\"rows_written\":%llu,\"bytes_read\":%llu,\"error_total\":%llu,"
           "\"errors_complete\":%s",
           dry ? "true" : "false", (unsigned long long)fastepost_import_report_rows_read(r),
           (unsigned long long)fastepost_import_report_rows_inserted(r),
           (unsigned long long)fastepost_import_report_rows_updated(r),
           (unsigned long long)fastepost_import_report_rows_skipped(r),
           (unsigned long long)fastepost_import_report_rows_written(r),
           (unsigned long long)fastepost_import_report_bytes_read(r), total,
           fastepost_import_report_errors_complete(r) ? "true" : "false");
    if (status != FASTEPOST_OK) {
      cli_json_member(stdout, "code", fastepost_error_name(status));
      printf(",\"http_status\":%d", fastepost_status_http(status));
      cli_json_member(stdout, "error", fastepost_error_last()->message);
    }
    printf(",\"errors\":[");
    for (size_t i = 0; i < n; i++) {
      const fastepost_import_error *e = fastepost_import_report_error(r, i);
      printf("%s{\"line\":%llu", i ? "," : "", (unsigned long long)e->line);
      cli_json_member(stdout, "column", e->column);
      cli_json_member(stdout, "value", e->value);
      cli_json_member(stdout, "reason", e->reason);
      printf("}");
    }
    printf("]}\n");
    return;
  }
  unsigned long long read = fastepost_import_report_rows_read(r);
  if (status == FASTEPOST_OK) {
    if (dry)
      printf("Dry run on %s: %llu rows read, all valid; would insert %llu, update %llu, skip %llu. "
             "Nothing was written.\n",
             table, read, (unsigned long long)fastepost_import_report_rows_inserted(r),
             (unsigned long long)fastepost_import_report_rows_updated(r),
             (unsigned long long)fastepost_import_report_rows_skipped(r));
    else
      printf("Imported into %s: %llu rows read, %llu inserted, %llu updated, %llu skipped.\n", table,
             read, (unsigned long long)fastepost_import_report_rows_inserted(r),
             (unsigned long long)fastepost_import_report_rows_updated(r),
             (unsigned long long)fastepost_import_report_rows_skipped(r));
    return;
  }
  if (!total)
    return;
  printf("Rejected: %s%llu error%s in %s (%llu rows read)%s; nothing was written.\n",
         fastepost_import_report_errors_complete(r) ? "" : "at least ", total, total == 1 ? "" : "s",
         table, read, n < total ? ", the first ones listed" : "");
  for (size_t i = 0; i < n; i++) {
    const fastepost_import_error *e = fastepost_import_report_error(r, i);
    printf("  line %llu", (unsigned long long)e->line);
    if (*e->column)
      printf(", column %s", e->column);
    if (*e->value)
      printf(", value '%s'", e->value);
    printf(": %s\n", e->reason);
  }
}

static int import_cmd(cli_ctx *ctx, int argc, char **argv) {
  const char *table = NULL, *conflict = "error", *key = NULL, *max_errors = NULL, *max_field = NULL;
  bool dry_run = false;
  cli_list schema = {{0}, 0};
  const cli_option opts[] = {{"table", CLI_STRING, &table},     {"dry-run", CLI_FLAG, &dry_run},
                             {"on-conflict", CLI_STRING, &conflict}, {"key", CLI_STRING, &key},
                             {"max-errors", CLI_STRING, &max_errors}, {"schema", CLI_LIST, &schema},
                             {"max-field", CLI_STRING, &max_field},
                             {NULL, CLI_FLAG, NULL}};
  const char *file = NULL;
  int rc = cli_parse_file(ctx, argc, argv, opts, &file);
  if (rc || ctx->help)
    return rc;
  if (!table)
    return cli_usage_error(ctx, "--table is required");
  if (!file)
    return cli_usage_error(ctx, "give the CSV file to import (or - for standard input)");
  fastepost_import_conflict mode;
  if (fastepost_import_conflict_parse(&mode, conflict) != FASTEPOST_OK)
    return cli_usage_error(ctx, "--on-conflict takes error, skip or update, not '%s'", conflict);
  long max = 0, field = 0;
  if (max_errors && (rc = cli_int(ctx, "max-errors", max_errors, 1, 1000000, &max)))
    return rc;
  if (max_field && (rc = cli_int(ctx, "max-field", max_field, 1, 1L << 40, &field)))
    return rc;
  if ((rc = cli_connect(ctx)))
    return rc;
  cli_progress pr;
  cli_progress_init(&pr, ctx);
  fastepost_import_options *o = NULL;
  rc = fastepost_import_options_new(&o);
  if (!rc)
    rc = fastepost_import_options_set_dry_run(o, dry_run);
  if (!rc)
    rc = fastepost_import_options_set_conflict(o, mode);
  if (!rc)
    rc = fastepost_import_options_set_key(o, key);
  if (!rc)
    rc = fastepost_import_options_set_max_errors(o, (size_t)max);
  if (!rc)
    rc = fastepost_import_options_set_max_field(o, (size_t)field);
  for (int i = 0; !rc && i < schema.count; i++)
    rc = fastepost_import_options_add_schema(o, schema.items[i]);
  if (!rc)
    rc = fastepost_import_options_set_progress(o, cli_progress_cb, &pr);
  if (rc) {
    fastepost_import_options_free(o);
    return cli_fail(ctx, "import");
  }
  fastepost_import_report *r = NULL;
  if (strcmp(file, "-") == 0)
    rc = fastepost_import_csv_fd(&r, ctx->conn, table, STDIN_FILENO, o);
  else
    rc = fastepost_import_csv(&r, ctx->conn, table, file, o);
  fastepost_import_options_free(o);
  cli_progress_done(&pr);
  bool listed = r && fastepost_import_report_error_total(r) > 0, reported = r != NULL;
  if (r)
    print_report(ctx, r, table, rc);
  fastepost_import_report_free(r);
  if (rc && !listed) {
    if (ctx->json && reported)
      return CLI_FAILURE; /* the JSON report above carries the error */
    return cli_fail(ctx, "import");
  }
  return rc ? CLI_FAILURE : CLI_OK;
}

const cli_command cli_transfer_commands[] = {
    {"export", NULL, export_cmd, "Export a table (or all) as CSV, JSON, NDJSON or SQL",
     "Usage: fastepost export --table T [--format csv|json|ndjson|sql] [--columns a,b]\n"
     "                        [--where \"col op value\"]... [--order \"col [desc]\"]...\n"
     "                        [--limit N] [--schema S]... [--output FILE|DIR]\n"
     "       fastepost export --format csv|json|ndjson --output DIR     (every table)\n"
     "       fastepost export --format sql [--output FILE]              (whole database)\n"
     "\n"
     "Stream a table out in constant memory. csv is exactly what COPY ... (FORMAT csv, HEADER)\n"
     "writes (NULL is an empty field, an empty string is \"\"); json is one array of objects and\n"
     "ndjson one object per line, both in PostgreSQL's own JSON rendering; sql is a pg_dump\n"
     "script (run without a shell; the password is passed in the environment).\n"
     "\n"
     "Options:\n"
     "  --table T         table or schema.table (double-quote odd names: 'public.\"A b\"')\n"
     "  --format F        csv (default), json, ndjson or sql\n"
     "  --columns a,b     only these columns, in this order\n"
     "  --where EXPR      filter, repeatable (AND): col op value, op one of\n"
     "                    = != < <= > >= like ilike is_null not_null\n"
     "  --order SPEC      sort key, repeatable: column, optionally followed by asc or desc\n"
     "  --limit N         at most N rows\n"
     "  --schema S        only allow tables from schema S (repeatable)\n"
     "  --output PATH     file (default: standard output); a directory without --table\n"
     "  --quiet           no progress bar (shown on a terminal only)\n"
     "  --json            print a JSON summary (when writing to a file)\n"
     "\n"
     "Examples:\n"
     "  fastepost export --table customers > customers.csv\n"
     "  fastepost export --table customers --format ndjson --where \"active = true\" \\\n"
     "      --where \"email ilike %@example.com\" --order \"id desc\" --limit 100\n"
     "  fastepost export --format csv --output backup-dir/\n"
     "  fastepost export --format sql --output db.sql\n"},
    {"import", NULL, import_cmd, "Validate and import a CSV file, all or nothing",
     "Usage: fastepost import --table T [--dry-run] [--on-conflict error|skip|update] [--key COL]\n"
     "                        [--max-errors N] [--max-field BYTES] [--schema S]... FILE|-\n"
     "\n"
     "Import a CSV file with a header line (columns matched by name, any order, case-insensitive)\n"
     "in one transaction: every value is checked against its column's type and our model rules,\n"
     "then the rows are loaded; if anything is wrong - in the file or in the database (unique,\n"
     "foreign key, check) - nothing is written and every bad row is listed with its line.\n"
     "An unquoted empty field is NULL, \"\" is an empty string; a UTF-8 BOM is skipped.\n"
     "\n"
     "Options:\n"
     "  --table T             target table or schema.table\n"
     "  --dry-run             do everything, then roll back: validation only\n"
     "  --on-conflict MODE    error (default): reject the file if a key exists;\n"
     "                        skip: keep existing rows; update: update them from the file\n"
     "  --key COL             the conflict key column (default: the primary key; it needs a\n"
     "                        unique index of its own)\n"
     "  --max-errors N        list at most N errors (default 100); all are counted\n"
     "  --max-field BYTES     refuse a field larger than this (default 16777216, 16 MiB);\n"
     "                        memory stays bounded by about this much\n"
     "  --schema S            only allow tables from schema S (repeatable)\n"
     "  --quiet               no progress bar (shown on a terminal only)\n"
     "  --json                print the report as JSON\n"
     "\n"
     "Exit status: 0 imported (or valid, with --dry-run), 1 rejected or failed, 2 usage error.\n"
     "\n"
     "Examples:\n"
     "  fastepost import --table customers --dry-run customers.csv\n"
     "  fastepost import --table customers --on-conflict update customers.csv\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
