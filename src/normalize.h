/* SPDX-License-Identifier: MIT */
/*
 * Customer normalisation: one rule for every source (the sync core applies it to every record
 * it processes, whatever the adapter: Odoo, HubSpot, the next CRM) and for the CSV import's
 * model rules (validate.c). Private to the library; implemented in src/sync/normalize.c.
 * The rule is also written in docs/schema.md ("Customer normalisation").
 *
 * Email
 *   1. Surrounding ASCII white space (space, \t, \n, \v, \f, \r) is removed.
 *   2. The address is valid when it has exactly one '@', a non-empty part before it, and a
 *      domain after it that contains a '.' and neither starts nor ends with one; and when no
 *      byte is a space or control character (<= 0x20, 0x7f) or one of < > ( ) [ ] , ; : " \
 *      (the characters of display names, lists and quoting: "Jane <jane@x.de>" is not an
 *      address; extracting it is the adapter's business). Bytes >= 0x80 (UTF-8 addresses)
 *      are allowed. This is the union of what the Odoo adapter and the CSV import refused
 *      before (HubSpot checked nothing): the stricter rule. Deliverability is not checked.
 *   3. ASCII letters A-Z are lower-cased, nothing else: locale-independent (under tr_TR 'I'
 *      becomes 'i', not a dotless one; non-ASCII letters are kept as they are).
 *   An empty value (after 1.) means "no email". An invalid one is stored as no email (NULL)
 *   with a warning on the event's result; the CSV import refuses the row.
 *
 * Phone
 *   Surrounding ASCII white space removed and each inner run of white space made one space
 *   ("+49  30\t1234" -> "+49 30 1234"). Nothing else: phones are free text in the CRMs
 *   (extensions, "ext."), and the match compares them as stored. Empty means "no phone".
 */
#ifndef FASTEPOST_NORMALIZE_H
#define FASTEPOST_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

struct fastepost__sync_record;

/* Narrow [*s, *s + *len) to leave out surrounding ASCII white space (space, \t, \n, \v, \f,
 * \r), as the rules below do first. */
void fastepost__ascii_trim(const char **s, size_t *len);

/* The email rule's verdict on [s, s+len) as delivered (white space is trimmed first): NULL when
 * it is an address, else a short static reason. An empty value is "not an e-mail address" here;
 * callers that read an empty field as "no email" check for that first. */
const char *fastepost__email_check(const char *s, size_t len);

/* The normal form of [s, s+len): trimmed and ASCII lower-cased, appended to out (check
 * out->oom). Returns NULL when it is an address, else the reason (out then holds the trimmed,
 * lower-cased text all the same). */
const char *fastepost__email_normalize(fastepost__buf *out, const char *s, size_t len);

/* The normal form of a phone number, appended to out (check out->oom); "" when nothing but
 * white space. */
void fastepost__phone_normalize(fastepost__buf *out, const char *s, size_t len);

/* Apply the rules to a sync record before it is processed: the email and phone facts, and the
 * versioned properties feeding the email or phone column. An invalid email becomes EMPTY with a
 * warning in rec->warnings; a value empty after trimming becomes EMPTY. Idempotent (a record
 * normalised twice gains nothing). FASTEPOST_OK or FASTEPOST_ENOMEM. */
int fastepost__sync_normalize(struct fastepost__sync_record *rec);

#endif
