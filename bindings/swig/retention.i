/* SPDX-License-Identifier: MIT */
/* retention.h: event-log retention. One helper instead of the report object:
 *   events_prune(conn, older_than_days, status or None, batch_size)
 *     -> {status, deleted, batches, cutoff_us, older_than_days, event_status}
 * with the keys and types of `fastepost events prune --json`.
 * It runs with the GIL/GVL released (it deletes batch after batch). A failure after some
 * batches raises the code's class with the partial figures in its `report` attribute. */
%fastepost_blocking(5, fastepost_events_prune, fastepost_prune_report **, fastepost_conn *, int64_t, fastepost_prune_status, size_t)

%ignore fastepost_events_prune;
%ignore fastepost_prune_status_parse;
%rename("$ignore", regextarget=1) "^fastepost_prune_report";
%include "fastepost/retention.h"

%rename(events_prune) fp_events_prune;
%apply const char *NULLABLE { const char *prune_status };
%inline %{
static fp_obj fp_events_prune(fastepost_conn *conn, int older_than_days, const char *prune_status,
                              int batch_size) {
  fastepost_prune_report *r = NULL;
  fastepost_prune_status which = FASTEPOST_PRUNE_STATUS_SUCCESS;
  /* A negative batch size is refused as one over the maximum would be. */
  fastepost_status rc = fastepost_prune_status_parse(&which, prune_status);
  if (rc == FASTEPOST_OK)
    rc = fastepost_events_prune(&r, conn, (int64_t)older_than_days * 86400 * 1000000, which,
                                batch_size < 0 ? (size_t)-1 : (size_t)batch_size);
  fp_failure f;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fp_rec d = fp_rec_new();
  fp_rec_str(d, "status", rc == FASTEPOST_OK ? "ok" : fastepost_error_name(rc));
  fp_rec_uint(d, "deleted", fastepost_prune_report_deleted(r));
  fp_rec_uint(d, "batches", fastepost_prune_report_batches(r));
  fp_rec_int(d, "cutoff_us", (long long)fastepost_prune_report_cutoff_us(r));
  fp_rec_int(d, "older_than_days", older_than_days);
  fp_rec_str(d, "event_status", fastepost_prune_status_name(which));
  fastepost_prune_report_free(r);
  if (rc != FASTEPOST_OK)
    return fp_raise_with(&f, "report", d);
  return fp_rec_done(d);
}
%}
%clear const char *prune_status;
