/* SPDX-License-Identifier: MIT */
/*
 * One ingesting process of the failover test (tests/failover/run.sh), through the public API
 * only, as a host would run it: one connection with a multi-host conninfo
 * (host=A,B target_session_attrs=read-write), a spool, PER Odoo deliveries. 80 % are new
 * contacts (contact k goes to process k % NPROCS), 20 % are redeliveries of this process's own
 * earlier ones (the same body, so the same idempotency key). A delivery that cannot reach a
 * writable server is spooled (outcome "spooled", HTTP 202), or, when the library's one
 * reconnect reached the new primary in time to log it, queued there for retry (a transient code
 * with an event id: HTTP 503, `fastepost events retry` processes it); the process then resets
 * its connection (bounded: 60 s) and carries on. At the end it replays its spool (bounded too).
 *
 *   failover_driver CONNINFO SPOOLDIR PROC NPROCS PER
 * prints: ok= duplicate= spooled= queued= failed= resets= replayed= remaining=
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fastepost.h>

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Reset until a writable server answers, for at most `seconds`. */
static int reconnect(fastepost_conn **conn, const char *conninfo, int seconds) {
  for (int i = 0; i < seconds * 5; i++) {
    if (*conn ? fastepost_conn_reset(*conn) == FASTEPOST_OK : fastepost_conn_open(conn, conninfo) == FASTEPOST_OK)
      return 0;
    sleep_ms(200);
  }
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: failover_driver CONNINFO SPOOLDIR PROC NPROCS PER\n");
    return 2;
  }
  const char *conninfo = argv[1];
  long proc = atol(argv[3]), nprocs = atol(argv[4]), per = atol(argv[5]);
  long unique = per * 4 / 5;
  static const char key[] = "failover-key";
  fastepost_odoo_options *opts = NULL;
  fastepost_spool *spool = NULL;
  if (fastepost_odoo_options_new(&opts) || fastepost_odoo_options_add_api_key(opts, key) ||
      fastepost_spool_open(&spool, argv[2]) || fastepost_odoo_options_set_spool(opts, spool)) {
    fprintf(stderr, "failover_driver: %s\n", fastepost_error_last()->message);
    return 1;
  }
  fastepost_conn *conn = NULL;
  if (reconnect(&conn, conninfo, 60)) {
    fprintf(stderr, "failover_driver %ld: no writable server: %s\n", proc, fastepost_error_last()->message);
    return 1;
  }
  long ok = 0, dup = 0, spooled = 0, queued = 0, failed = 0, resets = 0;
  for (long j = 0; j < per; j++) {
    /* every fifth delivery repeats an earlier one of this process */
    long u = j % 5 == 4 ? (j / 5) * 4 : j - j / 5;
    if (u >= unique)
      u = unique - 1;
    long c = proc + nprocs * u + 1;
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"_model\":\"res.partner\",\"_id\":%ld,\"name\":\"F%ld\",\"email\":\"f%ld@failover.example\","
                     "\"comment\":\"<p>Notes %ld</p>\",\"write_date\":\"2024-01-01 10:00:00\"}",
                     c, c, c, c);
    fastepost_event_result *r = NULL;
    fastepost_status st = fastepost_odoo_process(&r, conn, key, body, (size_t)n, opts);
    fastepost_outcome o = fastepost_event_result_outcome(r);
    if (st == FASTEPOST_OK && o == FASTEPOST_OUTCOME_SPOOLED)
      spooled++;
    else if (st == FASTEPOST_OK && o == FASTEPOST_OUTCOME_DUPLICATE)
      dup++;
    else if (st == FASTEPOST_OK)
      ok++;
    else if ((st == FASTEPOST_ECONN || st == FASTEPOST_EREADONLY || st == FASTEPOST_EBUSY ||
              st == FASTEPOST_ETIMEOUT) && fastepost_event_result_event_id(r) > 0)
      queued++;
    else {
      failed++;
      fprintf(stderr, "failover_driver %ld: contact %ld: %s (%s)\n", proc, c, fastepost_strerror(st),
              fastepost_event_result_error(r));
    }
    fastepost_event_result_free(r);
    if (st != FASTEPOST_OK || o == FASTEPOST_OUTCOME_SPOOLED) {
      resets++;
      if (reconnect(&conn, conninfo, 60)) {
        fprintf(stderr, "failover_driver %ld: no writable server within 60 s\n", proc);
        return 1;
      }
    }
    sleep_ms(5); /* a stream, not a burst: the primary stops while it flows */
  }
  size_t replayed = 0, remaining = 0;
  for (int i = 0; i < 100; i++) {
    fastepost_spool_replay_report *rep = NULL;
    fastepost_status rst = fastepost_spool_replay(&rep, spool, conn, 0);
    replayed += fastepost_spool_replay_report_replayed(rep);
    remaining = fastepost_spool_replay_report_remaining(rep);
    fastepost_spool_replay_report_free(rep);
    if (rst == FASTEPOST_OK && remaining == 0)
      break;
    reconnect(&conn, conninfo, 10);
    sleep_ms(200);
  }
  printf("ok=%ld duplicate=%ld spooled=%ld queued=%ld failed=%ld resets=%ld replayed=%zu remaining=%zu\n", ok, dup,
         spooled, queued, failed, resets, replayed, remaining);
  fastepost_conn_free(conn);
  fastepost_odoo_options_free(opts);
  fastepost_spool_free(spool);
  return failed || remaining ? 1 : 0;
}
