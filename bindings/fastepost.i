/* SPDX-License-Identifier: MIT */
/*
 * fastepost.i: the SWIG interface of libfastepost, for Python and Ruby.
 *
 * This file holds the machinery every module shares; each module of the C API has its own piece
 * in swig/<module>.i, included at the bottom. The idiomatic layers (the modules of
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
%header %{
static PyObject *fp_py_classes[FP_NCLASSES];
static PyObject *fp_py_error; /* fastepost.Error */

static PyObject *fp_py_new_class(const char *name, PyObject *bases, int code) {
  char qualified[64];
  snprintf(qualified, sizeof qualified, "fastepost.%s", name);
  PyObject *dict = Py_BuildValue("{s:i,s:s,s:s,s:O,s:O,s:i}", "code", code, "sqlstate", "",
                                 "message", "", "report", Py_None, "result", Py_None,
                                 "http_status", fastepost_status_http((fastepost_status)code));
  if (!dict)
    return NULL;
  PyObject *cls = PyErr_NewException(qualified, bases, dict);
  Py_DECREF(dict);
  return cls;
}

static int fp_py_init_errors(PyObject *module) {
  fp_py_error = fp_py_new_class("Error", PyExc_Exception, FASTEPOST_ERROR);
  if (!fp_py_error || PyModule_AddObject(module, "Error", fp_py_error) < 0)
    return -1;
  Py_INCREF(fp_py_error); /* PyModule_AddObject stole one reference; we keep one */
  PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
  for (size_t i = 0; i < FP_NCLASSES; i++) {
    const fp_error_class *c = &fp_error_classes[i];
    PyObject *mixin = c->mixin ? PyDict_GetItemString(builtins, c->mixin) : NULL;
    PyObject *bases = mixin ? PyTuple_Pack(2, fp_py_error, mixin) : PyTuple_Pack(1, fp_py_error);
    if (!bases)
      return -1;
    PyObject *cls = fp_py_new_class(c->name, bases, c->code);
    Py_DECREF(bases);
    if (!cls || PyModule_AddObject(module, c->name, cls) < 0)
      return -1;
    Py_INCREF(cls);
    fp_py_classes[i] = cls;
  }
  return 0;
}

/* Set the Python exception for a failure: an instance of the code's class with the attributes
 * code, sqlstate and message, and `attr` = `value` when attr is not NULL (an import's report).
 * Steals `value`. */
static void fp_raise_failure_with(const fp_failure *f, const char *attr, PyObject *value) {
  int i = fp_class_index(f->code);
  PyObject *cls = i >= 0 ? fp_py_classes[i] : fp_py_error;
  if (!cls) {
    PyErr_SetString(PyExc_RuntimeError, f->message);
    Py_XDECREF(value);
    return;
  }
  /* "replace": a server message may quote bytes that are not UTF-8 (a bad name, say). */
  PyObject *message = PyUnicode_DecodeUTF8(f->message, (Py_ssize_t)strlen(f->message), "replace");
  PyObject *exc = message ? PyObject_CallOneArg(cls, message) : NULL;
  PyObject *code = PyLong_FromLong(f->code);
  PyObject *sqlstate = PyUnicode_FromString(f->sqlstate);
  PyObject *http = PyLong_FromLong(fastepost_status_http((fastepost_status)f->code));
  if (exc && code && sqlstate && http && PyObject_SetAttrString(exc, "code", code) == 0 &&
      PyObject_SetAttrString(exc, "http_status", http) == 0 &&
      PyObject_SetAttrString(exc, "sqlstate", sqlstate) == 0 &&
      PyObject_SetAttrString(exc, "message", message) == 0 &&
      (!attr || !value || PyObject_SetAttrString(exc, attr, value) == 0))
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_XDECREF(code);
  Py_XDECREF(sqlstate);
  Py_XDECREF(http);
  Py_XDECREF(message);
  Py_XDECREF(exc);
  Py_XDECREF(value);
}

static void fp_raise_failure(const fp_failure *f) { fp_raise_failure_with(f, NULL, NULL); }

static void fp_run_unlocked(fp_unlocked_fn fn, void *arg) {
  Py_BEGIN_ALLOW_THREADS
  fn(arg);
  Py_END_ALLOW_THREADS
}

/* Borrow the UTF-8 bytes of a str (or the bytes of a bytes object): they live as long as the
 * argument object, which the call holds. Refuses an embedded NUL. */
