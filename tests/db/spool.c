/* SPDX-License-Identifier: MIT */
/* The delivery spool against a real database: spooling when the database is unreachable, replay
 * exactly once, bounds, permissions, damaged records. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "retry_counts.h"
#include "testdb.h"

TestSuite(spool, .init = fptest_setup_schema, .fini = fptest_teardown);

static const char PARTNER[] =
    "{\"_model\":\"res.partner\",\"_id\":%d,\"name\":\"P %d\",\"email\":\"p%d@example.org\","
    "\"write_date\":\"2024-08-01 10:00:%02d\"}";

static char dir[256];

static fastepost_spool *open_spool(void) {
  fptest_tmpdir(dir, sizeof dir, "spool");
  char sub[300];
  snprintf(sub, sizeof sub, "%s/s", dir); /* created by the library */
  fastepost_spool *s = NULL;
  cr_assert_eq(fastepost_spool_open(&s, sub), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  return s;
}

static size_t spooled(fastepost_spool *s) {
  fastepost_spool_entries *l = NULL;
  cr_assert_eq(fastepost_spool_list(&l, s), FASTEPOST_OK);
  size_t n = fastepost_spool_entries_count(l);
  fastepost_spool_entries_free(l);
  return n;
}

/* Process body i through the Odoo path with the spool; conn may be NULL. */
static fastepost_status deliver(fastepost_conn *conn, fastepost_spool *s, int i, fastepost_event_result **r) {
  char body[512];
  snprintf(body, sizeof body, PARTNER, i, i, i, i % 60);
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_event(o, "write"), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_spool(o, s), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(o, true), FASTEPOST_OK);
  fastepost_status st = fastepost_odoo_process(r, conn, NULL, body, strlen(body), o);
  fastepost_odoo_options_free(o);
  return st;
}

static void kill_library_backends(void) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '%s' "
           "AND pid <> pg_backend_pid()",
           fptest_current.name);
  fptest_scalar(sql);
  struct timespec ts = {0, 100000000};
  nanosleep(&ts, NULL);
}

Test(spool, no_connection_spools_with_202_and_private_files) {
  fastepost_spool *s = open_spool();
  setenv("ODOO_API_KEY", "spool-test-secret-key", 1);
  fastepost_event_result *r = NULL;
  cr_assert_eq(deliver(NULL, s, 1, &r), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_SPOOLED);
  cr_assert_str_eq(fastepost_outcome_name(FASTEPOST_OUTCOME_SPOOLED), "spooled");
  cr_assert_eq(fastepost_event_result_http(r, FASTEPOST_OK), 202);
  cr_assert_eq(fastepost_event_result_http(NULL, FASTEPOST_OK), 200);
  fastepost_event_result_free(r);

  fastepost_spool_entries *l = NULL;
  cr_assert_eq(fastepost_spool_list(&l, s), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_entries_count(l), 1);
  const fastepost_spool_entry *e = fastepost_spool_entries_get(l, 0);
  cr_assert_str_eq(e->source, "odoo");
  cr_assert_str_eq(e->event, "write");
  cr_assert_str_eq(e->content_type, "application/json");
  char path[512];
  snprintf(path, sizeof path, "%s/s/%s", dir, e->name);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  snprintf(path, sizeof path, "%s/s", dir);
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0700);
  /* The key is never written to a spool file. */
  snprintf(path, sizeof path, "%s/s/%s", dir, e->name);
  char *text = fptest_read_file(path, NULL);
  cr_assert_null(strstr(text, "spool-test-secret-key"));
  cr_assert_not_null(strstr(text, "p1@example.org"));
  free(text);
  fastepost_spool_entries_free(l);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 0);
  fastepost_spool_free(s);
  fptest_rmtree(dir);
}

