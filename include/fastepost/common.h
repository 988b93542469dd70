/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/common.h
 * @brief Export macro, the status type and memory release shared by every module.
 */
#ifndef FASTEPOST_COMMON_H
#define FASTEPOST_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define FASTEPOST_BEGIN_DECLS extern "C" {
#define FASTEPOST_END_DECLS }
#else
#define FASTEPOST_BEGIN_DECLS
#define FASTEPOST_END_DECLS
#endif

/** Marks a function as part of the public ABI; everything else is hidden. */
#if defined(FASTEPOST_BUILDING) && defined(__GNUC__)
#define FASTEPOST_EXTERN(type) __attribute__((visibility("default"))) type
#else
#define FASTEPOST_EXTERN(type) extern type
#endif

FASTEPOST_BEGIN_DECLS

/**
 * Result of every call that can fail: FASTEPOST_OK (0) on success, a negative
 * fastepost_error_code on failure. Details are in fastepost_error_last().
 *
 * It has its own name (rather than plain int) so that the language bindings can hang one
 * "raise on failure" rule on it.
 */
typedef int fastepost_status;

/**
 * Release memory that the library handed to the caller (strings returned through
 * `char **out`). A no-op on NULL.
 */
FASTEPOST_EXTERN(void) fastepost_free(void *ptr);

/**
 * The version of the library actually loaded, which may differ from the headers a program
 * was compiled with (see fastepost/version.h).
 *
 * @param major  if not NULL, receives the major version
 * @param minor  if not NULL, receives the minor version
 * @param patch  if not NULL, receives the patch version
 * @return "MAJOR.MINOR.PATCH", a static string
 */
FASTEPOST_EXTERN(const char *) fastepost_libversion(int *major, int *minor, int *patch);

/**
 * Progress of a long operation (export, import ...), called every so often and once at the end.
 *
 * @param rows     rows processed so far
 * @param bytes    bytes read (import) or written (export) so far
 * @param payload  the caller's pointer, passed through
 * @return 0 to continue; nonzero to stop the operation, which then fails with
 *         FASTEPOST_ECANCELED (an import is rolled back)
 */
typedef int (*fastepost_progress_cb)(uint64_t rows, uint64_t bytes, void *payload);

/**
 * Write a whole file, all or nothing (the library's one "durable write"): `data` goes to a
 * temporary file (mode 0600) in the same directory, which is synced, renamed over `path`, and
 * the directory synced, so that after a crash `path` holds either its old contents or all of
 * `data`. On failure an existing file at `path` is left as it was and no temporary file
 * remains. File exports use the same machinery; the CLI writes every output file (`--output`)
 * this way.
 *
 * Moved here from fastepost/export.h: it serves every module, not only exports.
 *
 * @param path  the file to create or replace (relative paths are the caller's: the library
 *              uses what it is given)
 * @param data  the contents (borrowed); may be NULL when len is 0
 * @param len   their length in bytes
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL path, NULL data with len > 0);
 *         FASTEPOST_EFULL (disk or quota full); FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_file_write(const char *path, const void *data, size_t len);

FASTEPOST_END_DECLS

#endif
