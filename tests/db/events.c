/* SPDX-License-Identifier: MIT */
/* The event log, the retry queue (backoff, dead-lettering) and concurrent deliveries. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "retry_counts.h"
#include "testdb.h"

TestSuite(events, .init = fptest_setup_schema, .fini = fptest_teardown);

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

#define Q(sql) fptest_scalar(sql)
#define N(sql) fptest_count(sql)

static const char PARTNER[] = "{\"_id\": 42, \"_model\": \"res.partner\", \"name\": \"Anna\", "
                              "\"email\": \"anna@x.de\", \"comment\": \"<p>Call first</p>\", "
                              "\"write_date\": \"2024-05-03 14:22:07\"}";

/* Processing checks the presented key itself (issue 11): these tests are the host that
 * authenticated the request. */
static const fastepost_odoo_options *host_authenticated(void) {
  static fastepost_odoo_options *o;
  if (!o && fastepost_odoo_options_new(&o) == FASTEPOST_OK)
    fastepost_odoo_options_set_host_authenticated(o, true);
  return o;
}

static fastepost_status deliver(fastepost_conn *c, const char *body, fastepost_event_result **out) {
  fastepost_event_result *r = NULL;
  fastepost_status st = fastepost_odoo_process(&r, c, NULL, body, strlen(body), host_authenticated());
  if (out)
    *out = r;
  else
    fastepost_event_result_free(r);
  return st;
}

/* Make every insert into customers fail as a serialization failure would. */
static void break_customers(void) {
  fptest_exec("CREATE FUNCTION fail_busy() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$");
  fptest_exec("CREATE TRIGGER fail_busy BEFORE INSERT OR UPDATE ON customers "
              "FOR EACH ROW EXECUTE FUNCTION fail_busy()");
}

static void make_due(void) {
  fptest_exec("UPDATE integration_events SET next_attempt_at = localtimestamp - interval '1 second' "
              "WHERE next_attempt_at IS NOT NULL");
}

Test(events, transient_failure_is_queued_with_backoff_then_dead) {
  break_customers();
  fastepost_event_result *r = NULL;
  cr_assert_eq(deliver(fptest_conn(), PARTNER, &r), FASTEPOST_EBUSY);
  cr_assert_eq(fastepost_status_http(fastepost_event_result_code(r)), 503);
  cr_assert(strstr(fastepost_event_result_error(r), "simulated"), "%s", fastepost_event_result_error(r));
  cr_assert_neq(fastepost_event_result_event_id(r), 0);
  fastepost_event_result_free(r);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 0);
  cr_assert_str_eq(Q("SELECT concat_ws('|', status, attempts, payload->>'name', error_message LIKE '%simulated%', "
                     "next_attempt_at - processed_at BETWEEN interval '15 s' AND interval '30 s') "
                     "FROM integration_events"),
                   "error|1|Anna|t|t");
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 0, "not due yet");

  for (int attempt = 2; attempt <= 4; attempt++) {
    make_due();
    cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
    cr_assert_eq(rep.attempted, 1);
    cr_assert_eq(rep.failed, 1);
    cr_assert_eq(rep.dead, 0);
    char sql[256];
    /* 30 s * 2^(attempt-1), with jitter between half and all of it */
    snprintf(sql, sizeof sql,
             "SELECT attempts = %d AND status = 'error' AND next_attempt_at - processed_at "
             "BETWEEN interval '%d s' AND interval '%d s' FROM integration_events",
             attempt, 15 << (attempt - 1), 30 << (attempt - 1));
    cr_assert_str_eq(Q(sql), "t", "attempt %d", attempt);
  }
  make_due();
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 1);
  cr_assert_eq(rep.dead, 1);
  cr_assert_str_eq(Q("SELECT status || '|' || attempts || '|' || (next_attempt_at IS NULL) FROM integration_events"),
                   "dead|5|true");
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1, "always the same row");
  make_due();
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 0, "dead events are not retried");
  fptest_assert_counters_exact();
}