Test(spool, replay_applies_each_delivery_exactly_once_in_order) {
  fastepost_spool *s = open_spool();
  /* 1 is committed before the outage, then spooled too (as if the connection broke after the
   * commit); 2, 3 are spooled only; 2 twice (a redelivery). */
  cr_assert_eq(deliver(fptest_conn(), s, 1, NULL), FASTEPOST_OK);
  int order[] = {1, 2, 3, 2};
  for (int k = 0; k < 4; k++)
    cr_assert_eq(deliver(NULL, s, order[k], NULL), FASTEPOST_OK);
  cr_assert_eq(spooled(s), 4);
  fptest_replay rep;
  cr_assert_eq(fptest_spool_replay(&rep, s, fptest_conn(), 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(rep.replayed, 4);
  cr_assert_eq(rep.duplicates, 2);
  cr_assert_eq(rep.remaining, 0);
  cr_assert_eq(spooled(s), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 3);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 3);
  /* Arrival order: 2 was applied before 3. */
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events a, integration_events b WHERE "
                            "a.external_id = 'res.partner:2' AND b.external_id = 'res.partner:3' AND a.id < b.id"),
               1);
  /* A second replay has nothing to do. */
  cr_assert_eq(fptest_spool_replay(&rep, s, fptest_conn(), 0), FASTEPOST_OK);
  cr_assert_eq(rep.replayed, 0);
  fastepost_spool_free(s);
  fptest_rmtree(dir);
}

static void allow_connections(bool allow) {
  char sql[256];
  snprintf(sql, sizeof sql, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS %s", fptest_current.name,
           allow ? "true" : "false");
  /* Not from the test database itself: PostgreSQL refuses that. */
  PGconn *other = PQconnectdb(fptest_dsn());
  cr_assert_eq(PQstatus(other), CONNECTION_OK, "%s", PQerrorMessage(other));
  PGresult *res = PQexec(other, sql);
  cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(other));
  PQclear(res);
  PQfinish(other);
}

Test(spool, connection_lost_while_processing_spools_and_replays) {
  fastepost_spool *s = open_spool();
  fastepost_conn *conn = fptest_conn();
  cr_assert_eq(deliver(conn, s, 1, NULL), FASTEPOST_OK);
  /* The connection breaks and cannot be made again: the delivery reaches nothing, so it is
   * spooled. (The check connection stays: it is already connected.) */
  allow_connections(false);
  kill_library_backends();
  fastepost_event_result *r = NULL;
  cr_assert_eq(deliver(conn, s, 2, &r), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_SPOOLED);
  fastepost_event_result_free(r);
  cr_assert_eq(spooled(s), 1);
  /* Replay while the database is still unreachable stops and keeps the record. */
  fptest_replay rep;
  cr_assert_eq(fptest_spool_replay(&rep, s, conn, 0), FASTEPOST_ECONN);
  cr_assert_eq(rep.remaining, 1);
  cr_assert_eq(spooled(s), 1);
  allow_connections(true);
  cr_assert_eq(fastepost_conn_reset(conn), FASTEPOST_OK);
  cr_assert_eq(fptest_spool_replay(&rep, s, conn, 0), FASTEPOST_OK);
  cr_assert_eq(rep.replayed, 1);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 2);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE status = 'success'"), 2);
  fastepost_spool_free(s);
  fptest_rmtree(dir);
}

Test(spool, connection_dropped_between_calls_reconnects_or_says_so) {
  fastepost_spool *s = open_spool();
  fastepost_conn *conn = fptest_conn();
  cr_assert_eq(deliver(conn, s, 1, NULL), FASTEPOST_OK);
  kill_library_backends();
  /* Without a spool: the core reconnects once and queues the delivery for retry (ECONN), or
   * processes it; it never loses it silently. */
  char body[512];
  snprintf(body, sizeof body, PARTNER, 2, 2, 2, 2);
  fastepost_event_result *r = NULL;
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(o, true), FASTEPOST_OK);
  fastepost_status st = fastepost_odoo_process(&r, conn, NULL, body, strlen(body), o);
  fastepost_odoo_options_free(o);
  cr_assert(st == FASTEPOST_OK || st == FASTEPOST_ECONN, "%s", fastepost_error_name(st));
  if (st == FASTEPOST_ECONN)
    cr_assert_gt(fastepost_event_result_event_id(r), 0, "an ECONN failure is logged for retry");
  fastepost_event_result_free(r);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE external_id = 'res.partner:2'"), 1);
  /* The connection works again, or reset brings it back. */
  if (fastepost_conn_ping(conn) != FASTEPOST_OK) {
    cr_assert_eq(fastepost_error_last()->code, FASTEPOST_ECONN);
    cr_assert_eq(fastepost_conn_reset(conn), FASTEPOST_OK);
  }
  cr_assert_eq(fastepost_conn_ping(conn), FASTEPOST_OK);
  /* A plain call after a drop says ECONN; fastepost_conn_reset() brings it back. */
  kill_library_backends();
  cr_assert_eq(fastepost_conn_ping(conn), FASTEPOST_ECONN);
  cr_assert_eq(fastepost_conn_reset(conn), FASTEPOST_OK);
  cr_assert_eq(fastepost_conn_ping(conn), FASTEPOST_OK);
  fastepost_spool_free(s);
  fptest_rmtree(dir);
}

