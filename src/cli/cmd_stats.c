/* SPDX-License-Identifier: MIT */
/* fastepost stats db */
#include <string.h>

#include "cmd_backup.h"
#include "stats_common.h"

static void rows_text(char *out, size_t outsize, int known, uint64_t rows) {
  if (!known)
    snprintf(out, outsize, "?");
  else
    snprintf(out, outsize, "%llu", (unsigned long long)rows);
}

/* A count that may be unknown: the number, or null. */
static void json_count(const char *key, int known, uint64_t n) {
  if (known)
    printf(",\"%s\":%llu", key, (unsigned long long)n);
  else
    printf(",\"%s\":null", key);
}

/* The keys and types of the bindings' to_dict() / to_h (docs/stats.md): unknown is null. */
static void print_db_json(const fastepost_stats_db *s) {
  printf("{");
  cli_stats_json_str("database", fastepost_stats_db_database(s), true);
  printf(",\"size_bytes\":%llu,\"tables\":[", (unsigned long long)fastepost_stats_db_size_bytes(s));
  for (size_t i = 0; i < fastepost_stats_db_table_count(s); i++) {
    const fastepost_stats_db_table *t = fastepost_stats_db_table_get(s, i);
    printf("%s{", i ? "," : "");
    cli_stats_json_str("name", fastepost_stats_db_table_name(t), true);
    json_count("rows_estimate", fastepost_stats_db_table_has_rows_estimate(t),
               fastepost_stats_db_table_rows_estimate(t));
    json_count("rows_exact", fastepost_stats_db_table_has_rows_exact(t), fastepost_stats_db_table_rows_exact(t));
    printf(",\"total_bytes\":%llu,\"table_bytes\":%llu,\"index_bytes\":%llu}",
           (unsigned long long)fastepost_stats_db_table_total_bytes(t),
           (unsigned long long)fastepost_stats_db_table_table_bytes(t),
           (unsigned long long)fastepost_stats_db_table_index_bytes(t));
  }
  printf("]");
  json_count("backup_count", fastepost_stats_db_has_backups(s), fastepost_stats_db_backup_count(s));
  printf(",\"newest_backup\":");
  if (fastepost_stats_db_has_newest_backup(s)) {
    printf("{");
    cli_stats_json_str("name", fastepost_stats_db_newest_backup_name(s), true);
    printf(",\"size_bytes\":%llu", (unsigned long long)fastepost_stats_db_newest_backup_size_bytes(s));
    cli_stats_json_time("created_at", fastepost_stats_db_newest_backup_created_us(s));
    printf("}");
  } else {
    printf("null");
  }
  printf("}\n");
}

static void print_db_text(const fastepost_stats_db *s, bool exact, const char *dir) {
  char size[32];
  size_t n = fastepost_stats_db_table_count(s);
  cli_size_pretty(size, sizeof size, (long long)fastepost_stats_db_size_bytes(s));
  printf("database:  %s\nsize:      %s\ntables:    %zu\n", fastepost_stats_db_database(s), size, n);
  unsigned long long count = (unsigned long long)fastepost_stats_db_backup_count(s);
  if (!fastepost_stats_db_has_backups(s)) {
    printf("backups:   no backup directory (give --dir)\n");
  } else if (count == 0) {
    printf("backups:   none in %s\n", dir);
  } else if (!fastepost_stats_db_has_newest_backup(s)) {
    printf("backups:   %llu, no full backup in %s\n", count, dir);
  } else {
    char when[64], bsize[32];
    cli_stats_time_text(when, sizeof when, fastepost_stats_db_newest_backup_created_us(s));
    cli_size_pretty(bsize, sizeof bsize, (long long)fastepost_stats_db_newest_backup_size_bytes(s));
    printf("backups:   %llu, newest %s (%s, %s)\n", count, fastepost_stats_db_newest_backup_name(s), bsize,
           when);
  }
  if (!n)
    return;
  size_t w = 5;
  for (size_t i = 0; i < n; i++)
    if (strlen(fastepost_stats_db_table_name(fastepost_stats_db_table_get(s, i))) > w)
      w = strlen(fastepost_stats_db_table_name(fastepost_stats_db_table_get(s, i)));
  printf("\n%-*s %14s%s %10s %10s %10s\n", (int)w, "TABLE", "ROWS (EST.)", exact ? "     ROWS (EXACT)" : "",
         "TOTAL", "TABLE", "INDEXES");
  for (size_t i = 0; i < n; i++) {
    const fastepost_stats_db_table *t = fastepost_stats_db_table_get(s, i);
    char est[32], ex[32], total[32], table[32], index[32];
    rows_text(est, sizeof est, fastepost_stats_db_table_has_rows_estimate(t), fastepost_stats_db_table_rows_estimate(t));
    rows_text(ex, sizeof ex, fastepost_stats_db_table_has_rows_exact(t), fastepost_stats_db_table_rows_exact(t));
    cli_size_pretty(total, sizeof total, (long long)fastepost_stats_db_table_total_bytes(t));
    cli_size_pretty(table, sizeof table, (long long)fastepost_stats_db_table_table_bytes(t));
    cli_size_pretty(index, sizeof index, (long long)fastepost_stats_db_table_index_bytes(t));
    printf("%-*s %14s", (int)w, fastepost_stats_db_table_name(t), est);
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
  int rc = cli_start(ctx, argc, argv, opts);
  if (rc || ctx->help)
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
