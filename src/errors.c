/* SPDX-License-Identifier: MIT */
/* The per-thread error record behind fastepost_error_last(). */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MESSAGE_MAX 1024

typedef struct error_state {
  int code;
  char message[MESSAGE_MAX];
  char sqlstate[6];
  fastepost_error view; /* what fastepost_error_last() hands out; points into this struct */
} error_state;

/* The only mutable global state: thread-local, so threads never see each other's errors. */
static _Thread_local error_state tls_error;

static error_state *state(void) {
  error_state *s = &tls_error;
  s->view.code = s->code;
  s->view.message = s->message;
  s->view.sqlstate = s->sqlstate;
  return s;
}

const fastepost_error *fastepost_error_last(void) { return &state()->view; }

void fastepost_error_clear(void) {
  error_state *s = state();
  s->code = FASTEPOST_OK;
  s->message[0] = '\0';
  s->sqlstate[0] = '\0';
  state();
}

int fastepost__error_setv(int code, const char *fmt, va_list ap) {
  error_state *s = state();
  char tmp[MESSAGE_MAX];
  /* Format into a scratch buffer: a caller may pass the current message as an argument. */
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  memcpy(s->message, tmp, sizeof tmp);
  s->code = code;
  s->sqlstate[0] = '\0';
  state();
  return code;
}

int fastepost__error_set(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fastepost__error_setv(code, fmt, ap);
  va_end(ap);
  return code;
}

int fastepost__error_set_sqlstate(int code, const char *sqlstate, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fastepost__error_setv(code, fmt, ap);
  va_end(ap);
  if (sqlstate && strlen(sqlstate) == 5)
    memcpy(tls_error.sqlstate, sqlstate, 6);
  return code;
}

int fastepost__error_oom(void) {
  return fastepost__error_set(FASTEPOST_ENOMEM, "out of memory");
}

void fastepost__error_prefix(const char *fmt, ...) {
  error_state *s = state();
  char prefix[256];
  char tmp[MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  /* Truncation is fine here: a message is a summary, and the prefix matters more. */
  size_t plen = strlen(prefix), mlen = strlen(s->message);
  if (plen > sizeof tmp - 3)
    plen = sizeof tmp - 3;
  memcpy(tmp, prefix, plen);
  memcpy(tmp + plen, ": ", 2);
  if (mlen > sizeof tmp - plen - 3)
    mlen = sizeof tmp - plen - 3;
  memcpy(tmp + plen + 2, s->message, mlen);
  tmp[plen + 2 + mlen] = '\0';
  memcpy(s->message, tmp, sizeof tmp);
}

static const struct {
  int code;
  const char *name;
  const char *text;
} codes[] = {
    {FASTEPOST_OK, "FASTEPOST_OK", "success"},
    {FASTEPOST_ERROR, "FASTEPOST_ERROR", "error"},
    {FASTEPOST_ENOMEM, "FASTEPOST_ENOMEM", "out of memory"},
    {FASTEPOST_EINVALID, "FASTEPOST_EINVALID", "invalid argument or input"},
    {FASTEPOST_ENOTFOUND, "FASTEPOST_ENOTFOUND", "not found"},
    {FASTEPOST_ECONFLICT, "FASTEPOST_ECONFLICT", "conflict with existing data"},
    {FASTEPOST_EPARSE, "FASTEPOST_EPARSE", "cannot parse input"},
    {FASTEPOST_EDB, "FASTEPOST_EDB", "database error"},
    {FASTEPOST_ECONN, "FASTEPOST_ECONN", "database connection failed"},
    {FASTEPOST_EIO, "FASTEPOST_EIO", "input/output error"},
    {FASTEPOST_EEXTERNAL, "FASTEPOST_EEXTERNAL", "external program failed"},
    {FASTEPOST_EAUTH, "FASTEPOST_EAUTH", "authentication failed"},
    {FASTEPOST_ETOOBIG, "FASTEPOST_ETOOBIG", "input too large"},
    {FASTEPOST_ENOKEY, "FASTEPOST_ENOKEY", "no key configured"},
    {FASTEPOST_EVERSION, "FASTEPOST_EVERSION", "incompatible version"},
    {FASTEPOST_ECANCELED, "FASTEPOST_ECANCELED", "canceled"},
    {FASTEPOST_EBUSY, "FASTEPOST_EBUSY", "temporary failure, try again"},
    {FASTEPOST_ETIMEOUT, "FASTEPOST_ETIMEOUT", "timed out"},
    {FASTEPOST_EFULL, "FASTEPOST_EFULL", "storage full"},
    {FASTEPOST_EREADONLY, "FASTEPOST_EREADONLY", "the database is read-only"},
};

const char *fastepost_strerror(int code) {
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (codes[i].code == code)
      return codes[i].text;
  return "unknown error";
}

const char *fastepost_error_name(int code) {
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (codes[i].code == code)
      return codes[i].name;
  return "FASTEPOST_UNKNOWN";
}