Test(events, retry_succeeds_once_the_cause_is_gone) {
  break_customers();
  cr_assert_eq(deliver(fptest_conn(), PARTNER, NULL), FASTEPOST_EBUSY);
  fptest_exec("DROP TRIGGER fail_busy ON customers");
  make_due();
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 1);
  cr_assert_eq(rep.succeeded, 1);
  cr_assert_str_eq(Q("SELECT concat_ws('|', status, outcome, attempts, next_attempt_at IS NULL, "
                     "error_message IS NULL, customer_id IS NOT NULL) FROM integration_events"),
                   "success|created|2|t|t|t");
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 1);
  /* the sender's own redelivery is now a duplicate */
  fastepost_event_result *r = NULL;
  cr_assert_eq(deliver(fptest_conn(), PARTNER, &r), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_DUPLICATE);
  fastepost_event_result_free(r);
  fptest_assert_counters_exact();
}

Test(events, redelivery_of_a_failed_event_takes_over_its_row) {
  break_customers();
  cr_assert_eq(deliver(fptest_conn(), PARTNER, NULL), FASTEPOST_EBUSY);
  fptest_exec("DROP TRIGGER fail_busy ON customers");
  fastepost_event_result *r = NULL;
  cr_assert_eq(deliver(fptest_conn(), PARTNER, &r), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_CREATED);
  fastepost_event_result_free(r);
  cr_assert_str_eq(Q("SELECT count(*) || '|' || max(status) || '|' || max(attempts) FROM integration_events"),
                   "1|success|2");
  fptest_assert_counters_exact();
}

Test(events, lost_connection_is_queued_after_reconnecting) {
  fastepost_conn *c = fptest_conn();
  cr_assert_eq(fastepost_conn_ping(c), FASTEPOST_OK);
  fptest_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  sleep_ms(100);
  fastepost_event_result *r = NULL;
  cr_assert_eq(deliver(c, PARTNER, &r), FASTEPOST_ECONN, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_status_http(fastepost_event_result_code(r)), 503);
  fastepost_event_result_free(r);
  cr_assert_str_eq(Q("SELECT concat_ws('|', status, attempts, next_attempt_at IS NOT NULL, payload IS NOT NULL) "
                     "FROM integration_events"),
                   "error|1|t|t");
  make_due();
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(c, 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.succeeded, 1);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  fptest_assert_counters_exact();
}

Test(events, retry_keeps_the_event_hint) {
  break_customers();
  fastepost_odoo_options *o = NULL;
  fastepost_odoo_options_new(&o);
  fastepost_odoo_options_set_event(o, "archive");
  fastepost_odoo_options_set_host_authenticated(o, true);
  cr_assert_eq(fastepost_odoo_process(NULL, fptest_conn(), NULL, PARTNER, strlen(PARTNER), o), FASTEPOST_EBUSY);
  fastepost_odoo_options_free(o);
  fptest_exec("DROP TRIGGER fail_busy ON customers");
  make_due();
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.succeeded, 1);
  cr_assert_str_eq(Q("SELECT active::text FROM customers"), "false");
  cr_assert_str_eq(Q("SELECT event_type FROM integration_events"), "res.partner.archive");
  fptest_assert_counters_exact();
}

