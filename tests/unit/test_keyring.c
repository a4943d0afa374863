/*
 * test_keyring.c - Check suite for keyring.h: lane addresses against the
 * known anvil accounts of the test mnemonic, the address index over many
 * lanes, signing with a lane key (the signature recovers to that lane), the
 * mnemonic file policy (group/world-readable files refused) and bounds.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "txlane/bip39.h"
#include "txlane/keyring.h"
#include "txlane/secure.h"
#include "unit_test.h"

#define TEST_MNEMONIC "test test test test test test test test test test test junk"

/* The lanes of tests/vectors/hd_ethereum.txt: index and address. */
static size_t vector_lanes(uint32_t *idx, char (*addr)[43], size_t cap) {
    FILE *f = vec_open("hd_ethereum.txt");
    char line[512];
    size_t n = 0;
    while (vec_line(f, line, sizeof line) && n < cap) {
        unsigned i;
        if (sscanf(line, "lane %u %42s", &i, addr[n]) == 2) {
            idx[n] = i;
            n++;
        }
    }
    fclose(f);
    ck_assert_uint_ge(n, 3);
    return n;
}

static keyring_t *test_keyring(uint32_t lanes) {
    uint8_t seed[BIP39_SEED_LEN];
    char err[256];
    keyring_t *kr = NULL;
    ck_assert_int_eq(bip39_mnemonic_to_seed(TEST_MNEMONIC, NULL, seed, err, sizeof err), 0);
    ck_assert_int_eq(keyring_from_seed(seed, sizeof seed, lanes, &kr, err, sizeof err), 0);
    secure_wipe(seed, sizeof seed);
    ck_assert_ptr_nonnull(kr);
    return kr;
}

START_TEST(test_addresses_match_vectors) {
    uint32_t idx[32];
    char addr[32][43];
    size_t n = vector_lanes(idx, addr, 32);
    keyring_t *kr = test_keyring(20);
    ck_assert_uint_eq(keyring_lanes(kr), 20);
    for (size_t i = 0; i < n; i++) {
        if (idx[i] >= 20)
            continue;
        char s[43];
        address_format(keyring_address(kr, idx[i]), s);
        ck_assert_str_eq(s, addr[i]);
        eth_address_t a;
        uint32_t lane = UINT32_MAX;
        ck_assert_int_eq(address_parse(addr[i], &a), 0);
        ck_assert_int_eq(keyring_lane_of(kr, &a, &lane), 0);
        ck_assert_uint_eq(lane, idx[i]);
    }
    keyring_free(kr);
}
END_TEST

START_TEST(test_index_many_lanes) {
    keyring_t *kr = test_keyring(3000);
    for (uint32_t i = 0; i < 3000; i++) {
        uint32_t lane = UINT32_MAX;
        ck_assert_int_eq(keyring_lane_of(kr, keyring_address(kr, i), &lane), 0);
        ck_assert_uint_eq(lane, i);
    }
    /* addresses that are not lanes, including one sharing a lane's first 8 bytes */
    eth_address_t other = *keyring_address(kr, 17);
    other.b[19] ^= 1;
    uint32_t lane = 12345;
    ck_assert_int_eq(keyring_lane_of(kr, &other, &lane), TXL_ENOTFOUND);
    ck_assert_uint_eq(lane, 12345);
    memset(&other, 0, sizeof other);
    ck_assert_int_eq(keyring_lane_of(kr, &other, &lane), TXL_ENOTFOUND);
    keyring_free(kr);
}
END_TEST

