/* SPDX-License-Identifier: MIT */
/* Helpers shared by `stats db`, `stats crm` and `report` (cmd_stats_common.c). */
#ifndef FASTEPOST_CLI_STATS_COMMON_H
#define FASTEPOST_CLI_STATS_COMMON_H

#include "cli.h"

/* A fixed clock for --now: payload points to the int64_t µs. */
int64_t cli_stats_fixed_clock(void *payload);

/* Parse --now (µs since the epoch, >= 0) into *us. CLI_OK, or the usage error (exit 2). */
int cli_stats_parse_now(cli_ctx *ctx, const char *now, int64_t *us);

/* `,"key":` (no comma when first) then a JSON string, or null for NULL. */
void cli_stats_json_str(const char *key, const char *value, bool first);

/* `,"key":"2026-11-27T12:34:56.789000Z","key_us":1795782896789000`, or both null for 0. */
void cli_stats_json_time(const char *key, int64_t us);

/* The ISO 8601 text of a time into out ("-" for 0 or out of range). */
void cli_stats_time_text(char *out, size_t size, int64_t us);

/* "3 minutes ago" into out ("-" for 0). */
void cli_stats_ago_text(char *out, size_t size, int64_t then_us, int64_t now_us);

#endif
