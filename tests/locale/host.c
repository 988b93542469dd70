/* SPDX-License-Identifier: MIT */
/*
 * A host that calls setlocale(LC_ALL, "") as many daemons and interpreters do, then runs a fixed
 * sequence through the public API and prints a canonical dump of what it saw and what the
 * database holds. tests/locale/compare.sh runs it under C.UTF-8, de_DE.UTF-8 and tr_TR.UTF-8 and
 * requires the same dump from all three: the library must behave the same in every locale.
 *
 *   FASTEPOST_TEST_DSN=... LC_ALL=de_DE.UTF-8 locale_host ,
 *
 * The argument is the decimal point the locale must have after setlocale(): a run that silently
 * fell back to "C" would prove nothing. The sequence:
 *   1. an Odoo delivery that fails transiently (a trigger raises a serialization failure): it
 *      must be logged as `error` with a next_attempt_at 15-30 s after processing;
 *   2. the cause removed, the retry queue processes it;
 *   3. CSV imports: numbers with decimals and exponents, booleans, timestamps, a mixed-case
 *      email and header with 'I' (tr_TR folds it to a dotless i), and a rejected "1,5";
 *   4. the CRM and database statistics at a fixed clock;
 *   5. the HTML report at the same fixed clock.
 * Timestamps written from the real clock are set to fixed values before 4, and the figures that
 * vary between runs (database name, sizes) are masked in the report, so that the dumps of two
 * runs in the same locale are equal too. Besides printing, the host checks what must hold in
 * any locale and exits 1 when it does not ("FAIL: ..." on stderr).
 */
#include <fastepost.h>
#include "../support/retry_counts.h"
#include <libpq-fe.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* 2026-03-01 12:00:00 UTC */
#define FIXED_NOW_MS INT64_C(1772366400000)

static PGconn *check;  /* plain libpq: set-up and inspection, never the library */
static int failures;

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("FAIL: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  failures++;
}

static void die(const char *what) {
  fprintf(stderr, "locale_host: %s\n", what);
  exit(1);
}

static void sql(const char *q) {
  PGresult *r = PQexec(check, q);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    fprintf(stderr, "locale_host: %s: %s", q, PQerrorMessage(check));
    exit(1);
  }
  PQclear(r);
}

/* First column of the first row ("<none>" without rows, "" for NULL); static buffer. */
static const char *scalar(const char *q) {
  static char value[16384];
  PGresult *r = PQexec(check, q);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "locale_host: %s: %s", q, PQerrorMessage(check));
    exit(1);
  }
  snprintf(value, sizeof value, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "<none>");
  PQclear(r);
  return value;
}

static void expect(const char *label, const char *got, const char *want) {
  printf("%s: %s\n", label, got);
  if (strcmp(got, want) != 0)
    fail("%s: got \"%s\", expected \"%s\"", label, got, want);
}

static PGconn *connect_or_die(const char *conninfo) {
  PGconn *pg = PQconnectdb(conninfo);
  if (PQstatus(pg) != CONNECTION_OK) {
    fprintf(stderr, "locale_host: cannot connect: %s", PQerrorMessage(pg));
    exit(1);
  }
  PGresult *r = PQexec(pg, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
  PQclear(r);
  return pg;
}

static void admin(const char *dsn, const char *q) {
  char conninfo[2048];
  snprintf(conninfo, sizeof conninfo, "%s dbname=postgres", dsn);
  PGconn *pg = connect_or_die(conninfo);
  PGresult *r = PQexec(pg, q);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    fprintf(stderr, "locale_host: %s: %s", q, PQerrorMessage(pg));
    exit(1);
  }
  PQclear(r);
  PQfinish(pg);
}

/* Status of a call, as its code's name: stable text in every locale. */
static void print_status(const char *label, fastepost_status st) {
  printf("%s: %s (HTTP %d)\n", label, st ? fastepost_error_name(st) : "OK", fastepost_status_http(st));
}

/* ---- 1 and 2: failure logging and retry ------------------------------------------------------ */

