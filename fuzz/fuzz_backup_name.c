/* SPDX-License-Identifier: MIT */
/* The backup name check (it guards which files `backup prune` may delete): no input crashes it,
 * and an accepted name has the documented shape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *name = fastepost__strndup((const char *)data, size);
  if (!name)
    return 0;
  int64_t t = 0;
  int suffix = -1;
  fastepost_backup_format fmt = (fastepost_backup_format)-1;
  if (fastepost__backup_parse_name(name, &t, &suffix, &fmt)) {
    size_t n = strlen(name);
    bool sql = n > 4 && strcmp(name + n - 4, ".sql") == 0;
    bool dump = n > 5 && strcmp(name + n - 5, ".dump") == 0;
    if (strncmp(name, "backup_", 7) != 0 || (!sql && !dump) || suffix < 0 || strchr(name, '/'))
      abort();
  }
  free(name);
  return 0;
}
