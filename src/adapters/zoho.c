/* SPDX-License-Identifier: MIT */
/*
 * The Zoho CRM adapter (adapter.h, issue 15): its configuration from the "zoho" section of the
 * webhook configuration, verification (a callback's channel_id + token, a workflow webhook's
 * token parameter), and the adapter table with retry (reprocess) and spool replay. Parsing is
 * in zoho_parse.c. Reached only through fastepost_webhook_process(): no public header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/webhook_config.h"
#include "adapters/zoho.h"
#include "util/form.h"
#include "util/json.h"

#define SOURCE FASTEPOST__ZOHO_SOURCE

/* ---- configuration ------------------------------------------------------------------------- */

static void config_free(void *config) {
  fastepost__zoho_config *c = config;
  if (!c)
    return;
  fastepost__strlist_free(&c->channel_ids);
  fastepost__config_wipe(&c->channel_tokens);
  fastepost__config_wipe(&c->workflow_tokens);
  free(c);
}

/* One entry of "channels": {"channel_id": "1000000068001" or 1000000068001, "token": "..."}.
 * Messages name the key, never the token. */
static int read_channel(fastepost__zoho_config *c, const json_object *ch, size_t i) {
  char path[64];
  snprintf(path, sizeof path, "zoho.channels[%zu]", i);
  static const char *const keys[] = {"channel_id", "token", NULL};
  int rc = fastepost__config_keys(ch, path, keys);
  if (rc)
    return rc;
  /* Zoho declares the id a long and sends it as a string: either is read as its digits. */
  json_object *idv = fastepost__json_get(ch, "channel_id");
  char num[24] = "";
  const char *id = json_object_is_type(idv, json_type_string) ? json_object_get_string(idv) : num;
  if (json_object_is_type(idv, json_type_int) && json_object_get_int64(idv) > 0 && json_object_get_int64(idv) < INT64_MAX)
    snprintf(num, sizeof num, "%lld", (long long)json_object_get_int64(idv));
  size_t n = strlen(id);
  if (!idv)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s.channel_id: missing", path);
  if (!n || n > 19 || strspn(id, "0123456789") != n)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s.channel_id: not a channel id (1 to 19 digits)", path);
  const char *token = NULL;
  if ((rc = fastepost__config_string(&token, ch, path, "token", true)))
    return rc;
  n = (size_t)json_object_get_string_len(fastepost__json_get(ch, "token"));
  if (!n || strlen(token) != n)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s.token: empty (a missing secret would accept anything)", path);
  if (n > FASTEPOST__ZOHO_MAX_CHANNEL_TOKEN)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s.token: longer than the %d characters Zoho CRM accepts", path,
                                FASTEPOST__ZOHO_MAX_CHANNEL_TOKEN);
  if ((rc = fastepost__strlist_add(&c->channel_ids, id)) || (rc = fastepost__strlist_add(&c->channel_tokens, token)))
    return rc;
  return FASTEPOST_OK;
}

/* {"channels": [{"channel_id", "token"}], "workflow_tokens": ["..."]}: either may be absent; with
 * neither, every request is refused (ENOKEY) by verify. */
static int config_new(void **out, json_object *section) {
  *out = NULL;
  static const char *const keys[] = {"channels", "workflow_tokens", NULL};
  int rc = fastepost__config_keys(section, "zoho", keys);
  if (rc)
    return rc;
  fastepost__zoho_config *c = calloc(1, sizeof *c);
  if (!c)
    return fastepost__error_oom();
  rc = fastepost__config_strings(&c->workflow_tokens, section, "zoho", "workflow_tokens", false);
  json_object *channels = fastepost__json_get(section, "channels");
  if (!rc && channels && (!json_object_is_type(channels, json_type_array) || !json_object_array_length(channels)))
    rc = fastepost__error_set(FASTEPOST_EINVALID, "zoho.channels: %s", json_object_is_type(channels, json_type_array)
                                                                           ? "empty (give at least one, or leave it out)"
                                                                           : "not an array of objects");
  for (size_t i = 0; !rc && channels && i < json_object_array_length(channels); i++)
    rc = read_channel(c, json_object_array_get_idx(channels, i), i);
  if (rc) {
    config_free(c);
    return rc;
  }
  *out = c;
  return FASTEPOST_OK;
}

/* ---- verification -------------------------------------------------------------------------- */

/* Whether presented equals one of the tokens. Every token is compared, so the time taken says
 * nothing about which (if any) was close; it depends only on the lengths. */
static bool token_matches(char *const *tokens, size_t n, const char *presented, size_t plen) {
  unsigned match = 0;
  for (size_t i = 0; i < n; i++)
    match |= (unsigned)fastepost__ct_equal(tokens[i], strlen(tokens[i]), presented, plen);
  return match != 0;
}

/* A callback: its channel_id must be configured, and its token that channel's. A channel id
 * may be listed more than once (a token being rotated: a re-subscription with a new token while
 * notifications with the old one are under way). */
