/*
 * secret_file.h - reading a small secret (mnemonic, passphrase, key) from a
 * file into a buffer that is wiped when released.
 *
 * The whole file is read with one open file description (no re-open between
 * the permission check and the read); trailing whitespace (a final newline) is
 * trimmed and the trimmed bytes are wiped. The file's permission bits are kept
 * so that each program can apply its own policy: the signer refuses a secret
 * that group or others may read, the CLI only warns. Thread-safe; one
 * secret_file_t belongs to one thread.
 */
#ifndef TXLANE_SECRET_FILE_H
#define TXLANE_SECRET_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "txlane/err.h"

#define SECRET_FILE_MAX 65536 /* largest secret file accepted, in bytes */

typedef struct {
    char *data;  /* NUL-terminated contents without trailing whitespace */
    size_t len;  /* strlen(data) */
    size_t cap;  /* allocated bytes at data, all wiped on release */
    mode_t mode; /* permission bits of the file (st_mode & 07777) */
} secret_file_t;

/* Reads the regular file at path into *sf (which must be released with
 * secret_file_release, also on error). Returns 0; TXL_EIO if it cannot be
 * opened or read or is not a regular file; TXL_ERANGE if it is larger than
 * SECRET_FILE_MAX or contains a NUL byte. errstr gets a one-line reason that
 * names the path but never the contents. */
TXL_WUR int secret_file_read(const char *path, secret_file_t *sf, char *errstr,
                             size_t errstr_size);

/* 1 if group or others have any permission on the file, else 0. */
int secret_file_is_exposed(const secret_file_t *sf);

/* Wipes and frees the contents and zeroes *sf. sf may be NULL; releasing an
 * empty or already released secret_file_t is a no-op. */
void secret_file_release(secret_file_t *sf);

#endif
