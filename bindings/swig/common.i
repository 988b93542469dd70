/* SPDX-License-Identifier: MIT */
/* common.h and version.h: the status type, fastepost_free, the library's version. */
%ignore fastepost_free; /* the typemaps free what the library hands out */
%apply int *OUTPUT { int *major, int *minor, int *patch };
%include "fastepost/common.h"
%include "fastepost/version.h"

/* ---------------------------------------------------------------------------------------- */
/* Blocking calls: the GIL/GVL is released while the library waits on the database. */

%header %{
#ifdef SWIGRUBY
/* Ruby's unblocking function (Thread#raise, Thread#kill, Timeout, Ctrl-C): it runs on another
 * thread while the call waits and asks the server to cancel the call's statement, so the call
 * returns (FASTEPOST_ECANCELED) and Ruby raises the pending exception. fastepost_conn_cancel
 * is safe from any thread; Ruby stops calling this before the blocking region ends, so the
 * connection is alive. */
static void fp_rb_cancel_ubf(void *conn) { (void)fastepost_conn_cancel((fastepost_conn *)conn); }

static void fp_run_unlocked_conn(fp_unlocked_fn fn, void *arg, fastepost_conn *conn) {
  if (conn)
    rb_thread_call_without_gvl(fn, arg, fp_rb_cancel_ubf, conn);
  else
    fp_run_unlocked(fn, arg);
}
#else
/* Python delivers signals and exceptions between bytecodes only: a waiting call is stopped by
 * Connection.cancel() from another thread (or a statement timeout). */
static void fp_run_unlocked_conn(fp_unlocked_fn fn, void *arg, fastepost_conn *conn) {
  (void)conn;
  fp_run_unlocked(fn, arg);
}
#endif

/* The call's connection: its first fastepost_conn * argument (NULL when it has none, e.g.
 * backups that run pg_dump: those cannot be interrupted). */
#define FP_CONN_OF(x) _Generic((x), fastepost_conn *: (x), default: (fastepost_conn *)NULL)
#define FP_PICK(x) if (!fp_conn) fp_conn = FP_CONN_OF(x);

/* Generates FN##__unlocked(args...), which runs FN(args...) with the interpreter lock
 * released and the call's connection as what an interruption cancels. One macro per arity
 * (C has no closures to capture the arguments with). */
#define FP_UNLOCKED_DEF(FN, PARAMS, FIELDS, INIT, CALL, PICKS)                                  \
  typedef struct { FIELDS fastepost_status rc; } FN##__args;                                 \
  static void *FN##__thunk(void *p) {                                                        \
    FN##__args *a = (FN##__args *)p;                                                         \
    a->rc = FN CALL;                                                                         \
    return NULL;                                                                             \
  }                                                                                          \
  static fastepost_status FN##__unlocked PARAMS {                                            \
    FN##__args a = {INIT FASTEPOST_OK};                                                      \
    fastepost_conn *fp_conn = NULL;                                                          \
    PICKS                                                                                    \
    fp_run_unlocked_conn(FN##__thunk, &a, fp_conn);                                          \
    return a.rc;                                                                             \
  }
#define FP_UNLOCKED1(FN, T1) \
  FP_UNLOCKED_DEF(FN, (T1 a1), T1 a1;, a1 FP_COMMA, (a->a1), FP_PICK(a1))
#define FP_UNLOCKED2(FN, T1, T2) \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2), T1 a1; T2 a2;, a1 FP_COMMA a2 FP_COMMA, (a->a1, a->a2), \
                  FP_PICK(a1) FP_PICK(a2))
#define FP_UNLOCKED3(FN, T1, T2, T3)                                                         \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3), T1 a1; T2 a2; T3 a3;,                           \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA, (a->a1, a->a2, a->a3),                \
                  FP_PICK(a1) FP_PICK(a2) FP_PICK(a3))
#define FP_UNLOCKED4(FN, T1, T2, T3, T4)                                                     \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4), T1 a1; T2 a2; T3 a3; T4 a4;,             \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA,                           \
                  (a->a1, a->a2, a->a3, a->a4), FP_PICK(a1) FP_PICK(a2) FP_PICK(a3) FP_PICK(a4))
#define FP_UNLOCKED5(FN, T1, T2, T3, T4, T5)                                                 \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4, T5 a5), T1 a1; T2 a2; T3 a3; T4 a4;       \
                  T5 a5;, a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA a5 FP_COMMA,       \
                  (a->a1, a->a2, a->a3, a->a4, a->a5),                                       \
                  FP_PICK(a1) FP_PICK(a2) FP_PICK(a3) FP_PICK(a4) FP_PICK(a5))
#define FP_UNLOCKED6(FN, T1, T2, T3, T4, T5, T6)                                             \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6), T1 a1; T2 a2; T3 a3;       \
                  T4 a4; T5 a5; T6 a6;,                                                      \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA a5 FP_COMMA a6 FP_COMMA,   \
                  (a->a1, a->a2, a->a3, a->a4, a->a5, a->a6),                                \
                  FP_PICK(a1) FP_PICK(a2) FP_PICK(a3) FP_PICK(a4) FP_PICK(a5) FP_PICK(a6))
#define FP_UNLOCKED7(FN, T1, T2, T3, T4, T5, T6, T7)                                         \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7), T1 a1; T2 a2; T3 a3; \
                  T4 a4; T5 a5; T6 a6; T7 a7;,                                               \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA a5 FP_COMMA a6 FP_COMMA    \
                  a7 FP_COMMA, (a->a1, a->a2, a->a3, a->a4, a->a5, a->a6, a->a7),            \
                  FP_PICK(a1) FP_PICK(a2) FP_PICK(a3) FP_PICK(a4) FP_PICK(a5) FP_PICK(a6)    \
                  FP_PICK(a7))
#define FP_UNLOCKED8(FN, T1, T2, T3, T4, T5, T6, T7, T8)                                     \
  FP_UNLOCKED_DEF(FN, (T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8), T1 a1; T2 a2; \
                  T3 a3; T4 a4; T5 a5; T6 a6; T7 a7; T8 a8;,                                 \
                  a1 FP_COMMA a2 FP_COMMA a3 FP_COMMA a4 FP_COMMA a5 FP_COMMA a6 FP_COMMA    \
                  a7 FP_COMMA a8 FP_COMMA, (a->a1, a->a2, a->a3, a->a4, a->a5, a->a6, a->a7, a->a8), \
                  FP_PICK(a1) FP_PICK(a2) FP_PICK(a3) FP_PICK(a4) FP_PICK(a5) FP_PICK(a6)    \
                  FP_PICK(a7) FP_PICK(a8))
#define FP_COMMA ,
%}

/*
 * %fastepost_blocking(N, fn, T1, ..., TN): fn waits on the database or on a program, so every
 * call of it from the wrapper (the function itself, and %extend code below this line) runs
 * with the GIL/GVL released. fn must return fastepost_status; N is its number of parameters
 * (1 to 8). In Ruby, an interruption (Timeout, Thread#raise, Ctrl-C) cancels the statement
 * running on fn's first fastepost_conn * argument (fastepost_conn_cancel), so the call returns
 * at once and the exception is raised; a call without a connection finishes first.
 */
%define %fastepost_blocking(N, FN, ...)
%header %{
FP_UNLOCKED##N(FN, __VA_ARGS__)
#define FN FN##__unlocked
%}
%enddef
