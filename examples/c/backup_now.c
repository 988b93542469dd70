/*
 * Take a backup with pg_dump into a directory and list the newest backups, as a nightly job
 * would (see examples/cron and examples/systemd for scheduling the CLI instead).
 *
 *   ./backup_now DSN DIRECTORY [KEEP]      (KEEP: prune to the newest KEEP backups)
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
    rc = fastepost_backup_create(&name, dir, conn, FASTEPOST_BACKUP_CUSTOM, NULL);
  if (!rc)
    printf("created %s\n", name);
  if (!rc && argc > 3) {
    fastepost_backup_info *removed = NULL;
    size_t nremoved = 0;
    rc = fastepost_backup_prune(&removed, &nremoved, dir, atoi(argv[3]), -1);
    for (size_t i = 0; !rc && i < nremoved; i++)
      printf("pruned %s\n", removed[i].name);
    fastepost_free(removed);
  }
  fastepost_backup_info *list = NULL;
  size_t n = 0;
  if (!rc)
    rc = fastepost_backup_list(&list, &n, dir, 5);
  for (size_t i = 0; !rc && i < n; i++)
    printf("%s %lld bytes\n", list[i].name, (long long)list[i].size);
  if (rc)
    fprintf(stderr, "backup_now: %s (%s)\n", fastepost_error_last()->message,
            fastepost_error_name(rc));
  fastepost_free(list);
  fastepost_free(name);
  fastepost_backup_dir_free(dir);
  fastepost_conn_free(conn);
  return rc ? 1 : 0;
}
