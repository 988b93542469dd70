/*
 * Backups with pg_dump, pg_restore and psql run as child processes (util/proc.c).
 *
 * Every file operation goes through a descriptor of the backup directory (openat and friends,
 * O_NOFOLLOW): a name is checked against the backup pattern first, so `../x`, absolute paths and
 * symbolic links never reach the file system as something to open.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backup_priv.h"
#include "internal.h"
#include "pgtool.h"
#include "util/proc.h"
#include "util/time.h"
#include "util/fs.h"

struct fastepost_backup_dir {
  char *path;
  char *tools[3];
  fastepost_progress_cb progress;
  void *progress_payload;
  /* The process environment as it was when the handle was created: PATH, FASTEPOST_PG_* and
   * the children's environment come from here, never from environ during a call (which may
   * run without the host's GIL/GVL while another thread calls setenv). */
  char **env;
  int64_t child_timeout_ms;  /* pg_dump, pg_restore, psql */
  int lock_wait_timeout_ms;  /* pg_dump --lock-wait-timeout, lock_timeout of a restore */
  int connect_timeout_s;     /* PGCONNECT_TIMEOUT of every child, unless its conninfo says */
  const volatile sig_atomic_t *stop_flag;
};

static const char *const tool_names[3] = {"pg_dump", "pg_restore", "psql"};
static const char *const tool_envs[3] = {"FASTEPOST_PG_DUMP", "FASTEPOST_PG_RESTORE",
                                         "FASTEPOST_PSQL"};

#define SHA256_HEX 64
/* errno as text for a message (thread-safe, locale-independent); the compound literal lives to
 * the end of the enclosing block. */
#define ERRNO_TEXT()                                                                               \
  fastepost__errno_text(errno, (char[FASTEPOST__ERRNO_BUFSIZE]){0}, FASTEPOST__ERRNO_BUFSIZE)
#define DEFAULT_CHILD_TIMEOUT_MS (3600 * 1000)
#define DEFAULT_LOCK_WAIT_TIMEOUT_MS (60 * 1000)
#define DEFAULT_CONNECT_TIMEOUT_S 10
/* The table part of a table backup's name: table-<name>, <name> at most this long. */
#define TABLE_NAME_MAX 64
/* Temporary files; never a backup name. prune removes leftovers a crash may have left. */
#define PARTIAL_PREFIX ".partial-"
#define PARTIAL_MAX_AGE (24 * 3600)

/* ---- names ---------------------------------------------------------------------------------- */