static const char PARTNER[] = "{\"_id\": 42, \"_model\": \"res.partner\", \"name\": \"Irmak Işık\", "
                              "\"email\": \"IRMAK.ISIK@EXAMPLE.COM\", \"comment\": \"<P>Call first</P>\", "
                              "\"write_date\": \"2026-02-27 14:22:07\"}";

static void odoo_failure_and_retry(fastepost_conn *conn) {
  sql("CREATE FUNCTION fail_busy() RETURNS trigger LANGUAGE plpgsql AS "
      "$$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$");
  sql("CREATE TRIGGER fail_busy BEFORE INSERT OR UPDATE ON customers "
      "FOR EACH ROW EXECUTE FUNCTION fail_busy()");

  fastepost_event_result *r = NULL;
  fastepost_odoo_options *opts = NULL;
  if (fastepost_odoo_options_new(&opts) != FASTEPOST_OK ||
      fastepost_odoo_options_add_api_key(opts, "locale-key") != FASTEPOST_OK)
    fail("odoo options: %s", fastepost_error_last()->message);
  fastepost_status st = fastepost_odoo_process(&r, conn, "locale-key", PARTNER, strlen(PARTNER), opts);
  fastepost_odoo_options_free(opts);
  print_status("odoo delivery while customers fail", st);
  if (st != FASTEPOST_EBUSY)
    fail("a transient failure should give EBUSY, got %d: %s", st, fastepost_error_last()->message);
  printf("odoo delivery logged: %s\n", r && fastepost_event_result_event_id(r) > 0 ? "yes" : "no");
  fastepost_event_result_free(r);

  /* The failure row: this is what a decimal-comma locale lost when the retry jitter travelled
   * as "%.6f" text ("0,78" is not a number to PostgreSQL). */
  expect("failure row",
         scalar("SELECT concat_ws('|', count(*), min(status), min(attempts), "
                "bool_and(error_message LIKE '%simulated%'), bool_and(next_attempt_at IS NOT NULL), "
                "bool_and(next_attempt_at - processed_at BETWEEN interval '15 s' AND interval '30 s'), "
                "bool_and(payload->>'name' = 'Irmak Işık')) FROM integration_events"),
         "1|error|1|t|t|t|t");

  fptest_retry rep;
  st = fptest_events_retry(conn, 10, NULL, NULL, &rep);
  print_status("retry before due", st);
  printf("retry before due: attempted %zu\n", rep.attempted);

  sql("DROP TRIGGER fail_busy ON customers");
  sql("UPDATE integration_events SET next_attempt_at = localtimestamp - interval '1 second' "
      "WHERE next_attempt_at IS NOT NULL");
  memset(&rep, 0, sizeof rep);
  st = fptest_events_retry(conn, 10, NULL, NULL, &rep);
  print_status("retry when due", st);
  char counts[128];
  snprintf(counts, sizeof counts, "attempted %zu, succeeded %zu, failed %zu, dead %zu", rep.attempted,
           rep.succeeded, rep.failed, rep.dead);
  expect("retry when due", counts, "attempted 1, succeeded 1, failed 0, dead 0");
  expect("event after retry",
         scalar("SELECT concat_ws('|', status, outcome, attempts, next_attempt_at IS NULL, "
                "error_message IS NULL) FROM integration_events"),
         "success|created|2|t|t");
  expect("customer", scalar("SELECT concat_ws('|', name, email, crm_source, crm_id, active) FROM customers"),
         "Irmak Işık|irmak.isik@example.com|odoo|res.partner:42|t");
  expect("remark", scalar("SELECT body FROM remarks"), "Call first");
}

/* ---- 3: import ----------------------------------------------------------------------------- */

typedef struct mem_input {
  const char *data;
  size_t len, pos;
} mem_input;

static long long mem_read(char *buf, size_t size, void *payload) {
  mem_input *m = payload;
  size_t n = m->len - m->pos < size ? m->len - m->pos : size;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return (long long)n;
}

