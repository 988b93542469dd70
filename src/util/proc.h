/* SPDX-License-Identifier: MIT */
/*
 * A generic child-process runner: fork + exec with an argument vector (never a shell), an
 * environment built from a snapshot taken when the caller's handle was created plus extra entries
 * (so secrets such as PGPASSWORD never appear in argv), stdin from an fd, stdout to an fd or a
 * callback, stderr captured (bounded) for error messages, exit status or signal reported.
 *
 * The child runs in a process group of its own, and dies with the thread that started it
 * (PR_SET_PDEATHSIG: Linux delivers it when the spawning *thread* exits, not only the process,
 * so a host must not start a child from a short-lived thread and expect it to outlive it).
 * It is stopped (its whole group: SIGTERM, SIGKILL after 2 s) when the stdout or tick callback
 * asks to, when the deadline passes (FASTEPOST_ETIMEOUT) or when the stop flag becomes non-zero
 * (FASTEPOST_ECANCELED). A host that ignores SIGCHLD (SIG_IGN or SA_NOCLDWAIT: the kernel then
 * discards exit statuses) still gets the status: an intermediate process of ours, with SIGCHLD
 * at its default, waits for the program and relays it through a pipe. Process-wide signal
 * dispositions of the host are never changed.
 *
 *   const char *argv[] = {"/usr/bin/pg_dump", "--dbname=...", NULL};
 *   const char *env[] = {"PGPASSWORD=...", NULL};
 *   fastepost__proc p = {.argv = argv, .env = env, .stdin_fd = -1, .stdout_fd = -1,
 *                        .on_stdout = write_chunk, .payload = &state};
 *   int rc = fastepost__proc_run(&p);   // then p.exit_code / p.signal / p.err
 *   ...
 *   fastepost__proc_cleanup(&p);
 *
 * Used by the backup module (src/backup/) and the sql export (through pgtool.c) for pg_dump,
 * pg_restore and psql; meant to be the one runner of the library.
 */
#ifndef FASTEPOST_UTIL_PROC_H
#define FASTEPOST_UTIL_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
  const char *const *base_env;   /* the environment to start from ("NAME=value", NULL-ended),
                                    normally a fastepost__env_snapshot() taken when the caller's
                                    handle was created. NULL: the process's environ, read now
                                    (only for callers not yet moved to a snapshot) */
  const char *const *env;        /* "NAME=value" entries added to base_env, replacing entries
                                    of the same name; NULL-ended; may be NULL */
  const char *const *env_remove; /* names dropped from base_env; may be NULL */
  int stdin_fd;                  /* the child's stdin; -1 for /dev/null */
  int stdout_fd;                 /* the child's stdout when on_stdout is NULL; -1 for /dev/null */
  fastepost__proc_output_fn on_stdout; /* if set, stdout is read through a pipe into this */
  fastepost__proc_tick_fn on_tick;     /* optional */
  int tick_ms;                   /* 0: 100 */
  void *payload;                 /* handed to on_stdout and on_tick */
  size_t stderr_max;             /* 0: FASTEPOST__PROC_STDERR_MAX */
  int64_t timeout_ms;            /* deadline from the start; 0: none. Past it the child's group
                                    is killed and the run returns FASTEPOST_ETIMEOUT */
  const volatile sig_atomic_t *stop_flag; /* optional; when *stop_flag becomes non-zero (e.g. set
                                    by a signal handler) the child's group is killed and the run
                                    returns FASTEPOST_ECANCELED. Looked at every 100 ms at most,
                                    and at once when a signal interrupts the wait */
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
 * signal); FASTEPOST_EEXTERNAL (message says which program) when it cannot be started or its
 * status cannot be known; FASTEPOST_ETIMEOUT past timeout_ms; FASTEPOST_ECANCELED when the stop
 * flag was raised; FASTEPOST_ENOMEM, FASTEPOST_EIO; or the callback's non-zero value after
 * killing the child. In every failure case no child of the run is left running.
 * The caller's fds are not closed.
 */
int fastepost__proc_run(fastepost__proc *p);

/* Free p->err. Safe to call twice. */
void fastepost__proc_cleanup(fastepost__proc *p);

/* "exited with status 2" / "was killed by signal 9 (SIGKILL)" into out. */
void fastepost__proc_describe(const fastepost__proc *p, char *out, size_t outsize);

/* The name of a signal ("SIGTERM"), or "unknown signal": a fixed table, because strsignal() is
 * neither thread-safe nor locale-independent. */
const char *fastepost__signal_name(int sig);

/* A deep copy of the process environment, NULL-ended, for base_env: what the child programs
 * inherit, taken when a handle is created (with the host's GIL/GVL held), so that a call running
 * without it never reads environ while another thread may setenv(). The library looks nothing
 * up in it (no hidden configuration, docs/api.md rule 14). NULL (ENOMEM recorded) on failure. */
char **fastepost__env_snapshot(void);
/* The value of `name` in a snapshot, or NULL (for the tests of the snapshot). */
const char *fastepost__env_get(char *const *env, const char *name);
/* Free a snapshot; a no-op on NULL. */
void fastepost__env_free(char **env);

#endif