static int verify_callback(const fastepost__zoho_config *c, const json_object *obj) {
  if (!c->channel_ids.count)
    return fastepost__error_set(FASTEPOST_ENOKEY, "no Zoho CRM notification channel is configured "
                                                  "(zoho.channels): every notification is refused");
  json_object *idv = NULL, *tokv = NULL;
  json_object_object_get_ex((json_object *)(uintptr_t)obj, "channel_id", &idv);
  json_object_object_get_ex((json_object *)(uintptr_t)obj, "token", &tokv);
  char id[24] = "";
  /* (a NUL inside the string would cut it short: such an id is no id) */
  if (json_object_is_type(idv, json_type_string) && json_object_get_string_len(idv) < (int)sizeof id &&
      strlen(json_object_get_string(idv)) == (size_t)json_object_get_string_len(idv))
    snprintf(id, sizeof id, "%s", json_object_get_string(idv));
  else if (json_object_is_type(idv, json_type_int))
    snprintf(id, sizeof id, "%lld", (long long)json_object_get_int64(idv));
  if (!*id)
    return fastepost__error_set(FASTEPOST_EAUTH, "the Zoho CRM notification has no usable channel_id");
  if (!json_object_is_type(tokv, json_type_string) || !json_object_get_string_len(tokv))
    return fastepost__error_set(FASTEPOST_EAUTH, "the Zoho CRM notification of channel %s has no token "
                                                 "(subscribe the channel with a token)", id);
  const char *presented = json_object_get_string(tokv);
  size_t plen = (size_t)json_object_get_string_len(tokv);
  unsigned known = 0, match = 0;
  for (size_t i = 0; i < c->channel_ids.count; i++) {
    const char *token = c->channel_tokens.items[i];
    unsigned same = strcmp(c->channel_ids.items[i], id) == 0;
    known |= same;
    match |= same & (unsigned)fastepost__ct_equal(token, strlen(token), presented, plen);
  }
  char shown[64];
  fastepost__preview(shown, sizeof shown, id, strlen(id));
  if (!known)
    return fastepost__error_set(FASTEPOST_EAUTH, "unknown Zoho CRM channel_id %s", shown);
  if (!match)
    return fastepost__error_set(FASTEPOST_EAUTH, "wrong token for Zoho CRM channel %s", shown);
  return FASTEPOST_OK;
}

/* A presented token does not linger in freed heap memory either. */
static void wipe_free(char *s) {
  for (volatile char *p = s; p && *p; p++)
    *p = 0;
  free(s);
}

/* The token parameters of the query string: the first in *out (a copy), *count how many. */
typedef struct query_token {
  char *value;
  size_t count;
} query_token;

static int take_token(void *payload, const char *name, const char *value) {
  query_token *q = payload;
  if (strcmp(name, "token") != 0)
    return FASTEPOST_OK;
  if (q->count++)
    return FASTEPOST_OK;
  q->value = fastepost__strdup(value);
  return q->value ? FASTEPOST_OK : fastepost__error_oom();
}

/* A workflow webhook: every token it presents (the body's token parameter, the query
 * string's) must be a configured workflow token, and it must present at least one. */
static int verify_workflow(const fastepost__zoho_config *c, const json_object *obj, const char *uri) {
  if (!c->workflow_tokens.count)
    return fastepost__error_set(FASTEPOST_ENOKEY, "no Zoho CRM workflow token is configured "
                                                  "(zoho.workflow_tokens): every workflow webhook is refused");
  json_object *tokv = NULL;
  bool in_body = json_object_object_get_ex((json_object *)(uintptr_t)obj, "token", &tokv);
  if (in_body && !json_object_is_type(tokv, json_type_string))
    return fastepost__error_set(FASTEPOST_EAUTH, "the token parameter of the Zoho CRM webhook is not a string");
  const char *query;
  size_t qlen;
  query_token q = {NULL, 0};
  if (fastepost__form_query(uri, &query, &qlen) && fastepost__form_each(query, qlen, take_token, &q)) {
    /* A query string that cannot be read presents no token that could be checked. */
    char why[256];
    snprintf(why, sizeof why, "%s", fastepost_error_last()->message);
    int code = fastepost_error_last()->code == FASTEPOST_ENOMEM ? FASTEPOST_ENOMEM : FASTEPOST_EAUTH;
    fastepost__error_set(code, "Zoho CRM webhook: cannot read the token from the query string: %s", why);
    wipe_free(q.value);
    return code;
  }
  int rc = FASTEPOST_OK;
  if (!in_body && !q.count)
    rc = fastepost__error_set(FASTEPOST_EAUTH, "the Zoho CRM webhook presents no token (add a token parameter "
                                               "to the webhook's body or URL)");
  else if (q.count > 1)
    rc = fastepost__error_set(FASTEPOST_EAUTH, "the query string of the Zoho CRM webhook has %zu token parameters",
                              q.count);
  else if ((in_body && !token_matches(c->workflow_tokens.items, c->workflow_tokens.count, json_object_get_string(tokv),
                                      (size_t)json_object_get_string_len(tokv))) ||
           (q.count && !token_matches(c->workflow_tokens.items, c->workflow_tokens.count, q.value, strlen(q.value))))
    rc = fastepost__error_set(FASTEPOST_EAUTH, "wrong Zoho CRM workflow token (in the %s)",
                              in_body && q.count ? "body or the query string" : in_body ? "body" : "query string");
  wipe_free(q.value);
  return rc;
}

