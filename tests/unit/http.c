/* SPDX-License-Identifier: MIT */
/* The HTTP client (src/http/) and the Odoo client (src/odoo_client/) against the stand-in Odoo
 * server (tests/fake_odoo/): TLS rules, timeouts, limits, retries, and Odoo's errors mapped. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fake_odoo/harness.h"
#include "internal.h"
#include "odoo_client/odoo_client.h"
#include "util/time.h"

#define KEY "fake-api-key"

TestSuite(http, .init = fake_odoo_start, .fini = fake_odoo_stop);

static double now_s(void) { return (double)fastepost__time_monotonic_us() / 1e6; }

static int post(fastepost__http_response *r, const char *path, const char *body, const fastepost__http_options *o) {
  char url[256];
  snprintf(url, sizeof url, "%s%s", fo.url, path);
  const char *headers[] = {"Authorization: bearer " KEY, "Content-Type: application/json"};
  return fastepost__http_request(r, "POST", url, headers, 2, body, strlen(body), o);
}

Test(http, retry_after_values) {
  int64_t cap = 30 * INT64_C(1000000);
  cr_assert_eq(fastepost__http_retry_after_us("3", 0, cap), 3000000);
  cr_assert_eq(fastepost__http_retry_after_us(" 7 ", 0, cap), 7000000);
  cr_assert_eq(fastepost__http_retry_after_us("0", 0, cap), 0);
  cr_assert_eq(fastepost__http_retry_after_us("99999999999999999999", 0, cap), cap);
  cr_assert_eq(fastepost__http_retry_after_us("3600", 0, cap), cap);
  cr_assert_eq(fastepost__http_retry_after_us("soon", 0, cap), -1);
  cr_assert_eq(fastepost__http_retry_after_us("5x", 0, cap), -1);
  cr_assert_eq(fastepost__http_retry_after_us(NULL, 0, cap), -1);
  /* an HTTP date: 10 s after now_s; in the past: no wait */
  cr_assert_eq(fastepost__http_retry_after_us("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480, cap), 10000000);
  cr_assert_eq(fastepost__http_retry_after_us("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490, cap), 0);
}

Test(http, get_and_post_answer_with_status_and_body) {
  char url[256];
  snprintf(url, sizeof url, "%s/web/version", fo.url);
  fastepost__http_response r;
  cr_assert_eq(fastepost__http_request(&r, "GET", url, NULL, 0, NULL, 0, NULL), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(r.status, 200);
  cr_assert(strstr(r.body, "\"version_info\": [19"), "%s", r.body);
  cr_assert_eq(r.attempts, 1);
  fastepost__http_response_clear(&r);
  snprintf(url, sizeof url, "%s/nowhere", fo.url);
  cr_assert_eq(fastepost__http_request(&r, "GET", url, NULL, 0, NULL, 0, NULL), 0);
  cr_assert_eq(r.status, 404);
  fastepost__http_response_clear(&r);
  cr_assert_eq(post(&r, "/json/2/res.partner/search", "{\"domain\": []}", NULL), 0);
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.body, "[]");
  fastepost__http_response_clear(&r);
}

Test(http, plain_http_only_to_loopback_and_no_user_info_in_urls) {
  fastepost__http_response r;
  cr_assert_eq(fastepost__http_request(&r, "GET", "http://example.com/web/version", NULL, 0, NULL, 0, NULL),
               FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "use https"), "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost__http_request(&r, "GET", "https://bot:hunter2@127.0.0.1:1/x", NULL, 0, NULL, 0, NULL),
               FASTEPOST_EINVALID);
  cr_assert_null(strstr(fastepost_error_last()->message, "hunter2"), "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost__http_request(&r, "GET", "ftp://127.0.0.1/x", NULL, 0, NULL, 0, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost__http_request(&r, "GET", "not a url", NULL, 0, NULL, 0, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost__http_request(&r, "DELETE", "http://127.0.0.1/", NULL, 0, NULL, 0, NULL),
               FASTEPOST_EINVALID);
}

Test(http, tls_is_verified_and_failures_are_econn) {
  char url[256];
  fastepost__http_response r;
  /* https to a plain-text server: the handshake fails */
  snprintf(url, sizeof url, "https%s/web/version", fo.url + 4);
  cr_assert_eq(fastepost__http_request(&r, "GET", url, NULL, 0, NULL, 0, NULL), FASTEPOST_ECONN);
  fastepost__http_options o = {.ca_file = "/nonexistent/ca.pem"};
  cr_assert_eq(fastepost__http_request(&r, "GET", url, NULL, 0, NULL, 0, &o), FASTEPOST_ECONN);
  /* nobody listening */
  cr_assert_eq(fastepost__http_request(&r, "GET", "http://127.0.0.1:1/", NULL, 0, NULL, 0, NULL), FASTEPOST_ECONN);
  cr_assert(strstr(fastepost_error_last()->message, "GET http://127.0.0.1:1/"), "%s", fastepost_error_last()->message);
}

Test(http, retries_429_honouring_retry_after) {
  fake_odoo_do("fail", "{\"status\": 429, \"retry_after\": 1, \"count\": 1}");
  fastepost__http_response r;
  double t0 = now_s();
  cr_assert_eq(post(&r, "/json/2/res.partner/search", "{\"domain\": []}", NULL), 0);
  double took = now_s() - t0;
  cr_assert_eq(r.status, 200);
  cr_assert_eq(r.attempts, 2);
  cr_assert(took >= 0.9 && took < 5, "took %.2f s", took);
  fastepost__http_response_clear(&r);
}

Test(http, retries_are_bounded_and_waits_capped) {
  fake_odoo_do("fail", "{\"status\": 503, \"count\": 5}");
  fastepost__http_options o = {.retries = 2, .backoff_us = 10000};
  fastepost__http_response r;
  cr_assert_eq(post(&r, "/json/2/res.partner/search", "{}", &o), 0);
  cr_assert_eq(r.status, 503);
  cr_assert_eq(r.attempts, 3);
  fastepost__http_response_clear(&r);
  /* a server asking for an hour is waited for max_wait only */
  fake_odoo_do("reset", "{}");
  fake_odoo_do("fail", "{\"status\": 429, \"retry_after\": 3600, \"count\": 1}");
  o = (fastepost__http_options){.max_wait_us = 200000};
  double t0 = now_s();
  cr_assert_eq(post(&r, "/json/2/res.partner/search", "{}", &o), 0);
  cr_assert_eq(r.status, 200);
  cr_assert(now_s() - t0 < 2.0);
  fastepost__http_response_clear(&r);
  /* other statuses are not retried */
  fake_odoo_do("fail", "{\"status\": 500, \"count\": 1}");
  cr_assert_eq(post(&r, "/json/2/res.partner/search", "{}", NULL), 0);
  cr_assert_eq(r.status, 500);
  cr_assert_eq(r.attempts, 1);
  fastepost__http_response_clear(&r);
}

Test(http, a_slow_answer_times_out) {
  fake_odoo_do("slow", "{\"seconds\": 3, \"count\": 1}");
  fastepost__http_options o = {.timeout_us = 300000};
  fastepost__http_response r;
  double t0 = now_s();
  cr_assert_eq(post(&r, "/json/2/res.partner/search", "{}", &o), FASTEPOST_ETIMEOUT);
  cr_assert(now_s() - t0 < 2.0);
  cr_assert(strstr(fastepost_error_last()->message, "/json/2/res.partner/search"), "%s",
            fastepost_error_last()->message);
}

Test(http, a_large_answer_is_etoobig) {
  fake_odoo_do("bulk", "{\"count\": 200}");
  fastepost__http_options o = {.max_response = 1000};
  fastepost__http_response r;
  cr_assert_eq(post(&r, "/json/2/res.partner/search_read", "{\"domain\": []}", &o), FASTEPOST_ETOOBIG);
  cr_assert_null(r.body);
  o.max_response = 1 << 20;
  cr_assert_eq(post(&r, "/json/2/res.partner/search_read", "{\"domain\": []}", &o), 0);
  cr_assert(r.len > 1000);
  fastepost__http_response_clear(&r);
}

/* ---- the Odoo client ------------------------------------------------------------------------- */

static fastepost__odoo_client *client(const char *key, fastepost__odoo_proto proto) {
  fastepost__odoo_client *c = NULL;
  fastepost__http_options o = {.retries = -1};
  cr_assert_eq(fastepost__odoo_client_new(&c, fo.url, "fake", "bot", key, proto, &o), 0);
  return c;
}

static json_object *domain_kw(void) {
  json_object *kw = json_object_new_object();
  json_object_object_add(kw, "domain", json_object_new_array());
  return kw;
}

Test(http, odoo_client_detects_the_protocol) {
  static const struct {
    const char *server; /* the stand-in's settings */
    fastepost__odoo_proto want;
  } cases[] = {
      {"{}", FASTEPOST__ODOO_PROTO_JSON2}, /* 19.0 */
      {"{\"version\": [17, 0, 0, \"final\", 0, \"\"], \"json2\": false}", FASTEPOST__ODOO_PROTO_JSONRPC},
      /* no /web/version: common.version says saas~18.4, which has JSON-2 */
      {"{\"version\": [\"saas~18\", 4, 0, \"final\", 0, \"\"], \"web_version\": false}",
       FASTEPOST__ODOO_PROTO_JSON2},
      /* neither /web/version nor /jsonrpc (Odoo 22): JSON-2 */
      {"{\"web_version\": false, \"jsonrpc\": false}", FASTEPOST__ODOO_PROTO_JSON2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fake_odoo_do("reset", cases[i].server);
    fastepost__odoo_client *c = client(KEY, FASTEPOST__ODOO_PROTO_AUTO);
    cr_assert_eq(fastepost__odoo_client_connect(c), 0, "case %zu: %s", i, fastepost_error_last()->message);
    cr_assert_eq(fastepost__odoo_client_protocol(c), cases[i].want, "case %zu", i);
    fastepost__odoo_client_free(c);
  }
}

static void calls_both_ways(fastepost__odoo_proto proto) {
  fake_odoo_do("reset", "{}");
  fake_odoo_do("bulk", "{\"count\": 3}");
  fastepost__odoo_client *c = client(KEY, proto);
  json_object *kw = domain_kw(), *res = NULL;
  json_object_object_add(kw, "limit", json_object_new_int(2));
  cr_assert_eq(fastepost__odoo_client_call(&res, c, "res.partner", "search", "domain", kw), 0, "%s",
               fastepost_error_last()->message);
  cr_assert_str_eq(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN), "[1,2]");
  json_object_put(res);
  json_object_put(kw);
  /* a record that does not exist: MissingError -> ENOTFOUND, Odoo's message kept */
  kw = json_object_new_object();
  json_object *ids = json_object_new_array();
  json_object_array_add(ids, json_object_new_int(99));
  json_object_object_add(kw, "ids", ids);
  cr_assert_eq(fastepost__odoo_client_call(&res, c, "res.partner", "read", "ids", kw), FASTEPOST_ENOTFOUND);
  cr_assert(strstr(fastepost_error_last()->message, "MissingError") &&
                strstr(fastepost_error_last()->message, "Record does not exist"),
            "%s", fastepost_error_last()->message);
  /* a server error: EEXTERNAL with its message */
  cr_assert_eq(fastepost__odoo_client_call(&res, c, "res.partner", "crash", NULL, kw), FASTEPOST_EEXTERNAL);
  cr_assert(strstr(fastepost_error_last()->message, "division by zero"), "%s", fastepost_error_last()->message);
  json_object_put(kw);
  /* still 503 after the retries: EBUSY */
  fake_odoo_do("fail", "{\"status\": 503, \"count\": 1}");
  kw = domain_kw();
  cr_assert_eq(fastepost__odoo_client_call(&res, c, "res.partner", "search", "domain", kw), FASTEPOST_EBUSY);
  json_object_put(kw);
  fastepost__odoo_client_free(c);
}

Test(http, odoo_client_calls_and_maps_errors_json2) { calls_both_ways(FASTEPOST__ODOO_PROTO_JSON2); }
Test(http, odoo_client_calls_and_maps_errors_jsonrpc) { calls_both_ways(FASTEPOST__ODOO_PROTO_JSONRPC); }

Test(http, a_wrong_key_is_eauth_and_never_shown) {
  const char *wrong = "wrong-key-0123456789";
  for (int proto = 1; proto <= 2; proto++) {
    fastepost__odoo_client *c = client(wrong, (fastepost__odoo_proto)proto);
    json_object *kw = domain_kw(), *res = NULL;
    cr_assert_eq(fastepost__odoo_client_call(&res, c, "res.partner", "search", "domain", kw), FASTEPOST_EAUTH);
    const char *m = fastepost_error_last()->message;
    cr_assert_null(strstr(m, wrong), "%s", m);
    cr_assert(strstr(m, proto == 1 ? "Invalid apikey (HTTP 401)" : "refused the login"), "%s", m);
    json_object_put(kw);
    fastepost__odoo_client_free(c);
  }
  /* JSON-RPC without a user: refused before anything is sent */
  fastepost__odoo_client *c = NULL;
  cr_assert_eq(fastepost__odoo_client_new(&c, fo.url, "fake", NULL, KEY, FASTEPOST__ODOO_PROTO_JSONRPC, NULL), 0);
  cr_assert_eq(fastepost__odoo_client_connect(c), FASTEPOST_EINVALID);
  fastepost__odoo_client_free(c);
}

Test(http, the_key_travels_in_a_header_never_in_the_url) {
  fastepost__odoo_client *c = client(KEY, FASTEPOST__ODOO_PROTO_JSON2);
  json_object *kw = domain_kw(), *res = NULL;
  cr_assert_eq(fastepost__odoo_client_call(&res, c, "res.partner", "search", "domain", kw), 0);
  json_object_put(res);
  json_object_put(kw);
  fastepost__odoo_client_free(c);
  char *log = fake_odoo_admin("log", "{}");
  cr_assert(strstr(log, "\"path\": \"/json/2/res.partner/search\""), "%s", log);
  cr_assert(strstr(log, "\"authorization\": \"bearer \""), "%s", log);
  cr_assert(strstr(log, "X-Odoo-Database"), "%s", log);
  cr_assert_null(strstr(log, KEY), "%s", log); /* the log keeps paths and header names only */
  free(log);
}
