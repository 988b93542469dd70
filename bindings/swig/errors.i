/* SPDX-License-Identifier: MIT */
/* errors.h: the codes (core.EDB ...) and their names and texts. Failures become exceptions
 * (fastepost.i), so the thread-local record itself is not wrapped. */
%ignore fastepost_error;
%ignore fastepost_error_last;
%ignore fastepost_error_clear;
%include "fastepost/errors.h"
