/* SPDX-License-Identifier: MIT */
/*
 * The HTTP client (http.h) on libcurl. Why each libcurl option is set is said where it is set;
 * the rules themselves are in http.h.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastepost/version.h"
#include "http/http.h"
#include "internal.h"
#include "util/time.h"

/* ---- once per process ------------------------------------------------------------------------ */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_code = CURLE_FAILED_INIT;

static void global_init(void) { init_code = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- options --------------------------------------------------------------------------------- */

typedef struct limits {
  int64_t connect_us, total_us, backoff_us, max_wait_us;
  size_t max_response;
  int retries;
} limits;

static limits limits_of(const fastepost__http_options *o) {
  limits l = {FASTEPOST__HTTP_CONNECT_TIMEOUT_US, FASTEPOST__HTTP_TIMEOUT_US, FASTEPOST__HTTP_BACKOFF_US,
              FASTEPOST__HTTP_MAX_WAIT_US, FASTEPOST__HTTP_MAX_RESPONSE, FASTEPOST__HTTP_RETRIES};
  if (!o)
    return l;
  if (o->connect_timeout_us > 0)
    l.connect_us = o->connect_timeout_us;
  if (o->timeout_us > 0)
    l.total_us = o->timeout_us;
  if (o->backoff_us > 0)
    l.backoff_us = o->backoff_us;
  if (o->max_wait_us > 0)
    l.max_wait_us = o->max_wait_us;
  if (o->max_response > 0)
    l.max_response = o->max_response;
  if (o->retries)
    l.retries = o->retries < 0 ? 0 : o->retries;
  return l;
}

/* ---- the URL --------------------------------------------------------------------------------- */

/* The URL as it may appear in a message: without query or fragment (only the path and host). */
static void url_for_message(char *out, size_t size, const char *url) {
  /* the URL passed libcurl's parser, so it is printable; only its length is bounded here */
  int n = (int)strcspn(url, "?#");
  snprintf(out, size, "%.*s", n, url);
}

static bool loopback_host(const char *host) {
  return !fastepost__ascii_casecmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "[::1]") ||
         !strcmp(host, "::1");
}

/* http or https, no user info, plain http only to loopback. */
static int check_url(const char *url, const char *shown) {
  CURLU *u = curl_url();
  if (!u)
    return fastepost__error_oom();
  char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
  int rc = FASTEPOST_OK;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    rc = fastepost__error_set(FASTEPOST_EINVALID, "not a URL: \"%s\"", shown);
  } else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
             curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
    /* A password in a URL ends up in logs and process listings: keys travel in headers only. */
    rc = fastepost__error_set(FASTEPOST_EINVALID, "the URL must not hold a user name or password; "
                                                  "the API key is sent in a header");
  } else if (fastepost__ascii_casecmp(scheme, "https") != 0) {
    if (fastepost__ascii_casecmp(scheme, "http") != 0)
      rc = fastepost__error_set(FASTEPOST_EINVALID, "unsupported URL scheme in \"%s\": use https", shown);
    else if (!loopback_host(host))
      rc = fastepost__error_set(FASTEPOST_EINVALID,
                                "refusing plain http to %s: the API key would cross the network in clear "
                                "text; use https", host);
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(user);
  curl_free(password);
  curl_url_cleanup(u);
  return rc;
}

/* ---- Retry-After ----------------------------------------------------------------------------- */

int64_t fastepost__http_retry_after_us(const char *value, int64_t now_s, int64_t cap_us) {
  if (!value)
    return -1;
  while (*value == ' ' || *value == '\t')
    value++;
  int64_t secs;
  if (fastepost__ascii_isdigit((unsigned char)*value)) {
    size_t n = strspn(value, "0123456789");
    const char *rest = value + n;
    while (*rest == ' ' || *rest == '\t')
      rest++;
    if (*rest)
      return -1;
    /* More than 10 digits is more than any cap: no overflow. */
    secs = n > 10 ? INT64_MAX / 1000000 : strtoll(value, NULL, 10);
  } else {
    time_t t = curl_getdate(value, NULL);
    if (t == (time_t)-1)
      return -1;
    secs = (int64_t)t - now_s;
    if (secs < 0)
      secs = 0;
  }
  if (secs >= cap_us / 1000000)
    return cap_us;
  return secs * 1000000;
}

static void sleep_us(int64_t us) {
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
}

/* ---- one attempt ----------------------------------------------------------------------------- */

typedef struct sink {
  fastepost__buf buf;
  size_t limit;
  bool too_big;
} sink;

static size_t on_data(char *data, size_t size, size_t nmemb, void *payload) {
  sink *s = payload;
  size_t n = size * nmemb;
  if (n > s->limit || s->buf.len > s->limit - n) {
    s->too_big = true;
    return 0; /* aborts the transfer */
  }
  return fastepost__buf_append(&s->buf, data, n) == FASTEPOST_OK ? n : 0;
}

static bool retryable(long status) { return status == 429 || status == 502 || status == 503 || status == 504; }

