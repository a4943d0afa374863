/*
 * test_address.c - unit tests of address.h: the EIP-55 list
 * (tests/vectors/eip55.txt), checksum failures, malformed input, and
 * derivation from a public key.
 */
#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/address.h"
#include "txlane/secp.h"
#include "unit_test.h"

START_TEST(test_eip55_vectors) {
    FILE *f = vec_open("eip55.txt");
    char line[128];
    int count = 0;
    while (vec_line(f, line, sizeof(line))) {
        if (line[0] == '\0')
            continue;
        eth_address_t a, b;
        char out[43];
        ck_assert_int_eq(address_parse(line, &a), 0);
        address_format(&a, out);
        /* the spec's all-caps / all-lower entries have no letter to mix */
        ck_assert_str_eq(out, line);
        char low[43], up[43];
        for (int i = 0; i < 43; i++) {
            low[i] = (char)tolower((unsigned char)line[i]);
            up[i] = (i < 2) ? line[i] : (char)toupper((unsigned char)line[i]);
        }
        ck_assert_int_eq(address_parse(low, &b), 0);
        ck_assert(address_equal(&a, &b));
        ck_assert_int_eq(address_parse(up, &b), 0);
        ck_assert(address_equal(&a, &b));
        /* flipping the case of any one letter of a mixed address breaks the checksum */
        int has_lower = strcmp(line, up) != 0, has_upper = strcmp(line, low) != 0;
        if (has_lower && has_upper) {
            for (int i = 2; i < 42; i++) {
                if (!isalpha((unsigned char)line[i]))
                    continue;
                char flipped[43];
                memcpy(flipped, line, 43);
                flipped[i] = islower((unsigned char)line[i]) ? (char)toupper(line[i])
                                                              : (char)tolower(line[i]);
                if (strcmp(flipped, low) == 0 || strcmp(flipped, up) == 0)
                    continue;
                ck_assert_int_eq(address_parse(flipped, &b), TXL_ECHECKSUM);
            }
        }
        count++;
    }
    fclose(f);
    ck_assert_int_eq(count, 8);
}
END_TEST

START_TEST(test_parse_invalid) {
    eth_address_t a;
    memset(&a, 0x5a, sizeof(a));
    const char *bad[] = {
        "",
        "0x",
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0",
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",
        " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae ",
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(address_parse(bad[i], &a) == TXL_EINVAL, "accepted '%s'", bad[i]);
    ck_assert_int_eq(address_parse("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", &a),
                     TXL_ECHECKSUM);
    for (int i = 0; i < 20; i++)
        ck_assert_uint_eq(a.b[i], 0x5a);
}
END_TEST

START_TEST(test_from_pubkey) {
    /* secret key 0x4646...46 (the EIP-155 example) */
    uint8_t key[32];
    memset(key, 0x46, sizeof(key));
    secp256k1_pubkey pk;
    ck_assert(secp256k1_ec_pubkey_create(secp_context(), &pk, key));
    eth_address_t a, b;
    char out[43];
    ck_assert_int_eq(address_from_pubkey(&pk, &a), 0);
    address_format(&a, out);
    ck_assert_str_eq(out, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
    uint8_t ser[65];
    size_t len = sizeof(ser);
    ck_assert(secp256k1_ec_pubkey_serialize(secp_context(), ser, &len, &pk,
                                            SECP256K1_EC_UNCOMPRESSED));
    address_from_pubkey64(ser + 1, &b);
    ck_assert(address_equal(&a, &b));
    b.b[19] ^= 1;
    ck_assert(!address_equal(&a, &b));
}
END_TEST

START_TEST(test_format_zero) {
    eth_address_t a;
    char out[43];
    memset(&a, 0, sizeof(a));
    address_format(&a, out);
    ck_assert_str_eq(out, "0x0000000000000000000000000000000000000000");
    ck_assert_uint_eq(strlen(out), ADDRESS_STR_LEN);
}
END_TEST

int main(void) {
    Suite *s = suite_create("address");
    TCase *tc = tcase_create("address");
    tcase_add_test(tc, test_eip55_vectors);
    tcase_add_test(tc, test_parse_invalid);
    tcase_add_test(tc, test_from_pubkey);
    tcase_add_test(tc, test_format_zero);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
