/* SPDX-License-Identifier: MIT */
/* HTML to plain text (see html.h). A single pass with a small state: no DOM, no allocation
 * beyond the output. */
#include "util/html.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct writer {
  fastepost__buf out;
  int pending_breaks; /* line breaks owed before the next text */
  bool pending_space; /* a space owed before the next text */
  bool keep_newlines; /* plain text input: its newlines are line breaks */
} writer;

static void put_text(writer *w, const char *s, size_t n) {
  if (w->out.len) {
    if (w->pending_breaks)
      fastepost__buf_append(&w->out, "\n\n", w->pending_breaks > 1 ? 2 : 1);
    else if (w->pending_space)
      fastepost__buf_putc(&w->out, ' ');
  }
  w->pending_breaks = 0;
  w->pending_space = false;
  fastepost__buf_append(&w->out, s, n);
}

static void put_char(writer *w, char c) {
  if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
    w->pending_space = true;
  } else if (c == '\n') {
    if (w->keep_newlines)
      w->pending_breaks++;
    else
      w->pending_space = true;
  } else {
    put_text(w, &c, 1);
  }
}

static void put_codepoint(writer *w, unsigned long cp) {
  char u[4];
  size_t n;
  if (cp == 0xA0 || cp == ' ' || cp == '\t') { /* &nbsp; reads as a plain space */
    w->pending_space = true;
    return;
  }
  if (cp == '\n') {
    w->pending_breaks++;
    return;
  }
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (cp < 0x20))
    cp = 0xFFFD;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  put_text(w, u, n);
}

static const struct {
  const char *name;
  unsigned long cp;
} entities[] = {
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},    {"nbsp", 0xA0},     {"ndash", 0x2013},  {"mdash", 0x2014},
    {"hellip", 0x2026}, {"laquo", 0xAB},   {"raquo", 0xBB},    {"euro", 0x20AC},
    {"copy", 0xA9},    {"reg", 0xAE},      {"trade", 0x2122},  {"bull", 0x2022},
    {"middot", 0xB7},  {"auml", 0xE4},     {"ouml", 0xF6},     {"uuml", 0xFC},
    {"Auml", 0xC4},    {"Ouml", 0xD6},     {"Uuml", 0xDC},     {"szlig", 0xDF},
    {"eacute", 0xE9},  {"egrave", 0xE8},   {"agrave", 0xE0},   {"ccedil", 0xE7},
    {"lsquo", 0x2018}, {"rsquo", 0x2019},  {"ldquo", 0x201C},  {"rdquo", 0x201D},
    {"shy", 0xAD},     {"deg", 0xB0},
};

/* Decode the entity at s[0] == '&'; returns the bytes consumed, 0 when it is not one. */
static size_t entity(writer *w, const char *s, size_t len) {
  size_t i = 1;
  unsigned long cp = 0;
  if (i < len && s[i] == '#') {
    i++;
    bool hex = i < len && (s[i] == 'x' || s[i] == 'X');
    if (hex)
      i++;
    size_t start = i;
    while (i < len && i - start < 8 && (hex ? fastepost__ascii_isxdigit(s[i]) : fastepost__ascii_isdigit(s[i]))) {
      cp = cp * (hex ? 16 : 10) + (unsigned long)(fastepost__ascii_isdigit(s[i]) ? s[i] - '0' : (fastepost__ascii_tolower(s[i]) - 'a' + 10));
      i++;
    }
    if (i == start)
      return 0;
    if (i < len && s[i] == ';')
      i++;
    put_codepoint(w, cp);
    return i;
  }
  size_t start = i;
  while (i < len && i - start < 10 && fastepost__ascii_isalnum(s[i]))
    i++;
  if (i == start || i >= len || s[i] != ';')
    return 0;
  for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++)
    if (strlen(entities[k].name) == i - start && memcmp(entities[k].name, s + start, i - start) == 0) {
      put_codepoint(w, entities[k].cp);
      return i + 1;
    }
  return 0;
}