static const char *fp_py_cstr(PyObject *obj, int argnum) {
  const char *s = NULL;
  Py_ssize_t len = 0;
  if (PyUnicode_Check(obj)) {
    s = PyUnicode_AsUTF8AndSize(obj, &len);
    if (!s)
      return NULL;
  } else if (PyBytes_Check(obj)) {
    s = PyBytes_AS_STRING(obj);
    len = PyBytes_GET_SIZE(obj);
  } else {
    PyErr_Format(PyExc_TypeError, "argument %d must be str or bytes, not %.100s", argnum,
                 Py_TYPE(obj)->tp_name);
    return NULL;
  }
  if ((size_t)len != strlen(s)) {
    PyErr_Format(PyExc_ValueError, "argument %d contains a NUL character", argnum);
    return NULL;
  }
  return s;
}

static PyObject *fp_str_new(const char *s) {
  if (!s)
    return SWIG_Py_Void();
  return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
}

/* Test hook: raise the exception a code maps to, so that every class can be checked even where
 * no call of the current API produces its code. */
static void fp_raise_code(int code, const char *message, const char *sqlstate) {
  fp_failure f;
  f.code = code;
  snprintf(f.message, sizeof f.message, "%s", message);
  snprintf(f.sqlstate, sizeof f.sqlstate, "%s", sqlstate);
  fp_raise_failure(&f);
}

/* ---- Objects, results and callbacks for the helpers of the module pieces (swig/<module>.i) ---- */

/* fp_obj: a language object passed through as it is (a callable, None ...), borrowed from the
 * call's arguments. */
typedef PyObject *fp_obj;
static int fp_is_none(fp_obj o) { return !o || o == Py_None; }
static fp_obj fp_none(void) { return SWIG_Py_Void(); }
static fp_obj fp_int_new(long long v) { return PyLong_FromLongLong(v); }
static fp_obj fp_error_value(void) { return NULL; } /* with the exception set */
#define FP_NIL NULL /* "no object" for fp_obj parameters (no reference to release) */

/* fp_rec: a result converted into plain dicts and lists that own their data (so garbage
 * collection order never matters). The setters tolerate NULL (a failed allocation); after
 * building, fp_rec_done() returns NULL with the exception set if anything failed. */
typedef PyObject *fp_rec;
static fp_rec fp_rec_new(void) { return PyDict_New(); }
static fp_rec fp_list_new(void) { return PyList_New(0); }
static void fp_rec_put(fp_rec r, const char *key, PyObject *v) { /* steals v */
  if (r && v)
    PyDict_SetItemString(r, key, v);
  Py_XDECREF(v);
}
static void fp_rec_str(fp_rec r, const char *key, const char *v) { fp_rec_put(r, key, fp_str_new(v)); }
static void fp_rec_int(fp_rec r, const char *key, long long v) { fp_rec_put(r, key, PyLong_FromLongLong(v)); }
static void fp_rec_uint(fp_rec r, const char *key, unsigned long long v) {
  fp_rec_put(r, key, PyLong_FromUnsignedLongLong(v));
}
static void fp_rec_bool(fp_rec r, const char *key, int v) { fp_rec_put(r, key, PyBool_FromLong(v)); }
static void fp_rec_float(fp_rec r, const char *key, double v) { fp_rec_put(r, key, PyFloat_FromDouble(v)); }
static void fp_rec_nil(fp_rec r, const char *key) { fp_rec_put(r, key, SWIG_Py_Void()); }
static void fp_rec_rec(fp_rec r, const char *key, fp_rec v) { fp_rec_put(r, key, v); }
static void fp_list_push(fp_rec list, fp_rec v) { /* steals v */
  if (list && v)
    PyList_Append(list, v);
  Py_XDECREF(v);
}
static void fp_rec_drop(fp_rec r) { Py_XDECREF(r); }
static fp_rec fp_rec_done(fp_rec r) {
  if (PyErr_Occurred()) {
    Py_XDECREF(r);
    return NULL;
  }
  return r;
}

/* Raise a failure captured with fp_failure_capture(); with attr, the exception also carries
 * `attr` = value (stolen). Returns the helper's error value. */
