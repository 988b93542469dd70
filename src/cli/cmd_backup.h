/* SPDX-License-Identifier: MIT */
/* The CLI's backup directory: the environment the library no longer reads is read here. */
#ifndef FASTEPOST_CLI_CMD_BACKUP_H
#define FASTEPOST_CLI_CMD_BACKUP_H

#include "fastepost.h"

/* The per-user default directory: $FASTEPOST_BACKUP_DIR, else $XDG_STATE_HOME/fastepost/backups,
 * else ~/.local/state/fastepost/backups (fastepost_backup_default_dir()). Never /tmp or the
 * working directory. *out freed with fastepost_free(). */
fastepost_status cli_backup_default_dir(char **out);

/* A backup directory handle for `path` (NULL or "": the default above; relative: against the
 * working directory), with the client programs of $FASTEPOST_PG_DUMP, $FASTEPOST_PG_RESTORE,
 * $FASTEPOST_PSQL and $PATH as the search path. */
fastepost_status cli_backup_dir_new(fastepost_backup_dir **out, const char *path);

/* path made absolute against the working directory (the library takes absolute paths only);
 * *out is malloc'ed. */
fastepost_status cli_backup_absolute(char **out, const char *path);

#endif