static fastepost_status import_text(fastepost_conn *conn, const char *label, const char *table,
                                    const char *csv, const fastepost_import_options *opts) {
  mem_input in = {csv, strlen(csv), 0};
  fastepost_import_report *rep = NULL;
  fastepost_status st = fastepost_import_csv_cb(&rep, conn, table, mem_read, &in, opts);
  print_status(label, st);
  if (rep) {
    printf("%s: read %llu, inserted %llu, updated %llu, skipped %llu, errors %llu\n", label,
           (unsigned long long)fastepost_import_report_rows_read(rep),
           (unsigned long long)fastepost_import_report_rows_inserted(rep),
           (unsigned long long)fastepost_import_report_rows_updated(rep),
           (unsigned long long)fastepost_import_report_rows_skipped(rep),
           (unsigned long long)fastepost_import_report_error_total(rep));
    for (size_t i = 0; i < fastepost_import_report_error_count(rep); i++) {
      const fastepost_import_error *e = fastepost_import_report_error(rep, i);
      printf("%s: error line %llu column \"%s\" value \"%s\": %s\n", label, (unsigned long long)e->line,
             e->column, e->value, e->reason);
    }
  }
  fastepost_import_report_free(rep);
  return st;
}

static void imports(fastepost_conn *conn) {
  sql("CREATE TABLE measures (id integer PRIMARY KEY, label text, amount numeric(12,2), "
      "ratio double precision, share real, active boolean, seen_at timestamp(0))");
  /* Header in capitals: columns are matched case-insensitively, and under tr_TR a <ctype.h>
   * tolower() would not make "ID" and "ACTIVE" out of "ID" and "ACTIVE". */
  fastepost_status st = import_text(conn, "import measures", "measures",
                                    "ID,Label,AMOUNT,Ratio,SHARE,ACTIVE,Seen_At\n"
                                    "1,Istanbul,1.50,0.25,2.5e-1,TRUE,2026-03-01 12:00:00\n"
                                    "2,İzmir ıI,-1234.75,1E3,.5,false,2026-03-01T13:30:00\n"
                                    "3,Iğdır,0,-0.000001,1e-3,t,2026-02-28 23:59:59\n",
                                    NULL);
  if (st != FASTEPOST_OK)
    fail("import measures: %s", fastepost_error_last()->message);
  expect("measures",
         scalar("SELECT string_agg(concat_ws('|', id, label, amount, ratio, share, active, seen_at), "
                "' / ' ORDER BY id) FROM measures"),
         "1|Istanbul|1.50|0.25|0.25|t|2026-03-01 12:00:00 / "
         "2|İzmir ıI|-1234.75|1000|0.5|f|2026-03-01 13:30:00 / "
         "3|Iğdır|0.00|-1e-06|0.001|t|2026-02-28 23:59:59");

  /* A decimal comma is not a number in CSV, whatever the host's locale says. */
  st = import_text(conn, "import decimal comma", "measures", "id,amount\n4,\"1,5\"\n", NULL);
  if (st == FASTEPOST_OK)
    fail("\"1,5\" was accepted as a number");
  expect("measures after the refused import", scalar("SELECT count(*) FROM measures"), "3");

  fastepost_import_options *o = NULL;
  if (fastepost_import_options_new(&o) != FASTEPOST_OK)
    fail("import options: %s", fastepost_error_last()->message);
  st = import_text(conn, "import customers", "customers",
                   "NAME,EMAIL,PHONE\nIsabel Ivanova,ISABEL@EXAMPLE.COM,+90 212 555 0101\n"
                   "Ilgın İnce,ilgin@example.com,\n",
                   o);
  if (st != FASTEPOST_OK)
    fail("import customers: %s", fastepost_error_last()->message);
  /* The import stores the core's normal form: the e-mail ASCII-lower-cased, 'I' to 'i' under
   * tr_TR too (not to the dotless 'ı' that tolower() would give there). */
  expect("customers imported",
         scalar("SELECT string_agg(concat_ws('|', name, email, phone), ' / ' ORDER BY name) "
                "FROM customers WHERE crm_id IS NULL"),
         "Ilgın İnce|ilgin@example.com / Isabel Ivanova|isabel@example.com|+90 212 555 0101");
  /* The unique index is on lower(email): the same address in other capitals is a conflict. */
  st = import_text(conn, "import duplicate email", "customers", "name,email\nDup,isabel@example.COM\n", NULL);
  if (st == FASTEPOST_OK)
    fail("a duplicate email (other capitals) was imported");
  fastepost_import_options_free(o);
}