static fp_obj fp_raise_with(const fp_failure *f, const char *attr, fp_rec value) {
  if (PyErr_Occurred()) { /* building `value` failed: that exception wins */
    Py_XDECREF(value);
    return NULL;
  }
  fp_raise_failure_with(f, attr, value);
  return NULL;
}

/* Callbacks from the library into Python. The surrounding call runs with the GIL released
 * (the library waits on the database between callbacks), so each callback takes it back for
 * its work. The first exception a callback raises is kept here and the library is told to stop
 * (FASTEPOST_ECANCELED); later callbacks return at once; fp_calls_reraise() restores the
 * exception after the call, in place of the CanceledError the library reports. */
typedef struct fp_calls {
  PyObject *write, *read, *progress; /* borrowed from the arguments; NULL for none */
  PyObject *type, *value, *tb;       /* the exception a callback raised */
  int failed;
} fp_calls;

static void fp_calls_init(fp_calls *c, fp_obj write, fp_obj read, fp_obj progress) {
  memset(c, 0, sizeof *c);
  c->write = fp_is_none(write) ? NULL : write;
  c->read = fp_is_none(read) ? NULL : read;
  c->progress = fp_is_none(progress) ? NULL : progress;
}

static int fp_calls_fail(fp_calls *c) { /* with the GIL held and an exception set */
  PyErr_Fetch(&c->type, &c->value, &c->tb);
  c->failed = 1;
  return FASTEPOST_ECANCELED;
}

/* After the call, with the GIL: 1 if a callback raised (the exception is set again). */
static int fp_calls_reraise(fp_calls *c) {
  if (!c->failed)
    return 0;
  PyErr_Restore(c->type, c->value, c->tb);
  c->type = c->value = c->tb = NULL;
  return 1;
}

static int fp_write_cb(const char *data, size_t len, void *payload) {
  fp_calls *c = (fp_calls *)payload;
  if (c->failed)
    return FASTEPOST_ECANCELED;
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject *chunk = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
  PyObject *r = chunk ? PyObject_CallOneArg(c->write, chunk) : NULL;
  int rc = r ? 0 : fp_calls_fail(c);
  Py_XDECREF(r);
  Py_XDECREF(chunk);
  PyGILState_Release(gil);
  return rc;
}

/* read(size) returns bytes (at most size; b"" or None at the end). */
static long long fp_read_cb(char *buf, size_t size, void *payload) {
  fp_calls *c = (fp_calls *)payload;
  if (c->failed)
    return FASTEPOST_ECANCELED;
  PyGILState_STATE gil = PyGILState_Ensure();
  long long n = 0;
  PyObject *want = PyLong_FromSize_t(size);
  PyObject *r = want ? PyObject_CallOneArg(c->read, want) : NULL;
  Py_buffer view;
  if (!r) {
    n = fp_calls_fail(c);
  } else if (r != Py_None) {
    if (PyUnicode_Check(r)) {
      PyErr_SetString(PyExc_TypeError, "read() must return bytes, not str");
      n = fp_calls_fail(c);
    } else if (PyObject_GetBuffer(r, &view, PyBUF_SIMPLE) < 0) {
      n = fp_calls_fail(c);
    } else {
      if ((size_t)view.len > size) {
        PyErr_Format(PyExc_ValueError, "read() returned %zd bytes, more than the %zu asked for",
                     view.len, size);
        n = fp_calls_fail(c);
      } else {
        memcpy(buf, view.buf, (size_t)view.len);
        n = (long long)view.len;
      }
      PyBuffer_Release(&view);
    }
  }
  Py_XDECREF(r);
  Py_XDECREF(want);
  PyGILState_Release(gil);
  return n;
}

/* progress(rows, bytes): returning False stops the operation (CanceledError). */
static int fp_progress_cb(uint64_t rows, uint64_t bytes, void *payload) {
  fp_calls *c = (fp_calls *)payload;
  if (c->failed)
    return FASTEPOST_ECANCELED;
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject *r = PyObject_CallFunction(c->progress, "KK", (unsigned long long)rows,
                                      (unsigned long long)bytes);
  int rc = !r ? fp_calls_fail(c) : r == Py_False ? FASTEPOST_ECANCELED : 0;
  Py_XDECREF(r);
  PyGILState_Release(gil);
  return rc;
}
%}

/* fp_obj arguments and results pass through; a NULL result means the exception is set. */
%typemap(in) fp_obj "$1 = $input;"
%typemap(out) fp_obj {
  if (!$1)
    SWIG_fail;
  $result = $1;
}