Test(spool, full_spool_is_efull_503_and_adds_nothing) {
  fastepost_spool *s = open_spool();
  cr_assert_eq(fastepost_spool_set_limits(s, 2, 1 << 20), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_set_limits(NULL, 1, 1), FASTEPOST_EINVALID);
  cr_assert_eq(deliver(NULL, s, 1, NULL), FASTEPOST_OK);
  cr_assert_eq(deliver(NULL, s, 2, NULL), FASTEPOST_OK);
  fastepost_event_result *r = NULL;
  fastepost_status st = deliver(NULL, s, 3, &r);
  /* A full spool is the server's condition, not the sender's: 503, not 413. */
  cr_assert_eq(st, FASTEPOST_EFULL);
  cr_assert_eq(fastepost_event_result_http(r, st), 503);
  cr_assert_not_null(strstr(fastepost_event_result_error(r), "full"), "%s", fastepost_event_result_error(r));
  fastepost_event_result_free(r);
  cr_assert_eq(spooled(s), 2);
  /* The byte bound too. */
  cr_assert_eq(fastepost_spool_set_limits(s, 100, 100), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_put(NULL, s, "odoo", NULL, NULL, "{}", 2), FASTEPOST_EFULL);
  /* Unknown sources and header injection are refused. */
  cr_assert_eq(fastepost_spool_set_limits(s, 100, 1 << 20), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_put(NULL, s, "nope", NULL, NULL, "{}", 2), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_spool_put(NULL, s, "odoo", "write\nsource x", NULL, "{}", 2), FASTEPOST_EINVALID);
  cr_assert_eq(spooled(s), 2);
  fastepost_spool_free(s);
  fptest_rmtree(dir);
}

/* Deliver i with the database up, then without it, through a spool on `path`. */
static void unusable_dir_case(const char *path, const char *expect) {
  fastepost_spool *s = NULL;
  cr_assert_eq(fastepost_spool_open(&s, path), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  const char *w = fastepost_spool_warning(s);
  cr_assert_not_null(w, "%s: no warning", path);
  cr_assert_not_null(strstr(w, expect), "%s", w);
  /* The database accepts it: the unusable spool changes nothing. */
  fastepost_event_result *r = NULL;
  fastepost_status st = deliver(fptest_conn(), s, 1, &r);
  cr_assert_eq(st, FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_event_result_http(r, st), 200);
  fastepost_event_result_free(r);
  /* The spool is needed: 503 with the reason and the fix, nothing written. */
  st = deliver(NULL, s, 2, &r);
  cr_assert_eq(st, FASTEPOST_EFULL);
  cr_assert_eq(fastepost_event_result_http(r, st), 503);
  cr_assert_not_null(strstr(fastepost_event_result_error(r), expect), "%s", fastepost_event_result_error(r));
  fastepost_event_result_free(r);
  fastepost_spool_entries *l = NULL;
  cr_assert_neq(fastepost_spool_list(&l, s), FASTEPOST_OK);
  cr_assert_not_null(strstr(fastepost_error_last()->message, expect));
  cr_assert_neq(fptest_spool_replay(NULL, s, fptest_conn(), 0), FASTEPOST_OK);
  fastepost_spool_free(s);
}

Test(spool, unusable_directory_warns_and_never_fails_an_accepted_delivery) {
  fptest_tmpdir(dir, sizeof dir, "spool");
  char path[400];
  /* 0777 and 0755: open to others. */
  snprintf(path, sizeof path, "%s/open", dir);
  mkdir(path, 0777);
  chmod(path, 0777);
  unusable_dir_case(path, "chmod 700");
  chmod(path, 0755);
  unusable_dir_case(path, "0755");
  /* Uncreatable: a file stands where a parent directory should be. */
  snprintf(path, sizeof path, "%s/file", dir);
  fptest_write_file(path, "x", 0600);
  snprintf(path, sizeof path, "%s/file/spool", dir);
  unusable_dir_case(path, "cannot create");
  /* Someone else's directory (needs root to give it away). */
  if (geteuid() == 0) {
    snprintf(path, sizeof path, "%s/theirs", dir);
    mkdir(path, 0700);
    cr_assert_eq(chown(path, 65534, 65534), 0);
    unusable_dir_case(path, "belongs to user id 65534");
  }
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 1);
  fastepost_spool *s = NULL;
  cr_assert_eq(fastepost_spool_open(&s, ""), FASTEPOST_EINVALID);
  s = open_spool();
  cr_assert_str_eq(fastepost_spool_warning(s), "");
  fastepost_spool_free(s);
  fptest_rmtree(dir);
}

