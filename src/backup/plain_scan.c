/* SPDX-License-Identifier: MIT */
/* What a plain backup may contain before psql runs it: a scanner that follows psql's lexer. */
#include <stdio.h>
#include <string.h>

#include "backup_priv.h"

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
