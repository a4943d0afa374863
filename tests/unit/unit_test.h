/*
 * unit_test.h - helpers shared by the unit tests of the Ethereum modules:
 * running a Check suite, and reading known-answer vectors from
 * tests/vectors/ (simple line-based text files; '#' starts a comment line).
 * Header-only so that each test stays one executable.
 */
#ifndef TXLANE_UNIT_TEST_H
#define TXLANE_UNIT_TEST_H

#include <check.h>
#include <unistd.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/hex.h"

static inline FILE *vec_open(const char *name) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", TXLANE_VECTORS_DIR, name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    return f;
}

/* Reads the next line that is not a comment, without its newline; blank
 * lines are returned (as "") so that record-based files can use them.
 * Returns 0 at end of file. */
static inline int vec_line(FILE *f, char *buf, size_t cap) {
    while (fgets(buf, (int)cap, f) != NULL) {
        size_t n = strlen(buf);
        ck_assert_msg(n + 1 < cap || buf[n - 1] == '\n', "vector line too long");
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        if (buf[0] != '#')
            return 1;
    }
    return 0;
}

/* Decodes hex ("-" means empty) into out; returns the byte count. */
static inline size_t vec_hex(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    if (strcmp(s, "-") == 0)
        return 0;
    ck_assert_int_eq(hex_decode(s, strlen(s), out, cap, &n), 0);
    return n;
}

/* Runs every test of s, frees it, and returns the process exit status. */
/* Writes len bytes to a new file in $TMPDIR (default /tmp) with the given mode and returns
 * its path; the caller unlinks and frees it. */
static inline char *unit_tmp_file(const void *data, size_t len, mode_t mode) {
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    size_t cap = strlen(dir) + sizeof("/txlane-test-XXXXXX");
    char *path = malloc(cap);
    ck_assert_ptr_nonnull(path);
    snprintf(path, cap, "%s/txlane-test-XXXXXX", dir);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    ck_assert_int_eq(close(fd), 0);
    return path;
}

static inline int unit_run(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
