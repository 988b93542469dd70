/* export.h: ExportOptions objects with the setters mirrored one to one; the runs take language
 * callbacks (write, progress) through helpers, since C function pointers cannot be passed from
 * Python or Ruby:
 *   export_run(conn, opts, write, progress)       write(chunk) gets bytes (Ruby: String)
 *   export_to_file(conn, opts, path, progress)    the C function plus a progress callback
 *   export_all(conn, opts, dir, progress)         -> number of files written
 * progress(rows, bytes) may be None/nil; it returns False/false to stop (CanceledError). An
 * exception raised in a callback stops the export and is raised again from the call. */
%fastepost_blocking(4, fastepost_export_run, fastepost_conn *, const fastepost_export_options *, fastepost_write_cb, void *)
%fastepost_blocking(3, fastepost_export_to_file, fastepost_conn *, const fastepost_export_options *, const char *)
%fastepost_blocking(3, fastepost_export_to_fd, fastepost_conn *, const fastepost_export_options *, int)
%fastepost_blocking(4, fastepost_export_all, size_t *, fastepost_conn *, const fastepost_export_options *, const char *)

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

%apply int *OUTPUT { fastepost_export_format *out, fastepost_filter_op *out };
%apply const char *NULLABLE { const char *table, const char *value };
%ignore fastepost_export_run;
%ignore fastepost_export_to_file;
%ignore fastepost_export_all;
%ignore fastepost_export_options_set_progress;
%include "fastepost/export.h"
%clear const char *table, const char *value;

%header %{
enum { FP_EXPORT_RUN, FP_EXPORT_FILE, FP_EXPORT_ALL };

/* Run an export with the language's callbacks; the progress callback is set on the options for
 * the call only. Returns None/nil, or the number of files for FP_EXPORT_ALL. */
static fp_obj fp_export(int mode, fastepost_conn *conn, fastepost_export_options *opts,
                        const char *target, fp_obj write, fp_obj progress) {
  fp_calls c;
  size_t files = 0;
  fastepost_status rc;
  fp_calls_init(&c, write, FP_NIL, progress);
  if (mode == FP_EXPORT_RUN && fp_is_none(write)) {
    fp_failure f = {FASTEPOST_EINVALID, "", "export_run: a write callback is required"};
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  fastepost_export_options_set_progress(opts, fp_is_none(progress) ? NULL : fp_progress_cb, &c);
  if (mode == FP_EXPORT_RUN)
    rc = fastepost_export_run(conn, opts, fp_write_cb, &c);
  else if (mode == FP_EXPORT_FILE)
    rc = fastepost_export_to_file(conn, opts, target);
  else
    rc = fastepost_export_all(&files, conn, opts, target);
  fp_failure f;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fastepost_export_options_set_progress(opts, NULL, NULL);
  if (fp_calls_reraise(&c))
    return fp_error_value();
  if (rc != FASTEPOST_OK)
    return fp_raise_with(&f, NULL, FP_NIL);
  return mode == FP_EXPORT_ALL ? fp_int_new((long long)files) : fp_none();
}
%}

%rename(export_run) fp_export_run;
%rename(export_to_file) fp_export_to_file;
%rename(export_all) fp_export_all;
%inline %{
static fp_obj fp_export_run(fastepost_conn *conn, fastepost_export_options *opts, fp_obj write,
                            fp_obj progress) {
  return fp_export(FP_EXPORT_RUN, conn, opts, NULL, write, progress);
}
static fp_obj fp_export_to_file(fastepost_conn *conn, fastepost_export_options *opts,
                                const char *path, fp_obj progress) {
  return fp_export(FP_EXPORT_FILE, conn, opts, path, FP_NIL, progress);
}
static fp_obj fp_export_all(fastepost_conn *conn, fastepost_export_options *opts, const char *dir,
                            fp_obj progress) {
  return fp_export(FP_EXPORT_ALL, conn, opts, dir, FP_NIL, progress);
}
%}
