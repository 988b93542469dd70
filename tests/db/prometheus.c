/* SPDX-License-Identifier: MIT */
/*
 * fastepost_report_prometheus(): the text exposition format checked by a parser of the format
 * written here (names, labels and their escapes, values, HELP/TYPE before the samples, every
 * family in one block, no series twice), the values against crafted data, and - when Debian's
 * `prometheus` package is installed - Prometheus' own `promtool check metrics`.
 */
#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testdb.h"

TestSuite(prometheus, .init = fptest_setup_schema, .fini = fptest_teardown);

/* ---- a parser of the text format (0.0.4) ------------------------------------------------------ */

#define MAX_SERIES 256

typedef struct series {
  char family[128];
  char key[512]; /* name{labels} as written: a series must not appear twice */
  char labels[384];
  double value;
} series;

typedef struct exposition {
  series s[MAX_SERIES];
  size_t n;
  char families[64][128]; /* in the order of their TYPE lines */
  char types[64][16];
  size_t nfamilies;
} exposition;

static bool name_char(char c, bool first) {
  return isalpha((unsigned char)c) || c == '_' || c == ':' || (!first && isdigit((unsigned char)c));
}

/* Parse one name at *p into out; advance. */
static bool parse_name(const char **p, char *out, size_t size, bool metric) {
  size_t n = 0;
  while (name_char(**p, n == 0) && (metric || **p != ':')) {
    if (n + 1 >= size)
      return false;
    out[n++] = *(*p)++;
  }
  out[n] = '\0';
  return n > 0;
}

/* Parse the text; fail the test with the line on any violation of the format. */
static void parse(exposition *e, const char *text) {
  memset(e, 0, sizeof *e);
  char current[128] = "";
  int lineno = 0;
  for (const char *line = text; *line;) {
    const char *eol = strchr(line, '\n');
    cr_assert(eol, "the text must end with a line feed");
    char buf[1024];
    size_t len = (size_t)(eol - line);
    cr_assert_lt(len, sizeof buf);
    memcpy(buf, line, len);
    buf[len] = '\0';
    line = eol + 1;
    lineno++;
    const char *p = buf;
    if (strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0) {
      bool type = p[2] == 'T';
      p += 7;
      char name[128];
      cr_assert(parse_name(&p, name, sizeof name, true), "line %d: bad name: %s", lineno, buf);
      cr_assert_eq(*p, ' ', "line %d: %s", lineno, buf);
      p++;
      if (type) {
        cr_assert(!strcmp(p, "gauge") || !strcmp(p, "counter") || !strcmp(p, "untyped"),
                  "line %d: type %s", lineno, p);
        for (size_t i = 0; i < e->nfamilies; i++)
          cr_assert_str_neq(e->families[i], name, "line %d: family %s declared twice", lineno, name);
        snprintf(e->families[e->nfamilies], sizeof e->families[0], "%s", name);
        snprintf(e->types[e->nfamilies], sizeof e->types[0], "%s", p);
        e->nfamilies++;
        snprintf(current, sizeof current, "%s", name);
      } else {
        cr_assert(*p, "line %d: empty help", lineno);
      }
      continue;
    }
    cr_assert_neq(*p, '#', "line %d: unknown comment %s", lineno, buf);
    cr_assert(*p, "line %d: empty line", lineno);
    series *s = &e->s[e->n];
    cr_assert(parse_name(&p, s->family, sizeof s->family, true), "line %d: bad metric name: %s", lineno, buf);
    /* The sample belongs to the family declared last: families are contiguous. */
    cr_assert_str_eq(s->family, current, "line %d: sample of %s outside its family block (%s)", lineno, s->family,
                     current);
    size_t k = 0;
    if (*p == '{') {
      p++;
      while (*p != '}') {
        char lname[64];
        cr_assert(parse_name(&p, lname, sizeof lname, false), "line %d: bad label name: %s", lineno, buf);
        cr_assert_eq(*p, '=', "line %d: %s", lineno, buf);
        cr_assert_eq(p[1], '"', "line %d: %s", lineno, buf);
        p += 2;
        k += (size_t)snprintf(s->labels + k, sizeof s->labels - k, "%s%s=", k ? "," : "", lname);
        while (*p != '"') {
          cr_assert(*p, "line %d: unterminated label value", lineno);
          if (*p == '\\') {
            p++;
            cr_assert(*p == '\\' || *p == '"' || *p == 'n', "line %d: bad escape \\%c", lineno, *p);
            s->labels[k++] = *p == 'n' ? '\n' : *p;
          } else {
            s->labels[k++] = *p;
          }
          p++;
          cr_assert_lt(k, sizeof s->labels - 2);
        }
        s->labels[k] = '\0';
        p++;
        if (*p == ',')
          p++;
        else
          cr_assert_eq(*p, '}', "line %d: %s", lineno, buf);
      }
      p++;
    }
    cr_assert_eq(*p, ' ', "line %d: no space before the value: %s", lineno, buf);
    p++;
    char *end;
    /* The format's numbers have a '.', whatever the locale (this suite also runs under de_DE
     * and tr_TR): read them in the C locale, as a scraper does. */
    locale_t c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    cr_assert(c_numeric != (locale_t)0);
    locale_t previous = uselocale(c_numeric);
    s->value = strtod(p, &end);
    uselocale(previous);
    freelocale(c_numeric);
    cr_assert(end != p && *end == '\0', "line %d: bad value (or a timestamp): %s", lineno, buf);
    size_t fl = strlen(s->family), ll = strlen(s->labels);
    cr_assert_lt(fl + ll + 3, sizeof s->key);
    memcpy(s->key, s->family, fl);
    s->key[fl] = '{';
    memcpy(s->key + fl + 1, s->labels, ll);
    memcpy(s->key + fl + 1 + ll, "}", 2);
    for (size_t i = 0; i < e->n; i++)
      cr_assert_str_neq(e->s[i].key, s->key, "line %d: series twice", lineno);
    e->n++;
    cr_assert_lt(e->n, MAX_SERIES);
  }
}

