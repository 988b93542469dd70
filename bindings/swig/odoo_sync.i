/* SPDX-License-Identifier: MIT */
/* odoo_sync.h: OdooSyncOptions objects with the setters mirrored one to one (the protocol and
 * prefer _parse/_name too; the key is copied into the options and wiped when they are
 * collected), and two helpers instead of the report objects, with the keys of the CLI's --json:
 *   odoo_pull(conn, opts) -> {status, fetched, created, updated, unchanged, stale, ignored,
 *                             conflict, duplicate, failed, deleted, pages, cursors: {model: us}}
 *   odoo_push(conn, opts) -> {status, attempted, written, created, conflicts, skipped, failed}
 * Both run with the GIL/GVL released (they wait on Odoo and on the database). A failure raises
 * the code's class with the partial figures in its `report` attribute. The clock and progress
 * callbacks are not wrapped (C function pointers). */
%fastepost_blocking(3, fastepost_odoo_pull, fastepost_odoo_pull_report **, fastepost_conn *, const fastepost_odoo_sync_options *)
%fastepost_blocking(3, fastepost_odoo_push, fastepost_odoo_push_report **, fastepost_conn *, const fastepost_odoo_sync_options *)

%rename(OdooSyncOptions) fastepost_odoo_sync_options;
%fastepost_handle(fastepost_odoo_sync_options, fastepost_odoo_sync_options_free)
%ignore fastepost_odoo_sync_options_new;
%extend fastepost_odoo_sync_options {
  fastepost_odoo_sync_options() {
    fastepost_odoo_sync_options *opts = NULL;
    fastepost_status rc = fastepost_odoo_sync_options_new(&opts);
    if (rc != FASTEPOST_OK)
      FP_CTOR_FAILED(rc);
    return opts;
  }
}

%apply int *OUTPUT { fastepost_odoo_sync_protocol *out, fastepost_odoo_sync_prefer *out };
%apply const char *NULLABLE { const char *database, const char *login, const char *path };
%ignore fastepost_odoo_sync_options_set_clock;
%ignore fastepost_odoo_sync_options_set_progress;
%ignore fastepost_odoo_pull;
%ignore fastepost_odoo_push;
%rename("$ignore", regextarget=1) "^fastepost_odoo_pu(ll|sh)_report";
%include "fastepost/odoo_sync.h"
%clear const char *database, const char *login, const char *path;

%rename(odoo_pull) fp_odoo_pull;
%rename(odoo_push) fp_odoo_push;
%inline %{
static fp_obj fp_odoo_pull(fastepost_conn *conn, const fastepost_odoo_sync_options *opts) {
  static const fastepost_outcome shown[] = {FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_UPDATED,
                                            FASTEPOST_OUTCOME_UNCHANGED, FASTEPOST_OUTCOME_STALE,
                                            FASTEPOST_OUTCOME_IGNORED, FASTEPOST_OUTCOME_CONFLICT,
                                            FASTEPOST_OUTCOME_DUPLICATE};
  fastepost_odoo_pull_report *r = NULL;
  fastepost_status rc = fastepost_odoo_pull(&r, conn, opts);
  fp_failure f;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fp_rec d = fp_rec_new(), cursors = fp_rec_new();
  fp_rec_str(d, "status", rc == FASTEPOST_OK ? "ok" : fastepost_error_name(rc));
  fp_rec_uint(d, "fetched", fastepost_odoo_pull_report_fetched(r));
  for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
    fp_rec_uint(d, fastepost_outcome_name(shown[i]), fastepost_odoo_pull_report_outcome_count(r, shown[i]));
  fp_rec_uint(d, "failed", fastepost_odoo_pull_report_failed(r));
  fp_rec_uint(d, "deleted", fastepost_odoo_pull_report_deleted(r));
  fp_rec_uint(d, "pages", fastepost_odoo_pull_report_pages(r));
  for (size_t i = 0; i < fastepost_odoo_pull_report_model_count(r); i++) {
    int64_t us = fastepost_odoo_pull_report_cursor_us(r, i);
    if (us)
      fp_rec_int(cursors, fastepost_odoo_pull_report_model(r, i), (long long)us);
    else
      fp_rec_nil(cursors, fastepost_odoo_pull_report_model(r, i));
  }
  fp_rec_rec(d, "cursors", cursors);
  fastepost_odoo_pull_report_free(r);
  if (rc != FASTEPOST_OK)
    return fp_raise_with(&f, "report", d);
  return fp_rec_done(d);
}

static fp_obj fp_odoo_push(fastepost_conn *conn, const fastepost_odoo_sync_options *opts) {
  fastepost_odoo_push_report *r = NULL;
  fastepost_status rc = fastepost_odoo_push(&r, conn, opts);
  fp_failure f;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fp_rec d = fp_rec_new();
  fp_rec_str(d, "status", rc == FASTEPOST_OK ? "ok" : fastepost_error_name(rc));
  fp_rec_uint(d, "attempted", fastepost_odoo_push_report_attempted(r));
  fp_rec_uint(d, "written", fastepost_odoo_push_report_written(r));
  fp_rec_uint(d, "created", fastepost_odoo_push_report_created(r));
  fp_rec_uint(d, "conflicts", fastepost_odoo_push_report_conflicts(r));
  fp_rec_uint(d, "skipped", fastepost_odoo_push_report_skipped(r));
  fp_rec_uint(d, "failed", fastepost_odoo_push_report_failed(r));
  fastepost_odoo_push_report_free(r);
  if (rc != FASTEPOST_OK)
    return fp_raise_with(&f, "report", d);
  return fp_rec_done(d);
}
%}