Test(events, list_with_filters) {
  cr_assert_eq(deliver(fptest_conn(), PARTNER, NULL), FASTEPOST_OK);
  cr_assert_eq(deliver(fptest_conn(), "{\"_id\": 1, \"_model\"", NULL), FASTEPOST_EPARSE);
  fptest_exec("INSERT INTO integration_events (source, event_type, status) VALUES ('hubspot', 'contact', 'success')");
  fastepost_event_list *l = NULL;
  cr_assert_eq(fastepost_events_list(&l, fptest_conn(), NULL, NULL, 10), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_list_count(l), 3);
  cr_assert_str_eq(fastepost_event_list_get(l, 0)->source, "hubspot", "newest first");
  cr_assert_null(fastepost_event_list_get(l, 3));
  fastepost_event_list_free(l);
  cr_assert_eq(fastepost_events_list(&l, fptest_conn(), "odoo", "error", 10), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_list_count(l), 1);
  const fastepost_event *e = fastepost_event_list_get(l, 0);
  cr_assert_str_eq(e->status, "error");
  cr_assert_str_eq(e->event_type, "unknown");
  cr_assert(strstr(e->error_message, "byte"));
  cr_assert_str_eq(e->outcome, "");
  cr_assert_eq(e->next_attempt_at_us, 0, "no retry planned");
  cr_assert_eq(e->customer_id, 0);
  /* Microseconds since the epoch, the row's own created_at exactly. */
  char want[64];
  snprintf(want, sizeof want, "%lld", (long long)e->created_at_us);
  cr_assert_str_eq(Q("SELECT (extract(epoch FROM created_at)::numeric * 1000000)::bigint::text FROM integration_events "
                     "WHERE source = 'odoo' AND status = 'error'"),
                   want);
  cr_assert_gt(e->processed_at_us, 0);
  fastepost_event_list_free(l);
  cr_assert_eq(fastepost_events_list(&l, fptest_conn(), "odoo", "success", 1), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_list_count(l), 1);
  cr_assert_str_eq(fastepost_event_list_get(l, 0)->outcome, "created");
  cr_assert_str_eq(fastepost_event_list_get(l, 0)->external_id, "res.partner:42");
  cr_assert_neq(fastepost_event_list_get(l, 0)->customer_id, 0);
  fastepost_event_list_free(l);
  cr_assert_eq(fastepost_events_list(&l, fptest_conn(), NULL, "weird", 10), FASTEPOST_EINVALID);
  cr_assert_null(l);
  /* 0 is the default limit (100), not an error; above the maximum is one. */
  cr_assert_eq(fastepost_events_list(&l, fptest_conn(), NULL, NULL, 0), FASTEPOST_OK);
  cr_assert_eq((long long)fastepost_event_list_count(l), N("SELECT count(*) FROM integration_events"));
  fastepost_event_list_free(l);
  cr_assert_eq(fastepost_events_list(&l, fptest_conn(), NULL, NULL, FASTEPOST_EVENTS_MAX_LIMIT + 1), FASTEPOST_EINVALID);
  cr_assert_null(l);
  fptest_retry rep0 = {9, 9, 9, 9};
  cr_assert_eq(fptest_events_retry(fptest_conn(), 0, NULL, NULL, &rep0), FASTEPOST_OK, "0: the default limit");
  cr_assert_eq(rep0.attempted, 0);
  fastepost_retry_report *r = NULL;
  cr_assert_eq(fastepost_events_retry(&r, NULL, NULL), FASTEPOST_EINVALID);
  cr_assert_not_null(r, "the report comes also on failure");
  cr_assert_eq(fastepost_retry_report_attempted(r), 0);
  fastepost_retry_report_free(r);
  cr_assert_eq(fastepost_retry_report_dead(NULL), 0);
  fptest_assert_counters_exact();
}

/* Fork n processes that each open their own connection, wait for a common start, and deliver
 * bodies[i % nbodies]. Returns how many succeeded. */
