/* SPDX-License-Identifier: MIT */
/*
 * fastepost.i: the SWIG interface of libfastepost, for Python and Ruby.
 *
 * This file holds the machinery every module shares (the per-language half in
 * swig/python_runtime.i and swig/ruby_runtime.i); each module of the C API has its own piece in
 * swig/<module>.i, included at the bottom. The idiomatic layers (the modules of
 * python/fastepost/, ruby/lib/fastepost.rb and the files of ruby/lib/fastepost/, one per
 * concern) are written by hand on top of it.
 *
 * What the SWIG layer is, truthfully: a mirror of the C API with the prefix stripped
 * (fastepost_schema_install -> core.schema_install) for the plain calls, the options objects
 * (ExportOptions, ImportOptions ... with their setters one to one) and the handles (Conn,
 * Spool, BackupDir ...: classes that free on garbage collection). It is NOT one to one where C
 * needs what the languages cannot give; there it adds helpers that hide handles and callbacks
 * (each documented at the top of its swig/<module>.i):
 *  - calls that take C function pointers (write, read, progress callbacks) or fill result or
 *    list handles are wrapped by an fp_* helper renamed to the C name: export_run,
 *    export_to_file, export_all, import_csv, odoo_process(_batch), hubspot_process,
 *    events_list/_retry/_prune, spool_put/_list/_list_bad/_requeue/_replay/_warning,
 *    backup_open/_create/_list/_prune/_verify/_default_dir, stats_db, crm_stats_collect,
 *    report_html, conn_forget (Ruby); their arguments keep the C order, minus the
 *    out-parameters (the return value) and with the language's callables for the callbacks;
 *  - those helpers return results as dicts / Hashes that own their data (the C result and
 *    list handles, their getters and _free are not wrapped) and raise with the partial
 *    result attached (an import's `report`);
 *  - a few C calls are left out where the language has its own means (export_to_fd,
 *    import_csv_fd, fastepost_free, fastepost_error_last: failures are exceptions).
 *
 * The rules, applied here once so that a module piece stays a few lines (docs/bindings.md):
 *  - a fastepost_status return value never reaches the language: success becomes nothing (the
 *    out-parameters are the return value), failure raises the exception class of the code
 *    (fastepost.NotFoundError, Fastepost::NotFoundError ...) with code, sqlstate and message;
 *  - out-parameters become return values: `char **out` a string, `size_t *applied` an integer,
 *    `TYPE **out` an object that owns the new handle (and frees it when garbage collected);
 *  - strings cross as UTF-8: Python str (bytes accepted as input), Ruby String tagged UTF-8;
 *    input strings with an embedded NUL are refused rather than silently truncated;
 *  - calls that wait on the database or on a program run with the GIL/GVL released.
 */
#if defined(SWIGRUBY)
%module "fastepost::core"
#else
%module(package="fastepost") core
#endif

/* Strip the C prefix: fastepost_conn_ping -> conn_ping, FASTEPOST_EDB -> EDB. */
%rename("%(regex:/^(fastepost|FASTEPOST)_(.+)$/\\2/)s") "";

