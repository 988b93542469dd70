/*
 * fastepost.i: the SWIG interface of libfastepost, for Python and Ruby.
 *
 * This file holds the machinery every module shares; each module of the C API has its own piece
 * in swig/<module>.i, included at the bottom. The SWIG layer mirrors the C API one to one
 * (prefix stripped: fastepost_schema_install -> core.schema_install); the idiomatic layers
 * (python/fastepost/__init__.py, ruby/lib/fastepost.rb) are written by hand on top of it.
 *
 * The rules, applied here once so that a module piece stays a few lines (docs/bindings.md):
 *  - a fastepost_status return value never reaches the language: success becomes nothing (the
 *    out-parameters are the return value), failure raises the exception class of the code
 *    (fastepost.NotFoundError, Fastepost::NotFoundError ...) with code, sqlstate and message;
 *  - out-parameters become return values: `char **out` a string, `int *applied` an integer,
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
  PyObject *dict = Py_BuildValue("{s:i,s:s,s:s}", "code", code, "sqlstate", "", "message", "");
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
 * code, sqlstate and message. */
static void fp_raise_failure(const fp_failure *f) {
  int i = fp_class_index(f->code);
  PyObject *cls = i >= 0 ? fp_py_classes[i] : fp_py_error;
  if (!cls) {
    PyErr_SetString(PyExc_RuntimeError, f->message);
    return;
  }
  /* "replace": a server message may quote bytes that are not UTF-8 (a bad name, say). */
  PyObject *message = PyUnicode_DecodeUTF8(f->message, (Py_ssize_t)strlen(f->message), "replace");
  if (!message)
    return;
  PyObject *exc = PyObject_CallOneArg(cls, message);
  if (!exc) {
    Py_DECREF(message);
    return;
  }
  PyObject *code = PyLong_FromLong(f->code);
  PyObject *sqlstate = PyUnicode_FromString(f->sqlstate);
  if (code && sqlstate && PyObject_SetAttrString(exc, "code", code) == 0 &&
      PyObject_SetAttrString(exc, "sqlstate", sqlstate) == 0 &&
      PyObject_SetAttrString(exc, "message", message) == 0)
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_XDECREF(code);
  Py_XDECREF(sqlstate);
  Py_XDECREF(message);
  Py_DECREF(exc);
}

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
%}

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
  rb_define_const(fp_rb_error, "CODE", INT2NUM(FASTEPOST_ERROR));
  for (size_t i = 0; i < FP_NCLASSES; i++) {
    fp_rb_classes[i] = rb_define_class_under(mod, fp_error_classes[i].name, fp_rb_error);
    rb_define_const(fp_rb_classes[i], "CODE", INT2NUM(fp_error_classes[i].code));
  }
}

/* Raise the code's Fastepost::Error subclass (does not return). */
static void fp_raise_failure(const fp_failure *f) {
  int i = fp_class_index(f->code);
  VALUE cls = i >= 0 ? fp_rb_classes[i] : fp_rb_error;
  VALUE message = rb_utf8_str_new_cstr(f->message);
  VALUE scrubbed = rb_str_scrub(message, Qnil); /* a server message may quote non-UTF-8 bytes */
  VALUE exc = rb_exc_new_str(cls, NIL_P(scrubbed) ? message : scrubbed);
  rb_iv_set(exc, "@code", INT2NUM(f->code));
  rb_iv_set(exc, "@sqlstate", rb_utf8_str_new_cstr(f->sqlstate));
  rb_exc_raise(exc);
}

static void fp_run_unlocked(fp_unlocked_fn fn, void *arg) {
  /* No unblocking function: libpq cannot be interrupted from outside, so Thread#raise and
   * Thread#kill take effect when the call returns (bound it with a statement timeout). */
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
%}

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

/* Generates FN##__unlocked(args...), which runs FN(args...) with the interpreter lock
 * released. One macro per arity (C has no closures to capture the arguments with). */