static bool table_name_char(int c) {
  return fastepost__ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

bool fastepost__backup_parse_name(const char *name, int64_t *time_out, int *suffix_out,
                                  fastepost_backup_format *format_out) {
  return fastepost__backup_parse_name_kind(name, time_out, suffix_out, format_out, NULL, NULL, 0);
}

bool fastepost__backup_parse_name_kind(const char *name, int64_t *time_out, int *suffix_out,
                                       fastepost_backup_format *format_out,
                                       fastepost_backup_kind *kind_out, char *table_out,
                                       size_t table_size) {
  /* backup_YYYYMMDD_HHMMSS[_N][_table-<name>].sql|.dump */
  int y, mo, d, h, mi, s, suffix = 0;
  if (!name || strncmp(name, "backup_", 7) != 0 || strlen(name) >= FASTEPOST_BACKUP_NAME_MAX)
    return false;
  const char *p = name + 7;
  if (!fastepost__parse_digits(p, 4, &y) || !fastepost__parse_digits(p + 4, 2, &mo) || !fastepost__parse_digits(p + 6, 2, &d) || p[8] != '_' ||
      !fastepost__parse_digits(p + 9, 2, &h) || !fastepost__parse_digits(p + 11, 2, &mi) || !fastepost__parse_digits(p + 13, 2, &s))
    return false;
  p += 15;
  if (*p == '_' && fastepost__ascii_isdigit((unsigned char)p[1])) {
    int n = 0;
    while (p[1 + n] >= '0' && p[1 + n] <= '9')
      n++;
    if (n < 1 || n > 3 || p[1] == '0' || !fastepost__parse_digits(p + 1, n, &suffix))
      return false;
    p += 1 + n;
  }
  fastepost_backup_kind kind = FASTEPOST_BACKUP_FULL;
  const char *table = NULL;
  size_t table_len = 0;
  if (strncmp(p, "_table-", 7) == 0) {
    kind = FASTEPOST_BACKUP_TABLE;
    table = p + 7;
    const char *ext = strrchr(table, '.');
    if (!ext)
      return false;
    /* The extension is the last dot; the table part may have dots of its own (schema.name). */
    table_len = (size_t)(ext - table);
    if (table_len < 1 || table_len > TABLE_NAME_MAX)
      return false;
    for (size_t i = 0; i < table_len; i++)
      if (!table_name_char((unsigned char)table[i]))
        return false;
    p = ext;
  }
  fastepost_backup_format format;
  if (strcmp(p, ".sql") == 0)
    format = FASTEPOST_BACKUP_PLAIN;
  else if (strcmp(p, ".dump") == 0)
    format = FASTEPOST_BACKUP_CUSTOM;
  else
    return false;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > fastepost__days_in_month(y, mo) || h > 23 || mi > 59 ||
      s > 59)
    return false;
  if (time_out)
    *time_out = fastepost__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
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

/* ---- what a plain backup may contain ---------------------------------------------------------- */

/*
 * psql runs a plain backup, and psql runs meta-commands: `\! cmd` is a shell command. A plain
 * file is restored only when it holds nothing but what pg_dump writes: SQL, COPY data blocks,
 * and `\restrict KEY` / `\unrestrict KEY` (pg_dump 15.14+). The scanner follows psql's lexer
 * (quotes, E'' strings, "identifiers", dollar quotes, nested comments) so that a backslash is
 * judged where psql would judge it. Where psql's reading depends on server state
 * (standard_conforming_strings decides whether \' ends a plain string), an odd run of
 * backslashes before a quote is refused rather than guessed. COPY data is recognised only after a
 * line that is exactly one `COPY ... FROM stdin;` statement, which psql certainly runs as such.
 */
enum { LEX_NORMAL, LEX_SQUOTE, LEX_SQUOTE_END, LEX_ESTRING, LEX_ESTRING_ESC, LEX_ESTRING_END,
       LEX_DQUOTE, LEX_DQUOTE_END, LEX_DOLLAR_TAG, LEX_DOLLAR, LEX_LINE_COMMENT, LEX_BLOCK_COMMENT,
       LEX_META };

static const char trailer[] = "-- PostgreSQL database dump complete";

static bool ident_char(int c) {
  return fastepost__ascii_isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* "line N: <before>'<what>'<after>", what shortened for the message. */
static int scan_fail(fastepost__plain_scan *s, const char *before, const char *what,
                     const char *after) {
  if (!s->rc) {
    char shown[64];
    fastepost__preview(shown, sizeof shown, what, strlen(what));
    s->rc = fastepost__error_set(FASTEPOST_EPARSE, "line %lld: %s'%s'%s", s->line_no, before,
                                 shown, after);
  }
  return s->rc;
}

static bool restrict_line(const char *line, const char *cmd, char *key, size_t keysize) {
  size_t n = strlen(cmd);
  if (strncmp(line, cmd, n) != 0 || line[n] != ' ')
    return false;
  const char *k = line + n + 1;
  size_t len = 0;
  while (fastepost__ascii_isalnum((unsigned char)k[len]))
    len++;
  if (len == 0 || len >= keysize || k[len] != '\0')
    return false;
  memcpy(key, k, len + 1);
  return true;
}

/* The end of a line in SQL mode: the line-level rules. */
static void scan_line_end(fastepost__plain_scan *s) {
  char *line = s->line;
  size_t n = s->line_len;
  while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
    n--;
  line[n] = '\0';
  bool clean = s->line_clean_start;
  if (s->has_meta) {
    char key[sizeof s->restrict_key];
    if (!clean || s->line_truncated)
      scan_fail(s, "a psql meta-command inside a statement ", line, "; pg_dump never writes one");
    else if (restrict_line(line, "\\restrict", key, sizeof key) && !s->restrict_key[0] &&
             !s->seen_statement)
      memcpy(s->restrict_key, key, sizeof key);
    else if (restrict_line(line, "\\unrestrict", key, sizeof key) && s->restrict_key[0] &&
             strcmp(key, s->restrict_key) == 0 && !s->unrestricted)
      s->unrestricted = true;
    else
      scan_fail(s, "the psql meta-command ", line,
                " is not one pg_dump writes; a plain backup runs in psql, so it is refused");
  } else if (s->seen_trailer) {
    if (n && strcmp(line, "--") != 0)
      scan_fail(s, "", line, " after pg_dump's completion trailer");
  } else if (clean && strcmp(line, trailer) == 0) {
    s->seen_trailer = true;
  } else if (clean && !s->line_truncated && s->lex == LEX_NORMAL && !s->pending &&
             strncmp(line, "COPY ", 5) == 0 && n > 17 &&
             strcmp(line + n - 12, " FROM stdin;") == 0 && s->statements_on_line == 1) {
    s->copy = true;
  }
  if (s->unrestricted && !s->has_meta && n && strcmp(line, "--") != 0)
    scan_fail(s, "", line, " after \\unrestrict");
  s->line_no++;
  s->line_len = 0;
  s->line_truncated = false;
  s->has_meta = false;
  s->statements_on_line = 0;
  if (s->lex == LEX_LINE_COMMENT || s->lex == LEX_META)
    s->lex = LEX_NORMAL;
  s->line_clean_start = s->lex == LEX_NORMAL && !s->pending;
}

/* One character of SQL (not '\n' in NORMAL: that goes through scan_line_end). */
static void scan_char(fastepost__plain_scan *s, int c) {
again:
  switch (s->lex) {
  case LEX_NORMAL:
    if (s->pend_dash || s->pend_slash) {
      bool dash = s->pend_dash;
      s->pend_dash = s->pend_slash = false;
      if (dash && c == '-') {
        s->lex = LEX_LINE_COMMENT;
        break;
      }
      if (!dash && c == '*') {
        s->lex = LEX_BLOCK_COMMENT;
        s->depth = 1;
        s->prev = 0;
        break;
      }
      s->pending = true;
      s->prev = dash ? '-' : '/';
      s->prev2 = 0;
    }
    if (c == '-' || c == '/') {
      if (c == '-')
        s->pend_dash = true;
      else
        s->pend_slash = true;
      break;
    }
    if (c == '\\') {
      s->has_meta = true;
      s->lex = LEX_META; /* psql takes the rest of the line as the command's arguments */
      break;
    }
    if (c == '\'') {
      bool e = (s->prev == 'E' || s->prev == 'e') && !ident_char(s->prev2);
      s->lex = e ? LEX_ESTRING : LEX_SQUOTE;
      s->backslashes = 0;
    } else if (c == '"') {
      s->lex = LEX_DQUOTE;
    } else if (c == '$' && !ident_char(s->prev)) {
      s->lex = LEX_DOLLAR_TAG;
      s->tag_len = 0;
    } else if (c == ';') {
      s->pending = false;
      s->statements_on_line++;
      s->seen_statement = true;
    }
    if (!fastepost__ascii_isspace(c) && c != ';')
      s->pending = true;
    s->prev2 = s->prev;
    s->prev = c;
    break;
  case LEX_SQUOTE:
    if (c == '\'') {
      if (s->backslashes % 2)
        scan_fail(s, "a quote after an odd run of backslashes ", "\\'",
                  " reads differently with standard_conforming_strings on and off; refused");
      s->lex = LEX_SQUOTE_END;
    }
    s->backslashes = c == '\\' ? s->backslashes + 1 : 0;
    break;
  case LEX_SQUOTE_END:
  case LEX_ESTRING_END:
  case LEX_DQUOTE_END: {
    int back = s->lex == LEX_SQUOTE_END ? LEX_SQUOTE : s->lex == LEX_ESTRING_END ? LEX_ESTRING
                                                                                 : LEX_DQUOTE;
    if (c == (back == LEX_DQUOTE ? '"' : '\'')) { /* doubled: still inside */
      s->lex = back;
      s->backslashes = 0;
      break;
    }
    s->lex = LEX_NORMAL;
    s->prev = s->prev2 = 'x'; /* a literal ended: what follows is not an E prefix */
    goto again;
  }
  case LEX_ESTRING:
    if (c == '\\')
      s->lex = LEX_ESTRING_ESC;
    else if (c == '\'')
      s->lex = LEX_ESTRING_END;
    break;
  case LEX_ESTRING_ESC:
    s->lex = LEX_ESTRING;
    break;
  case LEX_DQUOTE:
    if (c == '"')
      s->lex = LEX_DQUOTE_END;
    break;
  case LEX_DOLLAR_TAG:
    if (c == '$') {
      s->lex = LEX_DOLLAR;
      s->match = 0;
    } else if ((fastepost__ascii_isalpha(c) || c == '_' || c >= 0x80 ||
                (s->tag_len && fastepost__ascii_isdigit(c))) &&
               s->tag_len < sizeof s->tag - 1) {
      s->tag[s->tag_len++] = (char)c;
    } else { /* $1, or not a delimiter */
      s->lex = LEX_NORMAL;
      s->prev = '$';
      s->prev2 = 0;
      goto again;
    }
    break;
  case LEX_DOLLAR: {
    /* Looking for "$tag$"; a tag holds no '$', so a mismatch restarts at 0 or 1. */
    size_t want = s->tag_len + 2;
    char expect = s->match == 0 || s->match == want - 1 ? '$' : s->tag[s->match - 1];
    if (c == expect) {
      if (++s->match == want) {
        s->lex = LEX_NORMAL;
        s->prev = s->prev2 = 'x';
      }
    } else {
      s->match = c == '$' ? 1 : 0;
    }
    break;
  }
  case LEX_LINE_COMMENT:
  case LEX_META:
    break;
  case LEX_BLOCK_COMMENT:
    if (s->prev == '/' && c == '*') {
      s->depth++;
      c = 0;
    } else if (s->prev == '*' && c == '/') {
      if (--s->depth == 0)
        s->lex = LEX_NORMAL;
      c = 0;
    }
    s->prev = c;
    break;
  }
}

void fastepost__plain_scan_init(fastepost__plain_scan *s) {
  memset(s, 0, sizeof *s);
  s->line_no = 1;
  s->line_clean_start = true;
}

int fastepost__plain_scan_feed(fastepost__plain_scan *s, const char *data, size_t len) {
  const char *p = data, *end = data + len;
  while (p < end && !s->rc) {
    if (s->copy) {
      /* COPY data: only the end marker "\." matters; a line may be long. */
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      size_t n = (size_t)((nl ? nl : end) - p);
      for (size_t i = 0; i < n && s->line_len < 3; i++)
        s->line[s->line_len++] = p[i];
      if (n > 3)
        s->line_len = 4; /* longer than "\.\r": not the end marker */
      if (nl) {
        bool marker = (s->line_len == 2 || (s->line_len == 3 && s->line[2] == '\r')) &&
                      s->line[0] == '\\' && s->line[1] == '.';
        if (marker)
          s->copy = false;
        s->line_len = 0;
        s->line_no++;
        p = nl + 1;
      } else {
        p = end;
      }
      continue;
    }
    int c = (unsigned char)*p++;
    if (c == '\n') {
      scan_char(s, c); /* content inside quotes and comments, white space outside */
      scan_line_end(s);
      continue;
    }
    if (s->line_len < sizeof s->line - 1)
      s->line[s->line_len++] = (char)c;
    else
      s->line_truncated = true;
    scan_char(s, c);
  }
  return s->rc;
}

int fastepost__plain_scan_finish(fastepost__plain_scan *s) {
  if (!s->rc && (s->line_len || s->has_meta))
    scan_line_end(s);
  if (s->rc)
    return s->rc;
  if (s->copy)
    return s->rc = fastepost__error_set(FASTEPOST_EPARSE, "incomplete: the file ends inside COPY "
                                        "data (truncated)");
  if (!s->seen_trailer)
    return s->rc = fastepost__error_set(FASTEPOST_EPARSE,
                                        "incomplete: pg_dump's last line '%s' is missing (the "
                                        "file was cut short)", trailer);
  if (s->restrict_key[0] && !s->unrestricted)
    return s->rc = fastepost__error_set(FASTEPOST_EPARSE, "incomplete: \\restrict without its "
                                        "\\unrestrict");
  return FASTEPOST_OK;
}

/* ---- the directory handle ------------------------------------------------------------------ */

fastepost_status fastepost_backup_dir_new(fastepost_backup_dir **out, const char *path) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_dir_new: out is NULL");
  *out = NULL;
  /* No default here: a library has no business guessing a place for database dumps (the old
   * default, tmp/backups under the working directory, was /tmp/backups under systemd). */
  if (!path || !*path)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "no backup directory given (fastepost_backup_default_dir() "
                                "gives the per-user default)");
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  if (path[0] != '/') {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
      char eb[FASTEPOST__ERRNO_BUFSIZE];
      return fastepost__error_set(FASTEPOST_EIO, "cannot determine the working directory: %s",
                                  fastepost__errno_text(errno, eb, sizeof eb));
    }
    fastepost__buf_printf(&buf, "%s/", cwd);
  }
  fastepost__buf_puts(&buf, path);
  /* Trailing slashes would only make messages ugly. */
  while (buf.len > 1 && buf.data && buf.data[buf.len - 1] == '/')
    buf.data[--buf.len] = '\0';
  char *abs = fastepost__buf_detach(&buf);
  if (!abs)
    return FASTEPOST_ENOMEM;
  fastepost_backup_dir *dir = calloc(1, sizeof *dir);
  char **env = dir ? fastepost__env_snapshot() : NULL;
  if (!dir || !env) {
    free(abs);
    free(dir);
    return fastepost__error_oom();
  }
  dir->path = abs;
  dir->env = env;
  dir->child_timeout_ms = DEFAULT_CHILD_TIMEOUT_MS;
  dir->lock_wait_timeout_ms = DEFAULT_LOCK_WAIT_TIMEOUT_MS;
  dir->connect_timeout_s = DEFAULT_CONNECT_TIMEOUT_S;
  *out = dir;
  return FASTEPOST_OK;
}

