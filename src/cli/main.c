/* SPDX-License-Identifier: MIT */
/* fastepost: the command-line face of libfastepost. Parses the global options and dispatches. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Each cmd_<group>.c contributes one table; add new groups here. */
static const cli_command *const command_tables[] = {
    cli_schema_commands,
    cli_odoo_commands,
    cli_events_commands,
    cli_retention_commands,
    cli_spool_commands,
    cli_hubspot_commands,
    cli_webhook_commands,
    cli_crmstats_commands,
    cli_stats_commands,
    cli_report_commands,
    cli_transfer_commands,
    cli_backup_commands,
    NULL,
};

static void print_commands(FILE *f, const char *group) {
  for (const cli_command *const *t = command_tables; *t; t++)
    for (const cli_command *c = *t; c->run; c++)
      if (!group || strcmp(group, c->group) == 0) {
        char name[64];
        snprintf(name, sizeof name, "%s%s%s", c->group, c->name ? " " : "", c->name ? c->name : "");
        fprintf(f, "  %-22s %s\n", name, c->summary);
      }
}

static void print_help(FILE *f) {
  fputs("Usage: fastepost [--db CONNINFO] [--json] [--quiet] COMMAND [ARGS...]\n"
        "\n"
        "CRM webhook ingestion and database tools for Fast Epost.\n"
        "\n"
        "Global options (accepted before or after the command):\n"
        "  --db CONNINFO   libpq connection string or postgresql:// URL\n"
        "                  (default: $DATABASE_URL, else libpq's PG* variables)\n"
        "  --json          print machine-readable JSON on stdout\n"
        "  --quiet         no progress output\n"
        "  --help          show help (also after any command)\n"
        "  --version       show the version and exit\n"
        "  --man [GROUP]   print the manual page fastepost(1), or fastepost-GROUP(1), as roff\n"
        "  --completion S  print the completion script for the shell S (bash or zsh)\n"
        "\n"
        "Commands:\n",
        f);
  print_commands(f, NULL);
  fputs("\nExit status: 0 success, 1 failure, 2 usage error.\n"
        "Run 'fastepost COMMAND --help' for a command's options.\n",
        f);
}

static bool group_exists(const char *group) {
  for (const cli_command *const *t = command_tables; *t; t++)
    for (const cli_command *c = *t; c->run; c++)
      if (strcmp(c->group, group) == 0)
        return true;
  return false;
}

static const cli_command *find_command(const char *group, const char *name) {
  for (const cli_command *const *t = command_tables; *t; t++)
    for (const cli_command *c = *t; c->run; c++)
      if (strcmp(c->group, group) == 0 &&
          (c->name == NULL || (name && strcmp(c->name, name) == 0)))
        return c;
  return NULL;
}

int main(int argc, char **argv) {
  cli_ctx ctx = {0};
  /* --json is honoured wherever it appears (before "--"), so that even an error found before the
   * parser reaches it - an unknown command or option - is reported as JSON. */
  for (int k = 1; k < argc && strcmp(argv[k], "--") != 0; k++)
    if (strcmp(argv[k], "--json") == 0)
      ctx.json = true;
  int i = 1;
  /* Global options before the command. */
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      print_help(stdout);
      return CLI_OK;
    } else if (strcmp(a, "--man") == 0) {
      /* Build-time generators (src/cli/docgen.c): the manual pages and completion come from
       * the command table, so they cannot drift from --help. */
      return cli_docgen_man(stdout, command_tables, i + 1 < argc ? argv[i + 1] : NULL);
    } else if (strcmp(a, "--man-pages") == 0) {
      return cli_docgen_man_pages(command_tables, i + 1 < argc ? argv[i + 1] : NULL);
    } else if (strcmp(a, "--completion") == 0) {
      return cli_docgen_completion(stdout, command_tables, i + 1 < argc ? argv[i + 1] : NULL);
    } else if (strcmp(a, "--version") == 0) {
      printf("fastepost %s\n", fastepost_libversion(NULL, NULL, NULL));
      return CLI_OK;
    } else if (strcmp(a, "--json") == 0) {
      ctx.json = true;
    } else if (strcmp(a, "--quiet") == 0) {
      ctx.quiet = true;
    } else if (strcmp(a, "--db") == 0 && i + 1 < argc) {
      ctx.db = argv[++i];
    } else if (strncmp(a, "--db=", 5) == 0) {
      ctx.db = a + 5;
    } else {
      return cli_usage_error(&ctx, "unknown or incomplete option '%s'", a);
    }
  }
  if (i >= argc) {
    if (ctx.json)
      return cli_usage_error(&ctx, "no command given");
    print_help(stderr);
    return CLI_USAGE;
  }
  const char *group = argv[i];
  const char *name = i + 1 < argc ? argv[i + 1] : NULL;
  const cli_command *cmd = find_command(group, name);
  if (!cmd) {
    if (!group_exists(group))
      return cli_usage_error(&ctx, "unknown command '%s'", group);
    bool help = name && (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0);
    if (!help && ctx.json)
      cli_json_error(&ctx, FASTEPOST_EINVALID, name ? "unknown command" : "missing subcommand", NULL,
                     "Try 'fastepost --help'.");
    FILE *f = help ? stdout : stderr;
    if (!help)
      fprintf(stderr, "fastepost: %s '%s %s'\n", name ? "unknown command" : "missing subcommand for",
              group, name ? name : "");
    fprintf(f, "Commands of 'fastepost %s':\n", group);
    print_commands(f, group);
    return help ? CLI_OK : CLI_USAGE;
  }
  ctx.command = cmd;
  int first = i + (cmd->name ? 2 : 1);
  int rc = cmd->run(&ctx, argc - first, argv + first);
  fastepost_conn_free(ctx.conn);
  return rc;
}
