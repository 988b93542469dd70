/* SPDX-License-Identifier: MIT */
/*
 * The Salesforce adapter, parsing: a SOAP outbound message (util/xml.c: no DTD, no entities, no
 * network, size and depth limits) into its notifications, Salesforce ids, and the JSON form a
 * notification is stored in for a retry. Elements are matched by local name: the prefixes
 * (soapenv:, sf:, sf1:, none) vary from org to org.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/salesforce.h"
#include "normalize.h"
#include "util/json.h"
#include "util/xml.h"

#define WHAT "the Salesforce message"

/* ---- ids ------------------------------------------------------------------------------------ */

/* An 18-character id is the 15-character (case-sensitive) one plus three characters that encode,
 * five characters each, which of them are upper-case letters: bit i of chunk k is set when
 * character 5k+i is in A-Z, and the five bits pick a character of this alphabet. */
static const char SUFFIX_ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

bool fastepost__sf_id18(char out[FASTEPOST__SF_ID_SIZE], const char *s, size_t len) {
  out[0] = '\0';
  if (!s || (len != 15 && len != 18))
    return false;
  for (size_t i = 0; i < len; i++)
    if (!fastepost__ascii_isalnum((unsigned char)s[i]))
      return false;
  char id[FASTEPOST__SF_ID_SIZE];
  memcpy(id, s, 15);
  for (int k = 0; k < 3; k++) {
    unsigned bits = 0;
    for (int i = 0; i < 5; i++)
      if (fastepost__ascii_isupper((unsigned char)s[5 * k + i]))
        bits |= 1u << i;
    id[15 + k] = SUFFIX_ALPHABET[bits];
  }
  id[18] = '\0';
  if (len == 18 && memcmp(id + 15, s + 15, 3) != 0)
    return false;
  memcpy(out, id, sizeof id);
  return true;
}

/* ---- the envelope --------------------------------------------------------------------------- */

/* The document and its notifications element (Envelope/Body/notifications). */
static int open_message(xmlDoc **doc, xmlNode **notifications, const void *body, size_t len) {
  *notifications = NULL;
  int rc = fastepost__xml_parse(doc, body, len, FASTEPOST__SF_MAX_BODY, 0, WHAT);
  if (rc)
    return rc;
  xmlNode *root = xmlDocGetRootElement(*doc);
  xmlNode *b = fastepost__xml_is(root, "Envelope") ? fastepost__xml_child(root, "Body") : NULL;
  *notifications = fastepost__xml_child(b, "notifications");
  if (!*notifications) {
    fastepost__xml_free(*doc);
    *doc = NULL;
    return fastepost__error_set(FASTEPOST_EPARSE, WHAT " is not a Salesforce outbound message: no "
                                                      "Envelope/Body/notifications element");
  }
  return FASTEPOST_OK;
}