START_TEST(test_sign_recovers_lane) {
    keyring_t *kr = test_keyring(8);
    tx_t tx;
    memset(&tx, 0, sizeof tx);
    tx.type = TX_TYPE_EIP1559;
    tx.chain_id = 31337;
    tx.nonce = 5;
    tx.gas_limit = 21000;
    uint256_from_u64(2000000000, &tx.max_fee_per_gas);
    uint256_from_u64(1000000000, &tx.max_priority_fee_per_gas);
    uint256_from_u64(12345, &tx.value);
    tx.to = *keyring_address(kr, 0);
    for (uint32_t lane = 0; lane < 8; lane++) {
        uint8_t raw[TX_RAW_OVERHEAD], hash[32];
        size_t raw_len;
        ck_assert_int_eq(keyring_sign(kr, lane, &tx, raw, sizeof raw, &raw_len, hash), 0);
        tx_decoded_t dec;
        eth_address_t from;
        ck_assert_int_eq(tx_decode(raw, raw_len, &dec), 0);
        ck_assert_int_eq(tx_recover_sender(&dec, &from), 0);
        ck_assert(address_equal(&from, keyring_address(kr, lane)));
        ck_assert_mem_eq(dec.hash, hash, 32);
    }
    uint8_t raw[TX_RAW_OVERHEAD], hash[32];
    size_t raw_len;
    ck_assert_int_eq(keyring_sign(kr, 8, &tx, raw, sizeof raw, &raw_len, hash), TXL_ERANGE);
    /* tx_sign's own checks come through */
    uint256_from_u64(3000000000, &tx.max_priority_fee_per_gas);
    ck_assert_int_ne(keyring_sign(kr, 0, &tx, raw, sizeof raw, &raw_len, hash), 0);
    keyring_free(kr);
}
END_TEST

START_TEST(test_lane_bounds) {
    uint8_t seed[BIP39_SEED_LEN] = {1};
    char err[256];
    keyring_t *kr = (keyring_t *)&err; /* must be reset to NULL */
    ck_assert_int_eq(keyring_from_seed(seed, sizeof seed, 0, &kr, err, sizeof err), TXL_ERANGE);
    ck_assert_ptr_null(kr);
    ck_assert_ptr_nonnull(strstr(err, "between 1 and 100000"));
    ck_assert_int_eq(keyring_from_seed(seed, sizeof seed, KEYRING_LANES_MAX + 1, &kr, err,
                                       sizeof err),
                     TXL_ERANGE);
    ck_assert_int_eq(keyring_from_seed(seed, 8, 4, &kr, err, sizeof err), TXL_EINVAL);
    ck_assert_ptr_null(kr);
    keyring_free(NULL);
}
END_TEST

START_TEST(test_load_file_policy) {
    const char *m = TEST_MNEMONIC "\n";
    char err[256];
    keyring_t *kr = NULL;

    char *open_file = unit_tmp_file(m, strlen(m), 0644);
    ck_assert_int_eq(keyring_load(open_file, NULL, 4, &kr, err, sizeof err), TXL_ECONFIG);
    ck_assert_ptr_null(kr);
    ck_assert_ptr_nonnull(strstr(err, "group or others"));
    ck_assert_ptr_nonnull(strstr(err, open_file));
    ck_assert_ptr_null(strstr(err, "junk")); /* never the words */
    unlink(open_file);
    free(open_file);

    char *group_file = unit_tmp_file(m, strlen(m), 0640);
    ck_assert_int_eq(keyring_load(group_file, NULL, 4, &kr, err, sizeof err), TXL_ECONFIG);
    unlink(group_file);
    free(group_file);

    char *priv = unit_tmp_file(m, strlen(m), 0600);
    ck_assert_int_eq(keyring_load(priv, NULL, 4, &kr, err, sizeof err), 0);
    char s[43];
    address_format(keyring_address(kr, 0), s);
    ck_assert_str_eq(s, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    eth_address_t lane0 = *keyring_address(kr, 0);
    keyring_free(kr);

    /* a passphrase gives another wallet; a missing file is an error naming it */
    char *pass = unit_tmp_file("p4ss\n", 5, 0600);
    ck_assert_int_eq(keyring_load(priv, pass, 4, &kr, err, sizeof err), 0);
    ck_assert(!address_equal(&lane0, keyring_address(kr, 0)));
    keyring_free(kr);
    ck_assert_int_ne(keyring_load(priv, "/nonexistent/txlane-passphrase", 4, &kr, err, sizeof err),
                     0);
    ck_assert_ptr_null(kr);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/txlane-passphrase"));
    unlink(pass);
    free(pass);
    unlink(priv);
    free(priv);

    char *bad = unit_tmp_file("test test test\n", 15, 0600);
    ck_assert_int_eq(keyring_load(bad, NULL, 4, &kr, err, sizeof err), TXL_EINVAL);
    ck_assert_ptr_null(kr);
    unlink(bad);
    free(bad);
}
END_TEST

int main(void) {
    Suite *s = suite_create("keyring");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_addresses_match_vectors);
    tcase_add_test(tc, test_index_many_lanes);
    tcase_add_test(tc, test_sign_recovers_lane);
    tcase_add_test(tc, test_lane_bounds);
    tcase_add_test(tc, test_load_file_policy);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
