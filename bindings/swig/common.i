/* common.h and version.h: the status type, fastepost_free, the library's version. */
%ignore fastepost_free; /* the typemaps free what the library hands out */
%apply int *OUTPUT { int *major, int *minor, int *patch };
%include "fastepost/common.h"
%include "fastepost/version.h"
