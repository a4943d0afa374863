/*
 * test_uint256.c - unit tests of uint256.h: strict parsing (junk, signs,
 * overflow at 2^256), formatting round trips, checked arithmetic and the
 * fee-bump percentage.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/uint256.h"
#include "unit_test.h"

#define U256_MAX_DEC                                                                               \
    "115792089237316195423570985008687907853269984665640564039457584007913129639935"
#define U256_MAX_HEX "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static const uint256_t u256_max = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};

static uint256_t u256(uint64_t w3, uint64_t w2, uint64_t w1, uint64_t w0) {
    uint256_t v = {{w0, w1, w2, w3}};
    return v;
}

static void assert_eq(const uint256_t *a, const uint256_t *b) {
    ck_assert_mem_eq(a->w, b->w, sizeof(a->w));
}

START_TEST(test_parse_valid) {
    uint256_t v, e;
    ck_assert_int_eq(uint256_parse("0", &v), 0);
    ck_assert(uint256_is_zero(&v));
    ck_assert_int_eq(uint256_parse("007", &v), 0); /* leading zeros are accepted */
    e = u256(0, 0, 0, 7);
    assert_eq(&v, &e);
    ck_assert_int_eq(uint256_parse("18446744073709551616", &v), 0);
    e = u256(0, 0, 1, 0);
    assert_eq(&v, &e);
    ck_assert_int_eq(uint256_parse(U256_MAX_DEC, &v), 0);
    assert_eq(&v, &u256_max);
    ck_assert_int_eq(uint256_parse(U256_MAX_HEX, &v), 0);
    assert_eq(&v, &u256_max);
    ck_assert_int_eq(uint256_parse("0X000000000000000000000000000000000000000000000000000000"
                                   "0000000000000000000001aB",
                                   &v),
                     0);
    e = u256(0, 0, 0, 0x1ab);
    assert_eq(&v, &e);
    ck_assert_int_eq(uint256_parse_hex("0x0", &v), 0);
    ck_assert(uint256_is_zero(&v));
    ck_assert_int_eq(uint256_parse_dec("1000000000000000000", &v), 0);
    e = u256(0, 0, 0, 1000000000000000000ULL);
    assert_eq(&v, &e);
    ck_assert_int_eq(uint256_parse_n("12345xyz", 5, &v), 0);
    e = u256(0, 0, 0, 12345);
    assert_eq(&v, &e);
}
END_TEST

START_TEST(test_parse_invalid) {
    const uint256_t sentinel = u256(1, 2, 3, 4);
    const char *bad[] = {"",    " 1",   "1 ",  "+1",  "-1",   "1.0", "1e3", "0x",
                         "0x ", "0xg",  "0b1", "1_0", "0x-1", "--1", "x10", "1,000",
                         "١",   "0xx1", "00x1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint256_t v = sentinel;
        ck_assert_msg(uint256_parse(bad[i], &v) == TXL_EINVAL, "accepted '%s'", bad[i]);
        assert_eq(&v, &sentinel);
    }
    uint256_t v = sentinel;
    ck_assert_int_eq(uint256_parse_dec("0x10", &v), TXL_EINVAL);
    ck_assert_int_eq(uint256_parse_hex("10", &v), TXL_EINVAL);
    ck_assert_int_eq(uint256_parse_n("12\0" "3", 4, &v), TXL_EINVAL);
    assert_eq(&v, &sentinel);
}
END_TEST

START_TEST(test_parse_overflow) {
    uint256_t v = u256(0, 0, 0, 5);
    ck_assert_int_eq(uint256_parse("1157920892373161954235709850086879078532699846656405640394"
                                   "57584007913129639936",
                                   &v),
                     TXL_ERANGE);
    ck_assert_int_eq(uint256_parse("999999999999999999999999999999999999999999999999999999999999999"
                                   "9999999999999999999999999",
                                   &v),
                     TXL_ERANGE);
    ck_assert_int_eq(
        uint256_parse("0x10000000000000000000000000000000000000000000000000000000000000000", &v),
        TXL_ERANGE);
    /* junk after an overflowing prefix is still junk, never a truncated value */
    ck_assert_int_eq(
        uint256_parse("1157920892373161954235709850086879078532699846656405640394575840079131296399"
                      "36x",
                      &v),
        TXL_EINVAL);
    uint256_t five = u256(0, 0, 0, 5);
    assert_eq(&v, &five);
}
END_TEST