/* ---- 4 and 5: statistics and report ---------------------------------------------------------- */

/* Tenths of a percent as an integer: printing the double would depend on the host's locale. */
static long long rate_tenths(double rate) { return (long long)(rate * 10.0 + 0.5); }

static int64_t fixed_clock_us(void *payload) { return *(const int64_t *)payload; }

static void statistics(fastepost_conn *conn) {
  /* Timestamps from the real clock, fixed: 30 minutes and 26 hours before FIXED_NOW_MS. */
  sql("UPDATE integration_events SET created_at = '2026-03-01 11:30:00', processed_at = '2026-03-01 11:30:01'");
  sql("UPDATE customers SET created_at = '2026-02-28 10:00:00', updated_at = '2026-02-28 10:00:00', "
      "last_synced_at = CASE WHEN last_synced_at IS NOT NULL THEN timestamp '2026-03-01 11:30:01' END");
  /* A second, older event of another source that failed for good, for a rate that is not 100. */
  sql("INSERT INTO integration_events (source, event_type, status, attempts, error_message, created_at, processed_at) "
      "VALUES ('hubspot', 'contact.propertyChange', 'dead', 5, 'gave up', '2026-02-28 10:00:00', '2026-02-28 10:00:01'), "
      "('hubspot', 'contact.creation', 'success', 1, NULL, '2026-02-28 09:00:00', '2026-02-28 09:00:01'), "
      "('hubspot', 'contact.creation', 'success', 1, NULL, '2026-02-28 08:00:00', '2026-02-28 08:00:01')");
  fastepost_status st = fastepost_crm_stats_rebuild(conn);
  print_status("crm stats rebuild", st);

  fastepost_crm_stats *s = NULL;
  static int64_t fixed_now_us = FIXED_NOW_MS * 1000;
  fastepost_crm_stats_options *co = NULL;
  if (fastepost_crm_stats_options_new(&co) != FASTEPOST_OK ||
      fastepost_crm_stats_options_set_base_url(co, "https://app.example.com/") != FASTEPOST_OK ||
      fastepost_crm_stats_options_set_clock(co, fixed_clock_us, &fixed_now_us) != FASTEPOST_OK)
    die("crm stats options");
  st = fastepost_crm_stats_collect(&s, conn, co);
  fastepost_crm_stats_options_free(co);
  print_status("crm stats", st);
  if (st != FASTEPOST_OK) {
    fail("crm stats: %s", fastepost_error_last()->message);
    return;
  }
  printf("generated at: %lld\n", (long long)fastepost_crm_stats_now_us(s));
  for (size_t i = 0; i < fastepost_crm_stats_source_count(s); i++) {
    const fastepost_crm_source_stats *x = fastepost_crm_stats_source(s, i);
    printf("source %s: total %llu, 24h %llu, success %llu, error %llu, dead %llu, pending %llu, "
           "rate %s%lld/1000 (%u), health %s, badge %s, last %lld %s\n",
           x->source, (unsigned long long)x->total_events, (unsigned long long)x->events_24h,
           (unsigned long long)x->success_events, (unsigned long long)x->error_events,
           (unsigned long long)x->dead_events, (unsigned long long)x->pending_events,
           x->has_success_rate ? "" : "none ", rate_tenths(x->success_rate), (unsigned)x->success_rate_tenths,
           fastepost_crm_stats_health_name(x->health), fastepost_report_badge_colour(x->health),
           (long long)x->last_event_at_us, x->last_event_type ? x->last_event_type : "-");
  }
  const fastepost_crm_sync_stats *sy = fastepost_crm_stats_sync(s);
  printf("sync: customers %llu, synced %llu, pending tasks %llu, last %lld\n",
         (unsigned long long)sy->total_customers, (unsigned long long)sy->synced_customers,
         (unsigned long long)sy->pending_tasks, (long long)sy->last_sync_at_us);
  for (size_t i = 0; i < fastepost_crm_stats_recent_count(s); i++) {
    const fastepost_crm_recent_event *e = fastepost_crm_stats_recent(s, i);
    char *iso = NULL, *ago = NULL;
    if (fastepost_report_time_iso(&iso, e->created_at_us) != FASTEPOST_OK ||
        fastepost_report_time_ago(&ago, e->created_at_us, fastepost_crm_stats_now_us(s)) != FASTEPOST_OK)
      die("time texts");
    printf("recent %lld: %s %s %s %s %s | %s\n", (long long)e->id, e->source, e->event_type, e->status,
           e->outcome ? e->outcome : "-", iso, ago);
    fastepost_free(iso);
    fastepost_free(ago);
  }
  const fastepost_crm_setup *su = fastepost_crm_stats_setup(s);
  printf("setup: %s %s %s\n", su->odoo_webhook_url, su->hubspot_webhook_url, su->hubspot_signature_header);
  fastepost_crm_stats_free(s);

  sql("ANALYZE");
  fastepost_stats_db *db = NULL;
  st = fastepost_stats_db_get(&db, conn, NULL, FASTEPOST_STATS_DB_EXACT);
  print_status("db stats", st);
  if (st != FASTEPOST_OK) {
    fail("db stats: %s", fastepost_error_last()->message);
    return;
  }
  /* Sizes differ from run to run; names and counts do not. Sorted by name for the same reason. */
  const char *prev = "";
  for (;;) {
    const fastepost_stats_db_table *next = NULL;
    for (size_t i = 0; i < fastepost_stats_db_table_count(db); i++) {
      const fastepost_stats_db_table *t = fastepost_stats_db_table_get(db, i);
      if (strcmp(fastepost_stats_db_table_name(t), prev) > 0 &&
          (!next || strcmp(fastepost_stats_db_table_name(t), fastepost_stats_db_table_name(next)) < 0))
        next = t;
    }
    if (!next)
      break;
    printf("table %s: %llu rows (estimate %llu)\n", fastepost_stats_db_table_name(next),
           (unsigned long long)fastepost_stats_db_table_rows_exact(next),
           (unsigned long long)fastepost_stats_db_table_rows_estimate(next));
    prev = fastepost_stats_db_table_name(next);
  }
  fastepost_stats_db_free(db);
}

