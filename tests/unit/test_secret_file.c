/*
 * test_secret_file.c - Check suite for secret_file.h: trimming of trailing
 * whitespace, permission bits, and refusal of missing, non-regular, oversized
 * and NUL-containing files.
 */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "txlane/secret_file.h"
#include "unit_test.h"

static char tmp_path[4096];

/* Creates tmp_path with len bytes of data and the given mode. */
static void tmp_secret_create(const void *data, size_t len, mode_t mode) {
    char *path = unit_tmp_file(data, len, mode);
    snprintf(tmp_path, sizeof(tmp_path), "%s", path);
    free(path);
}

START_TEST(test_read_trim) {
    secret_file_t sf;
    char err[256];

    tmp_secret_create("  word one\tword two \r\n\n", 23, 0600);
    ck_assert_int_eq(secret_file_read(tmp_path, &sf, err, sizeof err), 0);
    ck_assert_str_eq(sf.data, "  word one\tword two");
    ck_assert_uint_eq(sf.len, strlen(sf.data));
    ck_assert_uint_eq(sf.mode, 0600);
    ck_assert_int_eq(secret_file_is_exposed(&sf), 0);
    secret_file_release(&sf);
    ck_assert_ptr_null(sf.data);
    secret_file_release(&sf);
    secret_file_release(NULL);
    unlink(tmp_path);
}
END_TEST

START_TEST(test_modes) {
    static const mode_t modes[] = {0640, 0604, 0610, 0660};
    secret_file_t sf;

    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        tmp_secret_create("x\n", 2, modes[i]);
        ck_assert_int_eq(secret_file_read(tmp_path, &sf, NULL, 0), 0);
        ck_assert_int_eq(secret_file_is_exposed(&sf), 1);
        ck_assert_uint_eq(sf.mode, modes[i]);
        secret_file_release(&sf);
        unlink(tmp_path);
    }
    tmp_secret_create("", 0, 0400);
    ck_assert_int_eq(secret_file_read(tmp_path, &sf, NULL, 0), 0);
    ck_assert_str_eq(sf.data, "");
    ck_assert_int_eq(secret_file_is_exposed(&sf), 0);
    secret_file_release(&sf);
    unlink(tmp_path);
}
END_TEST

START_TEST(test_refused) {
    static char big[SECRET_FILE_MAX + 1];
    secret_file_t sf;
    char err[256];

    ck_assert_int_eq(secret_file_read("/nonexistent/secret", &sf, err, sizeof err), TXL_EIO);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/secret"));
    secret_file_release(&sf);
    ck_assert_int_eq(secret_file_read("/tmp", &sf, err, sizeof err), TXL_EIO);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    secret_file_release(&sf);

    memset(big, 'a', sizeof big);
    tmp_secret_create(big, sizeof big, 0600);
    ck_assert_int_eq(secret_file_read(tmp_path, &sf, err, sizeof err), TXL_ERANGE);
    secret_file_release(&sf);
    unlink(tmp_path);

    tmp_secret_create("ab\0cd\n", 6, 0600);
    ck_assert_int_eq(secret_file_read(tmp_path, &sf, err, sizeof err), TXL_ERANGE);
    ck_assert_ptr_nonnull(strstr(err, "NUL"));
    secret_file_release(&sf);
    unlink(tmp_path);
}
END_TEST

int main(void) {
    Suite *s = suite_create("secret_file");
    TCase *tc = tcase_create("secret_file");

    tcase_add_test(tc, test_read_trim);
    tcase_add_test(tc, test_modes);
    tcase_add_test(tc, test_refused);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
