/* SPDX-License-Identifier: MIT */
/*
 * Start and drive the stand-in Odoo server (fake_odoo.py, same directory) from a Criterion
 * suite: fake_odoo_start() in a test's .init, fake_odoo_stop() in its .fini. Control requests go
 * through the library's own HTTP client (POST /__admin/<command>).
 */
#ifndef FASTEPOST_TESTS_FAKE_ODOO_HARNESS_H
#define FASTEPOST_TESTS_FAKE_ODOO_HARNESS_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fastepost.h"
#include "http/http.h"

typedef struct fake_odoo {
  int port;
  char url[128]; /* the test's own tenant: http://127.0.0.1:PORT/t/<tenant> */
} fake_odoo;

static fake_odoo fo;

static void fake_odoo_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Whether something listens on 127.0.0.1:port. The files of a run's server outlive it (it exits
 * when idle), and with pid_max at 32768 a later run's parent pid, and the dead server's pid,
 * can be reused: a live pid next to a port file is not proof of a server. */
static bool fake_odoo_listening(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0)
    return false;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
  close(s);
  return ok;
}

/* The port of the run's server, starting it when there is none (under a lock, since Criterion
 * runs tests in parallel processes). Python starts slowly on a loaded machine, so one server
 * serves every test of a run (the suite's processes share a parent); it leaves by itself after
 * 30 s without a request. Its output goes to /dev/null so that ctest does not wait for it. */
static int fake_odoo_port(void) {
  const char *root = getenv("FASTEPOST_SOURCE_DIR");
  char dir[128], lockpath[192], portfile[192], pidfile[192], script[1024];
  snprintf(dir, sizeof dir, "/tmp/fake-odoo-%d-%d", (int)getuid(), (int)getppid());
  mkdir(dir, 0700);
  snprintf(lockpath, sizeof lockpath, "%s/lock", dir);
  snprintf(portfile, sizeof portfile, "%s/port", dir);
  snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
  snprintf(script, sizeof script, "%s/tests/fake_odoo/fake_odoo.py", root ? root : ".");
  int lock = open(lockpath, O_CREAT | O_RDWR, 0600);
  cr_assert(lock >= 0 && flock(lock, LOCK_EX) == 0, "lock %s", lockpath);
  int port = 0, pid = 0;
  FILE *f = fopen(pidfile, "r");
  if (f) {
    if (fscanf(f, "%d", &pid) != 1)
      pid = 0;
    fclose(f);
  }
  if (pid > 0 && kill(pid, 0) == 0 && (f = fopen(portfile, "r"))) {
    if (fscanf(f, "%d", &port) != 1)
      port = 0;
    fclose(f);
  }
  if (port > 0 && !fake_odoo_listening(port))
    port = 0;
  if (port <= 0) {
    unlink(portfile);
    pid_t child = fork();
    cr_assert(child >= 0);
    if (child == 0) {
      setsid();
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      execlp("python3", "python3", script, portfile, (char *)NULL);
      _exit(127);
    }
    for (int i = 0; i < 600 && port <= 0; i++) { /* up to 30 s: a loaded machine */
      if ((f = fopen(portfile, "r"))) {
        if (fscanf(f, "%d", &port) != 1)
          port = 0;
        fclose(f);
      }
      if (port <= 0)
        fake_odoo_sleep_ms(50);
    }
    cr_assert(port > 0, "the fake Odoo server did not start (python3 %s)", script);
    if ((f = fopen(pidfile, "w"))) {
      fprintf(f, "%d\n", (int)child);
      fclose(f);
    }
  }
  flock(lock, LOCK_UN);
  close(lock);
  return port;
}

static void fake_odoo_start(void) {
  static int next;
  /* The stand-in needs Python 3 (stdlib only): without it the tests are skipped, not passed. */
  if (system("command -v python3 >/dev/null 2>&1") != 0)
    cr_skip_test("python3 is not installed: the stand-in Odoo server cannot run");
  fo.port = fake_odoo_port();
  snprintf(fo.url, sizeof fo.url, "http://127.0.0.1:%d/t/%d-%d", fo.port, (int)getpid(), next++);
}

/* The server is shared by the run (see fake_odoo_port): a test's tenant is simply left. */
static void fake_odoo_stop(void) {}

/* POST /__admin/<cmd> with a JSON body; the answer's body (malloc'd; free it), asserting 200. */
static char *fake_odoo_admin(const char *cmd, const char *json) {
  char url[256];
  snprintf(url, sizeof url, "%s/__admin/%s", fo.url, cmd);
  const char *headers[] = {"Content-Type: application/json"};
  fastepost__http_options o = {.retries = -1};
  fastepost__http_response r;
  int rc = fastepost__http_request(&r, "POST", url, headers, 1, json, strlen(json), &o);
  cr_assert_eq(rc, 0, "admin %s: %s", cmd, fastepost_error_last()->message);
  cr_assert_eq(r.status, 200, "admin %s: HTTP %ld %s", cmd, r.status, r.body);
  return r.body;
}

/* The same, for commands whose answer does not matter. */
static void fake_odoo_do(const char *cmd, const char *json) { free(fake_odoo_admin(cmd, json)); }

/* The key the stand-in accepts unless a test configures another. */
#define FAKE_ODOO_KEY "fake-api-key"

/* Options that reach this test's tenant with the stand-in's database, bot user and key. */
static inline fastepost_odoo_sync_options *fake_odoo_options(fastepost_odoo_sync_protocol proto) {
  fastepost_odoo_sync_options *o = NULL;
  cr_assert_eq(fastepost_odoo_sync_options_new(&o), 0);
  cr_assert_eq(fastepost_odoo_sync_options_set_url(o, fo.url), 0);
  cr_assert_eq(fastepost_odoo_sync_options_set_database(o, "fake"), 0);
  cr_assert_eq(fastepost_odoo_sync_options_set_user(o, "bot"), 0);
  cr_assert_eq(fastepost_odoo_sync_options_set_api_key(o, FAKE_ODOO_KEY), 0);
  cr_assert_eq(fastepost_odoo_sync_options_set_protocol(o, proto), 0);
  return o;
}

#endif
