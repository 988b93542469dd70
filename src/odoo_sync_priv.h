/* SPDX-License-Identifier: MIT */
/*
 * The options of the Odoo pull and push (fastepost/odoo_sync.h), shared by src/odoo_pull.c
 * (which makes them and holds the pull's setters) and src/odoo_push.c (the push's setters).
 */
#ifndef FASTEPOST_ODOO_SYNC_PRIV_H
#define FASTEPOST_ODOO_SYNC_PRIV_H

#include <stdbool.h>

#include "adapters/adapter.h"
#include "fastepost/odoo_sync.h"
#include "odoo_client/odoo_client.h"
#include "util/strv.h"

struct fastepost_odoo_sync_options {
  char *url, *database, *user, *key, *ca_file;
  fastepost_odoo_sync_protocol protocol;
  fastepost__strlist models;
  int64_t since_us;
  bool full, detect_deletions;
  int64_t overlap_us;
  size_t page_size;
  int64_t connect_us, total_us;
  fastepost__clock clock;
  fastepost_progress_cb progress;
  void *progress_payload;
  /* the push (src/odoo_push.c) */
  fastepost_odoo_sync_prefer prefer;
  size_t push_limit;
};

/* The checks the pull and the push start with: conn and o given (EINVALID), a URL (EINVALID)
 * and an API key (ENOKEY); fn names the caller in the message. */
int fastepost__odoo_sync_check(fastepost_conn *conn, const fastepost_odoo_sync_options *o, const char *fn);

/* The Odoo client the options describe (URL, database, user, key, protocol, CA file, timeouts);
 * nothing is sent yet. */
int fastepost__odoo_sync_client_new(fastepost__odoo_client **out, const fastepost_odoo_sync_options *o);

#endif
