/*
 * test_hd.c - Check suite for hd.h: BIP-32 test vectors 1-3 (every chain's
 * xprv and xpub, round trips through the parser, and public derivation of the
 * normal steps from the parent xpub), txlane's lanes against anvil's default
 * accounts from the seed and from the account xpub, and misuse: bad checksum,
 * truncated or malformed xkeys, invalid keys, hardened public derivation and
 * path junk.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/base58.h"
#include "txlane/bip39.h"
#include "txlane/hd.h"
#include "txlane/secure.h"
#include "unit_test.h"

/* Checks that node formats as xpub (and as xprv if given) and that both parse back. */
static void check_node_strings(const hd_node_t *node, const char *xpub, const char *xprv) {
    char out[HD_XKEY_BUF];
    hd_node_t back;

    ck_assert_int_eq(hd_node_xpub_format(node, out), 0);
    ck_assert_str_eq(out, xpub);
    ck_assert_int_eq(hd_node_parse(xpub, &back), 0);
    ck_assert_int_eq(back.has_private, 0);
    ck_assert_mem_eq(back.pub, node->pub, 33);
    if (xprv == NULL)
        return;
    ck_assert_int_eq(hd_node_xprv_format(node, out), 0);
    ck_assert_str_eq(out, xprv);
    ck_assert_int_eq(hd_node_parse(xprv, &back), 0);
    ck_assert_int_eq(back.has_private, 1);
    ck_assert_int_eq(hd_node_xprv_format(&back, out), 0);
    ck_assert_str_eq(out, xprv);
    ck_assert_int_eq(hd_node_xpub_format(&back, out), 0);
    ck_assert_str_eq(out, xpub);
    hd_node_wipe(&back);
}

START_TEST(test_bip32_vectors) {
    FILE *f = vec_open("bip32.txt");
    char line[512];
    hd_node_t master;
    int chains = 0, public_steps = 0, have_master = 0;

    while (vec_line(f, line, sizeof line)) {
        char *kind = strtok(line, " ");
        if (kind == NULL)
            continue;
        if (strcmp(kind, "seed") == 0) {
            uint8_t seed[64];
            size_t n = vec_hex(strtok(NULL, " "), seed, sizeof seed);
            ck_assert_int_eq(hd_node_from_seed(seed, n, &master), 0);
            have_master = 1;
        } else if (strcmp(kind, "chain") == 0) {
            char *path = strtok(NULL, " "), *xpub = strtok(NULL, " "), *xprv = strtok(NULL, " ");
            char *slash = strrchr(path, '/');
            hd_node_t node, parent;

            ck_assert(have_master && xprv != NULL);
            ck_assert_int_eq(hd_node_derive_path(&master, path, &node), 0);
            check_node_strings(&node, xpub, xprv);
            /* A normal last step can be derived again from the parent's xpub. */
            if (slash != NULL && strchr(slash, 'h') == NULL) {
                uint32_t index = (uint32_t)strtoul(slash + 1, NULL, 10);
                *slash = '\0';
                ck_assert_int_eq(hd_node_derive_path(&master, path, &parent), 0);
                hd_node_neuter(&parent, &parent);
                ck_assert_int_eq(hd_node_derive_child(&parent, index, &parent), 0);
                check_node_strings(&parent, xpub, NULL);
                public_steps++;
            }
            hd_node_wipe(&node);
            chains++;
        } else {
            ck_abort_msg("unknown vector line kind %s", kind);
        }
    }
    fclose(f);
    hd_node_wipe(&master);
    ck_assert_int_eq(chains, 14);
    ck_assert_int_eq(public_steps, 6);
}
END_TEST