START_TEST(test_format) {
    char dec[UINT256_DEC_BUF], hex[UINT256_HEX_BUF];
    uint256_t v = u256(0, 0, 0, 0);
    uint256_format_dec(&v, dec);
    uint256_format_hex(&v, hex);
    ck_assert_str_eq(dec, "0");
    ck_assert_str_eq(hex, "0x0");
    uint256_format_dec(&u256_max, dec);
    uint256_format_hex(&u256_max, hex);
    ck_assert_str_eq(dec, U256_MAX_DEC);
    ck_assert_str_eq(hex, U256_MAX_HEX);
    v = u256(0, 0, 0, 10000000000000000000ULL);
    uint256_format_dec(&v, dec);
    ck_assert_str_eq(dec, "10000000000000000000");
    v = u256(0, 0, 1, 0);
    uint256_format_dec(&v, dec);
    uint256_format_hex(&v, hex);
    ck_assert_str_eq(dec, "18446744073709551616");
    ck_assert_str_eq(hex, "0x10000000000000000");
}
END_TEST

START_TEST(test_format_roundtrip) {
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 2000; i++) {
        uint256_t v, back;
        for (int j = 0; j < 4; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v.w[j] = (i % 5 == j) ? 0 : x >> (i % 64);
        }
        char dec[UINT256_DEC_BUF], hex[UINT256_HEX_BUF];
        uint256_format_dec(&v, dec);
        ck_assert_int_eq(uint256_parse(dec, &back), 0);
        assert_eq(&v, &back);
        uint256_format_hex(&v, hex);
        ck_assert_int_eq(uint256_parse(hex, &back), 0);
        assert_eq(&v, &back);
        uint8_t be[32];
        uint256_to_be32(&v, be);
        uint256_from_be32(be, &back);
        assert_eq(&v, &back);
        size_t n = uint256_byte_len(&v);
        ck_assert(n == 32 || be[31 - n] == 0);
        ck_assert(n == 0 || be[32 - n] != 0);
        ck_assert_int_eq(uint256_from_be(be + 32 - n, n, &back), 0);
        assert_eq(&v, &back);
    }
}
END_TEST

START_TEST(test_u64_and_bytes) {
    uint256_t v;
    uint64_t x = 1;
    uint256_from_u64(UINT64_MAX, &v);
    ck_assert_int_eq(uint256_to_u64(&v, &x), 0);
    ck_assert_uint_eq(x, UINT64_MAX);
    v = u256(0, 0, 1, 0);
    ck_assert_int_eq(uint256_to_u64(&v, &x), TXL_ERANGE);
    ck_assert_uint_eq(x, UINT64_MAX);
    uint8_t be[33] = {0};
    be[31] = 0x12;
    be[32] = 0x34;
    ck_assert_int_eq(uint256_from_be(be, 33, &v), TXL_ERANGE);
    ck_assert_int_eq(uint256_from_be(be + 30, 3, &v), 0);
    ck_assert_uint_eq(v.w[0], 0x1234);
    ck_assert_uint_eq(uint256_byte_len(&v), 2);
    ck_assert_int_eq(uint256_from_be(NULL, 0, &v), 0);
    ck_assert(uint256_is_zero(&v));
    ck_assert_uint_eq(uint256_byte_len(&u256_max), 32);
}
END_TEST

START_TEST(test_add_sub) {
    uint256_t a = u256(0, 0, 0, UINT64_MAX), b = u256(0, 0, 0, 1), r, e;
    ck_assert_int_eq(uint256_add(&a, &b, &r), 0);
    e = u256(0, 0, 1, 0);
    assert_eq(&r, &e);
    ck_assert_int_eq(uint256_sub(&r, &b, &r), 0);
    assert_eq(&r, &a);
    r = u256(9, 9, 9, 9);
    ck_assert_int_eq(uint256_add(&u256_max, &b, &r), TXL_ERANGE);
    e = u256(9, 9, 9, 9);
    assert_eq(&r, &e);
    ck_assert_int_eq(uint256_sub(&b, &a, &r), TXL_ERANGE);
    assert_eq(&r, &e);
    ck_assert_int_eq(uint256_sub(&u256_max, &u256_max, &r), 0);
    ck_assert(uint256_is_zero(&r));
    a = u256(1, 0, 0, 0);
    ck_assert_int_eq(uint256_sub(&a, &b, &r), 0);
    e = u256(0, UINT64_MAX, UINT64_MAX, UINT64_MAX);
    assert_eq(&r, &e);
    a = u256(0, 0, 0, 0);
    ck_assert_int_eq(uint256_add(&u256_max, &a, &r), 0);
    assert_eq(&r, &u256_max);
}
END_TEST

