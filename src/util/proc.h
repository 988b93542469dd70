/*
 * A generic child-process runner: posix_spawn with an argument vector (never a shell), extra
 * environment entries (so secrets such as PGPASSWORD never appear in argv), stdin from an fd,
 * stdout to an fd or a callback, stderr captured (bounded) for error messages, exit status or
 * signal reported, and the child killed when the stdout callback asks to stop.
 *
 *   const char *argv[] = {"/usr/bin/pg_dump", "--dbname=...", NULL};
 *   const char *env[] = {"PGPASSWORD=...", NULL};
 *   fastepost__proc p = {.argv = argv, .env = env, .stdin_fd = -1, .stdout_fd = -1,
 *                        .on_stdout = write_chunk, .payload = &state};
 *   int rc = fastepost__proc_run(&p);   // then p.exit_code / p.signal / p.err
 *   ...
 *   fastepost__proc_cleanup(&p);
 *
 * Used by backup.c for pg_dump, pg_restore and psql; meant to be the one runner of the library.
 */
#ifndef FASTEPOST_UTIL_PROC_H
#define FASTEPOST_UTIL_PROC_H

#include <stdbool.h>
#include <stddef.h>

/* Called with each chunk the child writes to stdout. Return 0 to go on; anything else kills the
 * child (SIGTERM, then SIGKILL) and makes fastepost__proc_run return that value. */
typedef int (*fastepost__proc_output_fn)(void *payload, const char *data, size_t len);

/* Called about every tick_ms while the child runs (e.g. to report progress from a file it
 * writes). Return 0 to go on; anything else kills the child as for on_stdout. */
typedef int (*fastepost__proc_tick_fn)(void *payload);

/* Default bound on the captured stderr (the tail of a long error is cut, the head kept). */
#define FASTEPOST__PROC_STDERR_MAX 4096

typedef struct fastepost__proc {
  /* ---- in ---- */
  const char *const *argv;       /* argv[0] is the program's path (no PATH search); NULL-ended */
  const char *const *env;        /* "NAME=value" entries added to the inherited environment,
                                    replacing entries of the same name; NULL-ended; may be NULL */
  const char *const *env_remove; /* names dropped from the inherited environment; may be NULL */
  int stdin_fd;                  /* the child's stdin; -1 for /dev/null */
  int stdout_fd;                 /* the child's stdout when on_stdout is NULL; -1 for /dev/null */
  fastepost__proc_output_fn on_stdout; /* if set, stdout is read through a pipe into this */
  fastepost__proc_tick_fn on_tick;     /* optional */
  int tick_ms;                   /* 0: 100 */
  void *payload;                 /* handed to on_stdout and on_tick */
  size_t stderr_max;             /* 0: FASTEPOST__PROC_STDERR_MAX */
  /* ---- out ---- */
  int pid;                       /* the child's pid while it runs, 0 before and after */
  int exit_code;                 /* the exit status, or -1 when killed by a signal */
  int signal;                    /* the signal that ended the child, 0 when it exited */
  char *err;                     /* what it wrote to stderr (bounded, NUL-terminated, trailing
                                    newlines removed); never NULL after run; free with cleanup */
  bool err_truncated;
} fastepost__proc;

/*
 * Start the child, feed its stdout to the callback (or let it write to stdout_fd), wait for it.
 * Returns FASTEPOST_OK once the child has ended, whatever its exit status (look at exit_code /
 * signal); FASTEPOST_EEXTERNAL (message says which program) when it cannot be started;
 * FASTEPOST_ENOMEM, FASTEPOST_EIO; or the callback's non-zero value after killing the child.
 * The caller's fds are not closed.
 */
int fastepost__proc_run(fastepost__proc *p);

/* Free p->err. Safe to call twice. */
void fastepost__proc_cleanup(fastepost__proc *p);

/* "exited with status 2" / "was killed by signal 9 (Killed)" into out. */
void fastepost__proc_describe(const fastepost__proc *p, char *out, size_t outsize);

#endif