START_TEST(test_ethereum_lanes) {
    FILE *f = vec_open("hd_ethereum.txt");
    char line[512], xpub[HD_XKEY_BUF], text[43];
    uint8_t seed[BIP39_SEED_LEN], priv[32];
    hd_node_t chain, account, account_pub, chain_pub;
    int lanes = 0;

    ck_assert(vec_line(f, line, sizeof line));
    ck_assert_int_eq(strncmp(line, "mnemonic ", 9), 0);
    ck_assert_int_eq(bip39_mnemonic_to_seed(line + 9, NULL, seed, NULL, 0), 0);
    ck_assert_int_eq(hd_lane_chain_from_seed(seed, sizeof seed, &chain), 0);
    ck_assert_int_eq(hd_lane_account_from_seed(seed, sizeof seed, &account), 0);
    hd_node_neuter(&account, &account_pub);
    ck_assert_int_eq(hd_node_xpub_format(&account_pub, xpub), 0);
    ck_assert_int_eq(hd_lane_account_parse(xpub, &account_pub), 0);
    ck_assert_int_eq(hd_lane_chain_from_account(&account_pub, &chain_pub), 0);
    ck_assert_int_eq(chain_pub.has_private, 0);
    while (vec_line(f, line, sizeof line)) {
        char *kind = strtok(line, " "), *index_s = strtok(NULL, " ");
        char *addr_want = strtok(NULL, " "), *key_hex = strtok(NULL, " ");
        uint32_t index = (uint32_t)strtoul(index_s, NULL, 10);
        uint8_t key_want[32];
        eth_address_t addr;

        ck_assert_str_eq(kind, "lane");
        ck_assert_uint_eq(vec_hex(key_hex, key_want, sizeof key_want), 32);
        ck_assert_int_eq(hd_lane_key(&chain, index, priv, &addr), 0);
        ck_assert_mem_eq(priv, key_want, 32);
        address_format(&addr, text);
        ck_assert_str_eq(text, addr_want);
        ck_assert_int_eq(hd_lane_address(&chain, index, &addr), 0);
        address_format(&addr, text);
        ck_assert_str_eq(text, addr_want);
        ck_assert_int_eq(hd_lane_address_from_xpub(&account_pub, index, &addr), 0);
        address_format(&addr, text);
        ck_assert_str_eq(text, addr_want);
        ck_assert_int_eq(hd_lane_address(&chain_pub, index, &addr), 0);
        address_format(&addr, text);
        ck_assert_str_eq(text, addr_want);
        lanes++;
    }
    fclose(f);
    ck_assert_int_eq(lanes, 3);
    ck_assert_int_eq(hd_lane_address(&chain_pub, HD_HARDENED, &(eth_address_t){{0}}),
                     TXL_ERANGE);
    ck_assert_int_eq(hd_lane_key(&chain, HD_HARDENED | 5, priv, &(eth_address_t){{0}}),
                     TXL_ERANGE);
    /* The account xpub parser takes only an account-level xpub. */
    ck_assert_int_eq(hd_node_xprv_format(&account, xpub), 0);
    ck_assert_int_eq(hd_lane_account_parse(xpub, &account_pub), TXL_EINVAL);
    ck_assert_int_eq(hd_node_xpub_format(&chain_pub, xpub), 0);
    ck_assert_int_eq(hd_lane_account_parse(xpub, &account_pub), TXL_EINVAL);
    hd_node_wipe(&chain);
    hd_node_wipe(&account);
    secure_wipe(seed, sizeof seed);
}
END_TEST