static int deliver_concurrently(int n, const char *const *bodies, int nbodies) {
  int gate[2];
  cr_assert_eq(pipe(gate), 0);
  pid_t pids[32];
  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    cr_assert_geq(pids[i], 0);
    if (pids[i] == 0) {
      close(gate[1]);
      fastepost_conn *c = NULL;
      if (fastepost_conn_open(&c, fptest_current.conninfo) != FASTEPOST_OK)
        _exit(2);
      char b;
      (void)!read(gate[0], &b, 1); /* returns when the parent closes the pipe */
      const char *body = bodies[i % nbodies];
      fastepost_status st = fastepost_odoo_process(NULL, c, NULL, body, strlen(body), host_authenticated());
      if (st != FASTEPOST_OK)
        fprintf(stderr, "child %d: %s\n", i, fastepost_error_last()->message);
      fastepost_conn_free(c);
      _exit(st == FASTEPOST_OK ? 0 : 1);
    }
  }
  close(gate[0]);
  sleep_ms(200); /* let every child connect */
  close(gate[1]);
  int ok = 0;
  for (int i = 0; i < n; i++) {
    int status = 0;
    waitpid(pids[i], &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      ok++;
  }
  return ok;
}

Test(events, concurrent_deliveries_of_one_contact_end_with_one_customer_and_one_remark) {
  const char *same[] = {PARTNER};
  cr_assert_eq(deliver_concurrently(8, same, 1), 8);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1, "the others were duplicates");

  /* several versions of one contact (same note), a lead by the same email, all at once */
  const char *versions[] = {
      "{\"_id\": 7, \"_model\": \"res.partner\", \"name\": \"Bo v1\", \"email\": \"bo@x.de\", "
      "\"comment\": \"same note\", \"write_date\": \"2024-01-01 00:00:01\"}",
      "{\"_id\": 7, \"_model\": \"res.partner\", \"name\": \"Bo v2\", \"email\": \"bo@x.de\", "
      "\"comment\": \"same note\", \"write_date\": \"2024-01-01 00:00:02\"}",
      "{\"_id\": 7, \"_model\": \"res.partner\", \"name\": \"Bo v3\", \"email\": \"bo@x.de\", "
      "\"comment\": \"same note\", \"write_date\": \"2024-01-01 00:00:03\"}",
      "{\"_id\": 70, \"_model\": \"crm.lead\", \"name\": \"Bo deal\", \"email_from\": \"Bo <BO@x.de>\"}",
  };
  cr_assert_eq(deliver_concurrently(12, versions, 4), 12);
  cr_assert_eq(N("SELECT count(*) FROM customers WHERE lower(email) = 'bo@x.de'"), 1);
  cr_assert_eq(N("SELECT count(*) FROM remarks WHERE body = 'same note'"), 1);
  cr_assert_eq(N("SELECT count(*) FROM remarks WHERE body = 'Lead: Bo deal'"), 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE external_id IN ('res.partner:7', 'crm.lead:70')"), 4);
  fptest_assert_counters_exact();
}

Test(events, concurrent_deliveries_of_different_contacts_all_land) {
  char bodies[10][160];
  const char *ptrs[10];
  for (int i = 0; i < 10; i++) {
    snprintf(bodies[i], sizeof bodies[i],
             "{\"_id\": %d, \"_model\": \"res.partner\", \"name\": \"P%d\", \"email\": \"p%d@x.de\", "
             "\"comment\": \"note %d\"}", 100 + i, i, i, i);
    ptrs[i] = bodies[i];
  }
  cr_assert_eq(deliver_concurrently(10, ptrs, 10), 10);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 10);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 10);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'success'"), 10);
  fptest_assert_counters_exact();
}

