/* The child-process runner: argv without a shell, environment additions, stdout streaming,
 * stderr capture, exit status. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/proc.h"

typedef struct collect {
  char data[4096];
  size_t len;
  int stop;
} collect;

static int on_out(const char *data, size_t len, void *payload) {
  collect *c = payload;
  if (c->stop)
    return 1;
  if (c->len + len < sizeof c->data) {
    memcpy(c->data + c->len, data, len);
    c->len += len;
  }
  return 0;
}

Test(proc, streams_stdout_captures_stderr_and_status) {
  /* Arguments reach the program as they are: no shell splits or expands them. */
  const char *argv[] = {"sh", "-c", "printf '%s|%s' \"$1\" \"$FP_TEST_VAR\"; echo oops >&2; exit 3", "sh",
                        "a b; $(rm -rf /) *", NULL};
  const char *env[] = {"FP_TEST_VAR=from env", NULL};
  collect c = {{0}, 0, 0};
  fastepost__proc spec = {argv, env, on_out, &c, -1, -1};
  int status = -1;
  char *err = NULL;
  cr_assert_eq(fastepost__proc_run(&status, &err, &spec), FASTEPOST_OK);
  cr_assert_eq(status, 3);
  cr_assert_str_eq(c.data, "a b; $(rm -rf /) *|from env");
  cr_assert_str_eq(err, "oops\n");
  free(err);
}

Test(proc, missing_program_and_stopped_reader) {
  const char *missing[] = {"/nonexistent/program", NULL};
  fastepost__proc spec = {missing, NULL, NULL, NULL, -1, -1};
  int status = 0;
  int rc = fastepost__proc_run(&status, NULL, &spec);
  /* posix_spawn may report the failure itself, or the child exits with 127. */
  cr_assert(rc == FASTEPOST_EEXTERNAL || (rc == FASTEPOST_OK && status == 127), "rc %d status %d", rc, status);

  const char *yes[] = {"yes", NULL};
  collect c = {{0}, 0, 1};
  fastepost__proc stop = {yes, NULL, on_out, &c, -1, -1};
  cr_assert_eq(fastepost__proc_run(&status, NULL, &stop), FASTEPOST_ECANCELED);
  cr_assert_neq(status, 0, "the child was terminated");
}
