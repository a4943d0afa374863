/*
 * test_hex.c - unit tests of hex.h: encoding, prefix handling, strict decoding.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/hex.h"
#include "unit_test.h"

START_TEST(test_encode) {
    const uint8_t in[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
    char out[13];
    hex_encode(in, sizeof(in), out);
    ck_assert_str_eq(out, "0001abcdefff");
    hex_encode(in, 0, out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_decode) {
    uint8_t out[8];
    size_t n = 99;
    ck_assert_int_eq(hex_decode("0xDeadBEEF", 10, out, sizeof(out), &n), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_mem_eq(out, "\xde\xad\xbe\xef", 4);
    ck_assert_int_eq(hex_decode("0Xff00", 6, out, sizeof(out), &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(hex_decode("0102", 4, out, sizeof(out), &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(hex_decode("0x", 2, out, sizeof(out), &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(hex_decode("", 0, out, sizeof(out), &n), 0);
    ck_assert_uint_eq(n, 0);
    /* slen bounds the input: the rest of the string is not read */
    ck_assert_int_eq(hex_decode("abcdZZ", 4, out, sizeof(out), &n), 0);
    ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(test_decode_limits) {
    uint8_t out[2];
    size_t n = 7;
    ck_assert_int_eq(hex_decode("0xabcd", 6, out, 2, &n), 0);
    ck_assert_int_eq(hex_decode("0xabcdef", 8, out, 2, &n), TXL_ENOSPACE);
    ck_assert_uint_eq(n, 2); /* untouched since the successful call above */
}
END_TEST

START_TEST(test_decode_invalid) {
    uint8_t out[8];
    size_t n = 0;
    const char *bad[] = {"0x1", "abc", "0xgg", "0x 1", "xx00", "0x0x00", "-1", "12 "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(hex_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n), TXL_EINVAL);
    ck_assert_int_eq(hex_decode("00\0" "0", 4, out, sizeof(out), &n), TXL_EINVAL);
    ck_assert_int_eq(hex_digit_value('g'), -1);
    ck_assert_int_eq(hex_digit_value('F'), 15);
}
END_TEST

START_TEST(test_decode_0x_alloc) {
    uint8_t *out = (uint8_t *)"x";
    size_t n = 9;
    ck_assert_int_eq(hex_decode_0x_alloc("0x0aFf", &out, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_mem_eq(out, "\x0a\xff", 2);
    free(out);
    ck_assert_int_eq(hex_decode_0x_alloc("0X", &out, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(out);
    const char *bad[] = {"", "0", "0aff", "0x0", "0xzz", "x0aff"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(hex_decode_0x_alloc(bad[i], &out, &n), TXL_EINVAL);
        ck_assert_ptr_null(out);
    }
}
END_TEST

START_TEST(test_roundtrip) {
    uint8_t in[256], back[256];
    char txt[513];
    size_t n = 0;
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    hex_encode(in, sizeof(in), txt);
    ck_assert_int_eq(hex_decode(txt, strlen(txt), back, sizeof(back), &n), 0);
    ck_assert_uint_eq(n, 256);
    ck_assert_mem_eq(in, back, 256);
}
END_TEST

int main(void) {
    Suite *s = suite_create("hex");
    TCase *tc = tcase_create("hex");
    tcase_add_test(tc, test_encode);
    tcase_add_test(tc, test_decode);
    tcase_add_test(tc, test_decode_limits);
    tcase_add_test(tc, test_decode_invalid);
    tcase_add_test(tc, test_decode_0x_alloc);
    tcase_add_test(tc, test_roundtrip);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