Test(events, concurrent_batches_with_overlapping_contacts) {
  enum { PROCS = 4, PER = 24, CONTACTS = 12 };
  int gate[2];
  cr_assert_eq(pipe(gate), 0);
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++) {
    pids[p] = fork();
    cr_assert_geq(pids[p], 0);
    if (pids[p] == 0) {
      close(gate[1]);
      fastepost_conn *c = NULL;
      if (fastepost_conn_open(&c, fptest_current.conninfo) != FASTEPOST_OK)
        _exit(2);
      char bodies[PER][200];
      const char *ptrs[PER];
      size_t lens[PER];
      for (int i = 0; i < PER; i++) {
        /* every process walks the same contacts in its own order, with its own versions */
        int k = (p % 2 ? PER - 1 - i : i) % CONTACTS;
        snprintf(bodies[i], sizeof bodies[i],
                 "{\"_id\": %d, \"_model\": \"res.partner\", \"name\": \"P%d\", \"email\": \"p%d@x.de\", "
                 "\"comment\": \"note %d\", \"write_date\": \"2024-01-01 00:00:%02d\"}", k + 1, k, k, k, p * 10 + i % 10);
        ptrs[i] = bodies[i];
        lens[i] = strlen(bodies[i]);
      }
      char b;
      (void)!read(gate[0], &b, 1);
      fastepost_event_batch *res = NULL;
      fastepost_status st = fastepost_odoo_process_batch(&res, c, NULL, (const void *const *)ptrs, lens, PER, host_authenticated());
      int bad = st != FASTEPOST_OK;
      for (int i = 0; i < PER; i++) {
        int code = fastepost_event_result_code(fastepost_event_batch_get(res, i));
        if (code != FASTEPOST_OK && code != FASTEPOST_EBUSY) /* a deadlock victim is queued, not lost */
          bad = 1;
      }
      fastepost_event_batch_free(res);
      fastepost_conn_free(c);
      _exit(bad);
    }
  }
  close(gate[0]);
  sleep_ms(200);
  close(gate[1]);
  for (int p = 0; p < PROCS; p++) {
    int status = 0;
    waitpid(pids[p], &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d failed", p);
  }
  /* whatever was queued by a deadlock goes through on retry */
  make_due();
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 1000, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.failed + rep.dead, 0);
  cr_assert_eq(N("SELECT count(*) FROM customers"), CONTACTS);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), CONTACTS);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status <> 'success'"), 0);
  fptest_assert_counters_exact();
}

/* ---- concurrent retries and the list's plans ------------------------------------------------ */

typedef struct retry_arg {
  fastepost_conn *conn;
  fastepost_status st;
  fptest_retry rep;
} retry_arg;

static void *retry_thread(void *p) {
  retry_arg *a = p;
  a->st = fptest_events_retry(a->conn, 10000, NULL, NULL, &a->rep);
  return NULL;
}

Test(events, concurrent_retry_runs_claim_each_event_once) {
  enum { DUE = 300 };
  char sql[1024];
  snprintf(sql, sizeof sql,
           "INSERT INTO integration_events (source, event_type, status, attempts, idempotency_key, payload, "
           "next_attempt_at) SELECT 'odoo', 'unknown', 'error', 1, 'k' || g, jsonb_build_object('_id', g, "
           "'_model', 'res.partner', 'name', 'N ' || g, 'email', 'n' || g || '@x.de'), "
           "localtimestamp - interval '1 minute' FROM generate_series(1, %d) g",
           DUE);
  fptest_exec(sql);
  /* Not due: untouched by both. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, attempts, payload, next_attempt_at) "
              "VALUES ('odoo', 'unknown', 'error', 1, '{}', localtimestamp + interval '1 hour')");
  retry_arg a[3];
  pthread_t t[3];
  for (int k = 0; k < 3; k++) {
    memset(&a[k], 0, sizeof a[k]);
    cr_assert_eq(fastepost_conn_open(&a[k].conn, fptest_current.conninfo), FASTEPOST_OK);
  }
  for (int k = 0; k < 3; k++)
    pthread_create(&t[k], NULL, retry_thread, &a[k]);
  int attempted = 0, succeeded = 0;
  for (int k = 0; k < 3; k++) {
    pthread_join(t[k], NULL);
    cr_assert_eq(a[k].st, FASTEPOST_OK, "%d", a[k].st);
    attempted += a[k].rep.attempted;
    succeeded += a[k].rep.succeeded;
    fastepost_conn_free(a[k].conn);
  }
  /* What they report is what they did: each due event once, in all. */
  cr_assert_eq(attempted, DUE);
  cr_assert_eq(succeeded, DUE);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'success' AND attempts = 2"), DUE);
  cr_assert_eq(N("SELECT count(*) FROM customers"), DUE);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'error' AND attempts = 1 "
                 "AND next_attempt_at > localtimestamp + interval '50 minutes'"),
               1);
  fptest_assert_counters_exact();
}

