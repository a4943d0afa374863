/*
 * test_base58.c - Check suite for base58.h: the encode/decode pairs Bitcoin
 * publishes for base58 (leading zeros included), a base58check address, and
 * misuse: characters outside the alphabet, small buffers, oversized input and
 * checksum errors.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/base58.h"
#include "txlane/hex.h"
#include "unit_test.h"

static const char *const base58_pairs[][2] = {
    {"", ""},
    {"61", "2g"},
    {"626262", "a3gV"},
    {"636363", "aPEr"},
    {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"516b6fcd0f", "ABnLTmg"},
    {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
    {"572e4794", "3EFU7m"},
    {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
    {"10c8511e", "Rt5zm"},
    {"00000000000000000000", "1111111111"},
};

START_TEST(test_pairs) {
    const char *hex = base58_pairs[_i][0], *b58 = base58_pairs[_i][1];
    uint8_t bytes[64], back[64];
    size_t n = 0, m = 0;
    char out[128];

    ck_assert_int_eq(hex_decode(hex, strlen(hex), bytes, sizeof bytes, &n), 0);
    ck_assert_int_eq(base58_encode(bytes, n, out, sizeof out), 0);
    ck_assert_str_eq(out, b58);
    ck_assert_int_eq(base58_decode(b58, strlen(b58), back, sizeof back, &m), 0);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(back, bytes, n);
}
END_TEST

START_TEST(test_check_address) {
    /* The genesis block's coinbase address: version 0 and a 20-byte key hash. */
    const char *addr = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";
    uint8_t payload[32];
    char out[64], hex[2 * 32 + 1];
    size_t n = 0;

    ck_assert_int_eq(base58check_decode(addr, payload, sizeof payload, &n), 0);
    ck_assert_uint_eq(n, 21);
    hex_encode(payload, n, hex);
    ck_assert_str_eq(hex, "0062e907b15cbf27d5425399ebf6f0fb50ebb88f18");
    ck_assert_int_eq(base58check_encode(payload, n, out, sizeof out), 0);
    ck_assert_str_eq(out, addr);
    /* One changed character breaks the checksum. */
    ck_assert_int_eq(base58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", payload,
                                        sizeof payload, &n),
                     TXL_ECHECKSUM);
    ck_assert_int_eq(base58check_decode(addr, payload, 20, &n), TXL_ENOSPACE);
    ck_assert_int_eq(base58check_decode("2g", payload, sizeof payload, &n), TXL_EINVAL);
}
END_TEST

START_TEST(test_bad_chars) {
    static const char *const bad[] = {"0", "O", "I", "l", "2g ", " 2g", "2g\n", "a+b", "\xc3\xa9"};
    uint8_t out[16];
    size_t n = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(base58_decode(bad[i], strlen(bad[i]), out, sizeof out, &n), TXL_EINVAL);
    ck_assert_int_eq(base58_decode("2g\0", 3, out, sizeof out, &n), TXL_EINVAL);
}
END_TEST

START_TEST(test_limits) {
    uint8_t big[BASE58_MAX_BYTES + 1], back[BASE58_MAX_BYTES + 1];
    char out[256], tiny[3];
    size_t n = 0;

    memset(big, 0xff, sizeof big);
    ck_assert_int_eq(base58_encode(big, BASE58_MAX_BYTES, out, sizeof out), 0);
    ck_assert_int_eq(base58_decode(out, strlen(out), back, sizeof back, &n), 0);
    ck_assert_uint_eq(n, BASE58_MAX_BYTES);
    ck_assert_mem_eq(back, big, n);
    /* One more digit than 128 bytes of 0xff hold. */
    strcat(out, "z");
    ck_assert_int_eq(base58_decode(out, strlen(out), back, sizeof back, &n), TXL_ERANGE);
    ck_assert_int_eq(base58_encode(big, sizeof big, out, sizeof out), TXL_ERANGE);
    ck_assert_int_eq(base58check_encode(big, BASE58_MAX_BYTES - 3, out, sizeof out), TXL_ERANGE);
    ck_assert_int_eq(base58_encode((const uint8_t *)"bbb", 3, tiny, sizeof tiny), TXL_ENOSPACE);
    ck_assert_str_eq(tiny, "");
    ck_assert_int_eq(base58_decode("a3gV", 4, back, 2, &n), TXL_ENOSPACE);
}
END_TEST

int main(void) {
    Suite *s = suite_create("base58");
    TCase *tc = tcase_create("base58");

    tcase_add_loop_test(tc, test_pairs, 0, (int)(sizeof base58_pairs / sizeof base58_pairs[0]));
    tcase_add_test(tc, test_check_address);
    tcase_add_test(tc, test_bad_chars);
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