/* The one record in the spool, as a malloc'd path. */
static char *only_record(fastepost_spool *s) {
  fastepost_spool_entries *l = NULL;
  cr_assert_eq(fastepost_spool_list(&l, s), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_entries_count(l), 1);
  char *path = malloc(600);
  snprintf(path, 600, "%s/s/%s", dir, fastepost_spool_entries_get(l, 0)->name);
  fastepost_spool_entries_free(l);
  return path;
}

Test(spool, damaged_records_are_set_aside_with_reasons_and_the_rest_continue) {
  fastepost_spool *s = open_spool();
  /* A record with one byte changed, same length ("P 5" -> "Q 5"): the checksum catches it. */
  cr_assert_eq(deliver(NULL, s, 5, NULL), FASTEPOST_OK);
  char *altered = only_record(s);
  size_t len = 0;
  char *text = fptest_read_file(altered, &len);
  char *p = strstr(text, "\"P 5\"");
  cr_assert_not_null(p);
  p[1] = 'Q';
  fptest_write_file(altered, text, 0600);
  free(text);
  cr_assert_eq(deliver(NULL, s, 6, NULL), FASTEPOST_OK);
  char path[600];
  /* A truncated record (length says more than there is) and a leftover temporary file. */
  snprintf(path, sizeof path, "%s/s/0000000000000001-0000000001-000000.spool", dir);
  fptest_write_file(path,
                    "fastepost-spool 1\nsource odoo\nevent \ncontent-type application/json\n"
                    "spooled-at 1\nlength 50\n\n{\"_model\":",
                    0600);
  snprintf(path, sizeof path, "%s/s/.tmp-0000000000000002-0000000001-000000.spool", dir);
  fptest_write_file(path, "partial", 0600);
  /* An unreadable record: a symbolic link (root reads any file, so mode 000 shows only
   * without root), and a mode-000 file. */
  snprintf(path, sizeof path, "%s/s/0000000000000003-0000000001-000000.spool", dir);
  cr_assert_eq(symlink("/etc/hostname", path), 0);
  snprintf(path, sizeof path, "%s/s/0000000000000004-0000000001-000000.spool", dir);
  fptest_write_file(path, "fastepost-spool 2\n", 0000);
  /* A version 1 record (before checksums) still replays. */
  snprintf(path, sizeof path, "%s/s/0000000000000005-0000000001-000000.spool", dir);
  const char *v1body = "{\"_model\":\"res.partner\",\"_id\":7,\"name\":\"P 7\",\"email\":\"p7@example.org\"}";
  char v1[600];
  snprintf(v1, sizeof v1,
           "fastepost-spool 1\nsource odoo\nevent write\ncontent-type application/json\nspooled-at 5\nlength %zu\n\n%s",
           strlen(v1body), v1body);
  fptest_write_file(path, v1, 0600);

  /* Listing never fails on them: they show as "?" with their reason. */
  fastepost_spool_entries *l = NULL;
  cr_assert_eq(fastepost_spool_list(&l, s), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_spool_entries_count(l), 6);
  int unknown = 0;
  for (size_t i = 0; i < 6; i++)
    unknown += !strcmp(fastepost_spool_entries_get(l, i)->source, "?");
  cr_assert_eq(unknown, 4);
  fastepost_spool_entries_free(l);

  fptest_replay rep;
  cr_assert_eq(fptest_spool_replay(&rep, s, fptest_conn(), 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(rep.replayed, 2); /* 6 and the version 1 record */
  cr_assert_eq(rep.rejected, 4);
  cr_assert_eq(rep.remaining, 0);
  cr_assert_eq(spooled(s), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 2);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE name LIKE 'Q%'"), 0);

  /* Set aside with their reasons, and listed. */
  cr_assert_eq(fastepost_spool_list_bad(&l, s), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_entries_count(l), 4);
  bool saw_altered = false, saw_corrupt = false, saw_unreadable = false;
  for (size_t i = 0; i < 4; i++) {
    const fastepost_spool_entry *e = fastepost_spool_entries_get(l, i);
    cr_assert(strlen(e->name) > 4 && !strcmp(e->name + strlen(e->name) - 4, ".bad"), "%s", e->name);
    saw_altered |= strncmp(e->reason, "altered:", 8) == 0;
    saw_corrupt |= strncmp(e->reason, "corrupt:", 8) == 0;
    saw_unreadable |= strncmp(e->reason, "unreadable:", 11) == 0;
  }
  cr_assert(saw_altered && saw_corrupt && saw_unreadable);
  fastepost_spool_entries_free(l);

  /* Requeue: the altered one, fixed back, replays; a still-broken one stays aside. */
  const char *name = strrchr(altered, '/') + 1;
  char bad[700];
  snprintf(bad, sizeof bad, "%s.bad", altered);
  text = fptest_read_file(bad, &len);
  p = strstr(text, "\"Q 5\"");
  cr_assert_not_null(p);
  p[1] = 'P';
  fptest_write_file(bad, text, 0600);
  free(text);
  cr_assert_eq(fastepost_spool_requeue(s, name), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(access(bad, F_OK), -1);
  snprintf(bad, sizeof bad, "%s.bad.reason", altered);
  cr_assert_eq(access(bad, F_OK), -1);
  cr_assert_eq(fastepost_spool_requeue(s, "0000000000000001-0000000001-000000.spool.bad"), FASTEPOST_EPARSE);
  cr_assert_eq(fastepost_spool_requeue(s, "nosuch.spool"), FASTEPOST_ENOTFOUND);
  cr_assert_eq(fastepost_spool_requeue(s, "../x.spool"), FASTEPOST_EINVALID);
  cr_assert_eq(fptest_spool_replay(&rep, s, fptest_conn(), 0), FASTEPOST_OK);
  cr_assert_eq(rep.replayed, 1);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE name = 'P 5'"), 1);
  free(altered);
  fastepost_spool_free(s);
  fptest_rmtree(dir);
}

typedef struct replay_arg {
  fastepost_spool *spool;
  fastepost_conn *conn;
  fastepost_status st;
  fptest_replay rep;
} replay_arg;

static void *replay_thread(void *p) {
  replay_arg *a = p;
  a->st = fptest_spool_replay(&a->rep, a->spool, a->conn, 0);
  return NULL;
}

Test(spool, replay_lock_excludes_another_handle_and_thread_of_this_process) {
  fastepost_spool *s = open_spool();
  char path[512];
  snprintf(path, sizeof path, "%s/s/.lock", dir);
  /* The lock held through another descriptor of this very process (an fcntl record lock would
   * not exclude it). */
  int fd = open(path, O_RDWR | O_CREAT, 0600);
  cr_assert_geq(fd, 0);
  cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
  cr_assert_eq(fptest_spool_replay(NULL, s, fptest_conn(), 0), FASTEPOST_EBUSY);
  close(fd);
  cr_assert_eq(fptest_spool_replay(NULL, s, fptest_conn(), 0), FASTEPOST_OK);

  /* Two threads with two handles replay 40 records: each is processed exactly once. */
  for (int i = 1; i <= 40; i++)
    cr_assert_eq(deliver(NULL, s, i, NULL), FASTEPOST_OK);
  fastepost_spool *s2 = NULL;
  snprintf(path, sizeof path, "%s/s", dir);
  cr_assert_eq(fastepost_spool_open(&s2, path), FASTEPOST_OK);
  replay_arg a[2] = {{s, NULL, 0, {0}}, {s2, NULL, 0, {0}}};
  for (int k = 0; k < 2; k++)
    cr_assert_eq(fastepost_conn_open(&a[k].conn, fptest_current.conninfo), FASTEPOST_OK);
  pthread_t t[2];
  for (int k = 0; k < 2; k++)
    pthread_create(&t[k], NULL, replay_thread, &a[k]);
  for (int k = 0; k < 2; k++)
    pthread_join(t[k], NULL);
  int ok = 0, busy = 0;
  for (int k = 0; k < 2; k++) {
    ok += a[k].st == FASTEPOST_OK;
    busy += a[k].st == FASTEPOST_EBUSY;
    fastepost_conn_free(a[k].conn);
  }
  cr_assert_eq(ok + busy, 2);
  cr_assert_eq(a[0].rep.replayed + a[1].rep.replayed, 40);
  cr_assert_eq(a[0].rep.duplicates + a[1].rep.duplicates, 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 40);
  fastepost_spool_free(s2);
  fastepost_spool_free(s);
  fptest_rmtree(dir);
}

Test(spool, cli_spools_lists_and_replays) {
  fptest_tmpdir(dir, sizeof dir, "clispool");
  char body[300], args[2048], out[8192];
  snprintf(body, sizeof body, "%s/d.json", dir);
  fptest_write_file(body, "{\"_model\":\"res.partner\",\"_id\":9,\"name\":\"Nine\",\"email\":\"nine@example.org\"}", 0600);
  snprintf(args, sizeof args,
           "--db 'host=/nonexistent dbname=x' --json odoo process --api-key k --event write --spool '%s/s' '%s'",
           dir, body);
  setenv("ODOO_API_KEY", "k", 1);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "\"http_status\":202") && strstr(out, "\"outcome\":\"spooled\""), "%s", out);
  snprintf(args, sizeof args, "--json spool list --dir '%s/s'", dir);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "\"source\":\"odoo\",\"event\":\"write\""), "%s", out);
  snprintf(args, sizeof args, "--db '%s' --json spool replay --dir '%s/s'", fptest_current.conninfo, dir);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "\"replayed\":1,\"duplicates\":0,\"rejected\":0,\"remaining\":0"), "%s", out);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:9'"), 1);
  /* A damaged record: replay sets it aside, list --bad shows why, requeue puts it back. */
  char rec[600];
  snprintf(rec, sizeof rec, "%s/s/0000000000000009-0000000001-000000.spool", dir);
  fptest_write_file(rec, "fastepost-spool 2\nsource odoo\n", 0600);
  snprintf(args, sizeof args, "--db '%s' --json spool replay --dir '%s/s'", fptest_current.conninfo, dir);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "\"rejected\":1"), "%s", out);
  snprintf(args, sizeof args, "spool list --bad --dir '%s/s'", dir);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "0000000000000009-0000000001-000000.spool.bad") && strstr(out, "corrupt:"), "%s", out);
  snprintf(args, sizeof args, "--json spool requeue --dir '%s/s' 0000000000000009-0000000001-000000.spool", dir);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  cr_assert(strstr(out, "\"code\":\"FASTEPOST_EPARSE\""), "%s", out);
  /* An open directory is refused with the fix. */
  snprintf(args, sizeof args, "%s/s", dir);
  chmod(args, 0777);
  snprintf(args, sizeof args, "spool list --dir '%s/s'", dir);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  cr_assert(strstr(out, "chmod 700"), "%s", out);
  /* No directory: a usage error. */
  unsetenv("FASTEPOST_SPOOL_DIR");
  cr_assert_eq(fptest_cli(out, sizeof out, "spool list"), 2, "%s", out);
  unsetenv("ODOO_API_KEY");
  fptest_rmtree(dir);
}