fastepost_status fastepost_backup_default_dir(char **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_default_dir: out is NULL");
  *out = NULL;
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  const char *v = getenv("FASTEPOST_BACKUP_DIR");
  const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  /* XDG: a relative XDG_STATE_HOME is invalid and must be ignored. */
  if (v && *v)
    fastepost__buf_puts(&buf, v);
  else if (state && state[0] == '/')
    fastepost__buf_printf(&buf, "%s/fastepost/backups", state);
  else if (home && home[0] == '/' && strcmp(home, "/") != 0)
    fastepost__buf_printf(&buf, "%s/.local/state/fastepost/backups", home);
  else
    return fastepost__error_set(FASTEPOST_ENOTFOUND,
                                "no backup directory: give one (--dir), or set "
                                "FASTEPOST_BACKUP_DIR, XDG_STATE_HOME or HOME");
  *out = fastepost__buf_detach(&buf);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

fastepost_status fastepost_backup_set_timeouts(fastepost_backup_dir *dir, int64_t child_timeout_ms,
                                               int lock_wait_timeout_ms, int connect_timeout_s) {
  if (!dir)
    return fastepost__error_set(FASTEPOST_EINVALID, "backup directory is NULL");
  /* Every wait is bounded: "no deadline" is not offered. */
  if (child_timeout_ms < 1000 || lock_wait_timeout_ms < 1 || connect_timeout_s < 2)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "backup timeouts out of range: child %lld ms (at least 1000), lock "
                                "wait %d ms (at least 1), connect %d s (at least 2)",
                                (long long)child_timeout_ms, lock_wait_timeout_ms,
                                connect_timeout_s);
  dir->child_timeout_ms = child_timeout_ms;
  dir->lock_wait_timeout_ms = lock_wait_timeout_ms;
  dir->connect_timeout_s = connect_timeout_s;
  return FASTEPOST_OK;
}

void fastepost_backup_set_interrupt(fastepost_backup_dir *dir,
                                    const volatile sig_atomic_t *flag) {
  if (dir)
    dir->stop_flag = flag;
}

void fastepost_backup_dir_free(fastepost_backup_dir *dir) {
  if (!dir)
    return;
  for (int i = 0; i < 3; i++)
    free(dir->tools[i]);
  fastepost__env_free(dir->env);
  free(dir->path);
  free(dir);
}

const char *fastepost_backup_dir_path(const fastepost_backup_dir *dir) {
  return dir ? dir->path : "";
}

fastepost_status fastepost_backup_set_tool(fastepost_backup_dir *dir, fastepost_backup_tool tool,
                                           const char *path) {
  if (!dir || (int)tool < 0 || (int)tool > 2)
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown backup tool %d", (int)tool);
  char *copy = NULL;
  if (path && *path && !(copy = fastepost__strdup(path)))
    return FASTEPOST_ENOMEM;
  free(dir->tools[tool]);
  dir->tools[tool] = copy;
  return FASTEPOST_OK;
}

void fastepost_backup_set_progress(fastepost_backup_dir *dir, fastepost_progress_cb fn,
                                   void *payload) {
  if (!dir)
    return;
  dir->progress = fn;
  dir->progress_payload = payload;
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_dirs(const char *path) {
  int err = fastepost__mkdir_p(path, 0700);
  if (err == ENOMEM)
    return fastepost__error_oom();
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  return err ? fastepost__error_set(FASTEPOST_EIO, "cannot create the backup directory %s: %s", path,
                                    fastepost__errno_text(err, eb, sizeof eb))
             : FASTEPOST_OK;
}

/*
 * Whether an opened directory (name NULL) or file may be trusted, the way ssh judges its files:
 * owned by the user running us, and nobody else may write the directory (else anyone could plant
 * a backup, and a plain backup runs in psql) or touch a backup (0600: it holds the data). A
 * checksum file holds no data: others may read it, not write it. The message says how to fix it.
 */
static int check_trust(int fd, const char *dirpath, const char *name) {
  struct stat st;
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  if (fstat(fd, &st) != 0)
    return fastepost__error_set(FASTEPOST_EIO, "cannot stat %s%s%s: %s", dirpath, name ? "/" : "",
                                name ? name : "", fastepost__errno_text(errno, eb, sizeof eb));
  uid_t me = geteuid();
  const char *what = name ? "backup file" : "backup directory";
  if (st.st_uid != me)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "untrusted %s %s%s%s: it is owned by uid %lu, not by this user "
                                "(uid %lu); fix: chown %lu '%s%s%s' (or use a directory of your "
                                "own)",
                                what, dirpath, name ? "/" : "", name ? name : "",
                                (unsigned long)st.st_uid, (unsigned long)me, (unsigned long)me,
                                dirpath, name ? "/" : "", name ? name : "");
  bool checksum = name && strstr(name, ".sha256");
  mode_t bad = name && !checksum ? 077 : 022;
  if (st.st_mode & bad)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "untrusted %s %s%s%s: mode %04o lets %s; fix: chmod %s '%s%s%s'",
                                what, dirpath, name ? "/" : "", name ? name : "",
                                (unsigned)(st.st_mode & 07777),
                                name && !checksum ? "others than its owner read or change it"
                                                  : "others than its owner write to it",
                                name && !checksum ? "600" : "go-w", dirpath, name ? "/" : "",
                                name ? name : "");
  return FASTEPOST_OK;
}

