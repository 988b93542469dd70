/* SPDX-License-Identifier: MIT */
/*
 * The Salesforce Outbound Messages adapter's internals (adapter.h), shared by its files, the
 * unit tests and the fuzz target:
 *   salesforce_parse.c  a SOAP body (util/xml.c) into the notifications it carries; Salesforce
 *                       ids (15/18 characters, checksum); the stored JSON form of a notification
 *   salesforce.c        configuration, verification, notifications into sync records, the SOAP
 *                       answer (acknowledgement or fault), the adapter table
 * No SQL here: the adapter hands fastepost__sync_record values (sync.h) to the core.
 */
#ifndef FASTEPOST_ADAPTERS_SALESFORCE_H
#define FASTEPOST_ADAPTERS_SALESFORCE_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/adapter.h"

/* A body larger than this is refused (413) before it is parsed: 100 notifications with long
 * text fields (Description holds up to 32,000 characters) fit. */
#define FASTEPOST__SF_MAX_BODY (4 * 1024 * 1024)
/* Salesforce sends at most 100 notifications in one message (the WSDL's maxOccurs). */
#define FASTEPOST__SF_MAX_NOTIFICATIONS 100
/* A Salesforce id in its 18-character form, NUL-terminated. */
#define FASTEPOST__SF_ID_SIZE 19

/* One field of a notification's sObject, by local name ("FirstName"). value NULL: xsi:nil. */
typedef struct fastepost__sf_field {
  char *name;
  char *value;
} fastepost__sf_field;

/* One <Notification>. A malformed one (no Id, no sObject, no xsi:type) has error set with
 * error_message, and whatever else could be read. */
typedef struct fastepost__sf_notification {
  char *id;      /* Notification/Id as delivered, or NULL */
  char *sobject; /* the local part of sObject's xsi:type ("sf:Contact" -> "Contact"), or NULL */
  fastepost__sf_field *fields;
  size_t nfields;
  int error;
  char *error_message;
} fastepost__sf_notification;

/* A whole message: the organisation (18-character form), the workflow action and the
 * notifications in document order. */
typedef struct fastepost__sf_message {
  char organization_id[FASTEPOST__SF_ID_SIZE];
  char *action_id; /* NULL when absent */
  fastepost__sf_notification *items;
  size_t count;
} fastepost__sf_message;

/* The 18-character form of a Salesforce id of 15 or 18 ASCII letters and digits: a 15-character
 * id gets its checksum suffix, an 18-character one must carry the right one. false when [s,
 * s+len) is not such an id (out is then ""). The first 15 characters are the id, case-sensitive. */
bool fastepost__sf_id18(char out[FASTEPOST__SF_ID_SIZE], const char *s, size_t len);

/* The OrganizationId of a message (verification), in its 18-character form. FASTEPOST_EPARSE or
 * FASTEPOST_ETOOBIG when the body is refused as XML (util/xml.h) or is no Salesforce outbound
 * message (no Envelope/Body/notifications); FASTEPOST_EAUTH when the OrganizationId is missing,
 * nil or not a Salesforce id. */
int fastepost__sf_organization(char out[FASTEPOST__SF_ID_SIZE], const void *body, size_t len);

/* Parse a message into out (freed with fastepost__sf_message_free, also on failure): the codes of
 * fastepost__sf_organization(), and FASTEPOST_EINVALID for more than max_notifications
 * notifications. A malformed notification does not fail the message: its item says why. */
int fastepost__sf_parse(fastepost__sf_message *out, const void *body, size_t len, size_t max_notifications);
void fastepost__sf_message_free(fastepost__sf_message *m);
void fastepost__sf_notification_free(fastepost__sf_notification *n);

/* The value of a field: *value (borrowed; NULL for xsi:nil) and true when the field is present. */
bool fastepost__sf_field_get(const fastepost__sf_notification *n, const char *name, const char **value);

/* The stored form of one notification (integration_events.payload, for a retry): canonical JSON
 * {"action_id", "fields": {name: text or null}, "notification_id", "organization_id",
 * "sobject"} (absent members left out). Appended to buf. */
int fastepost__sf_notification_json(fastepost__buf *buf, const char *organization_id, const char *action_id,
                                    const fastepost__sf_notification *n);
/* The stored form back into *n, the organisation (18-character form, "" when the stored one is
 * not an id) and the action id (malloc'd, NULL when absent). FASTEPOST_EPARSE when the payload is
 * not that JSON. */
int fastepost__sf_notification_from_json(fastepost__sf_notification *n, char organization_id[FASTEPOST__SF_ID_SIZE],
                                         char **action_id, const char *payload);

#endif
