/* SPDX-License-Identifier: MIT */
/* import.h: ImportOptions objects with the setters mirrored one to one (conflict_parse/_name
 * too); one helper instead of the three sources and the report getters:
 *   import_csv(conn, table, path, read, opts, progress)
 * reads `path`, or else calls read(size) for bytes (b""/None/nil at the end); opts may be
 * None/nil (the defaults); progress(rows, bytes) is set on the options for the call only. It
 * returns the report as a dict / Hash that owns its data; a failed import raises the code's
 * exception class (ParseError, InvalidError, ConflictError ...) with the report in its `report`
 * attribute, as the C call returns both. Exceptions raised in a callback are raised again. */
%fastepost_blocking(5, fastepost_import_csv, fastepost_import_report **, fastepost_conn *, const char *, const char *, const fastepost_import_options *)
%fastepost_blocking(6, fastepost_import_csv_cb, fastepost_import_report **, fastepost_conn *, const char *, fastepost_import_read_cb, void *, const fastepost_import_options *)

%rename(ImportOptions) fastepost_import_options;
%fastepost_handle(fastepost_import_options, fastepost_import_options_free)
%ignore fastepost_import_options_new;
%extend fastepost_import_options {
  fastepost_import_options() {
    fastepost_import_options *opts = NULL;
    fastepost_status rc = fastepost_import_options_new(&opts);
    if (rc != FASTEPOST_OK)
      FP_CTOR_FAILED(rc);
    return opts;
  }
}

%apply int *OUTPUT { fastepost_import_conflict *out };
%apply const char *NULLABLE { const char *key };
%ignore fastepost_import_options_set_progress;
%ignore fastepost_import_error;
%ignore fastepost_import_csv;
%ignore fastepost_import_csv_fd;
%ignore fastepost_import_csv_cb;
%rename("$ignore", regextarget=1) "^fastepost_import_report";
%include "fastepost/import.h"
%clear const char *key;

%header %{
static fp_rec fp_import_report_rec(const fastepost_import_report *r) {
  fp_rec d = fp_rec_new();
  fp_rec_uint(d, "rows_read", fastepost_import_report_rows_read(r));
  fp_rec_uint(d, "rows_inserted", fastepost_import_report_rows_inserted(r));
  fp_rec_uint(d, "rows_updated", fastepost_import_report_rows_updated(r));
  fp_rec_uint(d, "rows_skipped", fastepost_import_report_rows_skipped(r));
  fp_rec_uint(d, "rows_written", fastepost_import_report_rows_written(r));
  fp_rec_uint(d, "bytes_read", fastepost_import_report_bytes_read(r));
  fp_rec_bool(d, "dry_run", fastepost_import_report_dry_run(r));
  fp_rec_uint(d, "error_total", fastepost_import_report_error_total(r));
  fp_rec_bool(d, "errors_complete", fastepost_import_report_errors_complete(r));
  fp_rec errors = fp_list_new();
  for (size_t i = 0; i < fastepost_import_report_error_count(r); i++) {
    const fastepost_import_error *e = fastepost_import_report_error(r, i);
    fp_rec x = fp_rec_new();
    fp_rec_uint(x, "line", e->line);
    fp_rec_str(x, "column", e->column);
    fp_rec_str(x, "value", e->value);
    fp_rec_str(x, "reason", e->reason);
    fp_list_push(errors, x);
  }
  fp_rec_rec(d, "errors", errors);
  return fp_rec_done(d);
}
%}

%apply const char *NULLABLE { const char *path };
%typemap(check) fastepost_import_options *opts_or_none "" /* None/nil: the defaults */
%rename(import_csv) fp_import_csv;
%inline %{
static fp_obj fp_import_csv(fastepost_conn *conn, const char *table, const char *path, fp_obj read,
                            fastepost_import_options *opts_or_none, fp_obj progress) {
  fp_calls c;
  fastepost_import_options *own = NULL;
  fastepost_import_report *report = NULL;
  fastepost_status rc = FASTEPOST_OK;
  fp_calls_init(&c, FP_NIL, read, progress);
  fastepost_import_options *o = opts_or_none;
  if (!o && (rc = fastepost_import_options_new(&own)) != FASTEPOST_OK) {
    fp_failure f0;
    fp_failure_capture(&f0, rc);
    return fp_raise_with(&f0, NULL, FP_NIL);
  }
  if (!o)
    o = own;
  fastepost_import_options_set_progress(o, fp_is_none(progress) ? NULL : fp_progress_cb, &c);
  if (!path && !fp_is_none(read))
    rc = fastepost_import_csv_cb(&report, conn, table, fp_read_cb, &c, o);
  else /* a path; without one the library reports the missing input */
    rc = fastepost_import_csv(&report, conn, table, path, o);
  fp_failure f;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fastepost_import_options_set_progress(o, NULL, NULL);
  fastepost_import_options_free(own);
  fp_rec rec = report ? fp_import_report_rec(report) : FP_NIL;
  fastepost_import_report_free(report);
  if (fp_calls_reraise(&c)) {
    fp_rec_drop(rec);
    return fp_error_value();
  }
  if (rc != FASTEPOST_OK)
    return fp_raise_with(&f, "report", rec);
  return rec;
}
%}
%clear const char *path;
