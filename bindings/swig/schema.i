/* schema.h: install() returns the number of migrations applied, version() [current, latest],
 * sql() the script. */
%apply int *OUTPUT { int *applied, int *current, int *latest };
%fastepost_blocking(2, fastepost_schema_install, int *, fastepost_conn *)
%fastepost_blocking(3, fastepost_schema_version, int *, int *, fastepost_conn *)
%include "fastepost/schema.h"
