/* SPDX-License-Identifier: MIT */
/* export.h: ExportOptions objects with the setters mirrored one to one (format_parse/_name and
 * filter_op_parse/_name too); the runs take language callbacks (write, progress) through
 * helpers, since C function pointers cannot be passed from Python or Ruby. The helpers keep the
 * C argument order (out-parameters become the return value, options last):
 *   export_run(conn, write, opts, progress)       -> rows written; write(chunk) gets bytes
 *                                                    (Ruby: String)
 *   export_to_file(conn, path, opts, progress)    -> rows written
 *   export_all(conn, dir, opts, progress)         -> number of files written
 * progress(rows, bytes) may be None/nil; it returns False/false to stop (CanceledError). An
 * exception raised in a callback stops the export and is raised again from the call.
 * export_to_fd is not wrapped (a descriptor is the language's business: pass a file to
 * export_run's write). */
%fastepost_blocking(5, fastepost_export_run, uint64_t *, fastepost_conn *, fastepost_export_write_cb, void *, const fastepost_export_options *)
%fastepost_blocking(4, fastepost_export_to_file, uint64_t *, fastepost_conn *, const char *, const fastepost_export_options *)
%fastepost_blocking(4, fastepost_export_all, size_t *, fastepost_conn *, const char *, const fastepost_export_options *)

%rename(ExportOptions) fastepost_export_options;
%fastepost_handle(fastepost_export_options, fastepost_export_options_free)
%ignore fastepost_export_options_new;
%extend fastepost_export_options {
  fastepost_export_options() {
    fastepost_export_options *opts = NULL;
    fastepost_status rc = fastepost_export_options_new(&opts);
    if (rc != FASTEPOST_OK)
      FP_CTOR_FAILED(rc);
    return opts;
  }
}

%apply int *OUTPUT { fastepost_export_format *out, fastepost_export_filter_op *out };
%apply const char *NULLABLE { const char *table, const char *value };
%ignore fastepost_export_run;
%ignore fastepost_export_to_file;
%ignore fastepost_export_all;
%ignore fastepost_export_to_fd;
%ignore fastepost_export_options_set_progress;
%include "fastepost/export.h"
%clear const char *table, const char *value;

%header %{
enum { FP_EXPORT_RUN, FP_EXPORT_FILE, FP_EXPORT_ALL };

/* Run an export with the language's callbacks; the progress callback is set on the options for
 * the call only. Returns the rows written, or the number of files for FP_EXPORT_ALL. */
static fp_obj fp_export(int mode, fastepost_conn *conn, fastepost_export_options *opts,
                        const char *target, fp_obj write, fp_obj progress) {
  fp_calls c;
  size_t files = 0;
  uint64_t rows = 0;
  fastepost_status rc;
  fp_calls_init(&c, write, FP_NIL, progress);
  if (mode == FP_EXPORT_RUN && fp_is_none(write)) {
    fp_failure f = {FASTEPOST_EINVALID, "", "export_run: a write callback is required"};
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  fastepost_export_options_set_progress(opts, fp_is_none(progress) ? NULL : fp_progress_cb, &c);
  if (mode == FP_EXPORT_RUN)
    rc = fastepost_export_run(&rows, conn, fp_write_cb, &c, opts);
  else if (mode == FP_EXPORT_FILE)
    rc = fastepost_export_to_file(&rows, conn, target, opts);
  else
    rc = fastepost_export_all(&files, conn, target, opts);
  fp_failure f;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fastepost_export_options_set_progress(opts, NULL, NULL);
  if (fp_calls_reraise(&c))
    return fp_error_value();
  if (rc != FASTEPOST_OK)
    return fp_raise_with(&f, NULL, FP_NIL);
  return fp_int_new(mode == FP_EXPORT_ALL ? (long long)files : (long long)rows);
}
%}

%rename(export_run) fp_export_run;
%rename(export_to_file) fp_export_to_file;
%rename(export_all) fp_export_all;
%inline %{
static fp_obj fp_export_run(fastepost_conn *conn, fp_obj write, fastepost_export_options *opts,
                            fp_obj progress) {
  return fp_export(FP_EXPORT_RUN, conn, opts, NULL, write, progress);
}
static fp_obj fp_export_to_file(fastepost_conn *conn, const char *path,
                                fastepost_export_options *opts, fp_obj progress) {
  return fp_export(FP_EXPORT_FILE, conn, opts, path, FP_NIL, progress);
}
static fp_obj fp_export_all(fastepost_conn *conn, const char *dir, fastepost_export_options *opts,
                            fp_obj progress) {
  return fp_export(FP_EXPORT_ALL, conn, opts, dir, FP_NIL, progress);
}
%}