/* `const char *NULLABLE`: like const char *, and None means NULL. */
%typemap(in) const char *NULLABLE {
  if ($input == Py_None) {
    $1 = NULL;
  } else {
    $1 = ($1_ltype)fp_py_cstr($input, $argnum);
    if (!$1)
      SWIG_fail;
  }
}
%typemap(freearg) const char *NULLABLE ""

/* A byte buffer: bytes, bytearray, or str (its UTF-8); None is empty. */
%typemap(in) (const void *BYTES, size_t LENGTH) {
  if ($input == Py_None) {
    $1 = NULL;
    $2 = 0;
  } else if (PyBytes_Check($input)) {
    $1 = PyBytes_AS_STRING($input);
    $2 = (size_t)PyBytes_GET_SIZE($input);
  } else if (PyByteArray_Check($input)) {
    $1 = PyByteArray_AS_STRING($input);
    $2 = (size_t)PyByteArray_GET_SIZE($input);
  } else if (PyUnicode_Check($input)) {
    Py_ssize_t len = 0;
    $1 = (void *)PyUnicode_AsUTF8AndSize($input, &len);
    if (!$1)
      SWIG_fail;
    $2 = (size_t)len;
  } else {
    PyErr_Format(PyExc_TypeError, "argument %d must be bytes or str, not %.100s", $argnum,
                 Py_TYPE($input)->tp_name);
    SWIG_fail;
  }
}

%init %{
  if (fp_py_init_errors(m) < 0)
    return NULL;
%}

/* The exception classes live in the C module: make them attributes of fastepost.core too. */
%pythoncode %{
globals().update({_k: _v for _k, _v in vars(_core).items()
                  if isinstance(_v, type) and issubclass(_v, BaseException)})
%}

%exception fp_raise_code {
  $action
  SWIG_fail;
}

/* A failing status raises at once; SWIG_fail still runs the argument cleanup. */
%typemap(out) fastepost_status {
  if ($1 != FASTEPOST_OK) {
    fp_failure fp_f;
    fp_failure_capture(&fp_f, $1);
    fp_raise_failure(&fp_f);
    SWIG_fail;
  }
  $result = SWIG_Py_Void();
}

%typemap(in) const char * {
  $1 = ($1_ltype)fp_py_cstr($input, $argnum);
  if (!$1)
    SWIG_fail;
}
%typemap(freearg) const char * ""
%typemap(out) const char * "$result = fp_str_new($1);"