static int transfer_error(CURLcode cc, const sink *s, const char *method, const char *shown, const char *detail,
                          size_t limit) {
  if (s->too_big || cc == CURLE_FILESIZE_EXCEEDED)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "%s %s: the response is larger than %zu bytes", method, shown,
                                limit);
  int code;
  switch (cc) {
  case CURLE_OPERATION_TIMEDOUT:
    code = FASTEPOST_ETIMEOUT;
    break;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
    code = FASTEPOST_ECONN;
    break;
  case CURLE_OUT_OF_MEMORY:
    return fastepost__error_oom();
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    code = FASTEPOST_EINVALID;
    break;
  default:
    code = FASTEPOST_EIO;
  }
  return fastepost__error_set(code, "%s %s: %s", method, shown, *detail ? detail : curl_easy_strerror(cc));
}

static int attempt(fastepost__http_response *out, int64_t *retry_after_us, const char *method, const char *url,
                   const char *shown, struct curl_slist *hdrs, const void *body, size_t len, const limits *l,
                   const char *ca_file) {
  CURL *h = curl_easy_init();
  if (!h)
    return fastepost__error_oom();
  char detail[CURL_ERROR_SIZE] = "";
  sink s = {FASTEPOST__BUF_INIT, l->max_response, false};
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a host's threads */
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROXY, ""); /* not from http_proxy & co: rule 14 */
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (ca_file)
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(l->connect_us / 1000 ? l->connect_us / 1000 : 1));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(l->total_us / 1000 ? l->total_us / 1000 : 1));
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)l->max_response);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* whatever this libcurl decodes */
  curl_easy_setopt(h, CURLOPT_USERAGENT, "libfastepost/" FASTEPOST_VERSION);
  if (!strcmp(method, "POST")) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  CURLcode cc = curl_easy_perform(h);
  int rc = FASTEPOST_OK;
  if (cc != CURLE_OK) {
    rc = transfer_error(cc, &s, method, shown, detail, l->max_response);
  } else {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    *retry_after_us = -1;
    struct curl_header *ra = NULL;
    if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &ra) == CURLHE_OK && ra)
      *retry_after_us = fastepost__http_retry_after_us(ra->value, fastepost__time_now_us() / 1000000,
                                                       l->max_wait_us);
    if (fastepost__buf_putc(&s.buf, '\0') != FASTEPOST_OK) {
      rc = FASTEPOST_ENOMEM;
    } else {
      out->len = s.buf.len - 1;
      out->body = fastepost__buf_detach(&s.buf);
    }
  }
  fastepost__buf_free(&s.buf);
  curl_easy_cleanup(h);
  return rc;
}

/* ---- the request ----------------------------------------------------------------------------- */

void fastepost__http_response_clear(fastepost__http_response *r) {
  if (!r)
    return;
  free(r->body);
  memset(r, 0, sizeof *r);
}

/* The header lines are copies, an Authorization among them: wiped before they are freed. */
static void free_headers(struct curl_slist *hdrs) {
  for (struct curl_slist *h = hdrs; h; h = h->next)
    for (volatile char *p = h->data; p && *p; p++)
      *p = 0;
  curl_slist_free_all(hdrs);
}

int fastepost__http_request(fastepost__http_response *out, const char *method, const char *url,
                            const char *const *headers, size_t nheaders, const void *body, size_t len,
                            const fastepost__http_options *opts) {
  memset(out, 0, sizeof *out);
  if (!method || !url || (strcmp(method, "GET") && strcmp(method, "POST")))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost__http_request: method GET or POST and a URL");
  pthread_once(&init_once, global_init);
  if (init_code != CURLE_OK)
    return fastepost__error_set(FASTEPOST_EIO, "libcurl failed to initialise: %s", curl_easy_strerror(init_code));
  char shown[256];
  url_for_message(shown, sizeof shown, url);
  int rc = check_url(url, shown);
  if (rc)
    return rc;
  struct curl_slist *hdrs = NULL;
  for (size_t i = 0; i < nheaders; i++) {
    struct curl_slist *next = curl_slist_append(hdrs, headers[i]);
    if (!next) {
      free_headers(hdrs);
      return fastepost__error_oom();
    }
    hdrs = next;
  }
  limits l = limits_of(opts);
  int64_t backoff = l.backoff_us;
  for (int i = 0;; i++) {
    fastepost__http_response_clear(out);
    int64_t retry_after = -1;
    rc = attempt(out, &retry_after, method, url, shown, hdrs, body, len, &l, opts ? opts->ca_file : NULL);
    out->attempts = i + 1;
    if (rc || !retryable(out->status) || i >= l.retries)
      break;
    int64_t wait = retry_after >= 0 ? retry_after : backoff;
    if (wait > l.max_wait_us)
      wait = l.max_wait_us;
    sleep_us(wait);
    if (backoff < l.max_wait_us / 2)
      backoff *= 2;
  }
  free_headers(hdrs);
  if (rc)
    fastepost__http_response_clear(out);
  return rc;
}
