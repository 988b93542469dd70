/* SPDX-License-Identifier: MIT */
/* fastepost schema install | status | sql */
#include "cli.h"

static int schema_install(cli_ctx *ctx, int argc, char **argv) {
  /* 1 s to a week; without the option, the library's default (30 s). */
  cli_number timeout = {1, 7 * 86400, 0, NULL};
  const cli_option opts[] = {{"statement-timeout", CLI_NUMBER, &timeout}, {NULL, CLI_FLAG, NULL}};
  int rc = cli_start(ctx, argc, argv, opts);
  if (rc || ctx->help)
    return rc;
  size_t applied = 0;
  int current = 0, latest = 0;
  if (timeout.text &&
      fastepost_conn_set_statement_timeout(ctx->conn, timeout.value * INT64_C(1000000)) != FASTEPOST_OK)
    return cli_fail(ctx, "schema install");
  if (fastepost_schema_install(&applied, ctx->conn) != FASTEPOST_OK)
    return cli_fail(ctx, "schema install");
  if (fastepost_schema_version(&current, &latest, ctx->conn) != FASTEPOST_OK)
    return cli_fail(ctx, "schema install");
  if (ctx->json)
    printf("{\"status\":\"ok\",\"applied\":%zu,\"version\":%d}\n", applied, current);
  else if (applied)
    printf("Schema installed: %zu migration%s applied, now at version %d.\n", applied,
           applied == 1 ? "" : "s", current);
  else
    printf("Schema is up to date (version %d).\n", current);
  return CLI_OK;
}

static int schema_status(cli_ctx *ctx, int argc, char **argv) {
  int rc = cli_start(ctx, argc, argv, NULL);
  if (rc || ctx->help)
    return rc;
  int current = 0, latest = 0;
  if (fastepost_schema_version(&current, &latest, ctx->conn) != FASTEPOST_OK)
    return cli_fail(ctx, "schema status");
  const char *state = current == latest ? "up_to_date" : current < latest ? "pending" : "newer";
  if (ctx->json) {
    printf("{\"database\":");
    cli_json_string(stdout, fastepost_conn_database(ctx->conn));
    printf(",\"version\":%d,\"latest\":%d,\"state\":\"%s\"}\n", current, latest, state);
  } else {
    printf("database:  %s\nversion:   %d\nlatest:    %d\nstate:     %s\n",
           fastepost_conn_database(ctx->conn), current, latest,
           current == latest ? "up to date"
           : current < latest ? "migrations pending (run 'fastepost schema install')"
                              : "database is newer than this library");
  }
  return CLI_OK;
}

static int schema_sql(cli_ctx *ctx, int argc, char **argv) {
  int rc = cli_parse(ctx, argc, argv, NULL, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  char *sql = NULL;
  if (fastepost_schema_sql(&sql) != FASTEPOST_OK)
    return cli_fail(ctx, "schema sql");
  fputs(sql, stdout);
  fastepost_free(sql);
  return CLI_OK;
}

const cli_command cli_schema_commands[] = {
    {"schema", "install", schema_install, "Install or upgrade the database schema",
     "Usage: fastepost schema install [--db CONNINFO] [--json] [--statement-timeout SECONDS]\n"
     "\n"
     "Create the Fast Epost tables, or add what is missing, by applying every migration not yet\n"
     "recorded in fastepost_schema_migrations, in one transaction. Safe to run repeatedly: an\n"
     "up-to-date database is left unchanged. Existing columns and data are never dropped.\n"
     "\n"
     "Options:\n"
     "  --statement-timeout SECONDS\n"
     "                       for each statement of the migrations (default 30). A migration\n"
     "                       that builds an index reads the whole table: 45 s at 10M events\n"
     "                       for migration 17, which blocks writes to integration_events\n"
     "                       meanwhile. A migration that times out changes nothing.\n"},
    {"schema", "status", schema_status, "Show the schema version of the database",
     "Usage: fastepost schema status [--db CONNINFO] [--json]\n"
     "\n"
     "Print the migration version recorded in the database and the newest this tool knows.\n"},
    {"schema", "sql", schema_sql, "Print the schema as SQL (docs/schema.sql)",
     "Usage: fastepost schema sql\n"
     "\n"
     "Print the SQL of every migration, as docs/schema.sql holds it. Needs no database.\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
