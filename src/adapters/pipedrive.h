/* SPDX-License-Identifier: MIT */
/*
 * The Pipedrive adapter's internals (adapter.h), shared by its files, the unit tests and the
 * fuzz target:
 *   pipedrive.c        configuration ({"basic_auth": [...]}), HTTP Basic verification, the
 *                      adapter table (parse, reprocess, replay)
 *   pipedrive_parse.c  a webhook body (v1 or v2) into one sync record
 * No SQL here: the organization names a person refers to by id are looked up by the core
 * (sync.h, "Store-only properties and references").
 */
#ifndef FASTEPOST_ADAPTERS_PIPEDRIVE_H
#define FASTEPOST_ADAPTERS_PIPEDRIVE_H

#include "adapters/adapter.h"

/* Pipedrive posts one object per request; a person with many custom fields is a few tens of
 * kilobytes. A larger body is refused (FASTEPOST_ETOOBIG) before it is parsed. */
#define FASTEPOST__PD_MAX_BODY ((size_t)1 << 20)
/* Custom fields nest a few levels (v2 address fields: 3); 32 leaves room. */
#define FASTEPOST__PD_MAX_DEPTH 32

/*
 * A body (webhooks v1 or v2) into out: one record (allocated here). A body refused as a whole
 * returns its code with out empty: FASTEPOST_ETOOBIG (over FASTEPOST__PD_MAX_BODY, unless
 * `stored`), FASTEPOST_EPARSE (not UTF-8, not JSON, not a JSON object), FASTEPOST_ENOMEM.
 * Otherwise FASTEPOST_OK, and the record is usable, ignored (ignore_reason) or failed
 * (rec->failure: no meta, a missing id, a timestamp that is not one or lies outside range).
 * range NULL: the default accepted range; stored: a body accepted once (retry, spool replay),
 * which no size limit refuses now.
 */
int fastepost__pd_parse(fastepost__records *out, const void *body, size_t len, const fastepost__time_range *range,
                        int64_t now_us, bool stored);

#endif
