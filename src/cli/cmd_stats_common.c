/* SPDX-License-Identifier: MIT */
/* Helpers shared by `stats db`, `stats crm` and `report`: --now and the JSON time fields. The
 * texts come from the presentation module (fastepost/report.h), as in the bindings. */
#include <errno.h>
#include <stdlib.h>

#include "stats_common.h"

int64_t cli_stats_fixed_clock(void *payload) { return *(const int64_t *)payload; }

int cli_stats_parse_now(cli_ctx *ctx, const char *now, int64_t *us) {
  char *end;
  errno = 0;
  long long v = strtoll(now, &end, 10);
  if (errno || end == now || *end || v < 0)
    return cli_usage_error(ctx, "--now needs microseconds since the epoch, not '%s'", now);
  *us = (int64_t)v;
  return CLI_OK;
}

void cli_stats_json_str(const char *key, const char *value, bool first) {
  printf("%s\"%s\":", first ? "" : ",", key);
  cli_json_string(stdout, value);
}

void cli_stats_json_time(const char *key, int64_t us) {
  char *iso = NULL;
  if (us && fastepost_report_time_iso(&iso, us) == FASTEPOST_OK) {
    printf(",\"%s\":\"%s\",\"%s_us\":%lld", key, iso, key, (long long)us);
  } else {
    printf(",\"%s\":null,\"%s_us\":null", key, key);
  }
  fastepost_free(iso);
}

void cli_stats_time_text(char *out, size_t size, int64_t us) {
  char *iso = NULL;
  if (us && fastepost_report_time_iso(&iso, us) == FASTEPOST_OK)
    snprintf(out, size, "%s", iso);
  else
    snprintf(out, size, "-");
  fastepost_free(iso);
}

void cli_stats_ago_text(char *out, size_t size, int64_t then_us, int64_t now_us) {
  char *text = NULL;
  if (then_us && fastepost_report_time_ago(&text, then_us, now_us) == FASTEPOST_OK)
    snprintf(out, size, "%s", text);
  else
    snprintf(out, size, "-");
  fastepost_free(text);
}