/* A descriptor of the directory. *fd = -1 without an error when it does not exist and
 * `missing_ok`. */
static int open_dir(int *fd, const fastepost_backup_dir *dir, bool create, bool missing_ok) {
  *fd = -1;
  if (!dir)
    return fastepost__error_set(FASTEPOST_EINVALID, "backup directory is NULL");
  if (create) {
    int rc = make_dirs(dir->path);
    if (rc)
      return rc;
  }
  *fd = open(dir->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*fd < 0) {
    if (errno == ENOENT && missing_ok)
      return FASTEPOST_OK;
    char eb[FASTEPOST__ERRNO_BUFSIZE];
    return fastepost__error_set(errno == ENOENT ? FASTEPOST_ENOTFOUND : FASTEPOST_EIO,
                                "cannot open the backup directory %s: %s", dir->path,
                                fastepost__errno_text(errno, eb, sizeof eb));
  }
  int rc = check_trust(*fd, dir->path, NULL);
  if (rc) {
    close(*fd);
    *fd = -1;
  }
  return rc;
}

/* Open a backup by name inside dirfd: the name must be a backup name, the file a regular file
 * reached without following a symbolic link. */
static int open_backup(int *fd, int64_t *size, int dirfd, const char *dirpath, const char *name) {
  *fd = -1;
  char shown[64];
  fastepost__preview(shown, sizeof shown, name ? name : "", name ? strlen(name) : 0);
  if (!fastepost__backup_parse_name(name, NULL, NULL, NULL))
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "'%s' is not a backup name (backup_YYYYMMDD_HHMMSS[_table-NAME]"
                                ".sql or .dump)",
                                shown);
  if (dirfd < 0)
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no backup named %s", name);
  /* O_NONBLOCK: a FIFO planted under a backup name must not hang the open. */
  int f = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (f < 0) {
    if (errno == ENOENT || errno == ELOOP)
      return fastepost__error_set(FASTEPOST_ENOTFOUND, "no backup named %s%s", name,
                                  errno == ELOOP ? " (it is a symbolic link)" : "");
    char eb[FASTEPOST__ERRNO_BUFSIZE];
    return fastepost__error_set(FASTEPOST_EIO, "cannot open backup %s: %s", name,
                                fastepost__errno_text(errno, eb, sizeof eb));
  }
  struct stat st;
  if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(f);
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no backup named %s (not a regular file)",
                                name);
  }
  int rc = check_trust(f, dirpath, name);
  if (rc) {
    close(f);
    return rc;
  }
  int flags = fcntl(f, F_GETFL);
  if (flags >= 0)
    fcntl(f, F_SETFL, flags & ~O_NONBLOCK);
  *fd = f;
  if (size)
    *size = (int64_t)st.st_size;
  return FASTEPOST_OK;
}

/* ---- listing ------------------------------------------------------------------------------- */

typedef struct entry {
  fastepost_backup_info info;
  int suffix;
} entry;

static int newest_first(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->info.time != y->info.time)
    return x->info.time > y->info.time ? -1 : 1;
  if (x->suffix != y->suffix)
    return x->suffix > y->suffix ? -1 : 1;
  return strcmp(x->info.name, y->info.name);
}

/* Every backup in dirfd, newest first. */
static int scan(entry **out, size_t *count, int dirfd, const char *path) {
  *out = NULL;
  *count = 0;
  if (dirfd < 0)
    return FASTEPOST_OK;
  int dup_fd = dup(dirfd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (!d) {
    if (dup_fd >= 0)
      close(dup_fd);
  {
    char eb[FASTEPOST__ERRNO_BUFSIZE];
    return fastepost__error_set(FASTEPOST_EIO, "cannot read the backup directory %s: %s", path,
                                fastepost__errno_text(errno, eb, sizeof eb));
  }
  }
  rewinddir(d); /* a duplicated descriptor shares the directory position */
  entry *list = NULL;
  size_t n = 0, cap = 0;
  int rc = FASTEPOST_OK;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    entry e;
    memset(&e, 0, sizeof e);
    if (!fastepost__backup_parse_name_kind(de->d_name, &e.info.time, &e.suffix, &e.info.format,
                                           &e.info.kind, e.info.table, sizeof e.info.table))
      continue;
    struct stat st;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue;
    memcpy(e.info.name, de->d_name, strlen(de->d_name) + 1); /* parse_name checked the length */
    e.info.size = (int64_t)st.st_size;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      entry *grown = realloc(list, ncap * sizeof *grown);
      if (!grown) {
        rc = fastepost__error_oom();
        break;
      }
      list = grown;
      cap = ncap;
    }
    list[n++] = e;
  }
  closedir(d);
  if (rc) {
    free(list);
    return rc;
  }
  if (n)
    qsort(list, n, sizeof *list, newest_first);
  *out = list;
  *count = n;
  return FASTEPOST_OK;
}

/* Copy entries [from, from+n) of list into a new info array. */
static int infos_of(fastepost_backup_info **out, const entry *list, size_t n) {
  *out = NULL;
  if (!n)
    return FASTEPOST_OK;
  fastepost_backup_info *infos = calloc(n, sizeof *infos);
  if (!infos)
    return fastepost__error_oom();
  for (size_t i = 0; i < n; i++)
    infos[i] = list[i].info;
  *out = infos;
  return FASTEPOST_OK;
}

fastepost_status fastepost_backup_list(fastepost_backup_info **out, size_t *count,
                                       fastepost_backup_dir *dir, int limit) {
  if (!out || !count)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_list: out or count is NULL");
  *out = NULL;
  *count = 0;
  int dirfd;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  entry *list;
  size_t n;
  rc = scan(&list, &n, dirfd, dir->path);
  if (dirfd >= 0)
    close(dirfd);
  if (rc)
    return rc;
  if (limit > 0 && n > (size_t)limit)
    n = (size_t)limit;
  rc = infos_of(out, list, n);
  free(list);
  if (!rc)
    *count = n;
  return rc;
}

fastepost_status fastepost_backup_path(char **out, fastepost_backup_dir *dir, const char *name) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_path: out is NULL");
  *out = NULL;
  int dirfd, fd;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  rc = open_backup(&fd, NULL, dirfd, dir->path, name);
  if (dirfd >= 0)
    close(dirfd);
  if (rc)
    return rc;
  close(fd);
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&buf, "%s/%s", dir->path, name);
  *out = fastepost__buf_detach(&buf);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

fastepost_status fastepost_backup_open(int *fd, int64_t *size, fastepost_backup_dir *dir,
                                       const char *name) {
  if (!fd)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_open: fd is NULL");
  *fd = -1;
  int dirfd;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  rc = open_backup(fd, size, dirfd, dir->path, name);
  if (dirfd >= 0)
    close(dirfd);
  return rc;
}

/* ---- finding pg_dump, pg_restore, psql (pgtool.c) ----------------------------------------- */

static int find_tool(char **out, const fastepost_backup_dir *dir, fastepost_backup_tool tool,
                     int server_version) {
  return fastepost__pgtool_find_env(out, tool_names[tool], dir->tools[tool], tool_envs[tool],
                                    server_version, dir->env);
}

/* ---- create -------------------------------------------------------------------------------- */

/*
 * pg_dump writes straight into the temporary file (its stdout), exactly as `pg_dump -f` would:
 * no pipe copy. Meanwhile a tick follows the file's growth to report progress and, for plain
 * SQL (written strictly in sequence), to hash what is already there, so that little hashing is
 * left at the end. A custom archive is hashed after pg_dump exits: on a seekable file it goes
 * back and rewrites its table of contents.
 */
