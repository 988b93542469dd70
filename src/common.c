/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "internal.h"
#include "util/fs.h"

void fastepost_free(void *ptr) { free(ptr); }

const char *fastepost_libversion(int *major, int *minor, int *patch) {
  if (major)
    *major = FASTEPOST_VERSION_MAJOR;
  if (minor)
    *minor = FASTEPOST_VERSION_MINOR;
  if (patch)
    *patch = FASTEPOST_VERSION_PATCH;
  return FASTEPOST_VERSION;
}

fastepost_status fastepost_file_write(const char *path, const void *data, size_t len) {
  return fastepost__durable_write(path, data, len);
}