START_TEST(test_mul) {
    uint256_t a = u256(0, 0, 0, 1000000000000000000ULL), r, e;
    ck_assert_int_eq(uint256_mul_u64(&a, 1000, &r), 0);
    ck_assert_int_eq(uint256_parse("1000000000000000000000", &e), 0);
    assert_eq(&r, &e);
    ck_assert_int_eq(uint256_mul_u64(&u256_max, 1, &r), 0);
    assert_eq(&r, &u256_max);
    ck_assert_int_eq(uint256_mul_u64(&u256_max, 2, &r), TXL_ERANGE);
    a = u256(0x8000000000000000ULL, 0, 0, 0);
    ck_assert_int_eq(uint256_mul_u64(&a, 2, &r), TXL_ERANGE);
    ck_assert_int_eq(uint256_mul_u64(&a, 0, &r), 0);
    ck_assert(uint256_is_zero(&r));
}
END_TEST

START_TEST(test_mul_percent_ceil) {
    uint256_t a, r, e;
    uint256_from_u64(100, &a);
    ck_assert_int_eq(uint256_mul_percent_ceil(&a, 110, &r), 0);
    uint256_from_u64(110, &e);
    assert_eq(&r, &e);
    uint256_from_u64(101, &a);
    ck_assert_int_eq(uint256_mul_percent_ceil(&a, 110, &r), 0); /* 111.1 -> 112 */
    uint256_from_u64(112, &e);
    assert_eq(&r, &e);
    uint256_from_u64(1, &a);
    ck_assert_int_eq(uint256_mul_percent_ceil(&a, 1, &r), 0); /* 0.01 -> 1 */
    uint256_from_u64(1, &e);
    assert_eq(&r, &e);
    ck_assert_int_eq(uint256_mul_percent_ceil(&a, 0, &r), 0);
    ck_assert(uint256_is_zero(&r));
    /* 30 gwei + 20 % */
    uint256_from_u64(30000000000ULL, &a);
    ck_assert_int_eq(uint256_mul_percent_ceil(&a, 120, &r), 0);
    uint256_from_u64(36000000000ULL, &e);
    assert_eq(&r, &e);
    /* the product exceeds 2^256 but the result fits */
    ck_assert_int_eq(uint256_mul_percent_ceil(&u256_max, 100, &r), 0);
    assert_eq(&r, &u256_max);
    a = u256(0x8000000000000000ULL, 0, 0, 0);
    ck_assert_int_eq(uint256_mul_percent_ceil(&a, 110, &r), 0);
    ck_assert_int_eq(uint256_mul_u64(&a, 11, &e), TXL_ERANGE);
    uint256_t tenth;
    /* 2^255 * 1.1 = 2^255 + ceil(2^255 / 10) */
    ck_assert_int_eq(uint256_mul_percent_ceil(&a, 10, &tenth), 0);
    ck_assert_int_eq(uint256_add(&a, &tenth, &e), 0);
    assert_eq(&r, &e);
    ck_assert_int_eq(uint256_mul_percent_ceil(&u256_max, 101, &r), TXL_ERANGE);
    ck_assert_int_eq(uint256_mul_percent_ceil(&u256_max, UINT64_MAX, &r), TXL_ERANGE);
}
END_TEST

START_TEST(test_compare) {
    uint256_t a = u256(1, 0, 0, 0), b = u256(0, UINT64_MAX, UINT64_MAX, UINT64_MAX), r;
    ck_assert_int_eq(uint256_cmp(&a, &b), 1);
    ck_assert_int_eq(uint256_cmp(&b, &a), -1);
    ck_assert_int_eq(uint256_cmp(&a, &a), 0);
    uint256_min(&a, &b, &r);
    assert_eq(&r, &b);
    uint256_max(&a, &b, &r);
    assert_eq(&r, &a);
    ck_assert(!uint256_is_zero(&a));
}
END_TEST

int main(void) {
    Suite *s = suite_create("uint256");
    TCase *tc = tcase_create("uint256");
    tcase_add_test(tc, test_parse_valid);
    tcase_add_test(tc, test_parse_invalid);
    tcase_add_test(tc, test_parse_overflow);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_format_roundtrip);
    tcase_add_test(tc, test_u64_and_bytes);
    tcase_add_test(tc, test_add_sub);
    tcase_add_test(tc, test_mul);
    tcase_add_test(tc, test_mul_percent_ceil);
    tcase_add_test(tc, test_compare);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