%header %{
#include <string.h>
#include <fastepost.h>

/* The exception class of each error code, in both languages. `mixin` names a Python built-in
 * exception the class also derives from, so that `except ValueError` keeps working. Codes are
 * only ever appended to errors.h: add a line here when one is. */
typedef struct fp_error_class {
  int code;
  const char *name;
  const char *mixin;
} fp_error_class;

static const fp_error_class fp_error_classes[] = {
    {FASTEPOST_ENOMEM, "NoMemoryError", "MemoryError"},
    {FASTEPOST_EINVALID, "InvalidError", "ValueError"},
    {FASTEPOST_ENOTFOUND, "NotFoundError", "LookupError"},
    {FASTEPOST_ECONFLICT, "ConflictError", NULL},
    {FASTEPOST_EPARSE, "ParseError", "ValueError"},
    {FASTEPOST_EDB, "DatabaseError", NULL},
    {FASTEPOST_ECONN, "ConnectionError", "ConnectionError"},
    {FASTEPOST_EIO, "IOError", "OSError"},
    {FASTEPOST_EEXTERNAL, "ExternalError", NULL},
    {FASTEPOST_EAUTH, "AuthError", NULL},
    {FASTEPOST_ETOOBIG, "TooBigError", "ValueError"},
    {FASTEPOST_ENOKEY, "NoKeyError", NULL},
    {FASTEPOST_EVERSION, "VersionError", NULL},
    {FASTEPOST_ECANCELED, "CanceledError", NULL},
    {FASTEPOST_EBUSY, "BusyError", NULL},
    {FASTEPOST_ETIMEOUT, "TimeoutError", "TimeoutError"},
    {FASTEPOST_EFULL, "FullError", "OSError"},
    {FASTEPOST_EREADONLY, "ReadOnlyError", NULL},
};
#define FP_NCLASSES (sizeof fp_error_classes / sizeof fp_error_classes[0])

/* The failure being raised: copied from fastepost_error_last() right after the call, on the
 * calling thread (the C call runs on it even with the GIL/GVL released), before any other code
 * can touch the thread-local record. */
typedef struct fp_failure {
  int code;
  char sqlstate[6];
  char message[1024];
} fp_failure;

static void fp_failure_capture(fp_failure *f, int rc) {
  const fastepost_error *e = fastepost_error_last();
  int same = e->code == rc && e->message[0];
  f->code = rc;
  snprintf(f->message, sizeof f->message, "%s", same ? e->message : fastepost_strerror(rc));
  snprintf(f->sqlstate, sizeof f->sqlstate, "%s", same ? e->sqlstate : "");
}

static int fp_class_index(int code) {
  for (size_t i = 0; i < FP_NCLASSES; i++)
    if (fp_error_classes[i].code == code)
      return (int)i;
  return -1; /* FASTEPOST_ERROR and codes newer than this wrapper: the base class */
}

/* Run fn(arg) with the interpreter lock released, so other threads run meanwhile. fn must not
 * touch interpreter objects; it calls the C library only. */
typedef void *(*fp_unlocked_fn)(void *);
%}

/* ---------------------------------------------------------------------------------------- */
#if defined(SWIGPYTHON)
%include "swig/python_runtime.i"
#elif defined(SWIGRUBY)
%include "swig/ruby_runtime.i"
#else
#error "fastepost.i supports Python and Ruby"
#endif

/* ---------------------------------------------------------------------------------------- */
/* Shared by both languages. */

%header %{
#define FP_CTOR_FAILED(rc) do { fp_failure fp_f; fp_failure_capture(&fp_f, rc); fp_raise_failure(&fp_f); } while (0)

%}


/*
 * %fastepost_handle(TYPE, FREE): an opaque handle becomes a class whose objects free it when
 * garbage collected, and `TYPE **out` parameters become a returned object that owns the new
 * handle. FREE itself is not wrapped (it would free under the object's feet).
 */
%define %fastepost_handle(TYPE, FREE)
struct TYPE {};
%nodefaultctor TYPE;
%ignore FREE;
%extend TYPE {
  ~TYPE() { FREE($self); }
}
%fastepost_ctor_check(TYPE)
/* None/nil where a handle is expected is a programming error, not a C NULL. */
%typemap(check) TYPE *, const TYPE * {
  if (!$1)
    SWIG_exception_fail(SWIG_TypeError, "in method '$symname', argument $argnum of type '$1_type' must not be None/nil");
}
%typemap(in, numinputs=0) TYPE **out (TYPE *tmp = NULL) "$1 = &tmp;"
%typemap(argout) TYPE **out {
  $result = SWIG_AppendOutput($result, SWIG_NewPointerObj(*$1, $*1_descriptor, SWIG_POINTER_OWN));
}
%enddef

/* A function that returns a new string (declare it `%newobject fn;`) has it freed after the
 * conversion. (The C API hands strings out through `char **out`, below, but just in case.) */
%typemap(newfree) char * "fastepost_free($1);"

/* Strings handed out through `char **out` become the language's string; the C copy is freed. */
%typemap(in, numinputs=0) char **out (char *tmp = NULL) "$1 = &tmp;"
%typemap(argout) char **out {
  $result = SWIG_AppendOutput($result, fp_str_new(*$1));
  fastepost_free(*$1);
}

%include "typemaps.i"
%include "stdint.i"

/* Test hook (see fp_raise_code): raise the exception class of `code`. */
%rename(_raise_code) fp_raise_code;
void fp_raise_code(int code, const char *message, const char *sqlstate);

/* ---------------------------------------------------------------------------------------- */
/* The modules, in dependency order. To add one: write swig/<module>.i and list it here. */
%include "swig/common.i"
%include "swig/errors.i"
%include "swig/conn.i"
%include "swig/schema.i"
%include "swig/export.i"
%include "swig/import.i"
%include "swig/hubspot.i"
%include "swig/stats.i"
%include "swig/spool.i"
%include "swig/events.i"
%include "swig/webhook.i"
%include "swig/backup.i"
%include "swig/retention.i"
%include "swig/pool.i"
%include "swig/odoo_sync.i"
