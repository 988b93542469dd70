/* SPDX-License-Identifier: MIT */
/* fastepost events prune (event-log retention; its own file beside cmd_events.c) */
#include <string.h>
#include <time.h>

#include "cli.h"

static int events_prune(cli_ctx *ctx, int argc, char **argv) {
  const char *status = NULL, *batch_s = NULL;
  /* The range of --older-than is checked by the library (it explains why less than 7 days is
   * refused); here only that the value is a number. */
  cli_number days = {0, 36500, 0, NULL};
  const cli_option opts[] = {{"older-than", CLI_NUMBER, &days},
                             {"status", CLI_STRING, &status},
                             {"batch", CLI_STRING, &batch_s},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  if (!days.text)
    return cli_usage_error(ctx, "--older-than DAYS is required");
  /* --batch is checked only now: a missing --older-than is the first thing to say. */
  long batch = 0;
  if (batch_s && (rc = cli_int(ctx, "batch", batch_s, 1, FASTEPOST_PRUNE_MAX_BATCH, &batch)))
    return rc;
  fastepost_prune_status which = FASTEPOST_PRUNE_STATUS_SUCCESS;
  if (status && fastepost_prune_status_parse(&which, status) != FASTEPOST_OK)
    return cli_usage_error(ctx, "--status must be 'success' or 'all', not '%s'", status);
  if ((int64_t)days.value * 86400 * 1000000 < FASTEPOST_PRUNE_MIN_AGE_US)
    return cli_usage_error(ctx,
                           "--older-than must be at least 7 days: senders redeliver within that "
                           "window, and a pruned idempotency key would let a redelivery apply twice");
  if ((rc = cli_connect(ctx)))
    return rc;
  fastepost_prune_report *r = NULL;
  rc = fastepost_events_prune(&r, ctx->conn, (int64_t)days.value * 86400 * 1000000, which, (size_t)batch);
  unsigned long long deleted = fastepost_prune_report_deleted(r), batches = fastepost_prune_report_batches(r);
  int64_t cutoff_us = fastepost_prune_report_cutoff_us(r);
  fastepost_prune_report_free(r);
  if (rc != FASTEPOST_OK) {
    /* Batches committed before the failure stay deleted: say how many before the error. */
    if (deleted && !ctx->json)
      fprintf(stderr, "fastepost: %llu event%s deleted before the failure\n", deleted, deleted == 1 ? "" : "s");
    return cli_fail(ctx, "events prune");
  }
  if (ctx->json) {
    printf("{\"status\":\"ok\",\"deleted\":%llu,\"batches\":%llu,\"cutoff_us\":%lld", deleted, batches,
           (long long)cutoff_us);
    printf(",\"older_than_days\":%ld,\"event_status\":", days.value);
    cli_json_string(stdout, fastepost_prune_status_name(which));
    printf("}\n");
  } else {
    char cutoff[32] = "?";
    time_t t = (time_t)(cutoff_us / 1000000);
    struct tm tm;
    if (gmtime_r(&t, &tm))
      strftime(cutoff, sizeof cutoff, "%Y-%m-%d %H:%M:%S", &tm);
    printf("Deleted %llu %sevent%s created before %s UTC (%llu batch%s).\n", deleted,
           which == FASTEPOST_PRUNE_STATUS_ALL ? "" : "successful ", deleted == 1 ? "" : "s", cutoff, batches,
           batches == 1 ? "" : "es");
  }
  return CLI_OK;
}

const cli_command cli_retention_commands[] = {
    {"events", "prune", events_prune, "Delete old events in short batches (retention)",
     "Usage: fastepost events prune --older-than DAYS [--status success|all] [--batch N]\n"
     "                              [--db CONNINFO] [--json]\n"
     "\n"
     "Delete the rows of integration_events created more than DAYS days ago, a batch of rows\n"
     "per short transaction, skipping rows another session holds. Ingestion carries on\n"
     "meanwhile, and the CRM statistics counters stay equal to what the table holds. Schedule\n"
     "it next to the backups (see examples/cron and examples/systemd).\n"
     "\n"
     "Options:\n"
     "  --older-than DAYS  required; at least 7: HubSpot and other senders redeliver within\n"
     "                     that window, and a pruned idempotency key would let a redelivery\n"
     "                     apply twice\n"
     "  --status S         success (default): only successfully processed events;\n"
     "                     all: every status (error, dead and pending too)\n"
     "  --batch N          rows per transaction (default 1000, at most 100000)\n"
     "\n"
     "Example:\n"
     "  fastepost events prune --older-than 90\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
