/* SPDX-License-Identifier: MIT */
/* UTF-8 validation and the error-message preview: no input may crash them or make the
 * preview itself invalid UTF-8 or overlong. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t bad = 0;
  bool ok = fastepost__utf8_valid((const char *)data, size, &bad);
  if (!ok && bad >= size)
    abort();
  char out[64];
  fastepost__preview(out, sizeof out, (const char *)data, size);
  if (strlen(out) >= sizeof out || !fastepost__utf8_valid(out, strlen(out), NULL))
    abort();
  return 0;
}
