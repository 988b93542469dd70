/* SPDX-License-Identifier: MIT */
/* schema.h: install() returns the number of migrations applied, version() [current, latest],
 * sql() the script. */
%apply int *OUTPUT { int *current, int *latest };
%apply size_t *OUTPUT { size_t *applied };
%fastepost_blocking(2, fastepost_schema_install, size_t *, fastepost_conn *)
%fastepost_blocking(3, fastepost_schema_version, int *, int *, fastepost_conn *)
%include "fastepost/schema.h"
