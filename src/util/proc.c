/* Child processes without a shell: posix_spawn, pipes, poll. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "util/proc.h"

extern char **environ;

enum { STDERR_MAX = 16 * 1024 };

/* environ minus the names env_add sets, plus env_add. Entries are borrowed. */
static char **build_env(const char *const *add) {
  size_t n = 0, k = 0;
  while (environ[n])
    n++;
  while (add && add[k])
    k++;
  char **env = calloc(n + k + 1, sizeof *env);
  if (!env)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    const char *eq = strchr(environ[i], '=');
    size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
    bool replaced = false;
    for (size_t j = 0; j < k && !replaced; j++)
      replaced = strncmp(add[j], environ[i], nl) == 0 && add[j][nl] == '=';
    if (!replaced)
      env[o++] = environ[i];
  }
  for (size_t j = 0; j < k; j++)
    env[o++] = (char *)(uintptr_t)add[j]; /* posix_spawn's prototype lacks const */
  return env;
}

int fastepost__proc_run(int *exit_status, char **stderr_out, const fastepost__proc *spec) {
  *exit_status = -1;
  if (stderr_out)
    *stderr_out = NULL;
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0 || pipe(err_pipe) || (spec->on_stdout && pipe(out_pipe))) {
    int e = errno;
    if (devnull >= 0)
      close(devnull);
    for (int i = 0; i < 2; i++) {
      if (err_pipe[i] >= 0)
        close(err_pipe[i]);
      if (out_pipe[i] >= 0)
        close(out_pipe[i]);
    }
    return fastepost__error_set(FASTEPOST_EIO, "cannot create pipes: %s", strerror(e));
  }
  /* Our ends must not leak into the child (or into other children of a threaded host). */
  fcntl(err_pipe[0], F_SETFD, FD_CLOEXEC);
  if (out_pipe[0] >= 0)
    fcntl(out_pipe[0], F_SETFD, FD_CLOEXEC);

  int child_out = spec->on_stdout ? out_pipe[1] : spec->stdout_fd >= 0 ? spec->stdout_fd : devnull;
  int child_in = spec->stdin_fd >= 0 ? spec->stdin_fd : devnull;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, child_in, 0);
  posix_spawn_file_actions_adddup2(&fa, child_out, 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  char **env = build_env(spec->env_add);
  pid_t pid = -1;
  int rc = env ? posix_spawnp(&pid, spec->argv[0], &fa, NULL, (char *const *)(uintptr_t)spec->argv, env)
               : ENOMEM;
  posix_spawn_file_actions_destroy(&fa);
  free(env);
  close(devnull);
  close(err_pipe[1]);
  if (out_pipe[1] >= 0)
    close(out_pipe[1]);
  if (rc) {
    close(err_pipe[0]);
    if (out_pipe[0] >= 0)
      close(out_pipe[0]);
    return rc == ENOMEM ? fastepost__error_oom()
                        : fastepost__error_set(FASTEPOST_EEXTERNAL, "cannot run %s: %s",
                                               spec->argv[0], strerror(rc));
  }

  fastepost__buf err = FASTEPOST__BUF_INIT;
  int status = FASTEPOST_OK;
  bool stopped = false;
  char chunk[65536];
  struct pollfd fds[2] = {{err_pipe[0], POLLIN, 0}, {out_pipe[0], POLLIN, 0}};
  int open_fds = out_pipe[0] >= 0 ? 2 : 1;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      status = fastepost__error_set(FASTEPOST_EIO, "poll: %s", strerror(errno));
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
        continue;
      }
      if (i == 0) {
        size_t room = err.len < STDERR_MAX ? STDERR_MAX - err.len : 0;
        fastepost__buf_append(&err, chunk, (size_t)n < room ? (size_t)n : room);
      } else if (status == FASTEPOST_OK) {
        int cb = spec->on_stdout(chunk, (size_t)n, spec->payload);
        if (cb) {
          /* Keep draining the pipes so the child is not stuck on a full one. */
          status = cb < 0 ? cb : FASTEPOST_ECANCELED;
          stopped = true;
          kill(pid, SIGTERM);
        }
      }
    }
    if (status != FASTEPOST_OK && !stopped)
      break;
  }
  for (int i = 0; i < 2; i++)
    if (fds[i].fd >= 0)
      close(fds[i].fd);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
    ;
  *exit_status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  if (stderr_out && status == FASTEPOST_OK)
    *stderr_out = fastepost__buf_detach(&err);
  fastepost__buf_free(&err);
  if (status == FASTEPOST_ECANCELED)
    fastepost__error_set(FASTEPOST_ECANCELED, "%s was stopped", spec->argv[0]);
  return status;
}