/* A child's text: *out NULL when the child is absent or nil. FASTEPOST_ENOMEM only. */
static int child_text(char **out, const xmlNode *parent, const char *local) {
  *out = NULL;
  xmlNode *c = fastepost__xml_child(parent, local);
  if (!c || fastepost__xml_nil(c))
    return FASTEPOST_OK;
  *out = fastepost__xml_text(c);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

static int read_organization(char out[FASTEPOST__SF_ID_SIZE], const xmlNode *notifications) {
  char *org = NULL;
  if (child_text(&org, notifications, "OrganizationId"))
    return FASTEPOST_ENOMEM;
  if (!org)
    return fastepost__error_set(FASTEPOST_EAUTH, WHAT " carries no OrganizationId");
  /* White space around the id is no part of it (xsd:ID collapses it). */
  const char *s = org;
  size_t n = strlen(org);
  fastepost__ascii_trim(&s, &n);
  bool ok = fastepost__sf_id18(out, s, n);
  free(org);
  /* The presented value is not echoed: it is compared like a key. */
  return ok ? FASTEPOST_OK
            : fastepost__error_set(FASTEPOST_EAUTH, "the OrganizationId of " WHAT
                                                    " is not a Salesforce id (15 or 18 letters and digits)");
}

int fastepost__sf_organization(char out[FASTEPOST__SF_ID_SIZE], const void *body, size_t len) {
  out[0] = '\0';
  xmlDoc *doc = NULL;
  xmlNode *notifications = NULL;
  int rc = open_message(&doc, &notifications, body, len);
  if (!rc)
    rc = read_organization(out, notifications);
  fastepost__xml_free(doc);
  return rc;
}

/* ---- notifications -------------------------------------------------------------------------- */

void fastepost__sf_notification_free(fastepost__sf_notification *n) {
  if (!n)
    return;
  for (size_t i = 0; i < n->nfields; i++) {
    free(n->fields[i].name);
    free(n->fields[i].value);
  }
  free(n->fields);
  free(n->id);
  free(n->sobject);
  free(n->error_message);
  memset(n, 0, sizeof *n);
}

void fastepost__sf_message_free(fastepost__sf_message *m) {
  for (size_t i = 0; m->items && i < m->count; i++)
    fastepost__sf_notification_free(&m->items[i]);
  free(m->items);
  free(m->action_id);
  memset(m, 0, sizeof *m);
}

bool fastepost__sf_field_get(const fastepost__sf_notification *n, const char *name, const char **value) {
  for (size_t i = 0; i < n->nfields; i++)
    if (strcmp(n->fields[i].name, name) == 0) {
      *value = n->fields[i].value;
      return true;
    }
  *value = NULL;
  return false;
}

static int malformed(fastepost__sf_notification *n, const char *message) {
  if (!n->error) {
    n->error = FASTEPOST_EINVALID;
    n->error_message = fastepost__strdup(message);
  }
  return FASTEPOST_OK;
}

/* Append a field (value NULL: nil); takes name and value. Duplicates are kept: every reader
 * takes the first of a name (fastepost__sf_field_get, the stored JSON), and no lookup here keeps
 * a body of many tiny fields linear. The array doubles when its count reaches a power of two. */
static int add_field(fastepost__sf_notification *n, char *name, char *value) {
  size_t k = n->nfields;
  if (k < 4 ? k == 0 : (k & (k - 1)) == 0) {
    fastepost__sf_field *f = realloc(n->fields, (k < 4 ? 4 : 2 * k) * sizeof *f);
    if (!f) {
      free(name);
      free(value);
      return fastepost__error_oom();
    }
    n->fields = f;
  }
  n->fields[n->nfields++] = (fastepost__sf_field){name, value};
  return FASTEPOST_OK;
}

/* The sObject's fields: each element child, by local name, with its text (or nil). */
static int read_fields(fastepost__sf_notification *n, const xmlNode *sobject) {
  for (xmlNode *f = fastepost__xml_child(sobject, NULL); f; f = fastepost__xml_next(f, NULL)) {
    char *name = fastepost__strdup((const char *)f->name);
    char *value = name && !fastepost__xml_nil(f) ? fastepost__xml_text(f) : NULL;
    if (!name || (!value && !fastepost__xml_nil(f))) {
      free(name);
      free(value);
      return FASTEPOST_ENOMEM;
    }
    int rc = add_field(n, name, value);
    if (rc)
      return rc;
  }
  return FASTEPOST_OK;
}

/* "sf:Contact" -> "Contact" (a QName: the prefix varies). */
static int read_type(fastepost__sf_notification *n, const xmlNode *sobject) {
  bool oom = false;
  char *type = fastepost__xml_attr(sobject, "type", &oom);
  if (oom)
    return FASTEPOST_ENOMEM;
  if (!type)
    return malformed(n, "the notification's sObject has no xsi:type");
  const char *s = type;
  size_t len = strlen(type);
  fastepost__ascii_trim(&s, &len);
  const char *colon = memchr(s, ':', len);
  if (colon) {
    len -= (size_t)(colon + 1 - s);
    s = colon + 1;
  }
  bool ok = len > 0 && len <= 80;
  for (size_t i = 0; ok && i < len; i++)
    ok = fastepost__ascii_isalnum((unsigned char)s[i]) || s[i] == '_';
  if (ok && !(n->sobject = fastepost__strndup(s, len))) {
    free(type);
    return FASTEPOST_ENOMEM;
  }
  free(type);
  return ok ? FASTEPOST_OK : malformed(n, "the notification's sObject type is not an object name");
}

static int read_notification(fastepost__sf_notification *n, const xmlNode *node) {
  int rc = child_text(&n->id, node, "Id");
  if (rc)
    return rc;
  if (!n->id)
    malformed(n, "the notification has no Id");
  xmlNode *sobject = fastepost__xml_child(node, "sObject");
  if (!sobject)
    return malformed(n, "the notification has no sObject");
  if ((rc = read_type(n, sobject)))
    return rc;
  return read_fields(n, sobject);
}

int fastepost__sf_parse(fastepost__sf_message *out, const void *body, size_t len, size_t max_notifications) {
  memset(out, 0, sizeof *out);
  xmlDoc *doc = NULL;
  xmlNode *notifications = NULL;
  int rc = open_message(&doc, &notifications, body, len);
  if (!rc)
    rc = read_organization(out->organization_id, notifications);
  if (!rc)
    rc = child_text(&out->action_id, notifications, "ActionId");
  size_t count = rc ? 0 : fastepost__xml_count(notifications, "Notification");
  if (!rc && count > max_notifications)
    rc = fastepost__error_set(FASTEPOST_EINVALID, WHAT " carries %zu notifications; at most %zu are accepted",
                              count, max_notifications);
  if (!rc && !(out->items = calloc(count ? count : 1, sizeof *out->items)))
    rc = fastepost__error_oom();
  xmlNode *n = rc ? NULL : fastepost__xml_child(notifications, "Notification");
  for (; n && !rc; n = fastepost__xml_next(n, "Notification"))
    rc = read_notification(&out->items[out->count++], n);
  fastepost__xml_free(doc);
  if (rc == FASTEPOST_ENOMEM)
    fastepost__error_oom();
  if (rc)
    fastepost__sf_message_free(out);
  return rc;
}

/* ---- the stored form ------------------------------------------------------------------------ */

static void add_string(json_object *o, const char *key, const char *value) {
  if (value)
    json_object_object_add(o, key, json_object_new_string(value));
}

int fastepost__sf_notification_json(fastepost__buf *buf, const char *organization_id, const char *action_id,
                                    const fastepost__sf_notification *n) {
  json_object *o = json_object_new_object();
  json_object *fields = json_object_new_object();
  if (!o || !fields) {
    json_object_put(o);
    json_object_put(fields);
    return fastepost__error_oom();
  }
  add_string(o, "organization_id", organization_id && *organization_id ? organization_id : NULL);
  add_string(o, "action_id", action_id);
  add_string(o, "notification_id", n->id);
  add_string(o, "sobject", n->sobject);
  for (size_t i = 0; i < n->nfields; i++)
    if (!json_object_object_get_ex(fields, n->fields[i].name, NULL)) /* the first of a name */
      json_object_object_add(fields, n->fields[i].name,
                             n->fields[i].value ? json_object_new_string(n->fields[i].value) : NULL);
  json_object_object_add(o, "fields", fields);
  int rc = fastepost__json_canonical(buf, o);
  json_object_put(o);
  return rc;
}

static int stored_string(char **out, const json_object *o, const char *key) {
  json_object *v = fastepost__json_get(o, key);
  *out = NULL;
  if (!v)
    return FASTEPOST_OK;
  if (!json_object_is_type(v, json_type_string))
    return fastepost__error_set(FASTEPOST_EPARSE, "the stored Salesforce notification's %s is not a string", key);
  *out = fastepost__strdup(json_object_get_string(v));
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

int fastepost__sf_notification_from_json(fastepost__sf_notification *n, char organization_id[FASTEPOST__SF_ID_SIZE],
                                         char **action_id, const char *payload) {
  memset(n, 0, sizeof *n);
  *action_id = NULL;
  organization_id[0] = '\0';
  json_object *o = NULL;
  int rc = payload ? fastepost__json_parse(&o, payload, strlen(payload), FASTEPOST__JSON_DEFAULT_DEPTH)
                   : fastepost__error_set(FASTEPOST_EPARSE, "no stored Salesforce notification");
  if (!rc && !json_object_is_type(o, json_type_object))
    rc = fastepost__error_set(FASTEPOST_EPARSE, "the stored Salesforce notification is not a JSON object");
  char *org = NULL;
  if (!rc)
    rc = stored_string(&org, o, "organization_id");
  if (org)
    fastepost__sf_id18(organization_id, org, strlen(org));
  free(org);
  if (!rc)
    rc = stored_string(action_id, o, "action_id");
  if (!rc)
    rc = stored_string(&n->id, o, "notification_id");
  if (!rc)
    rc = stored_string(&n->sobject, o, "sobject");
  json_object *fields = rc ? NULL : fastepost__json_get(o, "fields");
  if (fields && !json_object_is_type(fields, json_type_object))
    rc = fastepost__error_set(FASTEPOST_EPARSE, "the stored Salesforce notification's fields are not an object");
  if (!rc && fields) {
    json_object_object_foreach(fields, key, val) {
      if (val && !json_object_is_type(val, json_type_string)) {
        rc = fastepost__error_set(FASTEPOST_EPARSE, "a stored Salesforce field is not a string or null");
        break;
      }
      char *name = fastepost__strdup(key);
      char *value = val ? fastepost__strdup(json_object_get_string(val)) : NULL;
      if (!name || (val && !value)) {
        free(name);
        free(value);
        rc = FASTEPOST_ENOMEM;
        break;
      }
      if ((rc = add_field(n, name, value)))
        break;
    }
  }
  if (!rc && (!n->id || !n->sobject))
    malformed(n, !n->id ? "the notification has no Id" : "the notification's sObject has no xsi:type");
  json_object_put(o);
  if (rc) {
    fastepost__sf_notification_free(n);
    free(*action_id);
    *action_id = NULL;
  }
  return rc;
}