/* Constructors of handles report failure by returning NULL with the exception set. */
%define %fastepost_ctor_check(TYPE)
%exception TYPE::TYPE {
  $action
  if (!result)
    SWIG_fail;
}
%enddef
/* ---------------------------------------------------------------------------------------- */
#elif defined(SWIGRUBY)
%header %{
#include <ruby/encoding.h>
#include <ruby/thread.h>

static VALUE fp_rb_classes[FP_NCLASSES];
static VALUE fp_rb_error = Qnil; /* Fastepost::Error */

static void fp_rb_init_errors(void) {
  VALUE mod = rb_define_module("Fastepost");
  fp_rb_error = rb_define_class_under(mod, "Error", rb_eStandardError);
  rb_define_attr(fp_rb_error, "code", 1, 0);
  rb_define_attr(fp_rb_error, "sqlstate", 1, 0);
  rb_define_attr(fp_rb_error, "report", 1, 0); /* an import's report, else nil */
  rb_define_attr(fp_rb_error, "result", 1, 0); /* a webhook's EventResult / HubSpotBatch, else nil */
  rb_define_attr(fp_rb_error, "http_status", 1, 0); /* fastepost_status_http(code) */
  rb_define_const(fp_rb_error, "CODE", INT2NUM(FASTEPOST_ERROR));
  for (size_t i = 0; i < FP_NCLASSES; i++) {
    fp_rb_classes[i] = rb_define_class_under(mod, fp_error_classes[i].name, fp_rb_error);
    rb_define_const(fp_rb_classes[i], "CODE", INT2NUM(fp_error_classes[i].code));
  }
}

/* The exception for a failure: the code's Fastepost::Error subclass with @code, @sqlstate. */
static VALUE fp_rb_failure_exc(const fp_failure *f) {
  int i = fp_class_index(f->code);
  VALUE cls = i >= 0 ? fp_rb_classes[i] : fp_rb_error;
  VALUE message = rb_utf8_str_new_cstr(f->message);
  VALUE scrubbed = rb_str_scrub(message, Qnil); /* a server message may quote non-UTF-8 bytes */
  VALUE exc = rb_exc_new_str(cls, NIL_P(scrubbed) ? message : scrubbed);
  rb_iv_set(exc, "@code", INT2NUM(f->code));
  rb_iv_set(exc, "@sqlstate", rb_utf8_str_new_cstr(f->sqlstate));
  rb_iv_set(exc, "@http_status", INT2NUM(fastepost_status_http((fastepost_status)f->code)));
  return exc;
}

/* Raise the code's Fastepost::Error subclass (does not return). */
static void fp_raise_failure(const fp_failure *f) { rb_exc_raise(fp_rb_failure_exc(f)); }

static void fp_run_unlocked(fp_unlocked_fn fn, void *arg) {
  /* No unblocking function: a call without a connection (pg_dump ...) cannot be interrupted
   * from outside, so Thread#raise and Thread#kill take effect when it returns. Calls on a
   * connection use fp_run_unlocked_conn (swig/common.i), which can. */
  rb_thread_call_without_gvl(fn, arg, NULL, NULL);
}

/* A NUL-terminated UTF-8 copy of a String argument. The copy (kept alive in *keep, guarded
 * until the call returns) cannot change under the C call even if another thread mutates the
 * caller's string while the GVL is released. Strings in other encodings are transcoded; binary
 * strings pass as they are and the library checks them. */
static const char *fp_rb_cstr(VALUE obj, volatile VALUE *keep) {
  VALUE str = StringValue(obj);
  int idx = ENCODING_GET(str);
  if (idx != rb_utf8_encindex() && idx != rb_usascii_encindex() && idx != rb_ascii8bit_encindex())
    str = rb_str_export_to_enc(str, rb_utf8_encoding());
  VALUE copy = rb_str_dup(str);
  const char *s = StringValueCStr(copy); /* raises ArgumentError on an embedded NUL */
  *keep = copy;
  return s;
}

static VALUE fp_str_new(const char *s) { return s ? rb_utf8_str_new_cstr(s) : Qnil; }

static void fp_raise_code(int code, const char *message, const char *sqlstate) {
  fp_failure f;
  f.code = code;
  snprintf(f.message, sizeof f.message, "%s", message);
  snprintf(f.sqlstate, sizeof f.sqlstate, "%s", sqlstate);
  fp_raise_failure(&f);
}

/* Raising longjmps, which would skip the argument cleanup: the failure is captured here right
 * after the call and raised by the `ret` typemap, which SWIG emits after the cleanup. */
static fp_failure *fp_rb_pending(void) {
  static _Thread_local fp_failure pending;
  return &pending;
}

/* ---- Objects, results and callbacks for the helpers of the module pieces (swig/<module>.i) ---- */

/* fp_obj: a Ruby object passed through as it is (a Proc, nil ...). */
typedef VALUE fp_obj;
static int fp_is_none(fp_obj o) { return NIL_P(o); }
static fp_obj fp_none(void) { return Qnil; }
static fp_obj fp_int_new(long long v) { return LL2NUM(v); }
static fp_obj fp_error_value(void) { return Qnil; } /* unused: Ruby raises without returning */
#define FP_NIL Qnil

/* fp_rec: a result converted into Hashes (Symbol keys) and Arrays that own their data. */
typedef VALUE fp_rec;
static fp_rec fp_rec_new(void) { return rb_hash_new(); }
static fp_rec fp_list_new(void) { return rb_ary_new(); }
static void fp_rec_put(fp_rec r, const char *key, VALUE v) { rb_hash_aset(r, ID2SYM(rb_intern(key)), v); }
static void fp_rec_str(fp_rec r, const char *key, const char *v) { fp_rec_put(r, key, fp_str_new(v)); }
static void fp_rec_int(fp_rec r, const char *key, long long v) { fp_rec_put(r, key, LL2NUM(v)); }
static void fp_rec_uint(fp_rec r, const char *key, unsigned long long v) { fp_rec_put(r, key, ULL2NUM(v)); }
static void fp_rec_bool(fp_rec r, const char *key, int v) { fp_rec_put(r, key, v ? Qtrue : Qfalse); }
static void fp_rec_float(fp_rec r, const char *key, double v) { fp_rec_put(r, key, DBL2NUM(v)); }
static void fp_rec_nil(fp_rec r, const char *key) { fp_rec_put(r, key, Qnil); }
static void fp_rec_rec(fp_rec r, const char *key, fp_rec v) { fp_rec_put(r, key, v); }
static void fp_list_push(fp_rec list, fp_rec v) { rb_ary_push(list, v); }
static fp_rec fp_rec_done(fp_rec r) { return r; }
static void fp_rec_drop(fp_rec r) { (void)r; }

/* Raise a failure captured with fp_failure_capture(); with attr ("report"), the exception also
 * carries @attr = value. Does not return. */
static fp_obj fp_raise_with(const fp_failure *f, const char *attr, fp_rec value) {
  VALUE exc = fp_rb_failure_exc(f);
  if (attr) {
    char ivar[64];
    snprintf(ivar, sizeof ivar, "@%s", attr);
    rb_iv_set(exc, ivar, value);
  }
  rb_exc_raise(exc);
  return Qnil;
}

/* Callbacks from the library into Ruby. The surrounding call runs without the GVL, so each
 * callback takes it back (rb_thread_call_with_gvl) and runs the Ruby code under rb_protect: an
 * exception, `break` or `throw` must not longjmp through the library's frames. The first such
 * jump is kept, the library is told to stop (FASTEPOST_ECANCELED), later callbacks return at
 * once, and fp_calls_reraise() resumes the jump after the call, in place of the CanceledError.
 * The struct lives on the calling thread's stack, which Ruby's GC scans, and the objects are
 * also held by the caller's arguments. */
typedef struct fp_calls {
  VALUE write, read, progress; /* callables (#call); Qnil for none */
  VALUE exc;                   /* the exception a callback raised, or Qnil */
  int state;                   /* rb_protect's tag of the jump, 0 for none */
} fp_calls;

typedef struct fp_call {
  fp_calls *c;
  enum { FP_CALL_WRITE, FP_CALL_READ, FP_CALL_PROGRESS } kind;
  const char *data; /* write */
  char *buf;        /* read */
  size_t len;       /* write: bytes; read: room */
  uint64_t rows, bytes;
  long long result;
} fp_call;

static void fp_calls_init(fp_calls *c, fp_obj write, fp_obj read, fp_obj progress) {
  c->write = write;
  c->read = read;
  c->progress = progress;
  c->exc = Qnil;
  c->state = 0;
}

/* Ruby code called from here may raise, and Ruby longjmps back to rb_protect without telling
 * AddressSanitizer (its own setjmp/longjmp are not intercepted): the stack redzones of an
 * instrumented frame skipped that way stay poisoned and later calls trip over them. So this one
 * frame between rb_protect and Ruby is left uninstrumented (and takes no local's address). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((no_sanitize_address))
#endif
static VALUE fp_rb_call_body(VALUE arg) {
  fp_call *a = (fp_call *)arg;
  static ID id_call;
  if (!id_call)
    id_call = rb_intern("call");
  if (a->kind == FP_CALL_WRITE) {
    rb_funcall(a->c->write, id_call, 1, rb_utf8_str_new(a->data, (long)a->len));
  } else if (a->kind == FP_CALL_READ) {
    VALUE s = rb_funcall(a->c->read, id_call, 1, SIZET2NUM(a->len));
    if (!NIL_P(s)) {
      if (!RB_TYPE_P(s, T_STRING))
        rb_raise(rb_eTypeError, "read must return a String or nil, not %s", rb_obj_classname(s));
      if ((size_t)RSTRING_LEN(s) > a->len)
        rb_raise(rb_eArgError, "read returned %ld bytes, more than the %zu asked for",
                 RSTRING_LEN(s), a->len);
      memcpy(a->buf, RSTRING_PTR(s), (size_t)RSTRING_LEN(s));
      a->result = RSTRING_LEN(s);
    }
  } else {
    VALUE r = rb_funcall(a->c->progress, id_call, 2, ULL2NUM(a->rows), ULL2NUM(a->bytes));
    if (r == Qfalse)
      a->result = FASTEPOST_ECANCELED; /* the block asked to stop: CanceledError */
  }
  return Qnil;
}

