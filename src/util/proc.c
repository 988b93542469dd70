/* SPDX-License-Identifier: MIT */
/* The child-process runner (see proc.h). Linux/POSIX: fork, execve, pipe, poll, waitpid; prctl
 * for PR_SET_PDEATHSIG, which posix_spawn cannot set up in the child. */
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* POSIX: the application declares it. Read only by fastepost__env_snapshot() and by runs that
 * were given no snapshot. */
extern char **environ;

static bool env_name_is(const char *entry, const char *name, size_t namelen) {
  return strncmp(entry, name, namelen) == 0 && entry[namelen] == '=';
}

static bool env_listed(const char *entry, const char *const *list, bool list_has_values) {
  for (; list && *list; list++) {
    const char *eq = list_has_values ? strchr(*list, '=') : NULL;
    size_t n = eq ? (size_t)(eq - *list) : strlen(*list);
    if (env_name_is(entry, *list, n))
      return true;
  }
  return false;
}

char **fastepost__env_snapshot(void) {
  size_t n = 0;
  for (char **e = environ; e && *e; e++)
    n++;
  char **copy = calloc(n + 1, sizeof *copy);
  if (!copy) {
    fastepost__error_oom();
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if (!(copy[i] = fastepost__strdup(environ[i]))) {
      fastepost__env_free(copy);
      return NULL;
    }
  }
  return copy;
}

const char *fastepost__env_get(char *const *env, const char *name) {
  size_t n = strlen(name);
  for (; env && *env; env++)
    if (env_name_is(*env, name, n))
      return *env + n + 1;
  return NULL;
}

void fastepost__env_free(char **env) {
  for (char **e = env; e && *e; e++)
    free(*e);
  free(env);
}

/* The base environment minus env_remove and the names env replaces, plus env. The strings are
 * borrowed; only the array is allocated. */
