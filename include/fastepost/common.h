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

FASTEPOST_END_DECLS

#endif
