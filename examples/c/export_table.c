/* SPDX-License-Identifier: MIT */
/*
 * Stream a table to standard output as CSV (or NDJSON), in constant memory.
 *
 *   ./export_table DSN TABLE [csv|ndjson]
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fastepost.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("libfastepost %s\n", fastepost_libversion(NULL, NULL, NULL));
    return 0;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: %s DSN TABLE [csv|ndjson]\n", argv[0]);
    return 2;
  }
  fastepost_conn *conn = NULL;
  fastepost_export_options *opts = NULL;
  int rc = fastepost_conn_open(&conn, argv[1]);
  if (!rc)
    rc = fastepost_export_options_new(&opts);
  if (!rc)
    rc = fastepost_export_options_set_table(opts, argv[2]);
  if (!rc)
    rc = fastepost_export_options_set_format(opts, argc > 3 && strcmp(argv[3], "ndjson") == 0
                                                       ? FASTEPOST_EXPORT_FORMAT_NDJSON
                                                       : FASTEPOST_EXPORT_FORMAT_CSV);
  if (!rc)
    rc = fastepost_export_to_fd(NULL, conn, STDOUT_FILENO, opts);
  if (rc)
    fprintf(stderr, "export_table: %s (%s)\n", fastepost_error_last()->message,
            fastepost_error_name(rc));
  fastepost_export_options_free(opts);
  fastepost_conn_free(conn);
  return rc ? 1 : 0;
}
