/* SPDX-License-Identifier: MIT */
/*
 * Value checks by column type and by the model rules of our tables, used by the CSV import
 * (before anything is sent) and by export filters (so a bad filter value is a clear
 * EINVALID instead of a server error).
 */
#ifndef FASTEPOST_VALIDATE_H
#define FASTEPOST_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"

/*
 * Check a non-NULL text value (valid UTF-8, not NUL-terminated) against a column's type.
 * Returns NULL when the value is acceptable, else a short static reason ("not an integer",
 * "out of range for smallint", "longer than 20 characters" ...). Types without a client-side
 * check are accepted here and left to the server.
 */
const char *fastepost__value_check(const fastepost__column *col, const char *s, size_t len);

/*
 * The model rules of the Fast Epost tables (by table and column name): customers.email is an
 * e-mail address by the rule every CRM source gets in the sync core (src/normalize.h: judged
 * after trimming; an empty string is not an address, write NULL for "no email"),
 * tasks.barcode is not empty, integration_events.status is one of its set.
 * `s` is NULL for an SQL NULL. Returns NULL or a static reason.
 */
const char *fastepost__model_check(const char *table, const char *column, const char *s,
                                   size_t len);

/*
 * The normal form the sync core stores for a column (src/normalize.h): customers.email trimmed
 * and ASCII lower-cased, customers.phone trimmed with inner white space runs made one space.
 * Returns true and appends the normal form of [s, s+len) to out (check out->oom) when the column
 * has one; false (out untouched) for other columns and for NULL (s NULL). An importer stages
 * the normal form instead of the raw value so that an imported customer is found by the same
 * match as a synced one.
 */
bool fastepost__model_normalize(fastepost__buf *out, const char *table, const char *column, const char *s,
                                size_t len);

#endif
