/* SPDX-License-Identifier: MIT */
/*
 * The library's only HTTP client, on libcurl (private; today Odoo's APIs use it,
 * src/odoo_client/). What every caller gets without asking:
 *   - TLS with peer and host verification always on (a CA file may be given; there is no
 *     switch to turn verification off). Plain http:// is accepted only for a loopback host
 *     (localhost, 127.0.0.0/8, ::1), so that a key never crosses a network in clear text.
 *   - bounded waits: a connect timeout and a total timeout per attempt, and a bounded response;
 *   - retries with exponential backoff on 429, 502, 503 and 504, honouring Retry-After (in
 *     seconds or as an HTTP date), capped, so a server cannot park the caller;
 *   - no redirects (a bearer header must not follow a Location to another host), no proxy from
 *     the environment (the library reads no environment variable, docs/api.md rule 14),
 *     http and https only;
 *   - secrets only in headers given per request: a URL with user:password@ is refused, and
 *     headers never appear in an error message.
 * curl_global_init runs once (pthread_once), so the client is safe from any thread; each
 * request uses its own easy handle.
 */
#ifndef FASTEPOST_HTTP_HTTP_H
#define FASTEPOST_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Defaults for fields left 0. */
#define FASTEPOST__HTTP_CONNECT_TIMEOUT_US (10 * INT64_C(1000000))
#define FASTEPOST__HTTP_TIMEOUT_US (60 * INT64_C(1000000))
#define FASTEPOST__HTTP_MAX_RESPONSE ((size_t)64 << 20)
#define FASTEPOST__HTTP_RETRIES 3
#define FASTEPOST__HTTP_BACKOFF_US (500 * INT64_C(1000))
#define FASTEPOST__HTTP_MAX_WAIT_US (30 * INT64_C(1000000))

typedef struct fastepost__http_options {
  const char *ca_file;        /* a PEM bundle to verify servers with; NULL: the system's */
  int64_t connect_timeout_us; /* per attempt; 0: 10 s */
  int64_t timeout_us;         /* whole attempt, connect included; 0: 60 s */
  size_t max_response;        /* largest body accepted; 0: 64 MiB */
  int retries;                /* extra attempts on 429/502/503/504; 0: 3, < 0: none */
  int64_t backoff_us;         /* first wait without Retry-After, doubled each time; 0: 0.5 s */
  int64_t max_wait_us;        /* cap on any one wait, Retry-After included; 0: 30 s */
} fastepost__http_options;

typedef struct fastepost__http_response {
  long status;    /* the HTTP status of the last attempt */
  char *body;     /* NUL-terminated (the NUL is not counted in len); owned */
  size_t len;
  int attempts;   /* how many requests were sent */
} fastepost__http_response;

/*
 * Send one request (method "GET" or "POST"; body may be NULL with len 0) with the given header
 * lines ("Name: value"; may hold secrets: they go to libcurl and nowhere else) and wait for the
 * answer. Any HTTP status is FASTEPOST_OK (out->status says which), after the retries for
 * 429/502/503/504 are spent. Failures: FASTEPOST_EINVALID (a bad URL, user info in it, plain
 * http to a host that is not loopback), FASTEPOST_ETIMEOUT (a timeout ran out),
 * FASTEPOST_ECONN (cannot resolve, connect, or verify TLS), FASTEPOST_ETOOBIG (the response is
 * over the limit), FASTEPOST_EIO (any other transfer failure), FASTEPOST_ENOMEM. The message
 * names the method and the URL without its query, never a header.
 */
int fastepost__http_request(fastepost__http_response *out, const char *method, const char *url,
                            const char *const *headers, size_t nheaders, const void *body, size_t len,
                            const fastepost__http_options *opts);
/* Release the body and zero r. */
void fastepost__http_response_clear(fastepost__http_response *r);

/* Retry-After (delta seconds or an HTTP date) as a wait in microseconds from now_s (Unix
 * seconds), capped at cap_us; -1 when the value is not one of these. Exposed for the tests. */
int64_t fastepost__http_retry_after_us(const char *value, int64_t now_s, int64_t cap_us);

#endif
