/* The child-process runner (see proc.h). POSIX only: posix_spawn, pipe, poll, waitpid. */
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* POSIX: the application declares it. */
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

/* The inherited environment minus env_remove and the names env replaces, plus env. The strings
 * are borrowed; only the array is allocated. */
static char **build_env(const fastepost__proc *p) {
  size_t n = 0, extra = 0;
  for (char **e = environ; e && *e; e++)
    n++;
  for (const char *const *e = p->env; e && *e; e++)
    extra++;
  char **out = calloc(n + extra + 1, sizeof *out);
  if (!out)
    return NULL;
  size_t k = 0;
  for (char **e = environ; e && *e; e++)
    if (!env_listed(*e, p->env_remove, false) && !env_listed(*e, p->env, true))
      out[k++] = *e;
  for (const char *const *e = p->env; e && *e; e++)
    out[k++] = (char *)(uintptr_t)*e; /* posix_spawn's prototype is not const-correct */
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

/* SIGTERM first so that the child can close its connection politely; SIGKILL after 2 s. */
static void stop_child(pid_t pid) {
  kill(pid, SIGTERM);
  for (int i = 0; i < 200; i++) {
    if (waitpid(pid, NULL, WNOHANG) == pid)
      return;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static int spawn(fastepost__proc *p, pid_t *pid, int out_w, int err_w) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  if (posix_spawn_file_actions_init(&fa) != 0)
    return fastepost__error_oom();
  if (posix_spawnattr_init(&attr) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return fastepost__error_oom();
  }
  /* A host (Ruby, Python) may ignore SIGPIPE or block signals: the child starts clean. */
  sigset_t def, none;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  sigaddset(&def, SIGTERM);
  sigaddset(&def, SIGINT);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  int rc = 0;
  if (p->stdin_fd >= 0)
    rc |= posix_spawn_file_actions_adddup2(&fa, p->stdin_fd, 0);
  else
    rc |= posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (out_w >= 0)
    rc |= posix_spawn_file_actions_adddup2(&fa, out_w, 1);
  else
    rc |= posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  rc |= posix_spawn_file_actions_adddup2(&fa, err_w, 2);

  char **envp = rc ? NULL : build_env(p);
  if (!envp) {
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return fastepost__error_oom();
  }
  /* Checked first because not every posix_spawn reports a failed exec (under valgrind the
   * child just exits 127), and because "not executable" is a clearer message. */
  int err = access(p->argv[0], X_OK) == 0 ? 0 : errno;
  if (err == 0)
    err = posix_spawn(pid, p->argv[0], &fa, &attr, (char *const *)(uintptr_t)p->argv, envp);
  free(envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0)
    return fastepost__error_set(FASTEPOST_EEXTERNAL, "cannot run %s: %s", p->argv[0],
                                strerror(err));
  return FASTEPOST_OK;
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

  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (make_pipe(err) != 0 || (p->on_stdout && make_pipe(out) != 0)) {
    close_fd(&err[0]);
    close_fd(&err[1]);
    return fastepost__error_set(FASTEPOST_EIO, "cannot create a pipe: %s", strerror(errno));
  }
  pid_t pid;
  int rc = spawn(p, &pid, p->on_stdout ? out[1] : p->stdout_fd, err[1]);
  close_fd(&out[1]);
  close_fd(&err[1]);
  if (rc) {
    close_fd(&out[0]);
    close_fd(&err[0]);
    return rc;
  }
  p->pid = (int)pid;

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
    if (poll(fds, 2, p->on_tick ? tick_ms : -1) < 0) {
      if (errno == EINTR)
        continue;
      stop = fastepost__error_set(FASTEPOST_EIO, "waiting for %s: %s", p->argv[0], strerror(errno));
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

  if (stop) {
    stop_child(pid);
    p->signal = SIGTERM;
    p->pid = 0;
    fastepost__buf_free(&errbuf);
    p->err = fastepost__strdup("");
    return stop;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      status = -1;
      break;
    }
  }
  p->pid = 0;
  if (status != -1 && WIFEXITED(status)) {
    p->exit_code = WEXITSTATUS(status);
  } else if (status != -1 && WIFSIGNALED(status)) {
    p->signal = WTERMSIG(status);
  }
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

void fastepost__proc_describe(const fastepost__proc *p, char *out, size_t outsize) {
  if (p->signal)
    snprintf(out, outsize, "was killed by signal %d (%s)", p->signal, strsignal(p->signal));
  else
    snprintf(out, outsize, "exited with status %d", p->exit_code);
}
