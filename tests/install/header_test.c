/* SPDX-License-Identifier: MIT */
/* The umbrella header must compile alone, as C11 with -pedantic and as C++. */
#include <fastepost.h>

int fastepost_header_test(void);
int fastepost_header_test(void) {
  return FASTEPOST_OK + (FASTEPOST_VERSION_NUMBER > 0 ? 0 : 1);
}
