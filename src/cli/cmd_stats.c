/* fastepost stats db */
#include <string.h>

#include "cli.h"
#include "cmd_backup.h"

static void rows_text(char *out, size_t outsize, int64_t rows) {
  if (rows < 0)
    snprintf(out, outsize, "?");
  else
    snprintf(out, outsize, "%lld", (long long)rows);
}

static void print_db_json(const fastepost_stats_db *s) {
  printf("{\"database\":");
  cli_json_string(stdout, s->database);
  printf(",\"size\":%lld,\"table_count\":%zu,\"tables\":[", (long long)s->size_bytes,
         s->table_count);
  for (size_t i = 0; i < s->table_count; i++) {
    const fastepost_stats_db_table *t = &s->tables[i];
    printf("%s{\"name\":", i ? "," : "");
    cli_json_string(stdout, t->name);
    printf(",\"rows_estimate\":");
    if (t->rows_estimate < 0)
      printf("null");
    else
      printf("%lld", (long long)t->rows_estimate);
    printf(",\"rows_exact\":");
    if (t->rows_exact < 0)
      printf("null");
    else
      printf("%lld", (long long)t->rows_exact);
    printf(",\"total_size\":%lld,\"table_size\":%lld,\"index_size\":%lld}",
           (long long)t->total_bytes, (long long)t->table_bytes, (long long)t->index_bytes);
  }
  printf("],\"backups\":{\"count\":%lld,\"newest\":", (long long)s->backup_count);
  if (s->newest_backup.name[0]) {
    char when[32];
    cli_time_utc(when, sizeof when, s->newest_backup.time, true);
    printf("{\"name\":");
    cli_json_string(stdout, s->newest_backup.name);
    printf(",\"size\":%lld,\"time\":\"%s\"}", (long long)s->newest_backup.size, when);
  } else {
    printf("null");
  }
  printf("}}\n");
}

static void print_db_text(const fastepost_stats_db *s, bool exact, const char *dir) {
  char size[32];
  cli_size_pretty(size, sizeof size, s->size_bytes);
  printf("database:  %s\nsize:      %s\ntables:    %zu\n", s->database, size, s->table_count);
  if (s->backup_count < 0) {
    printf("backups:   no backup directory (give --dir)\n");
  } else if (s->backup_count == 0) {
    printf("backups:   none in %s\n", dir);
  } else if (!s->newest_backup.name[0]) {
    printf("backups:   %lld, no full backup in %s\n", (long long)s->backup_count, dir);
  } else {
    char when[32], bsize[32];
    cli_time_utc(when, sizeof when, s->newest_backup.time, false);
    cli_size_pretty(bsize, sizeof bsize, s->newest_backup.size);
    printf("backups:   %lld, newest %s (%s, %s)\n", (long long)s->backup_count,
           s->newest_backup.name, bsize, when);
  }
  if (!s->table_count)
    return;
  size_t w = 5;
  for (size_t i = 0; i < s->table_count; i++)
    if (strlen(s->tables[i].name) > w)
      w = strlen(s->tables[i].name);
  printf("\n%-*s %14s%s %10s %10s %10s\n", (int)w, "TABLE", "ROWS (EST.)", exact ? "     ROWS (EXACT)" : "",
         "TOTAL", "TABLE", "INDEXES");
  for (size_t i = 0; i < s->table_count; i++) {
    const fastepost_stats_db_table *t = &s->tables[i];
    char est[32], ex[32], total[32], table[32], index[32];
    rows_text(est, sizeof est, t->rows_estimate);
    rows_text(ex, sizeof ex, t->rows_exact);
    cli_size_pretty(total, sizeof total, t->total_bytes);
    cli_size_pretty(table, sizeof table, t->table_bytes);
    cli_size_pretty(index, sizeof index, t->index_bytes);
    printf("%-*s %14s", (int)w, t->name, est);
    if (exact)
      printf(" %16s", ex);
    printf(" %10s %10s %10s\n", total, table, index);
  }
}

static int stats_db(cli_ctx *ctx, int argc, char **argv) {
  bool exact = false;
  const char *dir_path = NULL;
  const cli_option opts[] = {{"exact", CLI_FLAG, &exact},
                             {"dir", CLI_STRING, &dir_path},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  if ((rc = cli_connect(ctx)))
    return rc;
  /* Without --dir the per-user default, as for 'backup'; none usable: no backup figures. */
  fastepost_backup_dir *dir = NULL;
  char *def = NULL;
  if (!dir_path && cli_backup_default_dir(&def) == FASTEPOST_OK)
    dir_path = def;
  int st = dir_path ? cli_backup_dir_new(&dir, dir_path) : FASTEPOST_OK;
  fastepost_free(def);
  if (st != FASTEPOST_OK)
    return cli_fail(ctx, "stats db");
  fastepost_stats_db *s = NULL;
  if (fastepost_stats_db_get(&s, ctx->conn, dir, exact ? FASTEPOST_STATS_DB_EXACT : 0) !=
      FASTEPOST_OK) {
    fastepost_backup_dir_free(dir);
    return cli_fail(ctx, "stats db");
  }
  if (ctx->json)
    print_db_json(s);
  else
    print_db_text(s, exact, fastepost_backup_dir_path(dir));
  fastepost_stats_db_free(s);
  fastepost_backup_dir_free(dir);
  return CLI_OK;
}

const cli_command cli_stats_commands[] = {
    {"stats", "db", stats_db, "Database size, tables, rows and backups",
     "Usage: fastepost stats db [--exact] [--dir D] [--json]\n"
     "\n"
     "Show the database size, every table with its estimated rows (from the planner statistics;\n"
     "'?' when never analyzed) and its total, table and index size (largest first), and the\n"
     "number of backups and the newest full one (table backups do not count as that).\n"
     "\n"
     "  --exact         also count every table's rows with count(*) (reads whole tables)\n"
     "  --dir D         the backup directory (default: $FASTEPOST_BACKUP_DIR, else\n"
     "                  $XDG_STATE_HOME/fastepost/backups, else ~/.local/state/fastepost/backups)\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