typedef struct dump_state {
  int fd;
  EVP_MD_CTX *sha;
  bool hash_while_running;
  int64_t hashed, reported;
  char *buf;
  fastepost_backup_dir *dir; /* for progress; NULL when only hashing */
  const char *what;          /* for messages */
  fastepost__plain_scan *scan; /* when checking a plain backup: fed what is hashed */
  const volatile sig_atomic_t *stop_flag;
} dump_state;

#define HASH_CHUNK (1 << 20)

static int hash_upto(dump_state *st, int64_t end) {
  while (st->hashed < end) {
    size_t want = (size_t)(end - st->hashed < HASH_CHUNK ? end - st->hashed : HASH_CHUNK);
    ssize_t n = pread(st->fd, st->buf, want, (off_t)st->hashed);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fastepost__error_set(FASTEPOST_EIO, "reading %s: %s", st->what, ERRNO_TEXT());
    if (n == 0)
      break;
    if (st->stop_flag && *st->stop_flag)
      return fastepost__error_set(FASTEPOST_ECANCELED, "interrupted while reading %s", st->what);
    EVP_DigestUpdate(st->sha, st->buf, (size_t)n);
    if (st->scan)
      fastepost__plain_scan_feed(st->scan, st->buf, (size_t)n); /* its verdict comes later */
    st->hashed += n;
  }
  return FASTEPOST_OK;
}

static int file_size(int64_t *size, const dump_state *st) {
  struct stat sb;
  if (fstat(st->fd, &sb) != 0)
    return fastepost__error_set(FASTEPOST_EIO, "cannot stat %s: %s", st->what, ERRNO_TEXT());
  *size = (int64_t)sb.st_size;
  return FASTEPOST_OK;
}

static int report(dump_state *st, int64_t size) {
  if (!st->dir || !st->dir->progress || size == st->reported)
    return FASTEPOST_OK;
  st->reported = size;
  if (st->dir->progress(0, (uint64_t)size, st->dir->progress_payload))
    return fastepost__error_set(FASTEPOST_ECANCELED, "backup canceled after %lld bytes",
                                (long long)size);
  return FASTEPOST_OK;
}

static int dump_tick(void *payload) {
  dump_state *st = payload;
  int64_t size = 0;
  int rc = file_size(&size, st);
  if (!rc && st->hash_while_running)
    rc = hash_upto(st, size);
  if (!rc)
    rc = report(st, size);
  return rc;
}

/* After pg_dump exited: hash the rest and report the final size. */
static int dump_finish(dump_state *st) {
  int64_t size = 0;
  int rc = file_size(&size, st);
  if (!rc)
    rc = hash_upto(st, size);
  if (!rc && st->hashed != size)
    rc = fastepost__error_set(FASTEPOST_EIO, "the backup file shrank while it was read");
  if (!rc)
    rc = report(st, size);
  return rc;
}

static void sha_hex(char out[SHA256_HEX + 1], EVP_MD_CTX *ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  for (unsigned int i = 0; i < n && i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
  out[SHA256_HEX] = '\0';
}

/* A fresh temporary file in dirfd; its name (not a backup name) goes into name. */
static int open_temp(int *fd, char *name, size_t namesize, int dirfd, const char *what) {
  /* Unique enough with pid and nanoseconds; O_EXCL catches the rest (no shared counter, so no
   * state shared between threads). */
  for (int attempt = 0; attempt < 100; attempt++) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, namesize, "%s%s-%ld-%ld-%d", PARTIAL_PREFIX, what, (long)getpid(),
             (long)ts.tv_nsec, attempt);
    *fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd >= 0) {
      fchmod(*fd, 0600); /* whatever the umask */
      return FASTEPOST_OK;
    }
    if (errno != EEXIST)
      break;
  }
  return fastepost__error_set(FASTEPOST_EIO, "cannot create a file in the backup directory: %s",
                              ERRNO_TEXT());
}

/* Give tmp its final name without ever replacing a file: link() fails on an existing name, so
 * a second backup in the same second moves on to the next suffix. Where hard links are not
 * supported, fall back to a check followed by rename(). */
/* The first suffix after every backup already named for this second, so that the list order
 * (time, then suffix) stays the order of creation even after pruning removed the lower ones. */
static int next_suffix(int dirfd, const char *stamp) {
  int next = 0;
  int fd = dup(dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return 0; /* the linkat loop below still never overwrites */
  }
  size_t n = strlen(stamp);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int suffix = 0;
    if (strncmp(e->d_name, stamp, n) == 0 &&
        fastepost__backup_parse_name(e->d_name, NULL, &suffix, NULL) && suffix + 1 > next)
      next = suffix + 1;
  }
  closedir(d);
  return next;
}

static int publish(char *final, size_t finalsize, int dirfd, const char *tmp, const char *stamp,
                   const char *kind, const char *ext) {
  for (int suffix = next_suffix(dirfd, stamp); suffix < 1000; suffix++) {
    /* One name per time and suffix whatever the extension, so the suffix orders them. */
    const char *other_ext = strcmp(ext, ".sql") == 0 ? ".dump" : ".sql";
    char other[FASTEPOST_BACKUP_NAME_MAX];
    char num[16] = "";
    if (suffix)
      snprintf(num, sizeof num, "_%d", suffix);
    snprintf(final, finalsize, "%s%s%s%s", stamp, num, kind, ext);
    snprintf(other, sizeof other, "%s%s%s%s", stamp, num, kind, other_ext);
    struct stat st;
    if (fstatat(dirfd, other, &st, AT_SYMLINK_NOFOLLOW) == 0)
      continue;
    if (linkat(dirfd, tmp, dirfd, final, 0) == 0) {
      unlinkat(dirfd, tmp, 0);
      return FASTEPOST_OK;
    }
    if (errno == EEXIST)
      continue;
    if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != EMLINK)
      break;
    if (fstatat(dirfd, final, &st, AT_SYMLINK_NOFOLLOW) == 0)
      continue;
    if (renameat(dirfd, tmp, dirfd, final) == 0)
      return FASTEPOST_OK;
    break;
  }
  return fastepost__error_set(FASTEPOST_EIO, "cannot name the backup %s: %s", final,
                              ERRNO_TEXT());
}

static int write_checksum(int dirfd, const char *name, const char *hex) {
  char tmp[96], sumname[FASTEPOST_BACKUP_NAME_MAX + 8];
  int fd;
  int rc = open_temp(&fd, tmp, sizeof tmp, dirfd, "sha256");
  if (rc)
    return rc;
  char line[SHA256_HEX + FASTEPOST_BACKUP_NAME_MAX + 8];
  int n = snprintf(line, sizeof line, "%s  %s\n", hex, name);
  snprintf(sumname, sizeof sumname, "%s.sha256", name);
  if (fastepost__write_all(fd, line, (size_t)n) != 0 || fsync(fd) != 0 ||
      renameat(dirfd, tmp, dirfd, sumname) != 0) {
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot write %s: %s", sumname, ERRNO_TEXT());
    unlinkat(dirfd, tmp, 0);
  }
  close(fd);
  return rc;
}

