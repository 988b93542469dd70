/* SPDX-License-Identifier: MIT */
/* The Python half of the machinery of fastepost.i (included there for SWIGPYTHON only): the
 * exception classes, the typemaps and the helpers that touch the interpreter. */
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