START_TEST(test_paths) {
    static const char *const junk[] = {"",     "m/",     "m//1",  "m/1/",    "44'/60'", "m/1x",
                                       "m/-1", "m/+1",   "m/01",  "m/1''",   "m/ 1",    "M/1",
                                       "m1",   "m/1/h",  "m/'",   "m/1 ",    "/m/1",    "mm"};
    static const char *const range[] = {"m/2147483648", "m/4294967296h",
                                        "m/99999999999999999999"};
    uint32_t idx[8];
    size_t n = 99;

    ck_assert_int_eq(hd_path_parse("m", idx, 8, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(hd_path_parse("m/44'/60h/0H/0/7", idx, 8, &n), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(idx[0], HD_HARDENED | 44);
    ck_assert_uint_eq(idx[1], HD_HARDENED | 60);
    ck_assert_uint_eq(idx[2], HD_HARDENED);
    ck_assert_uint_eq(idx[3], 0);
    ck_assert_uint_eq(idx[4], 7);
    ck_assert_int_eq(hd_path_parse("m/2147483647h/2147483647", idx, 8, &n), 0);
    ck_assert_uint_eq(idx[0], 0xffffffffu);
    ck_assert_uint_eq(idx[1], 0x7fffffffu);
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        ck_assert_msg(hd_path_parse(junk[i], idx, 8, &n) == TXL_EINVAL, "accepted '%s'", junk[i]);
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++)
        ck_assert_int_eq(hd_path_parse(range[i], idx, 8, &n), TXL_ERANGE);
    ck_assert_int_eq(hd_path_parse("m/1/2/3", idx, 2, &n), TXL_ERANGE);
}
END_TEST

/* Base58check-encodes a 78-byte serialization changed by the caller. */
static int parse_modified(const uint8_t raw[78], hd_node_t *out) {
    char s[HD_XKEY_BUF];
    ck_assert_int_eq(base58check_encode(raw, 78, s, sizeof s), 0);
    return hd_node_parse(s, out);
}

START_TEST(test_xkey_misuse) {
    const char *xprv = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJ"
                       "xWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
    const char *xpub = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoC"
                       "u1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";
    /* The group order n of secp256k1. */
    static const uint8_t order[32] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
        0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    uint8_t prv_raw[128], pub_raw[128], raw[78];
    char s[HD_XKEY_BUF + 8];
    size_t n = 0;
    hd_node_t node;

    ck_assert_int_eq(base58check_decode(xprv, prv_raw, sizeof prv_raw, &n), 0);
    ck_assert_uint_eq(n, 78);
    ck_assert_int_eq(base58check_decode(xpub, pub_raw, sizeof pub_raw, &n), 0);
    /* Bad base58 checksum, bad characters, truncation, extension. */
    strcpy(s, xpub);
    s[strlen(s) - 1] = s[strlen(s) - 1] == '8' ? '9' : '8';
    ck_assert_int_eq(hd_node_parse(s, &node), TXL_ECHECKSUM);
    strcpy(s, xpub);
    s[10] = '0';
    ck_assert_int_eq(hd_node_parse(s, &node), TXL_EINVAL);
    strcpy(s, xpub);
    s[100] = '\0';
    ck_assert_int_ne(hd_node_parse(s, &node), 0);
    ck_assert_int_eq(hd_node_parse("", &node), TXL_EINVAL);
    ck_assert_int_eq(base58check_encode(pub_raw, 77, s, sizeof s), 0);
    ck_assert_int_eq(hd_node_parse(s, &node), TXL_EINVAL);
    memcpy(raw, pub_raw, 78);
    ck_assert_int_eq(base58check_encode(raw, 78, s, sizeof s), 0);
    strcat(s, "1");
    ck_assert_int_ne(hd_node_parse(s, &node), 0);
    /* Unknown version (testnet tpub). */
    memcpy(raw, pub_raw, 78);
    raw[0] = 0x04, raw[1] = 0x35, raw[2] = 0x87, raw[3] = 0xcf;
    ck_assert_int_eq(parse_modified(raw, &node), TXL_EINVAL);
    /* Depth 0 with a parent fingerprint or a child number. */
    memcpy(raw, pub_raw, 78);
    raw[5] = 1;
    ck_assert_int_eq(parse_modified(raw, &node), TXL_EINVAL);
    memcpy(raw, prv_raw, 78);
    raw[12] = 1;
    ck_assert_int_eq(parse_modified(raw, &node), TXL_EINVAL);
    /* Private key: bad prefix, zero, the group order. */
    memcpy(raw, prv_raw, 78);
    raw[45] = 1;
    ck_assert_int_eq(parse_modified(raw, &node), TXL_EINVAL);
    memset(raw + 46, 0, 32);
    raw[45] = 0;
    ck_assert_int_eq(parse_modified(raw, &node), TXL_ECRYPTO);
    memcpy(raw + 46, order, 32);
    ck_assert_int_eq(parse_modified(raw, &node), TXL_ECRYPTO);
    /* Public key: bad prefix, x not on the curve. */
    memcpy(raw, pub_raw, 78);
    raw[45] = 4;
    ck_assert_int_eq(parse_modified(raw, &node), TXL_EINVAL);
    raw[45] = 2;
    memset(raw + 46, 0, 32);
    raw[77] = 5; /* 5^3 + 7 = 132 is not a square mod p */
    ck_assert_int_eq(parse_modified(raw, &node), TXL_ECRYPTO);
    /* An xprv/xpub node pair still works after all that. */
    ck_assert_int_eq(hd_node_parse(xprv, &node), 0);
    hd_node_wipe(&node);
    ck_assert_int_eq(node.has_private, 0);
}
END_TEST

START_TEST(test_derive_misuse) {
    static const uint8_t seed[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    uint8_t long_seed[65] = {0};
    hd_node_t master, pub, child;

    ck_assert_int_eq(hd_node_from_seed(seed, 15, &master), TXL_EINVAL);
    ck_assert_int_eq(hd_node_from_seed(long_seed, 65, &master), TXL_EINVAL);
    ck_assert_int_eq(hd_node_from_seed(seed, sizeof seed, &master), 0);
    hd_node_neuter(&master, &pub);
    ck_assert_int_eq(pub.has_private, 0);
    ck_assert_int_eq(hd_node_derive_child(&pub, HD_HARDENED, &child), TXL_EINVAL);
    ck_assert_int_eq(hd_node_derive_path(&pub, "m/0/1'", &child), TXL_EINVAL);
    ck_assert_int_eq(hd_node_derive_path(&pub, "m/0/x", &child), TXL_EINVAL);
    ck_assert_int_eq(hd_node_derive_path(&pub, "m/0/1", &child), 0);
    /* Depth is one byte. */
    master.depth = HD_DEPTH_MAX;
    ck_assert_int_eq(hd_node_derive_child(&master, 0, &child), TXL_ERANGE);
    hd_node_wipe(&master);
    hd_node_wipe(&child);
}
END_TEST

int main(void) {
    Suite *s = suite_create("hd");
    TCase *tc = tcase_create("hd");

    tcase_add_test(tc, test_bip32_vectors);
    tcase_add_test(tc, test_ethereum_lanes);
    tcase_add_test(tc, test_paths);
    tcase_add_test(tc, test_xkey_misuse);
    tcase_add_test(tc, test_derive_misuse);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