/* The table as a pg_dump pattern that matches exactly it: "schema"."name", quoted. */
static int table_pattern(char **out, char kind[TABLE_NAME_MAX + 8], fastepost_conn *conn,
                         PGconn *pg, const char *table) {
  *out = NULL;
  PGresult *res;
  const char *params[] = {table};
  int rc = fastepost__query(&res, conn,
                            "SELECT n.nspname, c.relname FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE c.oid = to_regclass($1) AND c.relkind IN ('r','p','v','m','f')",
                            1, params, PGRES_TUPLES_OK, "looking up the table to back up");
  if (rc)
    return rc;
  if (PQntuples(res) == 0) {
    PQclear(res);
    char shown[64];
    fastepost__preview(shown, sizeof shown, table, strlen(table));
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no table named %s", shown);
  }
  /* The name part: "_table-" and schema.name (public. left out), reduced to characters that
   * are safe in a file name and unambiguous in the pattern. */
  fastepost__buf shown = FASTEPOST__BUF_INIT;
  if (strcmp(PQgetvalue(res, 0, 0), "public") != 0)
    fastepost__buf_printf(&shown, "%s.", PQgetvalue(res, 0, 0));
  fastepost__buf_puts(&shown, PQgetvalue(res, 0, 1));
  size_t k = 0;
  k += (size_t)snprintf(kind, 8, "_table-");
  for (size_t i = 0; i < shown.len && k < 7 + TABLE_NAME_MAX; i++)
    kind[k++] = table_name_char((unsigned char)shown.data[i]) ? shown.data[i] : '_';
  kind[k] = '\0';
  fastepost__buf_free(&shown);
  char *schema = PQescapeIdentifier(pg, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
  char *name = PQescapeIdentifier(pg, PQgetvalue(res, 0, 1), strlen(PQgetvalue(res, 0, 1)));
  PQclear(res);
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  if (schema && name)
    fastepost__buf_printf(&buf, "--table=%s.%s", schema, name);
  else
    buf.oom = true;
  PQfreemem(schema);
  PQfreemem(name);
  *out = fastepost__buf_detach(&buf);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

fastepost_status fastepost_backup_create(char **name, fastepost_backup_dir *dir,
                                         fastepost_conn *conn, fastepost_backup_format format,
                                         const char *table) {
  if (name)
    *name = NULL;
  if (!dir)
    return fastepost__error_set(FASTEPOST_EINVALID, "backup directory is NULL");
  if (dir->stop_flag && *dir->stop_flag)
    return fastepost__error_set(FASTEPOST_ECANCELED, "backup interrupted before it started");
  if (format != FASTEPOST_BACKUP_PLAIN && format != FASTEPOST_BACKUP_CUSTOM)
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown backup format %d", (int)format);
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;

  /* The name is the start time: that is the moment the snapshot reflects. */
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "backup_%Y%m%d_%H%M%S", &tm);

  char *tool = NULL, *table_arg = NULL, kind[TABLE_NAME_MAX + 8] = "";
  int rc = find_tool(&tool, dir, FASTEPOST_TOOL_PG_DUMP, PQserverVersion(pg));
  if (!rc && table)
    rc = table_pattern(&table_arg, kind, conn, pg, table);
  int dirfd = -1;
  if (!rc)
    rc = open_dir(&dirfd, dir, true, false);
  char tmp[96] = "";
  int fd = -1;
  if (!rc)
    rc = open_temp(&fd, tmp, sizeof tmp, dirfd, "backup");

  dump_state st = {.fd = fd, .dir = dir, .what = "the new backup file",
                   .hash_while_running = format == FASTEPOST_BACKUP_PLAIN};
  if (!rc && (!(st.sha = EVP_MD_CTX_new()) || !(st.buf = malloc(HASH_CHUNK))))
    rc = fastepost__error_oom();
  if (!rc && EVP_DigestInit_ex(st.sha, EVP_sha256(), NULL) != 1)
    rc = fastepost__error_set(FASTEPOST_ERROR, "SHA-256 is not available");
  if (!rc) {
    char lockwait[48];
    snprintf(lockwait, sizeof lockwait, "--lock-wait-timeout=%d", dir->lock_wait_timeout_ms);
    /* A table backup holds the rows only: it goes into a database that has the schema (the
     * table's definition alone, without the functions its triggers call, restores nowhere). */
    const char *argv[] = {tool, NULL, "--no-password",
                          format == FASTEPOST_BACKUP_CUSTOM ? "--format=custom" : "--format=plain",
                          lockwait, table_arg ? "--data-only" : table_arg, table_arg, NULL};
    char ct[48];
    snprintf(ct, sizeof ct, "PGCONNECT_TIMEOUT=%d", dir->connect_timeout_s);
    const char *env[] = {ct, NULL};
    fastepost__proc p = {.base_env = (const char *const *)dir->env, .env = env, .stdin_fd = -1,
                         .stdout_fd = fd, .on_tick = dump_tick, .tick_ms = 50, .payload = &st,
                         .timeout_ms = dir->child_timeout_ms, .stop_flag = dir->stop_flag};
    rc = fastepost__pgtool_run(&p, pg, NULL, argv);
    fastepost__proc_cleanup(&p);
  }
  if (!rc)
    rc = dump_finish(&st);
  if (!rc && fsync(fd) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot sync the backup to disk: %s", ERRNO_TEXT());
  if (fd >= 0)
    close(fd);

  char final[FASTEPOST_BACKUP_NAME_MAX] = "";
  if (!rc)
    rc = publish(final, sizeof final, dirfd, tmp, stamp, kind,
                 format == FASTEPOST_BACKUP_CUSTOM ? ".dump" : ".sql");
  if (rc && tmp[0])
    unlinkat(dirfd, tmp, 0);
  if (!rc) {
    char hex[SHA256_HEX + 1];
    sha_hex(hex, st.sha);
    rc = write_checksum(dirfd, final, hex);
    if (rc) /* a backup that cannot be verified is not a backup */
      unlinkat(dirfd, final, 0);
  }
  if (!rc && fsync(dirfd) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot sync the backup directory: %s",
                              ERRNO_TEXT());
  if (!rc && name && !(*name = fastepost__strdup(final)))
    rc = FASTEPOST_ENOMEM;
  if (rc && rc != FASTEPOST_ENOMEM)
    fastepost__error_prefix("backup of %s", PQdb(pg));
  EVP_MD_CTX_free(st.sha);
  free(st.buf);
  if (dirfd >= 0)
    close(dirfd);
  free(tool);
  free(table_arg);
  return rc;
}

/* ---- verify, restore ----------------------------------------------------------------------- */

static int read_checksum(char hex[SHA256_HEX + 1], int dirfd, const char *dirpath,
                         const char *name) {
  char sumname[FASTEPOST_BACKUP_NAME_MAX + 8];
  snprintf(sumname, sizeof sumname, "%s.sha256", name);
  int fd = openat(dirfd, sumname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no checksum recorded for %s (%s: %s)", name,
                                sumname, ERRNO_TEXT());
  int rc = check_trust(fd, dirpath, sumname);
  if (rc) {
    close(fd);
    return rc;
  }
  char line[SHA256_HEX + 1];
  ssize_t n = read(fd, line, SHA256_HEX);
  close(fd);
  int i = 0;
  for (; n == SHA256_HEX && i < SHA256_HEX; i++) {
    char c = line[i];
    if (c >= 'A' && c <= 'F')
      c = (char)(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      break;
    hex[i] = c;
  }
  if (i != SHA256_HEX)
    return fastepost__error_set(FASTEPOST_EPARSE, "%s does not hold a SHA-256", sumname);
  hex[SHA256_HEX] = '\0';
  return FASTEPOST_OK;
}

/* The SHA-256 of a whole open file (from its start, whatever the file offset). */
static int hash_fd(char hex[SHA256_HEX + 1], int fd, const char *name, fastepost__plain_scan *scan,
                   const volatile sig_atomic_t *stop_flag) {
  dump_state st = {.fd = fd, .what = name, .scan = scan, .stop_flag = stop_flag};
  int64_t size = 0;
  int rc = FASTEPOST_OK;
  if (!(st.sha = EVP_MD_CTX_new()) || !(st.buf = malloc(HASH_CHUNK)) ||
      EVP_DigestInit_ex(st.sha, EVP_sha256(), NULL) != 1)
    rc = fastepost__error_oom();
  if (!rc)
    rc = file_size(&size, &st);
  if (!rc)
    rc = hash_upto(&st, size);
  if (!rc)
    sha_hex(hex, st.sha);
  free(st.buf);
  EVP_MD_CTX_free(st.sha);
  return rc;
}

/* Whether pg reaches the server itself rather than a pooler: PgBouncer answers `port` with the
 * server's setting, which is not the port we connected to (nor is it behind a port mapping;
 * then no startup options are sent either, which only loses the server-side timeouts). */
static bool direct_connection(PGconn *pg) {
  PGresult *r = PQexec(pg, "SELECT current_setting('port')");
  const char *port = PQport(pg);
  bool direct = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                strcmp(PQgetvalue(r, 0, 0), port && *port ? port : "5432") == 0;
  PQclear(r);
  return direct;
}

/* Run a PostgreSQL program for the handle: its environment snapshot, deadline, interrupt flag
 * and connect timeout; on a direct connection also the session's lock and statement timeouts. */
static int run_tool(fastepost_backup_dir *dir, fastepost__proc *p, PGconn *pg, const char *dbname,
                    const char **argv, bool session_timeouts) {
  char ct[48], opts[128];
  snprintf(ct, sizeof ct, "PGCONNECT_TIMEOUT=%d", dir->connect_timeout_s);
  snprintf(opts, sizeof opts, "PGOPTIONS=-c lock_timeout=%d -c statement_timeout=%lld",
           dir->lock_wait_timeout_ms, (long long)dir->child_timeout_ms);
  const char *env[] = {ct, session_timeouts && direct_connection(pg) ? opts : NULL, NULL};
  p->base_env = (const char *const *)dir->env;
  p->env = env;
  p->timeout_ms = dir->child_timeout_ms;
  p->stop_flag = dir->stop_flag;
  int rc = fastepost__pgtool_run(p, pg, dbname, argv);
  p->env = NULL;
  return rc;
}

/* Restore the open backup file (fd, read from the start) into dbname on the server of pg. */
static int restore_fd(fastepost_backup_dir *dir, PGconn *pg, const char *dbname, int fd,
                      fastepost_backup_format format) {
  bool plain = format == FASTEPOST_BACKUP_PLAIN;
  char *tool = NULL;
  int rc = find_tool(&tool, dir, plain ? FASTEPOST_TOOL_PSQL : FASTEPOST_TOOL_PG_RESTORE,
                     PQserverVersion(pg));
  if (rc)
    return rc;
  if (lseek(fd, 0, SEEK_SET) != 0) {
    free(tool);
    return fastepost__error_set(FASTEPOST_EIO, "cannot rewind the backup: %s", ERRNO_TEXT());
  }
  /* The file goes in as stdin: the tool never opens a path that could have changed. */
  const char *psql_argv[] = {tool, NULL, "--no-password", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                             "--single-transaction", "-f", "-", NULL};
  const char *restore_argv[] = {tool, NULL, "--no-password", "--single-transaction",
                                "--exit-on-error", NULL};
  fastepost__proc p = {.stdin_fd = fd, .stdout_fd = -1};
  rc = run_tool(dir, &p, pg, dbname, plain ? psql_argv : restore_argv, true);
  fastepost__proc_cleanup(&p);
  free(tool);
  return rc;
}

/*
 * Everything a backup must pass before it is used: trusted file, recorded checksum matching,
 * complete, and for plain SQL nothing but what pg_dump writes (one pass: the scanner reads what
 * the hash reads); for the custom format pg_restore must read its table of contents.
 */
static int check_backup(fastepost_backup_dir *dir, int dirfd, int fd, const char *name,
                        fastepost_backup_format format, int server_version) {
  char want[SHA256_HEX + 1], got[SHA256_HEX + 1];
  fastepost__plain_scan *scan = NULL;
  int rc = read_checksum(want, dirfd, dir->path, name);
  if (!rc && format == FASTEPOST_BACKUP_PLAIN) {
    if (!(scan = malloc(sizeof *scan)))
      rc = fastepost__error_oom();
    else
      fastepost__plain_scan_init(scan);
  }
  if (!rc)
    rc = hash_fd(got, fd, name, scan, dir->stop_flag);
  if (!rc && strcmp(want, got) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO,
                              "checksum mismatch for %s: recorded %.12s..., file has %.12s... "
                              "(the file was changed or damaged)",
                              name, want, got);
  if (!rc && scan)
    rc = fastepost__plain_scan_finish(scan);
  free(scan);
  if (!rc && format == FASTEPOST_BACKUP_CUSTOM) {
    char *tool = NULL;
    rc = find_tool(&tool, dir, FASTEPOST_TOOL_PG_RESTORE, server_version);
    if (!rc && lseek(fd, 0, SEEK_SET) != 0)
      rc = fastepost__error_set(FASTEPOST_EIO, "cannot rewind %s: %s", name, ERRNO_TEXT());
    if (!rc) {
      const char *argv[] = {tool, "--list", NULL};
      fastepost__proc p = {.argv = argv, .base_env = (const char *const *)dir->env,
                           .stdin_fd = fd, .stdout_fd = -1, .timeout_ms = dir->child_timeout_ms,
                           .stop_flag = dir->stop_flag};
      rc = fastepost__proc_run(&p);
      if (!rc && (p.exit_code != 0 || p.signal)) {
        char how[96];
        fastepost__proc_describe(&p, how, sizeof how);
        rc = fastepost__error_set(FASTEPOST_EEXTERNAL, "pg_restore --list %s%s%s", how,
                                  *p.err ? ": " : "", p.err);
      }
      fastepost__proc_cleanup(&p);
    }
    free(tool);
  }
  return rc;
}

fastepost_status fastepost_backup_verify(fastepost_backup_dir *dir, fastepost_conn *conn,
                                         const char *name, int deep) {
  PGconn *pg = NULL;
  if (conn || deep) {
    pg = fastepost__conn_pg(conn);
    if (!pg)
      return fastepost_error_last()->code;
  }
  int dirfd, fd = -1;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  fastepost_backup_format format = FASTEPOST_BACKUP_PLAIN;
  fastepost__backup_parse_name(name, NULL, NULL, &format);
  rc = open_backup(&fd, NULL, dirfd, dir->path, name);
  if (!rc)
    rc = check_backup(dir, dirfd, fd, name, format, pg ? PQserverVersion(pg) : 0);
  fastepost_backup_kind kind = FASTEPOST_BACKUP_FULL;
  fastepost__backup_parse_name_kind(name, NULL, NULL, NULL, &kind, NULL, 0);
  if (!rc && deep && kind == FASTEPOST_BACKUP_TABLE)
    rc = fastepost__error_set(FASTEPOST_EINVALID,
                              "%s is a table backup (rows only): an empty scratch database cannot "
                              "take it; test it by restoring into a database that has the schema",
                              name);
  if (!rc && deep) {
    /* A scratch database of our own, always dropped, even after a failed restore. */
    char scratch[64], sql[160];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(scratch, sizeof scratch, "fastepost_verify_%ld_%ld_%ld", (long)getpid(),
             (long)ts.tv_sec, (long)ts.tv_nsec);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", scratch);
    rc = fastepost__exec(conn, sql, "creating the scratch database for a deep verify");
    if (!rc) {
      rc = restore_fd(dir, pg, scratch, fd, format);
      if (rc)
        fastepost__error_prefix("test restore into a scratch database failed");
      int saved = rc;
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", fastepost_error_last()->message);
      snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s%s", scratch,
               PQserverVersion(pg) >= 130000 ? " WITH (FORCE)" : "");
      int drc = fastepost__exec(conn, sql, "dropping the scratch database");
      if (saved) {
        rc = fastepost__error_set(saved, "%s", msg);
      } else {
        rc = drc;
      }
    }
  }
  if (rc && rc != FASTEPOST_ENOMEM && name)
    fastepost__error_prefix("verifying backup");
  if (fd >= 0)
    close(fd);
  if (dirfd >= 0)
    close(dirfd);
  return rc;
}

/* Whether two connections reach the same database: same server (postmaster start time) and
 * same database oid. Host names cannot tell (a socket and localhost may be one server). */
static int same_database(bool *same, PGconn *a, PGconn *b) {
  const char *sql = "SELECT pg_postmaster_start_time()::text || '/' || d.oid::text "
                    "FROM pg_database d WHERE d.datname = current_database()";
  PGresult *ra = PQexec(a, sql), *rb = PQexec(b, sql);
  int rc = FASTEPOST_OK;
  if (PQresultStatus(ra) != PGRES_TUPLES_OK || PQresultStatus(rb) != PGRES_TUPLES_OK ||
      PQntuples(ra) != 1 || PQntuples(rb) != 1)
    rc = fastepost__error_set(FASTEPOST_EDB, "cannot identify the target database: %s",
                              PQerrorMessage(PQresultStatus(ra) != PGRES_TUPLES_OK ? a : b));
  else
    *same = strcmp(PQgetvalue(ra, 0, 0), PQgetvalue(rb, 0, 0)) == 0;
  PQclear(ra);
  PQclear(rb);
  return rc;
}

fastepost_status fastepost_backup_restore(fastepost_backup_dir *dir, fastepost_conn *conn,
                                          const char *name, const char *target, int force) {
  if (!target || !*target)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "restore needs a target database (a connection string)");
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  int dirfd, fd = -1;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  fastepost_backup_format format = FASTEPOST_BACKUP_PLAIN;
  fastepost__backup_parse_name(name, NULL, NULL, &format);
  rc = open_backup(&fd, NULL, dirfd, dir->path, name);
  /* Verified before the target is even opened: a bad backup touches nothing. */
  if (!rc) {
    rc = check_backup(dir, dirfd, fd, name, format, PQserverVersion(pg));
    if (rc && rc != FASTEPOST_ENOMEM)
      fastepost__error_prefix("refusing to restore %s, which does not verify (nothing was sent "
                              "to the target)", name);
  }
  if (dirfd >= 0)
    close(dirfd);
  if (rc) {
    if (fd >= 0)
      close(fd);
    return rc;
  }

  /* The same session set-up as every connection of the library (timeouts and all). */
  fastepost_conn *tconn = NULL;
  PGconn *tpg = NULL;
  rc = fastepost_conn_open(&tconn, target);
  if (rc)
    fastepost__error_prefix("cannot connect to the restore target");
  else if (!(tpg = fastepost__conn_pg(tconn)))
    rc = fastepost_error_last()->code;
  bool same = false;
  if (!rc)
    rc = same_database(&same, pg, tpg);
  if (!rc && same && !force)
    rc = fastepost__error_set(FASTEPOST_EINVALID,
                              "the restore target is the connected database %s; restore into "
                              "another database, or force it",
                              PQdb(pg));
  if (!rc) {
    rc = restore_fd(dir, tpg, PQdb(tpg), fd, format);
    if (rc && rc != FASTEPOST_ENOMEM)
      fastepost__error_prefix("restoring %s into %s (nothing was changed)", name, PQdb(tpg));
  }
  fastepost_conn_free(tconn);
  close(fd);
  return rc;
}

/* ---- prune --------------------------------------------------------------------------------- */

/* Temporary files of backups whose process died (killed, power loss) before cleaning up. A day
 * is far longer than any backup runs, so a running one is never touched. */
static void remove_stale_partials(int dirfd) {
  int dup_fd = dup(dirfd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (!d) {
    if (dup_fd >= 0)
      close(dup_fd);
    return;
  }
  rewinddir(d); /* the duplicate shares its position with dirfd, which scan() moved */
  time_t now = time(NULL);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (strncmp(de->d_name, PARTIAL_PREFIX, strlen(PARTIAL_PREFIX)) == 0 &&
        fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        now - st.st_mtime > PARTIAL_MAX_AGE)
      unlinkat(dirfd, de->d_name, 0);
  }
  closedir(d);
}

/* keep < 0 and older_than_days < 0 together: every backup. */
static int prune(fastepost_backup_info **removed, size_t *count, fastepost_backup_dir *dir,
                 int keep, int older_than_days) {
  int dirfd;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc || dirfd < 0)
    return rc;
  entry *list;
  size_t n;
  rc = scan(&list, &n, dirfd, dir->path);
  if (rc) {
    close(dirfd);
    return rc;
  }
  int64_t cutoff = older_than_days >= 0 ? (int64_t)time(NULL) - (int64_t)older_than_days * 86400
                                        : 0;
  size_t gone = 0, seen[2] = {0, 0};
  bool all = keep < 0 && older_than_days < 0;
  for (size_t i = 0; i < n && !rc; i++) {
    /* Ranked within its kind: table backups never count towards the full ones kept. */
    size_t rank = seen[list[i].info.kind == FASTEPOST_BACKUP_TABLE]++;
    bool beyond_keep = keep >= 0 && rank >= (size_t)keep;
    bool too_old = older_than_days >= 0 && list[i].info.time < cutoff;
    bool remove = all ? true
                  : keep >= 0 && older_than_days >= 0 ? beyond_keep && too_old
                                                      : beyond_keep || too_old;
    if (!remove)
      continue;
    if (unlinkat(dirfd, list[i].info.name, 0) != 0 && errno != ENOENT) {
      rc = fastepost__error_set(FASTEPOST_EIO, "cannot remove backup %s: %s", list[i].info.name,
                                ERRNO_TEXT());
      break;
    }
    char sumname[FASTEPOST_BACKUP_NAME_MAX + 8];
    snprintf(sumname, sizeof sumname, "%s.sha256", list[i].info.name);
    unlinkat(dirfd, sumname, 0);
    list[gone++] = list[i]; /* compact the removed ones to the front, order kept */
  }
  if (!rc)
    remove_stale_partials(dirfd);
  fsync(dirfd);
  close(dirfd);
  if (!rc && removed)
    rc = infos_of(removed, list, gone);
  if (count)
    *count = gone;
  free(list);
  return rc;
}

