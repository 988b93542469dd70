/* SPDX-License-Identifier: MIT */
/* HTML to text over arbitrary bytes (malformed markup, cut entities, NULs): never reads past the
 * end, never crashes, and valid UTF-8 in gives valid UTF-8 out without a NUL inside. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An exact-size heap copy, so ASan sees any read past the end. */
  char *in = malloc(size ? size : 1);
  if (!in)
    return 0;
  memcpy(in, data, size);
  char *out = fastepost__html_to_text(in, size);
  if (out && fastepost__utf8_valid(in, size, NULL) && !memchr(in, '\0', size) &&
      !fastepost__utf8_valid(out, strlen(out), NULL))
    abort();
  free(out);
  free(in);
  return 0;
}
