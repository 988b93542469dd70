/* SPDX-License-Identifier: MIT */
/* fastepost spool list | replay | requeue */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"

/* --dir, else $FASTEPOST_SPOOL_DIR. An unusable directory is refused here with the library's
 * explanation (which says how to fix it): these commands all need it. */
static int open_spool(cli_ctx *ctx, const char *dir, fastepost_spool **out) {
  if (!dir)
    dir = getenv("FASTEPOST_SPOOL_DIR");
  if (!dir || !*dir)
    return cli_usage_error(ctx, "no spool directory: give --dir DIR or set FASTEPOST_SPOOL_DIR");
  if (fastepost_spool_open(out, dir) != FASTEPOST_OK)
    return cli_fail(ctx, "spool");
  return CLI_OK;
}

/* What every spool command begins with: its options (and for requeue the NAME, when name is
 * not NULL), then the spool of --dir (*dir, a target in opts). Returns as cli_parse() does;
 * *out is set when it returns CLI_OK without --help. */
static int spool_start(cli_ctx *ctx, int argc, char **argv, const cli_option *opts, const char *const *dir,
                       const char **name, fastepost_spool **out) {
  int rc = cli_parse_name(ctx, argc, argv, opts, name,
                          "give the NAME of a set-aside record (see `fastepost spool list --bad`)");
  return rc || ctx->help ? rc : open_spool(ctx, *dir, out);
}

static int spool_list(cli_ctx *ctx, int argc, char **argv) {
  const char *dir = NULL;
  bool bad = false;
  const cli_option opts[] = {{"dir", CLI_STRING, &dir}, {"bad", CLI_FLAG, &bad}, {NULL, CLI_FLAG, NULL}};
  fastepost_spool *spool = NULL;
  int rc = spool_start(ctx, argc, argv, opts, &dir, NULL, &spool);
  if (rc || ctx->help)
    return rc;
  fastepost_spool_entries *list = NULL;
  if ((bad ? fastepost_spool_list_bad(&list, spool) : fastepost_spool_list(&list, spool)) != FASTEPOST_OK) {
    fastepost_spool_free(spool);
    return cli_fail(ctx, "spool list");
  }
  size_t n = fastepost_spool_entries_count(list);
  if (ctx->json)
    putchar('[');
  else
    printf("%-50s %-8s %-8s %-10s %-19s %s\n", "NAME", "SOURCE", "EVENT", "BYTES", "SPOOLED AT (UTC)",
           bad ? "REASON" : "");
  for (size_t i = 0; i < n; i++) {
    const fastepost_spool_entry *e = fastepost_spool_entries_get(list, i);
    char when[32] = "-";
    time_t t = (time_t)(e->spooled_at_us / 1000000);
    struct tm tm;
    if (e->spooled_at_us && gmtime_r(&t, &tm))
      strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    if (ctx->json) {
      printf("%s{\"name\":", i ? "," : "");
      cli_json_string(stdout, e->name);
      cli_json_member(stdout, "source", e->source);
      cli_json_member(stdout, "event", *e->event ? e->event : NULL);
      cli_json_member(stdout, "content_type", e->content_type);
      printf(",\"bytes\":%llu,\"spooled_at_us\":%lld", (unsigned long long)e->bytes,
             (long long)e->spooled_at_us);
      cli_json_member(stdout, "reason", *e->reason ? e->reason : NULL);
      putchar('}');
    } else {
      printf("%-50s %-8s %-8s %-10llu %-19s %s\n", e->name, e->source, *e->event ? e->event : "-",
             (unsigned long long)e->bytes, when, e->reason);
    }
  }
  if (ctx->json)
    printf("]\n");
  else if (!ctx->quiet)
    printf("(%zu %s deliver%s)\n", n, bad ? "set-aside" : "spooled", n == 1 ? "y" : "ies");
  fastepost_spool_entries_free(list);
  fastepost_spool_free(spool);
  return CLI_OK;
}

