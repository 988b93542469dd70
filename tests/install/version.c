/* SPDX-License-Identifier: MIT */
/* Prints the library's version: built by tests/install/debian_layout.cmake against a staged
 * install, with nothing but the flags pkg-config gives. */
#include <stdio.h>

#include <fastepost.h>

int main(void) {
  printf("libfastepost %s\n", fastepost_libversion(NULL, NULL, NULL));
  return 0;
}