#define FP_UNLOCKED_DEF(FN, PARAMS, FIELDS, INIT, CALL)                                         \
  typedef struct { FIELDS fastepost_status rc; } FN##__args;                                 \
  static void *FN##__thunk(void *p) {                                                        \
    FN##__args *a = (FN##__args *)p;                                                         \
    a->rc = FN CALL;                                                                         \
    return NULL;                                                                             \
  }                                                                                          \
  static fastepost_status FN##__unlocked PARAMS {                                            \
    FN##__args a = {INIT FASTEPOST_OK};                                                      \
    fp_run_unlocked(FN##__thunk, &a);                                                        \
    return a.rc;                                                                             \
  }
#define FP_UNLOCKED1(FN, T1) \
  FP_UNLOCKED_DEF(FN, (T1 a1), T1 a1;, a1 FP_COMMA, (a->a1))
#define FP_UNLOCKED2(FN, T1, T2) \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2), T1 a1; T2 a2;, a1 FP_COMMA a2 FP_COMMA, (a->a1, a->a2))
#define FP_UNLOCKED3(FN, T1, T2, T3)                                                         \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3), T1 a1; T2 a2; T3 a3;,                           \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA, (a->a1, a->a2, a->a3))
#define FP_UNLOCKED4(FN, T1, T2, T3, T4)                                                     \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4), T1 a1; T2 a2; T3 a3; T4 a4;,             \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA,                           \
                  (a->a1, a->a2, a->a3, a->a4))
#define FP_UNLOCKED5(FN, T1, T2, T3, T4, T5)                                                 \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4, T5 a5), T1 a1; T2 a2; T3 a3; T4 a4;       \
                  T5 a5;, a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA a5 FP_COMMA,       \
                  (a->a1, a->a2, a->a3, a->a4, a->a5))
#define FP_UNLOCKED6(FN, T1, T2, T3, T4, T5, T6)                                             \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6), T1 a1; T2 a2; T3 a3;       \
                  T4 a4; T5 a5; T6 a6;,                                                      \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA a5 FP_COMMA a6 FP_COMMA,   \
                  (a->a1, a->a2, a->a3, a->a4, a->a5, a->a6))
#define FP_UNLOCKED7(FN, T1, T2, T3, T4, T5, T6, T7)                                         \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7), T1 a1; T2 a2; T3 a3; \
                  T4 a4; T5 a5; T6 a6; T7 a7;,                                               \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA a5 FP_COMMA a6 FP_COMMA    \
                  a7 FP_COMMA, (a->a1, a->a2, a->a3, a->a4, a->a5, a->a6, a->a7))
#define FP_UNLOCKED8(FN, T1, T2, T3, T4, T5, T6, T7, T8)                                     \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8), T1 a1; T2 a2; \
                  T3 a3; T4 a4; T5 a5; T6 a6; T7 a7; T8 a8;,                                 \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA a5 FP_COMMA a6 FP_COMMA    \
                  a7 FP_COMMA a8 FP_COMMA, (a->a1, a->a2, a->a3, a->a4, a->a5, a->a6, a->a7, a->a8))
#define FP_COMMA ,
%}

/*
 * %fastepost_blocking(N, fn, T1, ..., TN): fn waits on the database or on a program, so every
 * call of it from the wrapper (the function itself, and %extend code below this line) runs
 * with the GIL/GVL released. fn must return fastepost_status; N is its number of parameters
 * (1 to 8).
 */
%define %fastepost_blocking(N, FN, ...)
%header %{
FP_UNLOCKED##N(FN, __VA_ARGS__)
#define FN FN##__unlocked
%}
%enddef

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

/* Test hook (see fp_raise_code): raise the exception class of `code`. */
%rename(_raise_code) fp_raise_code;
void fp_raise_code(int code, const char *message, const char *sqlstate);

/* ---------------------------------------------------------------------------------------- */
/* The modules, in dependency order. To add one: write swig/<module>.i and list it here. */
%include "swig/common.i"
%include "swig/errors.i"
%include "swig/conn.i"
%include "swig/schema.i"