static char **build_env(const fastepost__proc *p) {
  const char *const *base = p->base_env ? p->base_env : (const char *const *)environ;
  size_t n = 0, extra = 0;
  for (const char *const *e = base; e && *e; e++)
    n++;
  for (const char *const *e = p->env; e && *e; e++)
    extra++;
  char **out = calloc(n + extra + 1, sizeof *out);
  if (!out)
    return NULL;
  size_t k = 0;
  for (const char *const *e = base; e && *e; e++)
    if (!env_listed(*e, p->env_remove, false) && !env_listed(*e, p->env, true))
      out[k++] = (char *)(uintptr_t)*e; /* execve's prototype is not const-correct */
  for (const char *const *e = p->env; e && *e; e++)
    out[k++] = (char *)(uintptr_t)*e;
  out[k] = NULL;
  return out;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static int make_pipe(int fds[2]) {
  if (pipe(fds) != 0)
    return -1;
  if (set_cloexec(fds[0]) || set_cloexec(fds[1])) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  return 0;
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void append_err(fastepost__proc *p, fastepost__buf *err, const char *data, size_t len,
                       size_t max) {
  if (err->len >= max) {
    p->err_truncated = true;
    return;
  }
  if (len > max - err->len) {
    len = max - err->len;
    p->err_truncated = true;
  }
  fastepost__buf_append(err, data, len);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A started child. Its pid is also its process group. With `relay`, pid is our intermediate
 * process and the program's wait status arrives on status_fd. */
typedef struct child {
  pid_t pid;
  bool relay;
  int status_fd;
} child;

/* Whether the child has ended, without reaping it: while the zombie exists its group id cannot
 * be reused, so signalling the group stays safe. */
static bool child_ended(const child *c) {
  if (c->relay) /* the host's SIGCHLD setting makes the kernel reap the intermediate */
    return kill(c->pid, 0) != 0 && errno == ESRCH;
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;
  return info.si_pid == c->pid;
}

/* SIGTERM first so that the program can close its connection politely; SIGKILL after 2 s, and
 * always to whatever else is left in the group (a script's own children). Then reap. */
static void stop_child(const child *c) {
  kill(-c->pid, SIGTERM);
  for (int i = 0; i < 200 && !child_ended(c); i++)
    sleep_ms(10);
  kill(-c->pid, SIGKILL);
  if (!c->relay)
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
      ;
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void child_setup_and_exec(const fastepost__proc *p, char **envp, int out_w, int err_w,
                                 int exec_err_w, pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
    _exit(127); /* the parent (thread) is already gone: nobody waits for this child */
  int fd = p->stdin_fd >= 0 ? p->stdin_fd : open("/dev/null", O_RDONLY);
  if (fd < 0 || dup2(fd, 0) < 0)
    goto fail;
  fd = out_w >= 0 ? out_w : open("/dev/null", O_WRONLY);
  if (fd < 0 || dup2(fd, 1) < 0 || dup2(err_w, 2) < 0)
    goto fail;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(p->argv[0], (char *const *)(uintptr_t)p->argv, envp);
fail:;
  int e = errno;
  ssize_t ignored = write(exec_err_w, &e, sizeof e);
  (void)ignored;
  _exit(127);
}

/* The intermediate of a relayed run: SIGCHLD is at its default here (our own process, so the
 * host's disposition is untouched), so waitpid() sees the program's status. */
static void relay_and_exec(const fastepost__proc *p, char **envp, int out_w, int err_w,
                           int exec_err_w, int status_w) {
  pid_t self = getpid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    _exit(127);
  pid_t pid = fork();
  if (pid == 0)
    child_setup_and_exec(p, envp, out_w, err_w, exec_err_w, self);
  if (pid < 0) {
    int e = errno;
    ssize_t ignored = write(exec_err_w, &e, sizeof e);
    (void)ignored;
    _exit(127);
  }
  /* Only the program may hold these: the parent waits for their end of file. */
  close(exec_err_w);
  close(err_w);
  if (out_w >= 0)
    close(out_w);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      _exit(127);
  ssize_t ignored = write(status_w, &status, sizeof status);
  (void)ignored;
  _exit(0);
}

static int spawn(fastepost__proc *p, child *c, int out_w, int err_w) {
  c->pid = -1;
  c->status_fd = -1;
  /* Checked first because "not executable" is a clearer message than a failed exec. */
  if (access(p->argv[0], X_OK) != 0) {
    char eb[FASTEPOST__ERRNO_BUFSIZE];
    return fastepost__error_set(FASTEPOST_EEXTERNAL, "cannot run %s: %s", p->argv[0],
                                fastepost__errno_text(errno, eb, sizeof eb));
  }
  /* Reading a disposition changes nothing. With SIG_IGN or SA_NOCLDWAIT the kernel discards
   * the exit statuses of our children, so an intermediate of ours has to collect it. */
  struct sigaction sa;
  c->relay = sigaction(SIGCHLD, NULL, &sa) == 0 &&
             (sa.sa_handler == SIG_IGN || (sa.sa_flags & SA_NOCLDWAIT));
  char **envp = build_env(p);
  if (!envp)
    return fastepost__error_oom();
  int ep[2] = {-1, -1}, sp[2] = {-1, -1};
  if (make_pipe(ep) != 0 || (c->relay && make_pipe(sp) != 0)) {
    char eb[FASTEPOST__ERRNO_BUFSIZE];
    int rc = fastepost__error_set(FASTEPOST_EIO, "cannot create a pipe: %s",
                                  fastepost__errno_text(errno, eb, sizeof eb));
    close_fd(&ep[0]);
    close_fd(&ep[1]);
    free(envp);
    return rc;
  }
  /* No handler of the host may run in the child before exec: block everything across fork. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    /* Start clean: a host (Ruby, Python) may ignore SIGPIPE or SIGINT; exec keeps ignored
     * signals ignored, and resets the caught ones anyway. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < 65; sig++)
      if (sig != SIGKILL && sig != SIGSTOP)
        sigaction(sig, &dfl, NULL);
    setpgid(0, 0);
    if (c->relay)
      relay_and_exec(p, envp, out_w, err_w, ep[1], sp[1]);
    child_setup_and_exec(p, envp, out_w, err_w, ep[1], parent);
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  free(envp);
  close_fd(&ep[1]);
  close_fd(&sp[1]);
  if (pid < 0) {
    close_fd(&ep[0]);
    close_fd(&sp[0]);
    char eb[FASTEPOST__ERRNO_BUFSIZE];
    return fastepost__error_set(FASTEPOST_EEXTERNAL, "cannot run %s: fork: %s", p->argv[0],
                                fastepost__errno_text(fork_errno, eb, sizeof eb));
  }
  setpgid(pid, pid); /* also here, so that a group kill right after fork cannot miss it */
  c->pid = pid;
  c->status_fd = sp[0];
  int exec_errno = 0;
  ssize_t n;
  while ((n = read(ep[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
    ;
  close_fd(&ep[0]);
  if (n == (ssize_t)sizeof exec_errno) {
    if (!c->relay)
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close_fd(&c->status_fd);
    char eb[FASTEPOST__ERRNO_BUFSIZE];
    return fastepost__error_set(FASTEPOST_EEXTERNAL, "cannot run %s: %s", p->argv[0],
                                fastepost__errno_text(exec_errno, eb, sizeof eb));
  }
  return FASTEPOST_OK;
}

/* Non-zero (and the error recorded) once the stop flag is up or the deadline has passed. */
static int check_limits(const fastepost__proc *p, int64_t deadline) {
  if (p->stop_flag && *p->stop_flag)
    return fastepost__error_set(FASTEPOST_ECANCELED, "%s was interrupted and stopped", p->argv[0]);
  if (deadline && now_ms() >= deadline) {
    if (p->timeout_ms % 1000 == 0)
      return fastepost__error_set(FASTEPOST_ETIMEOUT, "%s did not finish within %lld s and was "
                                  "stopped", p->argv[0], (long long)(p->timeout_ms / 1000));
    return fastepost__error_set(FASTEPOST_ETIMEOUT, "%s did not finish within %lld ms and was "
                                "stopped", p->argv[0], (long long)p->timeout_ms);
  }
  return 0;
}

/* How long poll() may wait: until the next tick, the deadline, or 100 ms with a stop flag. */
static int wait_budget(const fastepost__proc *p, int64_t deadline, int tick_ms) {
  int64_t ms = p->on_tick ? tick_ms : -1;
  if (p->stop_flag && (ms < 0 || ms > 100))
    ms = 100;
  if (deadline) {
    int64_t left = deadline - now_ms();
    if (left < 0)
      left = 0;
    if (ms < 0 || left < ms)
      ms = left;
  }
  return (int)ms;
}

/* Wait for the child's end (the pipes are closed already) within the limits. */
static int wait_exit(const fastepost__proc *p, const child *c, int64_t deadline, int *status) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  if (c->relay) {
    for (;;) {
      struct pollfd fd = {c->status_fd, POLLIN, 0};
      int budget = wait_budget(p, deadline, 100);
      int r = poll(&fd, 1, budget < 0 ? 100 : budget);
      int rc = check_limits(p, deadline);
      if (rc)
        return rc;
      if (r < 0 && errno != EINTR)
        return fastepost__error_set(FASTEPOST_EIO, "waiting for %s: %s", p->argv[0],
                                    fastepost__errno_text(errno, eb, sizeof eb));
      if (r <= 0)
        continue;
      ssize_t n = read(c->status_fd, status, sizeof *status);
      if (n < 0 && errno == EINTR)
        continue;
      if (n == (ssize_t)sizeof *status)
        return FASTEPOST_OK;
      return fastepost__error_set(FASTEPOST_EEXTERNAL,
                                  "the exit status of %s is unknown: the process relaying it "
                                  "(SIGCHLD is ignored by the host) ended without reporting it",
                                  p->argv[0]);
    }
  }
  for (int delay = 1;;) {
    pid_t r = waitpid(c->pid, status, WNOHANG);
    if (r == c->pid)
      return FASTEPOST_OK;
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      kill(-c->pid, SIGKILL);
      return fastepost__error_set(FASTEPOST_EEXTERNAL,
                                  "the exit status of %s is unknown: %s (SIGCHLD was set to be "
                                  "ignored by the host while it ran, or another part of the "
                                  "process reaped it)",
                                  p->argv[0], fastepost__errno_text(e, eb, sizeof eb));
    }
    int rc = check_limits(p, deadline);
    if (rc)
      return rc;
    sleep_ms(delay);
    if (delay < 16)
      delay *= 2;
  }
}

int fastepost__proc_run(fastepost__proc *p) {
  p->exit_code = -1;
  p->signal = 0;
  p->err = NULL;
  p->err_truncated = false;
  p->pid = 0;
  if (!p->argv || !p->argv[0])
    return fastepost__error_set(FASTEPOST_EINVALID, "no program to run");
  size_t max = p->stderr_max ? p->stderr_max : FASTEPOST__PROC_STDERR_MAX;
  int64_t deadline = p->timeout_ms > 0 ? now_ms() + p->timeout_ms : 0;
  char eb[FASTEPOST__ERRNO_BUFSIZE];

  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (make_pipe(err) != 0 || (p->on_stdout && make_pipe(out) != 0)) {
    int rc = fastepost__error_set(FASTEPOST_EIO, "cannot create a pipe: %s",
                                  fastepost__errno_text(errno, eb, sizeof eb));
    close_fd(&err[0]);
    close_fd(&err[1]);
    return rc;
  }
  child c = {-1, false, -1};
  int rc = spawn(p, &c, p->on_stdout ? out[1] : p->stdout_fd, err[1]);
  close_fd(&out[1]);
  close_fd(&err[1]);
  if (rc) {
    close_fd(&out[0]);
    close_fd(&err[0]);
    return rc;
  }
  p->pid = (int)c.pid;

  fastepost__buf errbuf = FASTEPOST__BUF_INIT;
  char chunk[65536];
  int stop = 0;
  int tick_ms = p->tick_ms > 0 ? p->tick_ms : 100;
  int64_t last_tick = now_ms();
  while (!stop && (out[0] >= 0 || err[0] >= 0)) {
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    if (p->on_tick && now_ms() - last_tick >= tick_ms) {
      last_tick = now_ms();
      if ((stop = p->on_tick(p->payload)) != 0)
        break;
    }
    if ((stop = check_limits(p, deadline)) != 0)
      break;
    if (poll(fds, 2, wait_budget(p, deadline, tick_ms)) < 0) {
      if (errno == EINTR) /* perhaps the signal that raised the stop flag: look at once */
        continue;
      stop = fastepost__error_set(FASTEPOST_EIO, "waiting for %s: %s", p->argv[0],
                                  fastepost__errno_text(errno, eb, sizeof eb));
      break;
    }
    for (int i = 0; i < 2 && !stop; i++) {
      int *fd = i == 0 ? &out[0] : &err[0];
      if (*fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = read(*fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        close_fd(fd);
        continue;
      }
      if (i == 0)
        stop = p->on_stdout(p->payload, chunk, (size_t)n);
      else
        append_err(p, &errbuf, chunk, (size_t)n, max);
    }
  }
  close_fd(&out[0]);
  close_fd(&err[0]);

  int status = 0;
  if (!stop)
    stop = wait_exit(p, &c, deadline, &status);
  if (stop) {
    stop_child(&c);
    close_fd(&c.status_fd);
    p->signal = SIGTERM;
    p->pid = 0;
    /* Keep what the program said: a timeout's message is better with it. */
    fastepost__buf_free(&errbuf);
    p->err = fastepost__strdup("");
    return stop;
  }
  close_fd(&c.status_fd);
  p->pid = 0;
  if (WIFEXITED(status))
    p->exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    p->signal = WTERMSIG(status);
  /* Keep the message on a few clean lines: drop trailing newlines. */
  p->err = fastepost__buf_detach(&errbuf);
  if (!p->err)
    return FASTEPOST_ENOMEM;
  size_t n = strlen(p->err);
  while (n && (p->err[n - 1] == '\n' || p->err[n - 1] == '\r'))
    p->err[--n] = '\0';
  return FASTEPOST_OK;
}

void fastepost__proc_cleanup(fastepost__proc *p) {
  if (!p)
    return;
  free(p->err);
  p->err = NULL;
}

const char *fastepost__signal_name(int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
               {SIGILL, "SIGILL"},   {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},
               {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},
               {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
               {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
               {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].sig == sig)
      return names[i].name;
  return "unknown signal";
}

void fastepost__proc_describe(const fastepost__proc *p, char *out, size_t outsize) {
  if (p->signal)
    snprintf(out, outsize, "was killed by signal %d (%s)", p->signal,
             fastepost__signal_name(p->signal));
  else
    snprintf(out, outsize, "exited with status %d", p->exit_code);
}
