/*
 * test_digest.c - Check suite for digest.h: known answers for SHA-256 (FIPS
 * 180-2 "abc"), HASH160 of the empty string, HMAC-SHA512 (RFC 4231 case 1)
 * and PBKDF2-HMAC-SHA512 (the "password"/"salt" answers every implementation
 * publishes).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/digest.h"
#include "txlane/hex.h"
#include "unit_test.h"

static void check_hex(const uint8_t *got, size_t n, const char *want) {
    char buf[2 * 64 + 1];
    ck_assert_uint_le(n, 64);
    hex_encode(got, n, buf);
    ck_assert_str_eq(buf, want);
}

START_TEST(test_sha256_abc) {
    uint8_t out[32];
    ck_assert_int_eq(digest_sha256((const uint8_t *)"abc", 3, out), 0);
    check_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_hash160_empty) {
    uint8_t out[20];
    ck_assert_int_eq(digest_hash160(NULL, 0, out), 0);
    check_hex(out, 20, "b472a266d0bd89c13706a4132ccfb16f7c3b9fcb");
}
END_TEST

START_TEST(test_hmac_sha512_rfc4231) {
    uint8_t key[20], out[64];
    memset(key, 0x0b, sizeof key);
    ck_assert_int_eq(digest_hmac_sha512(key, sizeof key, (const uint8_t *)"Hi There", 8, out), 0);
    check_hex(out, 64,
              "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
              "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
}
END_TEST

START_TEST(test_pbkdf2_sha512) {
    uint8_t out[64];
    const uint8_t *pass = (const uint8_t *)"password", *salt = (const uint8_t *)"salt";
    ck_assert_int_eq(digest_pbkdf2_sha512(pass, 8, salt, 4, 1, out, 64), 0);
    check_hex(out, 64,
              "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
              "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce");
    ck_assert_int_eq(digest_pbkdf2_sha512(pass, 8, salt, 4, 2, out, 64), 0);
    check_hex(out, 64,
              "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53c"
              "f76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e");
    ck_assert_int_eq(digest_pbkdf2_sha512(pass, 8, salt, 4, 0, out, 64), TXL_ECRYPTO);
}
END_TEST

int main(void) {
    Suite *s = suite_create("digest");
    TCase *tc = tcase_create("known answers");

    tcase_add_test(tc, test_sha256_abc);
    tcase_add_test(tc, test_hash160_empty);
    tcase_add_test(tc, test_hmac_sha512_rfc4231);
    tcase_add_test(tc, test_pbkdf2_sha512);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
