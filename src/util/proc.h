/*
 * Run an external program (pg_dump, pg_restore, psql ...) without a shell: argv is passed as
 * is, secrets go through the environment (never argv, which `ps` shows), stdout is streamed
 * to a callback or a descriptor, stderr is captured for the error message.
 */
#ifndef FASTEPOST_PROC_H
#define FASTEPOST_PROC_H

#include <stddef.h>

typedef struct fastepost__proc {
  const char *const *argv;    /* argv[0] is searched in PATH when it has no '/' */
  const char *const *env_add; /* "NAME=value" entries added to (or replacing in) the
                                 environment; NULL-terminated; may be NULL */
  /* Where stdout goes: on_stdout when set (returning nonzero stops the child), else stdout_fd
   * when >= 0, else /dev/null. */
  int (*on_stdout)(const char *data, size_t len, void *payload);
  void *payload;
  int stdout_fd;
  int stdin_fd;               /* the child's stdin when >= 0, else /dev/null */
} fastepost__proc;

/*
 * Start the program, wait for it and report. *exit_status gets its exit code (128 + signal
 * when killed). *stderr_out (if not NULL) gets its stderr (at most 16 kB, NUL-terminated,
 * free with free()). Returns FASTEPOST_OK whenever the program ran, whatever its exit code;
 * FASTEPOST_EEXTERNAL when it could not be started (not found ...); FASTEPOST_ECANCELED when
 * on_stdout returned a positive value, or on_stdout's own negative code (the child is
 * terminated either way); FASTEPOST_EIO, FASTEPOST_ENOMEM.
 */
int fastepost__proc_run(int *exit_status, char **stderr_out, const fastepost__proc *spec);

#endif
