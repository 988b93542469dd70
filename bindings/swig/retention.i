/* retention.h: event-log retention. One helper instead of the report struct:
 *   events_prune(conn, older_than_days, status or None, batch_size) -> {deleted, batches, cutoff}
 * It runs with the GIL/GVL released (it deletes batch after batch). A failure after some
 * batches raises the code's class with the partial figures in its `report` attribute. */
%fastepost_blocking(5, fastepost_events_prune, fastepost_prune_report *, fastepost_conn *, int, const char *, int)

%ignore fastepost_events_prune;
%ignore fastepost_prune_report;
%include "fastepost/retention.h"

%rename(events_prune) fp_events_prune;
%apply const char *NULLABLE { const char *prune_status };
%inline %{
static fp_obj fp_events_prune(fastepost_conn *conn, int older_than_days, const char *prune_status,
                              int batch_size) {
  fastepost_prune_report r;
  memset(&r, 0, sizeof r);
  fastepost_status rc = fastepost_events_prune(&r, conn, older_than_days, prune_status, batch_size);
  fp_failure f;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fp_rec d = fp_rec_new();
  fp_rec_int(d, "deleted", r.deleted);
  fp_rec_int(d, "batches", r.batches);
  fp_rec_str(d, "cutoff", r.cutoff);
  if (rc != FASTEPOST_OK)
    return fp_raise_with(&f, "report", d);
  return fp_rec_done(d);
}
%}
%clear const char *prune_status;