fastepost_status fastepost_backup_prune(fastepost_backup_info **removed, size_t *count,
                                        fastepost_backup_dir *dir, int keep, int older_than_days) {
  if (removed)
    *removed = NULL;
  if (count)
    *count = 0;
  if (keep < 0 && older_than_days < 0)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "prune needs a number of backups to keep or a maximum age");
  if (keep == 0)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "prune keeps at least 1 backup (keep 0 would delete every one; "
                                "that is prune_all / --all)");
  return prune(removed, count, dir, keep, older_than_days);
}

fastepost_status fastepost_backup_prune_all(fastepost_backup_info **removed, size_t *count,
                                            fastepost_backup_dir *dir) {
  if (removed)
    *removed = NULL;
  if (count)
    *count = 0;
  return prune(removed, count, dir, -1, -1);
}

int fastepost__backup_summarize(fastepost__backup_summary *out, fastepost_backup_dir *dir) {
  memset(out, 0, sizeof *out);
  fastepost_backup_info *list = NULL;
  size_t n = 0;
  int rc = fastepost_backup_list(&list, &n, dir, 0);
  if (rc)
    return rc;
  out->count = n;
  /* "The newest backup" is what a restore of the database would use: a table backup is not. */
  for (size_t i = 0; i < n && !out->has_newest; i++) {
    if (list[i].kind != FASTEPOST_BACKUP_FULL)
      continue;
    out->has_newest = 1;
    snprintf(out->newest_name, sizeof out->newest_name, "%s", list[i].name);
    out->newest_created_us = list[i].time * 1000000;
    out->newest_size = (uint64_t)list[i].size;
    out->newest_format = list[i].format;
  }
  fastepost_free(list);
  return FASTEPOST_OK;
}
