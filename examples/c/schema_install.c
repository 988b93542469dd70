/* SPDX-License-Identifier: MIT */
/*
 * Connect, install (or upgrade) the schema and report its version.
 *
 *   cc schema_install.c $(pkg-config --cflags --libs fastepost) -o schema_install
 *   ./schema_install "postgresql:///fastepost"      (or DATABASE_URL, or the PG* variables)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastepost.h>

int main(int argc, char **argv) {
  /* The headers and the loaded library must agree on the major version. */
  int major = 0;
  const char *version = fastepost_libversion(&major, NULL, NULL);
  if (major != FASTEPOST_VERSION_MAJOR) {
    fprintf(stderr, "libfastepost %s does not match the headers (%s)\n", version, FASTEPOST_VERSION);
    return 1;
  }
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("libfastepost %s\n", version);
    return 0;
  }

  const char *dsn = argc > 1 ? argv[1] : getenv("DATABASE_URL");
  fastepost_conn *conn = NULL;
  if (fastepost_conn_open(&conn, dsn) != FASTEPOST_OK) {
    const fastepost_error *e = fastepost_error_last();
    fprintf(stderr, "connect: %s (%s)\n", e->message, fastepost_error_name(e->code));
    return 1;
  }
  size_t applied = 0;
  int current = 0, latest = 0;
  if (fastepost_schema_install(&applied, conn) != FASTEPOST_OK ||
      fastepost_schema_version(&current, &latest, conn) != FASTEPOST_OK) {
    const fastepost_error *e = fastepost_error_last();
    fprintf(stderr, "schema: %s [SQLSTATE %s]\n", e->message, e->sqlstate);
    fastepost_conn_free(conn);
    return 1;
  }
  printf("%s: schema version %d (%zu migration(s) applied now)\n", fastepost_conn_database(conn),
         current, applied);
  fastepost_conn_free(conn);
  return 0;
}
