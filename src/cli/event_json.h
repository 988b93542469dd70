/* SPDX-License-Identifier: MIT */
/* The one JSON shape of an event result and of a batch of them, shared by `odoo process`,
 * `hubspot process` and (by the same keys) the bindings' to_dict() / to_h (docs/events.md). */
#ifndef FASTEPOST_CLI_EVENT_JSON_H
#define FASTEPOST_CLI_EVENT_JSON_H

#include "cli.h"

/* The fields of one result, without braces: "status","code","http_status","outcome","event_id",
 * "customer_id","remark_id","task_id","warnings","error" (ids and outcome null when none). */
void cli_event_result_fields(const fastepost_event_result *r, fastepost_status st);
/* A whole batch: {"status","code","http_status","count","failed","error","events":[{"index",
 * "event_type","object_id", the result's fields}]} and a newline. */
void cli_event_batch_json(const fastepost_event_batch *b, fastepost_status st, const char *error);

#endif