/* The plan of the list's statement for these filters, as run (EXPLAIN ANALYZE), as text. */
static char *list_plan(const char *source, const char *status) {
  char sql[4096];
  snprintf(sql, sizeof sql, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) %s",
           fastepost__events_list_sql(source != NULL, status != NULL));
  const char *params[] = {source, status, "50"};
  PGresult *r = PQexecParams(fptest_current.check, sql, 3, NULL, params, NULL, NULL, 0);
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(fptest_current.check));
  size_t cap = 8192, len = 0;
  char *plan = calloc(1, cap);
  for (int i = 0; i < PQntuples(r); i++)
    len += (size_t)snprintf(plan + len, cap - len, "%s\n", PQgetvalue(r, i, 0));
  PQclear(r);
  return plan;
}

Test(events, every_list_filter_is_one_index_probe_on_a_big_table, .timeout = 120) {
  /* 200k events over 3 sources and 3 statuses ('dead' never occurs), then statistics. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at, updated_at) "
              "SELECT (ARRAY['odoo','hubspot','other'])[1 + g % 3], 'x', "
              "(ARRAY['success','success','success','error','pending'])[1 + g % 5], "
              "timestamp '2024-01-01' + g * interval '1 second', timestamp '2024-01-01' "
              "FROM generate_series(1, 200000) g");
  fptest_exec("ANALYZE integration_events");
  const char *sources[] = {NULL, "odoo", "nosuch"};
  const char *statuses[] = {NULL, "success", "error", "dead"};
  for (size_t i = 0; i < 3; i++)
    for (size_t k = 0; k < 4; k++) {
      char *plan = list_plan(sources[i], statuses[k]);
      cr_assert(strstr(plan, "Index Scan"), "%s/%s:\n%s", sources[i], statuses[k], plan);
      cr_assert_null(strstr(plan, "Seq Scan"), "%s/%s:\n%s", sources[i], statuses[k], plan);
      cr_assert_null(strstr(plan, "Sort"), "%s/%s:\n%s", sources[i], statuses[k], plan);
      /* Walking an index past rows that do not match is allowed only for a frequent value (the
       * planner may then prefer the plain created_at index): never a walk over the table. */
      for (const char *f = plan; (f = strstr(f, "Rows Removed by Filter: ")) != NULL; f++)
        cr_assert_leq(atol(f + strlen("Rows Removed by Filter: ")), 1000, "%s/%s:\n%s", sources[i], statuses[k],
                      plan);
      free(plan);
    }
  /* And the answers are right. */
  fastepost_event_list *l = NULL;
  cr_assert_eq(fastepost_events_list(&l, fptest_conn(), "hubspot", "error", 5), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_list_count(l), 5);
  for (size_t i = 0; i < 5; i++)
    cr_assert(!strcmp(fastepost_event_list_get(l, i)->source, "hubspot") &&
              !strcmp(fastepost_event_list_get(l, i)->status, "error"));
  cr_assert_gt(fastepost_event_list_get(l, 0)->created_at_us, fastepost_event_list_get(l, 4)->created_at_us);
  fastepost_event_list_free(l);
  cr_assert_eq(fastepost_events_list(&l, fptest_conn(), "nosuch", "dead", 5), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_list_count(l), 0);
  fastepost_event_list_free(l);
  fptest_assert_counters_exact();
}

/* Issue 11 item 6: one injected clock drives the event rows, the retry due check and the
 * 24-hour statistics. The clock is set years ahead of the server's, so that only the injected
 * clock can make the event due (the server's never would) and only it can stamp the rows. */
