/* import.h: one helper instead of the options struct, the three sources and the report getters:
 *   import_csv(conn, table, path, read, dry_run, on_conflict, key, max_errors, max_field, progress)
 * reads `path`, or else calls read(size) for bytes (b""/None/nil at the end). It returns the
 * report as a dict / Hash that owns its data; a failed import raises the code's exception
 * class (ParseError, InvalidError, ConflictError ...) with the report in its `report`
 * attribute, as the C call returns both. Exceptions raised in a callback are raised again. */
%fastepost_blocking(5, fastepost_import_csv, fastepost_import_report **, fastepost_conn *, const char *, const char *, const fastepost_import_options *)
%fastepost_blocking(6, fastepost_import_csv_cb, fastepost_import_report **, fastepost_conn *, const char *, fastepost_read_cb, void *, const fastepost_import_options *)

%ignore fastepost_import_options;
%ignore fastepost_import_options_init;
%ignore fastepost_import_error;
%ignore fastepost_import_csv;
%ignore fastepost_import_csv_fd;
%ignore fastepost_import_csv_cb;
%rename("$ignore", regextarget=1) "^fastepost_import_report";
%include "fastepost/import.h"

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

%apply const char *NULLABLE { const char *path, const char *key };
%rename(import_csv) fp_import_csv;
%inline %{
static fp_obj fp_import_csv(fastepost_conn *conn, const char *table, const char *path, fp_obj read,
                            int dry_run, int on_conflict, const char *key, size_t max_errors,
                            size_t max_field, fp_obj progress) {
  fp_calls c;
  fastepost_import_options o;
  fastepost_import_report *report = NULL;
  fastepost_status rc;
  fp_calls_init(&c, FP_NIL, read, progress);
  fastepost_import_options_init(&o);
  o.dry_run = dry_run;
  o.on_conflict = (fastepost_conflict_mode)on_conflict;
  o.key = key;
  o.max_errors = max_errors;
  o.max_field = max_field; /* 0: the default, 16 MiB */
  o.progress = fp_is_none(progress) ? NULL : fp_progress_cb;
  o.progress_payload = &c;
  if (!path && !fp_is_none(read))
    rc = fastepost_import_csv_cb(&report, conn, table, fp_read_cb, &c, &o);
  else /* a path; without one the library reports the missing input */
    rc = fastepost_import_csv(&report, conn, table, path, &o);
  fp_failure f;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
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
%clear const char *path, const char *key;