static int spool_replay(cli_ctx *ctx, int argc, char **argv) {
  const char *dir = NULL, *config_file = NULL;
  cli_number limit = {1, 100000000, 0, NULL};
  const cli_option opts[] = {{"dir", CLI_STRING, &dir},
                             {"limit", CLI_NUMBER, &limit},
                             {"config", CLI_STRING, &config_file},
                             {NULL, CLI_FLAG, NULL}};
  fastepost_spool *spool = NULL;
  fastepost_webhook_config *cfg = NULL;
  int rc = spool_start(ctx, argc, argv, opts, &dir, NULL, &spool);
  if (rc || ctx->help)
    return rc;
  if ((rc = cli_webhook_config(ctx, &cfg, config_file)) || (rc = cli_connect(ctx))) {
    fastepost_webhook_config_free(cfg);
    fastepost_spool_free(spool);
    return rc;
  }
  fastepost_spool_replay_report *rep = NULL;
  fastepost_status st = fastepost_spool_set_webhook_config(spool, cfg);
  if (st == FASTEPOST_OK)
    st = fastepost_spool_replay(&rep, spool, ctx->conn, (size_t)limit.value);
  fastepost_spool_free(spool);
  fastepost_webhook_config_free(cfg);
  size_t replayed = fastepost_spool_replay_report_replayed(rep), remaining = fastepost_spool_replay_report_remaining(rep),
         duplicates = fastepost_spool_replay_report_duplicates(rep), rejected = fastepost_spool_replay_report_rejected(rep);
  fastepost_spool_replay_report_free(rep);
  if (st != FASTEPOST_OK) {
    if (!ctx->json)
      fprintf(stderr, "fastepost: spool replay: %zu replayed, %zu still spooled\n", replayed, remaining);
    return cli_fail(ctx, "spool replay");
  }
  if (ctx->json)
    printf("{\"status\":\"ok\",\"replayed\":%zu,\"duplicates\":%zu,\"rejected\":%zu,\"remaining\":%zu}\n",
           replayed, duplicates, rejected, remaining);
  else
    printf("Replayed %zu spooled deliver%s (%zu already in the database), %zu set aside as .bad, %zu left.\n",
           replayed, replayed == 1 ? "y" : "ies", duplicates, rejected, remaining);
  if (rejected && !ctx->json && !ctx->quiet)
    fprintf(stderr, "fastepost: see why with `fastepost spool list --bad`; after fixing, "
                    "`fastepost spool requeue NAME`\n");
  return CLI_OK;
}

static int spool_requeue(cli_ctx *ctx, int argc, char **argv) {
  const char *dir = NULL, *name = NULL;
  const cli_option opts[] = {{"dir", CLI_STRING, &dir}, {NULL, CLI_FLAG, NULL}};
  fastepost_spool *spool = NULL;
  int rc = spool_start(ctx, argc, argv, opts, &dir, &name, &spool);
  if (rc || ctx->help)
    return rc;
  fastepost_status st = fastepost_spool_requeue(spool, name);
  fastepost_spool_free(spool);
  if (st != FASTEPOST_OK)
    return cli_fail(ctx, "spool requeue");
  if (ctx->json) {
    printf("{\"status\":\"ok\"");
    cli_json_member(stdout, "requeued", name);
    printf("}\n");
  } else if (!ctx->quiet) {
    printf("Requeued %s: the next `fastepost spool replay` processes it.\n", name);
  }
  return CLI_OK;
}

const cli_command cli_spool_commands[] = {
    {"spool", "list", spool_list, "List webhook deliveries waiting in a spool directory",
     "Usage: fastepost spool list [--dir DIR] [--bad] [--json]\n"
     "\n"
     "List the deliveries spooled while the database was unreachable, oldest first (the order\n"
     "replay uses). A record that cannot be read, is damaged or fails its checksum is listed with\n"
     "source ? and its reason. With --bad, list the records that replays set aside instead, each\n"
     "with the reason. The directory is --dir or $FASTEPOST_SPOOL_DIR.\n"
     "\n"
     "Options:\n"
     "  --dir DIR    the spool directory (yours, mode 0700)\n"
     "  --bad        the set-aside records (NAME.bad) and why\n"
     "  --json       print [{\"name\",\"source\",\"event\",\"content_type\",\"bytes\",\"spooled_at_us\",\n"
     "               \"reason\"}]\n"},
    {"spool", "replay", spool_replay, "Ingest spooled webhook deliveries, exactly once",
     "Usage: fastepost spool replay [--dir DIR] [--limit N] [--config FILE] [--db CONNINFO] [--json]\n"
     "\n"
     "Process the spooled deliveries, oldest first, through the normal processing path, and\n"
     "remove each file only after its event is committed. A delivery that had reached the\n"
     "database before it was spooled is recognised as a duplicate. A record that is unreadable,\n"
     "damaged, altered (checksum) or refused is set aside as NAME.bad with its reason, and the\n"
     "rest go on. Stops, keeping the rest, when the database becomes unreachable; run it again\n"
     "later. One replay at a time per directory.\n"
     "\n"
     "Options:\n"
     "  --dir DIR    the spool directory (default $FASTEPOST_SPOOL_DIR)\n"
     "  --limit N    at most N deliveries (default all)\n"
     "  --config FILE  the webhook configuration the deliveries came in with (docs/webhooks.md):\n"
     "               each is read with its source's section (monday's board columns ...)\n"
     "  --json       print {\"status\",\"replayed\",\"duplicates\",\"rejected\",\"remaining\"}\n"
     "\n"
     "Exit status: 0 when every delivery was processed, 1 when the replay stopped, 2 usage error.\n"},
    {"spool", "requeue", spool_requeue, "Put a fixed set-aside spool record back",
     "Usage: fastepost spool requeue [--dir DIR] [--json] NAME\n"
     "\n"
     "Put the set-aside record NAME (as `fastepost spool list --bad` shows it, with or without\n"
     ".bad) back into the spool, once it or its cause was fixed. It must parse as a spool record;\n"
     "it is sealed with a fresh checksum and keeps its place in arrival order.\n"
     "\n"
     "Options:\n"
     "  --dir DIR    the spool directory (default $FASTEPOST_SPOOL_DIR)\n"
     "  --json       print {\"status\",\"requeued\"}\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