/* Line breaks a tag asks for: 2 around paragraphs, 1 around other blocks, 0 for inline. */
static int tag_breaks(const char *name) {
  static const char *const paragraphs[] = {"p", "blockquote", "h1", "h2", "h3", "h4", "h5",
                                           "h6", "pre", "table", "ul", "ol", NULL};
  static const char *const blocks[] = {"div", "li", "tr", "section", "article", "header",
                                       "footer", "hr", "dd", "dt", "dl", "address", "figure",
                                       "tbody", "thead", NULL};
  for (const char *const *p = paragraphs; *p; p++)
    if (strcmp(name, *p) == 0)
      return 2;
  for (const char *const *p = blocks; *p; p++)
    if (strcmp(name, *p) == 0)
      return 1;
  return 0;
}

static void add_breaks(writer *w, int n) {
  if (n > w->pending_breaks)
    w->pending_breaks = n;
}

/* Find `needle` in [s, s+len) ignoring ASCII case; returns its offset or len. */
static size_t find_ci(const char *s, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++) {
    size_t k = 0;
    while (k < n && fastepost__ascii_tolower(s[i + k]) == needle[k])
      k++;
    if (k == n)
      return i;
  }
  return len;
}

char *fastepost__html_to_text(const char *html, size_t len) {
  writer w = {FASTEPOST__BUF_INIT, 0, false, memchr(html, '<', len) == NULL};
  size_t i = 0;
  while (i < len) {
    char c = html[i];
    if (c == '&') {
      size_t n = entity(&w, html + i, len - i);
      if (n) {
        i += n;
        continue;
      }
      put_char(&w, c);
      i++;
      continue;
    }
    bool tag_start = c == '<' && i + 1 < len &&
                     (fastepost__ascii_isalpha(html[i + 1]) || html[i + 1] == '/' || html[i + 1] == '!');
    if (!tag_start) {
      if ((unsigned char)c == 0xC2 && i + 1 < len && (unsigned char)html[i + 1] == 0xA0) {
        w.pending_space = true; /* a raw no-break space */
        i += 2;
        continue;
      }
      put_char(&w, c);
      i++;
      continue;
    }
    if (len - i >= 4 && memcmp(html + i, "<!--", 4) == 0) {
      size_t end = find_ci(html + i + 4, len - i - 4, "-->");
      i += 4 + end + 3;
      continue;
    }
    size_t j = i + 1;
    bool closing = html[j] == '/';
    if (closing)
      j++;
    char name[16];
    size_t n = 0;
    while (j < len && fastepost__ascii_isalnum(html[j])) {
      if (n < sizeof name - 1)
        name[n++] = (char)fastepost__ascii_tolower(html[j]);
      j++;
    }
    name[n] = '\0';
    /* Skip to the end of the tag, minding quoted attribute values that may hold '>'. */
    char quote = 0;
    while (j < len && (quote || html[j] != '>')) {
      if (quote && html[j] == quote)
        quote = 0;
      else if (!quote && (html[j] == '"' || html[j] == '\''))
        quote = html[j];
      j++;
    }
    if (j >= len) /* unterminated tag: drop the rest */
      break;
    i = j + 1;
    if (strcmp(name, "br") == 0) {
      w.pending_breaks++;
    } else if (!closing && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0)) {
      char end_tag[16];
      strcpy(end_tag, strcmp(name, "script") == 0 ? "</script" : "</style");
      size_t end = find_ci(html + i, len - i, end_tag);
      i += end;
      size_t close = i < len ? find_ci(html + i, len - i, ">") : 0;
      i = i < len ? i + close + 1 : len;
    } else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
      w.pending_space = true; /* table cells side by side */
    } else {
      add_breaks(&w, tag_breaks(name));
    }
  }
  return fastepost__buf_detach(&w.out);
}