static void *fp_rb_call_with_gvl(void *p) {
  fp_call *a = (fp_call *)p;
  int state = 0;
  rb_protect(fp_rb_call_body, (VALUE)a, &state);
  if (state) {
    VALUE err = rb_errinfo();
    a->c->state = state;
    /* An exception is kept as an object and raised again later; any other jump (break,
     * throw) is resumed by its tag with the thread's errinfo left as it is. */
    if (!SPECIAL_CONST_P(err) && RB_TYPE_P(err, T_OBJECT) && rb_obj_is_kind_of(err, rb_eException)) {
      a->c->exc = err;
      rb_set_errinfo(Qnil);
    }
    a->result = FASTEPOST_ECANCELED;
  }
  return NULL;
}

static long long fp_rb_call(fp_call *a) {
  if (a->c->state)
    return FASTEPOST_ECANCELED;
  rb_thread_call_with_gvl(fp_rb_call_with_gvl, a);
  return a->result;
}

static int fp_write_cb(const char *data, size_t len, void *payload) {
  fp_call a = {(fp_calls *)payload, FP_CALL_WRITE, data, NULL, len, 0, 0, 0};
  return (int)fp_rb_call(&a);
}

static long long fp_read_cb(char *buf, size_t size, void *payload) {
  fp_call a = {(fp_calls *)payload, FP_CALL_READ, NULL, buf, size, 0, 0, 0};
  return fp_rb_call(&a);
}

