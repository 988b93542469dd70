/* SPDX-License-Identifier: MIT */
/* The guarded JSON parser and the canonical form: no input crashes them, nesting beyond the limit
 * is refused, and the canonical form is a fixed point (parse(canonical(x)) has the same canonical
 * form), which the idempotency keys rely on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_object *obj = NULL;
  if (fastepost__json_parse(&obj, (const char *)data, size, 8) != FASTEPOST_OK)
    return 0;
  fastepost__buf a = FASTEPOST__BUF_INIT, b = FASTEPOST__BUF_INIT;
  json_object *again = NULL;
  if (fastepost__json_canonical(&a, obj) == FASTEPOST_OK && !a.oom) {
    if (!fastepost__utf8_valid(a.data, a.len, NULL))
      abort();
    /* The canonical text parses (same depth limit) and is its own canonical form. */
    if (fastepost__json_parse(&again, a.data, a.len, 8) != FASTEPOST_OK)
      abort();
    if (fastepost__json_canonical(&b, again) == FASTEPOST_OK && !b.oom &&
        (a.len != b.len || memcmp(a.data, b.data, a.len) != 0))
      abort();
  }
  json_object_put(again);
  json_object_put(obj);
  fastepost__buf_free(&a);
  fastepost__buf_free(&b);
  return 0;
}