static int64_t fixed_clock(void *payload) { return *(const int64_t *)payload; }

Test(events, one_injected_clock_drives_rows_retries_and_statistics) {
  const int64_t t0 = INT64_C(1893456000) * 1000000; /* 2030-01-01 00:00:00 UTC */
  int64_t now = t0;
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  fastepost_odoo_options_set_host_authenticated(o, true);
  fastepost_odoo_options_set_clock(o, fixed_clock, &now);
  break_customers();
  fastepost_event_result *r = NULL;
  cr_assert_eq(fastepost_odoo_process(&r, fptest_conn(), NULL, PARTNER, strlen(PARTNER), o), FASTEPOST_EBUSY);
  fastepost_event_result_free(r);
  fastepost_odoo_options_free(o);
  cr_assert_str_eq(Q("SELECT concat_ws('|', created_at, processed_at, next_attempt_at BETWEEN "
                     "timestamp '2030-01-01 00:00:15' AND timestamp '2030-01-01 00:00:30') FROM integration_events"),
                   "2030-01-01 00:00:00|2030-01-01 00:00:00|t");

  fptest_retry rep;
  now = t0 + INT64_C(10) * 1000000; /* before next_attempt_at: nothing happens */
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, fixed_clock, &now, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 0, "not due at +10 s");
  cr_assert_str_eq(Q("SELECT attempts || '|' || processed_at FROM integration_events"), "1|2030-01-01 00:00:00");

  now = t0 + INT64_C(31) * 1000000; /* after it: retried, and fails again (still broken) */
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, fixed_clock, &now, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 1, "due at +31 s on the injected clock");
  cr_assert_eq(rep.failed, 1);
  /* The new backoff (30 s * 2, jitter: 30 to 60 s) counts from the injected now. */
  cr_assert_str_eq(Q("SELECT concat_ws('|', attempts, processed_at, next_attempt_at BETWEEN "
                     "timestamp '2030-01-01 00:01:01' AND timestamp '2030-01-01 00:01:31') FROM integration_events"),
                   "2|2030-01-01 00:00:31|t");
  /* The server's clock (years earlier) never finds it due. */
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 0);

  fptest_exec("DROP TRIGGER fail_busy ON customers");
  now = t0 + INT64_C(40) * 1000000;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, fixed_clock, &now, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 0, "not due at +40 s");
  now = t0 + INT64_C(95) * 1000000;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, fixed_clock, &now, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 1);
  cr_assert_eq(rep.succeeded, 1);
  cr_assert_str_eq(Q("SELECT concat_ws('|', status, attempts, processed_at, next_attempt_at IS NULL, "
                     "(SELECT last_synced_at FROM customers)) FROM integration_events"),
                   "success|3|2030-01-01 00:01:35|t|2030-01-01 00:01:35");

  /* The statistics on the same clock: the event is within its 24 hours, the sync time is its. */
  fastepost_crm_stats *s = NULL;
  fastepost_crm_stats_options *so = NULL;
  cr_assert_eq(fastepost_crm_stats_options_new(&so), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_clock(so, fixed_clock, &now), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), so), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fastepost_crm_stats_options_free(so);
  const fastepost_crm_source_stats *odoo = fastepost_crm_stats_find_source(s, "odoo");
  cr_assert_not_null(odoo);
  cr_assert_eq(odoo->events_24h, 1);
  cr_assert_eq(odoo->success_events, 1);
  cr_assert_eq(fastepost_crm_stats_sync(s)->last_sync_at_us, now);
  fastepost_crm_stats_free(s);

  /* A clock outside what a timestamp can hold is refused before anything is claimed. */
  now = INT64_MAX;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, fixed_clock, &now, &rep), FASTEPOST_EINVALID);
  fptest_assert_counters_exact();
}