/* The spool knows no CRM: it finds the adapter by the record's source in the registry. A
 * HubSpot batch (two events in one body) replays through the HubSpot adapter in one
 * transaction, and a second replay of the same body is a duplicate. */
Test(spool, replays_any_adapter_from_the_registry_a_batch_in_one_go) {
  fastepost_spool *s = open_spool();
  const char body[] = "[{\"subscriptionType\":\"contact.creation\",\"objectId\":77,\"occurredAt\":1764270000000,"
                      "\"eventId\":1},{\"subscriptionType\":\"contact.propertyChange\",\"objectId\":77,"
                      "\"occurredAt\":1764270000001,\"eventId\":2,\"propertyName\":\"email\","
                      "\"propertyValue\":\"Spooled@X.DE\"}]";
  for (int i = 0; i < 2; i++)
    cr_assert_eq(fastepost_spool_put(NULL, s, "hubspot", NULL, NULL, body, strlen(body)), FASTEPOST_OK, "%s",
                 fastepost_error_last()->message);
  fptest_replay rep;
  cr_assert_eq(fptest_spool_replay(&rep, s, fptest_conn(), 0), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(rep.replayed, 2);
  cr_assert_eq(rep.duplicates, 1, "the second copy: every event a duplicate");
  cr_assert_eq(rep.rejected, 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE source = 'hubspot'"), 2);
  cr_assert_str_eq(fptest_scalar("SELECT email || '|' || crm_source || '|' || crm_id FROM customers"),
                   "spooled@x.de|hubspot|77");
  fastepost_spool_free(s);
}

/* A spooled batch whose replay commits with one event failed and unlogged (a trigger refuses its
 * row both times) is not removed as replayed: the file would be the event's last copy. It stays
 * in the spool, and the next replay applies the event. */
Test(spool, a_replayed_batch_with_an_unlogged_event_keeps_its_file) {
  fastepost_spool *s = open_spool();
  const char body[] = "[{\"subscriptionType\":\"contact.creation\",\"objectId\":77,\"occurredAt\":1764270000000,"
                      "\"eventId\":1},{\"subscriptionType\":\"contact.creation\",\"objectId\":78,"
                      "\"occurredAt\":1764270000001,\"eventId\":2}]";
  cr_assert_eq(fastepost_spool_put(NULL, s, "hubspot", NULL, NULL, body, strlen(body)), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fptest_exec("CREATE FUNCTION refuse_78() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
              "IF NEW.external_id LIKE '%:78' THEN RAISE EXCEPTION 'event row refused'; END IF; RETURN NEW; END $$");
  fptest_exec("CREATE TRIGGER refuse_78 BEFORE INSERT ON integration_events FOR EACH ROW EXECUTE FUNCTION refuse_78()");
  fptest_replay rep;
  /* a database error: kept for the next replay, which stops here */
  cr_assert_eq(fptest_spool_replay(&rep, s, fptest_conn(), 0), FASTEPOST_EDB);
  cr_assert(strstr(fastepost_error_last()->message, "was not logged"), "%s", fastepost_error_last()->message);
  cr_assert_eq(rep.replayed, 0);
  cr_assert_eq(spooled(s), 1);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE external_id LIKE '%:77'"), 1);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE external_id LIKE '%:78'"), 0);
  fptest_exec("DROP TRIGGER refuse_78 ON integration_events");
  cr_assert_eq(fptest_spool_replay(&rep, s, fptest_conn(), 0), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(rep.replayed, 1);
  cr_assert_eq(spooled(s), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE external_id LIKE '%:78' "
                            "AND status = 'success'"), 1);
  fptest_assert_counters_exact();
  fastepost_spool_free(s);
}
