/* SPDX-License-Identifier: MIT */
/* Backup names (backup_YYYYMMDD_HHMMSS[_N][_table-NAME].sql|.dump), the text forms of the
 * module's enums, and the XDG default directory computed from what the host passes. */
#include <stdio.h>
#include <string.h>

#include "backup/backup_int.h"
#include "util/time.h"

bool fastepost__backup_table_char(int c) {
  return fastepost__ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

bool fastepost__backup_parse_name(const char *name, int64_t *created_us, int *suffix_out,
                                  fastepost_backup_format *format_out) {
  return fastepost__backup_parse_name_kind(name, created_us, suffix_out, format_out, NULL, NULL,
                                           0);
}

/* The table part after "_table-" up to the extension (the last dot; the table part may have
 * dots of its own, schema.name). The extension, or NULL when the part is not valid. */
static const char *table_part(const char *table, size_t *len) {
  const char *ext = strrchr(table, '.');
  if (!ext)
    return NULL;
  *len = (size_t)(ext - table);
  if (*len < 1 || *len > FASTEPOST__BACKUP_TABLE_MAX)
    return NULL;
  for (size_t i = 0; i < *len; i++)
    if (!fastepost__backup_table_char((unsigned char)table[i]))
      return NULL;
  return ext;
}

bool fastepost__backup_parse_name_kind(const char *name, int64_t *created_us, int *suffix_out,
                                       fastepost_backup_format *format_out,
                                       fastepost_backup_kind *kind_out, char *table_out,
                                       size_t table_size) {
  int y, mo, d, h, mi, s, suffix = 0;
  if (!name || strncmp(name, "backup_", 7) != 0 || strlen(name) >= FASTEPOST_BACKUP_NAME_MAX)
    return false;
  const char *p = name + 7;
  if (!fastepost__parse_digits(p, 4, &y) || !fastepost__parse_digits(p + 4, 2, &mo) ||
      !fastepost__parse_digits(p + 6, 2, &d) || p[8] != '_' ||
      !fastepost__parse_digits(p + 9, 2, &h) || !fastepost__parse_digits(p + 11, 2, &mi) ||
      !fastepost__parse_digits(p + 13, 2, &s))
    return false;
  p += 15;
  if (*p == '_' && fastepost__ascii_isdigit((unsigned char)p[1])) {
    int n = 0;
    while (p[1 + n] >= '0' && p[1 + n] <= '9')
      n++;
    if (n > 3 || p[1] == '0' || !fastepost__parse_digits(p + 1, n, &suffix))
      return false;
    p += 1 + n;
  }
  fastepost_backup_kind kind = FASTEPOST_BACKUP_KIND_FULL;
  const char *table = NULL;
  size_t table_len = 0;
  if (strncmp(p, "_table-", 7) == 0) {
    kind = FASTEPOST_BACKUP_KIND_TABLE;
    table = p + 7;
    if (!(p = table_part(table, &table_len)))
      return false;
  }
  fastepost_backup_format format;
  if (strcmp(p, ".sql") == 0)
    format = FASTEPOST_BACKUP_FORMAT_PLAIN;
  else if (strcmp(p, ".dump") == 0)
    format = FASTEPOST_BACKUP_FORMAT_CUSTOM;
  else
    return false;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > fastepost__days_in_month(y, mo) || h > 23 ||
      mi > 59 || s > 59)
    return false;
  if (created_us)
    *created_us = (fastepost__days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
                   mi * 60 + s) * FASTEPOST__US_PER_SEC;
  if (suffix_out)
    *suffix_out = suffix;
  if (format_out)
    *format_out = format;
  if (kind_out)
    *kind_out = kind;
  if (table_out && table_size) {
    size_t n = table_len < table_size - 1 ? table_len : table_size - 1;
    if (table)
      memcpy(table_out, table, n);
    table_out[table ? n : 0] = '\0';
  }
  return true;
}

/* ---- text forms of the enums ----------------------------------------------------------------- */

static const char *const format_names[] = {"plain", "custom"};
static const char *const kind_names[] = {"full", "table"};
static const char *const tool_names[] = {"pg_dump", "pg_restore", "psql"};

/* The index of text in names into *v; out is the caller's out-parameter, checked here. */
static int parse_of(int *v, const void *out, const char *text, const char *const *names, size_t n,
                    const char *what) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "parsing a backup %s: out is NULL", what);
  for (size_t i = 0; text && i < n; i++)
    if (strcmp(text, names[i]) == 0) {
      *v = (int)i;
      return FASTEPOST_OK;
    }
  return fastepost__error_set(FASTEPOST_EINVALID, "unknown backup %s '%s'", what,
                              FASTEPOST__SHOWN(text));
}

#define NAME_OF(names, value) ((unsigned)(value) < sizeof names / sizeof names[0] ? names[value] : "")

const char *fastepost_backup_format_name(fastepost_backup_format format) {
  return NAME_OF(format_names, format);
}

const char *fastepost_backup_kind_name(fastepost_backup_kind kind) {
  return NAME_OF(kind_names, kind);
}

const char *fastepost_backup_tool_name(fastepost_backup_tool tool) {
  return NAME_OF(tool_names, tool);
}

fastepost_status fastepost_backup_format_parse(fastepost_backup_format *out, const char *text) {
  int v, rc = parse_of(&v, out, text, format_names, 2, "format");
  return rc ? rc : (*out = (fastepost_backup_format)v, FASTEPOST_OK);
}

fastepost_status fastepost_backup_kind_parse(fastepost_backup_kind *out, const char *text) {
  int v, rc = parse_of(&v, out, text, kind_names, 2, "kind");
  return rc ? rc : (*out = (fastepost_backup_kind)v, FASTEPOST_OK);
}

fastepost_status fastepost_backup_tool_parse(fastepost_backup_tool *out, const char *text) {
  int v, rc = parse_of(&v, out, text, tool_names, 3, "tool");
  return rc ? rc : (*out = (fastepost_backup_tool)v, FASTEPOST_OK);
}

/* ---- the per-user default directory ---------------------------------------------------------- */

fastepost_status fastepost_backup_default_dir(char **out, const char *state_home,
                                              const char *home) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_default_dir: out is NULL");
  *out = NULL;
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  /* XDG: a relative XDG_STATE_HOME is invalid and must be ignored. */
  if (state_home && state_home[0] == '/')
    fastepost__buf_printf(&buf, "%s/fastepost/backups", state_home);
  else if (home && home[0] == '/' && strcmp(home, "/") != 0)
    fastepost__buf_printf(&buf, "%s/.local/state/fastepost/backups", home);
  else
    return fastepost__error_set(FASTEPOST_ENOTFOUND,
                                "no default backup directory: XDG_STATE_HOME is not an absolute "
                                "path and HOME is unset or /; give a directory");
  *out = fastepost__buf_detach(&buf);
  return *out ? FASTEPOST_OK : fastepost__error_oom();
}
