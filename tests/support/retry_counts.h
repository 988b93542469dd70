/* SPDX-License-Identifier: MIT */
/* Test helper: fastepost_events_retry() with a limit and an optional clock, its opaque report
 * copied into plain counts (zeros when the call gave no report). */
#ifndef FASTEPOST_TEST_RETRY_COUNTS_H
#define FASTEPOST_TEST_RETRY_COUNTS_H

#include "fastepost.h"

typedef struct fptest_retry {
  size_t attempted, succeeded, failed, dead;
} fptest_retry;

static inline fastepost_status fptest_events_retry(fastepost_conn *conn, size_t limit, fastepost_clock_fn clock,
                                                   void *payload, fptest_retry *counts) {
  fastepost_retry_options *o = NULL;
  fastepost_retry_report *r = NULL;
  fastepost_status st = fastepost_retry_options_new(&o);
  if (st == FASTEPOST_OK)
    st = fastepost_retry_options_set_limit(o, limit);
  if (st == FASTEPOST_OK)
    st = fastepost_retry_options_set_clock(o, clock, payload);
  if (st == FASTEPOST_OK)
    st = fastepost_events_retry(&r, conn, o);
  if (counts)
    *counts = (fptest_retry){fastepost_retry_report_attempted(r), fastepost_retry_report_succeeded(r),
                             fastepost_retry_report_failed(r), fastepost_retry_report_dead(r)};
  fastepost_retry_report_free(r);
  fastepost_retry_options_free(o);
  return st;
}



/* fastepost_spool_replay() with its opaque report copied into plain counts. */
typedef struct fptest_replay {
  size_t replayed, duplicates, rejected, remaining;
} fptest_replay;

static inline fastepost_status fptest_spool_replay(fptest_replay *counts, fastepost_spool *spool, fastepost_conn *conn,
                                                   size_t limit) {
  fastepost_spool_replay_report *r = NULL;
  fastepost_status st = fastepost_spool_replay(counts ? &r : NULL, spool, conn, limit);
  if (counts)
    *counts = (fptest_replay){fastepost_spool_replay_report_replayed(r), fastepost_spool_replay_report_duplicates(r),
                              fastepost_spool_replay_report_rejected(r), fastepost_spool_replay_report_remaining(r)};
  fastepost_spool_replay_report_free(r);
  return st;
}

/* fastepost_events_prune() by days and status name, with its opaque report copied into plain
 * values (zeros when there is none). */
typedef struct fptest_prune {
  uint64_t deleted, batches;
  int64_t cutoff_us;
} fptest_prune;

static inline fastepost_status fptest_events_prune(fptest_prune *out, fastepost_conn *conn, int64_t days,
                                                   const char *status, size_t batch_size) {
  fastepost_prune_report *r = NULL;
  fastepost_prune_status which = FASTEPOST_PRUNE_STATUS_SUCCESS;
  fastepost_status st = fastepost_prune_status_parse(&which, status);
  if (st == FASTEPOST_OK)
    st = fastepost_events_prune(out ? &r : NULL, conn, days * 86400 * 1000000, which, batch_size);
  if (out)
    *out = (fptest_prune){fastepost_prune_report_deleted(r), fastepost_prune_report_batches(r),
                          fastepost_prune_report_cutoff_us(r)};
  fastepost_prune_report_free(r);
  return st;
}

#endif