/* The value of the series family{labels}, or fail (or NAN-like -1 when it may be absent). */
static bool value_of(const exposition *e, const char *family, const char *labels, double *out) {
  for (size_t i = 0; i < e->n; i++)
    if (!strcmp(e->s[i].family, family) && !strcmp(e->s[i].labels, labels)) {
      *out = e->s[i].value;
      return true;
    }
  return false;
}

static double must(const exposition *e, const char *family, const char *labels) {
  double v = 0;
  cr_assert(value_of(e, family, labels, &v), "no series %s{%s}", family, labels);
  return v;
}

/* ---- the tests --------------------------------------------------------------------------------- */

static int64_t fixed_clock(void *payload) { return *(const int64_t *)payload; }

/* 2026-11-27 12:00:00 UTC */
#define NOW_US 1795780800000000LL

static char *metrics(fastepost_spool *spool) {
  static int64_t now = NOW_US;
  fastepost_crm_stats_options *o = NULL;
  cr_assert_eq(fastepost_crm_stats_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_clock(o, fixed_clock, &now), FASTEPOST_OK);
  fastepost_crm_stats *s = NULL;
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  char *text = NULL;
  cr_assert_eq(fastepost_report_prometheus(&text, s, spool), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_crm_stats_free(s);
  fastepost_crm_stats_options_free(o);
  return text;
}

static exposition ex;

Test(prometheus, figures_parse_and_match_the_data) {
  /* odoo: 3 success, 1 error, 1 dead (1 in the last 24 h, the newest 90 s before now); a source
   * whose name needs every escape; customers, one linked; a pending task. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at) VALUES"
              " ('odoo', 'res.partner', 'success', '2026-11-20 10:00:00'),"
              " ('odoo', 'res.partner', 'success', '2026-11-21 10:00:00'),"
              " ('odoo', 'res.partner', 'success', '2026-11-27 11:58:30'),"
              " ('odoo', 'res.partner', 'error', '2026-11-22 10:00:00'),"
              " ('odoo', 'res.partner', 'dead', '2026-11-23 10:00:00'),"
              " (E'we\"ird\\\\src\\nx', 'x', 'pending', '2026-11-26 10:00:00')");
  fptest_exec("INSERT INTO customers (name, crm_source, crm_id, created_at, updated_at) VALUES"
              " ('A', 'odoo', 'res.partner:1', now(), now()), ('B', NULL, NULL, now(), now())");
  char *text = metrics(NULL);
  parse(&ex, text);
  cr_assert_eq(must(&ex, "fastepost_crm_events", "source=odoo,status=success"), 3);
  cr_assert_eq(must(&ex, "fastepost_crm_events", "source=odoo,status=error"), 1);
  cr_assert_eq(must(&ex, "fastepost_crm_events", "source=odoo,status=dead"), 1);
  cr_assert_eq(must(&ex, "fastepost_crm_events", "source=odoo,status=pending"), 0);
  cr_assert_eq(must(&ex, "fastepost_crm_events_24h", "source=odoo"), 1);
  cr_assert_float_eq(must(&ex, "fastepost_crm_success_ratio", "source=odoo"), 0.6, 1e-9);
  cr_assert_eq(must(&ex, "fastepost_crm_retry_queue", "source=odoo"), 1);
  cr_assert_eq(must(&ex, "fastepost_crm_dead_events", "source=odoo"), 1);
  cr_assert_float_eq(must(&ex, "fastepost_crm_seconds_since_last_event", "source=odoo"), 90, 1e-6);
  cr_assert_float_eq(must(&ex, "fastepost_crm_last_event_timestamp_seconds", "source=odoo"),
                     (double)(NOW_US / 1000000 - 90), 1e-3);
  /* The hostile source name came through the escapes intact. */
  cr_assert_eq(must(&ex, "fastepost_crm_events", "source=we\"ird\\src\nx,status=pending"), 1);
  double ratio;
  cr_assert(!value_of(&ex, "fastepost_crm_success_ratio", "source=we\"ird\\src\nx", &ratio),
            "no ratio before an event has finished");
  cr_assert_eq(must(&ex, "fastepost_customers", ""), 2);
  cr_assert_eq(must(&ex, "fastepost_customers_synced", ""), 1);
  cr_assert(!strstr(text, "fastepost_spool_entries"), "no spool given: no spool figures");
  for (size_t i = 0; i < ex.nfamilies; i++)
    cr_assert_str_eq(ex.types[i], "gauge", "%s: event counts go down when the log is pruned", ex.families[i]);

  /* Prometheus' own checker, when Debian's prometheus package is there (scripts/deps metrics). */
  if (access("/usr/bin/promtool", X_OK) == 0) {
    char dir[256], path[300], cmd[700];
    fptest_tmpdir(dir, sizeof dir, "prom");
    snprintf(path, sizeof path, "%s/metrics.txt", dir);
    fptest_write_file(path, text, 0600);
    snprintf(cmd, sizeof cmd, "/usr/bin/promtool check metrics < '%s' > '%s/out' 2>&1", path, dir);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/out", dir);
    size_t n = 0;
    char *out = fptest_read_file(path, &n);
    cr_assert_eq(rc, 0, "promtool check metrics: %s", out ? out : "");
    free(out);
    fptest_rmtree(dir);
  } else {
    cr_log_warn("promtool not installed: only this suite's own parser checked the format");
  }
  fastepost_free(text);
}

Test(prometheus, spool_depth_and_empty_database) {
  char dir[256];
  fptest_tmpdir(dir, sizeof dir, "promspool");
  fastepost_spool *sp = NULL;
  cr_assert_eq(fastepost_spool_open(&sp, dir), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_spool_put(NULL, sp, "odoo", NULL, NULL, "{}", 2), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_put(NULL, sp, "odoo", NULL, NULL, "{}", 2), FASTEPOST_OK);
  char *text = metrics(sp);
  parse(&ex, text);
  cr_assert_eq(must(&ex, "fastepost_spool_entries", ""), 2);
  cr_assert_eq(must(&ex, "fastepost_spool_bad_entries", ""), 0);
  cr_assert_eq(must(&ex, "fastepost_customers", ""), 0);
  double v;
  cr_assert(!value_of(&ex, "fastepost_crm_seconds_since_last_event", "source=odoo", &v),
            "no events: no time since the last one");
  fastepost_free(text);
  fastepost_spool_free(sp);
  fptest_rmtree(dir);
  cr_assert_eq(fastepost_report_prometheus(NULL, NULL, NULL), FASTEPOST_EINVALID);
}

/* `fastepost stats crm --format prometheus` prints the same text (its own clock aside), parsed
 * by the same parser; a wrong format is a usage error. */
Test(prometheus, cli_format_prometheus) {
  static char out[65536];
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at) VALUES"
              " ('zoho', 'Contacts.insert', 'success', now()), ('zoho', 'Contacts.update', 'error', now())");
  char args[2048];
  snprintf(args, sizeof args, "--db '%s' stats crm --format prometheus --source zoho", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  parse(&ex, out);
  cr_assert_eq(must(&ex, "fastepost_crm_events", "source=zoho,status=success"), 1);
  cr_assert_float_eq(must(&ex, "fastepost_crm_success_ratio", "source=zoho"), 0.5, 1e-9);
  snprintf(args, sizeof args, "--db '%s' stats crm --format yaml", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);
  snprintf(args, sizeof args, "--db '%s' stats crm --spool /nonexistent", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "--spool without prometheus: %s", out);
}
