/*
 * Value checks by column type and by the model rules of our tables, used by the CSV import
 * (before anything is sent) and by export filters (so a bad filter value is a clear
 * EINVALID instead of a server error).
 */
#ifndef FASTEPOST_VALIDATE_H
#define FASTEPOST_VALIDATE_H

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
 * e-mail address, tasks.barcode is not empty, integration_events.status is one of its set.
 * `s` is NULL for an SQL NULL. Returns NULL or a static reason.
 */
const char *fastepost__model_check(const char *table, const char *column, const char *s,
                                   size_t len);

#endif
