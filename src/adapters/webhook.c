/* SPDX-License-Identifier: MIT */
/* The webhook request object (see fastepost/webhook.h). */
#include <stdlib.h>
#include <string.h>

#include "adapters/adapter.h"
#include "fastepost/webhook.h"
#include "internal.h"
#include "util/time.h"

typedef struct header {
  char *name, *value;
} header;

struct fastepost_webhook_request {
  char *method;
  char *uri;
  header *headers;
  size_t nheaders, cap;
  char *body; /* NUL-terminated after len bytes */
  size_t len;
  const fastepost__clock *clock; /* a view's processing clock (adapter.h); NULL: the host's */
};

static void wipe_free(char *s, size_t n) {
  if (!s)
    return;
  for (volatile char *p = s; p < s + n; p++)
    *p = 0;
  free(s);
}

static void wipe_str(char *s) { wipe_free(s, s ? strlen(s) : 0); }

fastepost_status fastepost_webhook_request_new(fastepost_webhook_request **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_request_new: out is NULL");
  fastepost_webhook_request *r = calloc(1, sizeof *r);
  if (r) {
    r->method = fastepost__strdup("POST");
    r->uri = fastepost__strdup("");
    r->body = calloc(1, 1);
  }
  if (!r || !r->method || !r->uri || !r->body) {
    fastepost_webhook_request_free(r);
    *out = NULL;
    return fastepost__error_oom();
  }
  *out = r;
  return FASTEPOST_OK;
}

void fastepost_webhook_request_free(fastepost_webhook_request *r) {
  if (!r)
    return;
  free(r->method);
  free(r->uri);
  for (size_t i = 0; i < r->nheaders; i++) {
    free(r->headers[i].name);
    wipe_str(r->headers[i].value);
  }
  free(r->headers);
  wipe_free(r->body, r->len);
  free(r);
}

static int replace(char **slot, const char *s, const char *what) {
  if (!s)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_request: the %s is NULL", what);
  char *copy = fastepost__strdup(s);
  if (!copy)
    return FASTEPOST_ENOMEM;
  free(*slot);
  *slot = copy;
  return FASTEPOST_OK;
}

fastepost_status fastepost_webhook_request_set_method(fastepost_webhook_request *r, const char *method) {
  if (!r)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_request_set_method: req is NULL");
  return replace(&r->method, method, "method");
}

fastepost_status fastepost_webhook_request_set_uri(fastepost_webhook_request *r, const char *uri) {
  if (!r)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_request_set_uri: req is NULL");
  return replace(&r->uri, uri, "URI");
}

static header *find(const fastepost_webhook_request *r, const char *name) {
  for (size_t i = 0; r && name && i < r->nheaders; i++)
    if (fastepost__ascii_casecmp(r->headers[i].name, name) == 0)
      return &r->headers[i];
  return NULL;
}

fastepost_status fastepost_webhook_request_set_header(fastepost_webhook_request *r, const char *name,
                                                      const char *value) {
  if (!r || !name || !*name)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_request_set_header: %s",
                                r ? "the header name is NULL or empty" : "req is NULL");
  header *h = find(r, name);
  if (!value) {
    if (h) {
      free(h->name);
      wipe_str(h->value);
      *h = r->headers[--r->nheaders];
    }
    return FASTEPOST_OK;
  }
  char *v = fastepost__strdup(value);
  if (!v)
    return FASTEPOST_ENOMEM;
  if (h) {
    wipe_str(h->value);
    h->value = v;
    return FASTEPOST_OK;
  }
  if (r->nheaders == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    header *grown = realloc(r->headers, cap * sizeof *grown);
    if (!grown) {
      wipe_str(v);
      return fastepost__error_oom();
    }
    r->headers = grown;
    r->cap = cap;
  }
  char *n = fastepost__strdup(name);
  if (!n) {
    wipe_str(v);
    return FASTEPOST_ENOMEM;
  }
  r->headers[r->nheaders++] = (header){n, v};
  return FASTEPOST_OK;
}

fastepost_status fastepost_webhook_request_set_body(fastepost_webhook_request *r, const void *body, size_t len) {
  if (!r || (!body && len))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_request_set_body: %s",
                                r ? "the body is NULL but its length is not 0" : "req is NULL");
  if (len == SIZE_MAX)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "a body of SIZE_MAX bytes");
  char *copy = malloc(len + 1);
  if (!copy)
    return fastepost__error_oom();
  if (len)
    memcpy(copy, body, len);
  copy[len] = '\0';
  wipe_free(r->body, r->len);
  r->body = copy;
  r->len = len;
  return FASTEPOST_OK;
}

const char *fastepost_webhook_request_method(const fastepost_webhook_request *r) { return r ? r->method : ""; }
const char *fastepost_webhook_request_uri(const fastepost_webhook_request *r) { return r ? r->uri : ""; }

const char *fastepost_webhook_request_header(const fastepost_webhook_request *r, const char *name) {
  const header *h = find(r, name);
  return h ? h->value : "";
}

int fastepost_webhook_request_has_header(const fastepost_webhook_request *r, const char *name) {
  return find(r, name) != NULL;
}

size_t fastepost_webhook_request_body_len(const fastepost_webhook_request *r) { return r ? r->len : 0; }
const void *fastepost_webhook_request_body(const fastepost_webhook_request *r) { return r ? r->body : ""; }

/* ---- views with a processing clock (adapter.h) ------------------------------------------------ */

int fastepost__webhook_request_view(fastepost_webhook_request **out, const fastepost_webhook_request *req,
                                    const fastepost__clock *clock) {
  *out = malloc(sizeof **out);
  if (!*out)
    return fastepost__error_oom();
  **out = *req; /* borrowed strings: the view is released with free() alone */
  (*out)->clock = clock;
  return FASTEPOST_OK;
}

void fastepost__webhook_request_view_free(fastepost_webhook_request *view) { free(view); }

int64_t fastepost__webhook_request_now_us(const fastepost_webhook_request *req) {
  if (req && req->clock && req->clock->fn)
    return req->clock->fn(req->clock->payload);
  return fastepost__time_now_us();
}

/* ---- query parameters (adapter.h) ------------------------------------------------------------ */

char *fastepost__uri_query_param(const char *uri, const char *name) {
  const char *q = uri && name ? strchr(uri, '?') : NULL;
  if (!q)
    return NULL;
  size_t nlen = strlen(name);
  while (q && *q) {
    q++;
    size_t n = strcspn(q, "&#");
    if (n > nlen && strncmp(q, name, nlen) == 0 && q[nlen] == '=') {
      const char *v = q + nlen + 1;
      size_t vlen = n - nlen - 1;
      char *out = malloc(vlen + 1);
      size_t o = 0;
      for (size_t i = 0; out && i < vlen; i++) {
        if (v[i] == '+') {
          out[o++] = ' ';
        } else if (v[i] == '%' && i + 2 < vlen && fastepost__ascii_isxdigit((unsigned char)v[i + 1]) &&
                   fastepost__ascii_isxdigit((unsigned char)v[i + 2])) {
          char hex[3] = {v[i + 1], v[i + 2], 0};
          out[o++] = (char)strtol(hex, NULL, 16);
          i += 2;
        } else {
          out[o++] = v[i];
        }
      }
      if (out)
        out[o] = '\0';
      return out;
    }
    q += n;
    if (*q == '#')
      break;
  }
  return NULL;
}