/* A recognised media type in Content-Type must agree with the body, since parsing (which sees
 * only the body) tells JSON from a form by the body alone. */
static int check_content_type(const fastepost_webhook_request *req, fastepost__zoho_syntax syntax) {
  if (!fastepost_webhook_request_has_header(req, "Content-Type"))
    return FASTEPOST_OK;
  const char *ct = fastepost_webhook_request_header(req, "Content-Type");
  size_t n = strcspn(ct, ";");
  while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
    n--;
  static const char json[] = "application/json", form[] = "application/x-www-form-urlencoded";
  bool is_json = n == sizeof json - 1 && fastepost__ascii_ncasecmp(ct, json, n) == 0;
  bool is_form = n == sizeof form - 1 && fastepost__ascii_ncasecmp(ct, form, n) == 0;
  if ((is_json && syntax != FASTEPOST__ZOHO_JSON) || (is_form && syntax != FASTEPOST__ZOHO_FORM))
    return fastepost__error_set(FASTEPOST_EPARSE, "Zoho CRM body: the Content-Type is %s but the body %s",
                                is_json ? json : form, is_json ? "is not JSON" : "is JSON");
  return FASTEPOST_OK;
}

static int verify_request(const void *config, const fastepost_webhook_request *req) {
  const fastepost__zoho_config *c = config;
  if (!c || (!c->channel_ids.count && !c->workflow_tokens.count))
    return fastepost__error_set(FASTEPOST_ENOKEY, "no Zoho CRM channel or workflow token is configured: every "
                                                  "request is refused");
  if (!req)
    return fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM verify: the request is NULL");
  const char *body = fastepost_webhook_request_body(req);
  size_t len = fastepost_webhook_request_body_len(req);
  /* The token is inside the body: it is read before anything else is (bounded and strict). */
  json_object *obj = NULL;
  int rc = len > FASTEPOST__ZOHO_MAX_BODY ? FASTEPOST_OK : check_content_type(req, fastepost__zoho_sniff(body, len));
  if (!rc)
    rc = fastepost__zoho_body(&obj, body, len);
  if (!rc)
    rc = fastepost__zoho_is_callback(obj) ? verify_callback(c, obj)
                                          : verify_workflow(c, obj, fastepost_webhook_request_uri(req));
  json_object_put(obj);
  return rc;
}

/* ---- parsing, retry and replay ------------------------------------------------------------- */

static int parse_body(fastepost__records *out, const void *config, const void *body, size_t len, int64_t now_us) {
  (void)config; /* verification used it; parsing needs nothing from it */
  json_object *obj = NULL;
  int rc = fastepost__zoho_body(&obj, body, len);
  if (!rc) {
    const fastepost__time_range range = FASTEPOST__TIME_RANGE_DEFAULT;
    rc = fastepost__zoho_records(out, obj, &range, now_us);
  }
  json_object_put(obj);
  return rc;
}

static int reprocess(fastepost__sync_record *rec, const void *config, const char *payload, const char *event_type,
                     int64_t now_us) {
  (void)config;
  (void)event_type; /* the payload says which kind it is */
  return fastepost__zoho_reparse(rec, payload, now_us);
}

/* A spooled body, verified before it was spooled: parsed as it came (the body tells JSON from a
 * form: a verified body agreed with its content type), with no time range, since it was
 * accepted once. */
static int replay(fastepost__records *out, const void *config, const void *body, size_t len, const char *event,
                  const char *content_type, int64_t now_us) {
  (void)config;
  (void)event;
  (void)content_type;
  json_object *obj = NULL;
  int rc = fastepost__zoho_body(&obj, body, len);
  if (!rc)
    rc = fastepost__zoho_records(out, obj, NULL, now_us);
  json_object_put(obj);
  return rc;
}

const fastepost__adapter fastepost__zoho_adapter = {
    .source = SOURCE,
    .dedup_key = "callbacks: SHA-256 of channel_id, server_time, module, the record's id, the whole ids list and "
                 "operation; workflow webhooks: SHA-256 of module, id and Modified_Time",
    .version_key = "callbacks: server_time; workflow webhooks: Modified_Time (with its offset)",
    .config_new = config_new,
    .config_free = config_free,
    .verify = verify_request,
    .parse = parse_body,
    .reprocess = reprocess,
    .replay = replay,
};
