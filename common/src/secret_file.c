/*
 * secret_file.c - read a small secret file into a wipeable buffer (see
 * secret_file.h).
 *
 * The buffer is sized once from fstat() (bounded by SECRET_FILE_MAX) and never
 * reallocated, so no unwiped copy of the secret is left on the heap. A file
 * that grows past its stat size while being read is reported as too large.
 */
#include "txlane/secret_file.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "txlane/secure.h"
#include "txlane/xmalloc.h"

static void secret_file_error(char *errstr, size_t errstr_size, const char *fmt, const char *path,
                              const char *detail) {
    if (errstr != NULL && errstr_size > 0)
        snprintf(errstr, errstr_size, fmt, path, detail);
}

static int secret_file_is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int secret_file_read(const char *path, secret_file_t *sf, char *errstr, size_t errstr_size) {
    struct stat st;
    size_t got = 0;
    int fd, rc = 0;

    assert(path != NULL && sf != NULL);
    memset(sf, 0, sizeof *sf);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        secret_file_error(errstr, errstr_size, "could not open %s: %s", path, strerror(errno));
        return TXL_EIO;
    }
    if (fstat(fd, &st) != 0) {
        secret_file_error(errstr, errstr_size, "could not stat %s: %s", path, strerror(errno));
        rc = TXL_EIO;
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        secret_file_error(errstr, errstr_size, "%s: %s", path, "not a regular file");
        rc = TXL_EIO;
        goto cleanup;
    }
    if (st.st_size > SECRET_FILE_MAX) {
        secret_file_error(errstr, errstr_size, "%s: %s", path, "file too large for a secret");
        rc = TXL_ERANGE;
        goto cleanup;
    }
    sf->mode = st.st_mode & 07777;
    sf->cap = (size_t)st.st_size + 2; /* room to notice growth, and the NUL */
    sf->data = xmalloc(sf->cap);
    for (;;) {
        ssize_t n = read(fd, sf->data + got, sf->cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            secret_file_error(errstr, errstr_size, "could not read %s: %s", path,
                              strerror(errno));
            rc = TXL_EIO;
            goto cleanup;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == sf->cap - 1) {
            secret_file_error(errstr, errstr_size, "%s: %s", path, "file grew while reading");
            rc = TXL_ERANGE;
            goto cleanup;
        }
    }
    if (memchr(sf->data, '\0', got) != NULL) {
        secret_file_error(errstr, errstr_size, "%s: %s", path, "contains a NUL byte");
        rc = TXL_ERANGE;
        goto cleanup;
    }
    while (got > 0 && secret_file_is_space(sf->data[got - 1]))
        sf->data[--got] = '\0';
    sf->data[got] = '\0';
    sf->len = got;
cleanup:
    close(fd);
    return rc;
}

int secret_file_is_exposed(const secret_file_t *sf) {
    assert(sf != NULL);
    return (sf->mode & (S_IRWXG | S_IRWXO)) != 0;
}

void secret_file_release(secret_file_t *sf) {
    if (sf == NULL)
        return;
    if (sf->data != NULL) {
        secure_wipe(sf->data, sf->cap);
        free(sf->data);
    }
    memset(sf, 0, sizeof *sf);
}
