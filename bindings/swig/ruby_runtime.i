/* SPDX-License-Identifier: MIT */
/* The Ruby half of the machinery of fastepost.i (included there for SWIGRUBY only): the
 * exception classes, the typemaps and the helpers that touch the interpreter. */
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