static int fp_progress_cb(uint64_t rows, uint64_t bytes, void *payload) {
  fp_call a = {(fp_calls *)payload, FP_CALL_PROGRESS, NULL, NULL, 0, rows, bytes, 0};
  return (int)fp_rb_call(&a);
}

/* After the call, with the GVL: resumes a callback's jump (does not return then). */
static int fp_calls_reraise(fp_calls *c) {
  RB_GC_GUARD(c->write);
  RB_GC_GUARD(c->read);
  RB_GC_GUARD(c->progress);
  if (!NIL_P(c->exc))
    rb_exc_raise(c->exc);
  if (c->state)
    rb_jump_tag(c->state);
  return 0;
}
%}

%typemap(in) fp_obj "$1 = $input;"
%typemap(out) fp_obj "$result = $1;"

/* `const char *NULLABLE`: like const char *, and nil means NULL. */
%typemap(in) const char *NULLABLE (volatile VALUE keep = Qnil) {
  $1 = NIL_P($input) ? NULL : ($1_ltype)fp_rb_cstr($input, &keep);
}
%typemap(freearg) const char *NULLABLE "RB_GC_GUARD(keep$argnum);"

/* A byte buffer: a String's bytes whatever its encoding; nil is empty. */
%typemap(in) (const void *BYTES, size_t LENGTH) (volatile VALUE keep = Qnil) {
  if (NIL_P($input)) {
    $1 = NULL;
    $2 = 0;
  } else {
    /* A frozen copy (shared, copy on write): another thread may change the caller's String
     * while a call runs without the GVL. */
    keep = rb_str_new_frozen(StringValue($input));
    $1 = RSTRING_PTR(keep);
    $2 = (size_t)RSTRING_LEN(keep);
  }
}
%typemap(freearg) (const void *BYTES, size_t LENGTH) "RB_GC_GUARD(keep$argnum);"

%init %{
  fp_rb_init_errors();
%}

%typemap(out) fastepost_status {
  if ($1 != FASTEPOST_OK)
    fp_failure_capture(fp_rb_pending(), $1);
  $result = Qnil;
}
%typemap(ret) fastepost_status {
  if ($1 != FASTEPOST_OK)
    fp_raise_failure(fp_rb_pending());
}

%typemap(in) const char * (volatile VALUE keep = Qnil) {
  $1 = ($1_ltype)fp_rb_cstr($input, &keep);
}
%typemap(freearg) const char * "RB_GC_GUARD(keep$argnum);"
%typemap(out) const char * "$result = fp_str_new($1);"
/* String constants (Core::VERSION): UTF-8 and frozen, like a literal. */
%typemap(constcode, noblock=1) char *, const char * {
  rb_define_const($module, "$symname", rb_obj_freeze(fp_str_new($value)));
}

/* Ruby constructors raise directly: nothing is allocated yet when they fail. */
%define %fastepost_ctor_check(TYPE)
%enddef

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