/* Write s[0..len) with one tag per line (readable diffs), the database name as DBNAME and, when
 * mask_digits, every run of digits as '#' (sizes vary from run to run; a decimal comma would
 * still show as "#,#"). */
static void put_html(const char *s, size_t len, const char *dbname, bool mask_digits) {
  size_t nlen = strlen(dbname);
  for (size_t i = 0; i < len;) {
    if (len - i >= nlen && memcmp(s + i, dbname, nlen) == 0) {
      fputs("DBNAME", stdout);
      i += nlen;
    } else if (mask_digits && s[i] >= '0' && s[i] <= '9') {
      putchar('#');
      while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    } else {
      putchar(s[i]);
      if (s[i] == '>' && i + 1 < len && s[i + 1] == '<')
        putchar('\n');
      i++;
    }
  }
}

static int cmp_rows(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The report, masked: in the database section the sizes, and the table rows sorted by their
 * masked text (they come largest first, and sizes differ between runs). */
static void print_report(const char *html, const char *dbname) {
  const char *sec = strstr(html, "<section id=\"database\">");
  const char *body = sec ? strstr(sec, "<tbody>") : NULL;
  const char *end = body ? strstr(body, "</tbody>") : NULL;
  if (!end) {
    fail("the report has no database table");
    put_html(html, strlen(html), dbname, false);
    return;
  }
  body += strlen("<tbody>");
  put_html(html, (size_t)(sec - html), dbname, false);
  putchar('\n');
  put_html(sec, (size_t)(body - sec), dbname, true);
  putchar('\n');
  char *rows[256];
  size_t n = 0;
  for (const char *p = body; p < end && n < sizeof rows / sizeof rows[0];) {
    const char *next = strstr(p + 1, "<tr>");
    if (!next || next > end)
      next = end;
    rows[n] = malloc((size_t)(next - p) + 1);
    if (!rows[n])
      die("out of memory");
    memcpy(rows[n], p, (size_t)(next - p));
    rows[n][next - p] = '\0';
    /* Mask the digits before sorting, so that the order does not depend on the sizes either. */
    for (char *q = rows[n], *w = rows[n]; ; q++) {
      if (*q >= '0' && *q <= '9') {
        *w++ = '#';
        while (q[1] >= '0' && q[1] <= '9')
          q++;
      } else if (!(*w++ = *q)) {
        break;
      }
    }
    n++;
    p = next;
  }
  qsort(rows, n, sizeof rows[0], cmp_rows);
  for (size_t i = 0; i < n; i++) {
    put_html(rows[i], strlen(rows[i]), dbname, false);
    putchar('\n');
    free(rows[i]);
  }
  put_html(end, strlen(end), dbname, false);
}

static void report(fastepost_conn *conn, const char *dbname) {
  fastepost_report_options *o = NULL;
  if (fastepost_report_options_new(&o) != FASTEPOST_OK)
    die("out of memory");
  static int64_t report_now_us = FIXED_NOW_MS * 1000;
  fastepost_report_options_set_clock(o, fixed_clock_us, &report_now_us);
  fastepost_report_options_set_base_url(o, "https://app.example.com");
  fastepost_report_options_set_title(o, "Locale check: İ ı I i");
  char *html = NULL;
  fastepost_status st = fastepost_report_html(&html, conn, o);
  print_status("report", st);
  if (st != FASTEPOST_OK) {
    fail("report: %s", fastepost_error_last()->message);
  } else {
    if (!strstr(html, "66.7% success"))
      fail("the report does not show the HubSpot rate as \"66.7%% success\"");
    puts("report:");
    print_report(html, dbname);
  }
  fastepost_free(html);
  fastepost_report_options_free(o);
}

int main(int argc, char **argv) {
  if (argc != 2)
    die("usage: locale_host DECIMAL_POINT (FASTEPOST_TEST_DSN and LC_ALL in the environment)");
  const char *name = setlocale(LC_ALL, "");
  if (!name) {
    fprintf(stderr, "locale_host: setlocale(LC_ALL, \"\") failed for LC_ALL=%s (scripts/deps locales "
                    "generates the test locales)\n", getenv("LC_ALL") ? getenv("LC_ALL") : "(unset)");
    return 1;
  }
  const char *point = localeconv()->decimal_point;
  fprintf(stderr, "locale_host: running under %s (decimal point '%s')\n", name, point);
  if (strcmp(point, argv[1]) != 0) {
    fprintf(stderr, "locale_host: expected the decimal point '%s' in %s\n", argv[1], name);
    return 1;
  }
  const char *dsn = getenv("FASTEPOST_TEST_DSN");
  if (!dsn || !*dsn)
    die("FASTEPOST_TEST_DSN is not set: run under scripts/with-postgres");

  char dbname[64], q[256], conninfo[2048];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(dbname, sizeof dbname, "fploc_%ld_%ld", (long)getpid(), (long)(ts.tv_nsec % 1000000));
  snprintf(q, sizeof q, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'", dbname);
  admin(dsn, q);
  snprintf(conninfo, sizeof conninfo, "%s dbname=%s", dsn, dbname);
  check = connect_or_die(conninfo);

  fastepost_conn *conn = NULL;
  if (fastepost_conn_open(&conn, conninfo) != FASTEPOST_OK)
    die(fastepost_error_last()->message);
  if (fastepost_schema_install(NULL, conn) != FASTEPOST_OK)
    die(fastepost_error_last()->message);

  odoo_failure_and_retry(conn);
  imports(conn);
  statistics(conn);
  report(conn, dbname);

  fastepost_conn_free(conn);
  PQfinish(check);
  snprintf(q, sizeof q, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
  admin(dsn, q);
  if (failures)
    fprintf(stderr, "locale_host: %d check(s) failed under %s\n", failures, name);
  return failures ? 1 : 0;
}
