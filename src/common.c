#include <stdlib.h>

#include "internal.h"

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
