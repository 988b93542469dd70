/* SPDX-License-Identifier: MIT */
/*
 * Take a backup with pg_dump into a directory and list the newest backups, as a nightly job
 * would (see examples/cron and examples/systemd for scheduling the CLI instead).
 *
 *   ./backup_now DSN DIRECTORY [KEEP]      (KEEP: prune to the newest KEEP backups)
 *
 * The library reads no environment: the program passes PATH on as the search path for pg_dump
 * (DIRECTORY must be absolute).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastepost.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("libfastepost %s\n", fastepost_libversion(NULL, NULL, NULL));
    return 0;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: %s DSN DIRECTORY [KEEP]\n", argv[0]);
    return 2;
  }
  fastepost_conn *conn = NULL;
  fastepost_backup_dir *dir = NULL;
  char *name = NULL;
  int rc = fastepost_conn_open(&conn, argv[1]);
  if (!rc)
    rc = fastepost_backup_dir_new(&dir, argv[2]);
  if (!rc)
    rc = fastepost_backup_dir_set_search_path(dir, getenv("PATH"));
  if (!rc)
    rc = fastepost_backup_create(&name, dir, conn, FASTEPOST_BACKUP_FORMAT_CUSTOM, NULL);
  if (!rc)
    printf("created %s\n", name);
  if (!rc && argc > 3) {
    fastepost_backup_list *removed = NULL;
    rc = fastepost_backup_prune(&removed, dir, (size_t)atoi(argv[3]), 0);
    for (size_t i = 0; i < fastepost_backup_list_count(removed); i++)
      printf("pruned %s\n", fastepost_backup_info_name(fastepost_backup_list_get(removed, i)));
    fastepost_backup_list_free(removed);
  }
  fastepost_backup_list *list = NULL;
  if (!rc)
    rc = fastepost_backup_dir_list(&list, dir, 5);
  for (size_t i = 0; i < fastepost_backup_list_count(list); i++) {
    const fastepost_backup_info *b = fastepost_backup_list_get(list, i);
    printf("%s %llu bytes\n", fastepost_backup_info_name(b),
           (unsigned long long)fastepost_backup_info_size(b));
  }
  if (rc)
    fprintf(stderr, "backup_now: %s (%s)\n", fastepost_error_last()->message,
            fastepost_error_name(rc));
  fastepost_backup_list_free(list);
  fastepost_free(name);
  fastepost_backup_dir_free(dir);
  fastepost_conn_free(conn);
  return rc ? 1 : 0;
}
