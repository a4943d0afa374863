/*
 * test_bip39.c - Check suite for bip39.h: BIP-39's published English vectors
 * (entropy -> mnemonic -> seed with passphrase "TREZOR" -> root xprv), word
 * look-up limits, whitespace normalisation, and misuse: bad checksum, unknown
 * words, wrong word counts, non-ASCII input; plus loading from secret files.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "txlane/bip39.h"
#include "txlane/hd.h"
#include "unit_test.h"

#define ABANDON11                                                                              \
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"

START_TEST(test_vectors) {
    FILE *f = vec_open("bip39_english.txt");
    char line[1024], words[BIP39_MNEMONIC_MAX], xprv[HD_XKEY_BUF], err[256];
    int count = 0;

    while (vec_line(f, line, sizeof line)) {
        char *entropy_hex = strtok(line, "|"), *mnemonic = strtok(NULL, "|");
        char *seed_hex = strtok(NULL, "|"), *xprv_want = strtok(NULL, "|");
        uint8_t entropy[32], seed_want[64], seed[64];
        size_t ent_len;
        hd_node_t root;

        ck_assert_ptr_nonnull(xprv_want);
        ent_len = vec_hex(entropy_hex, entropy, sizeof entropy);
        ck_assert_uint_eq(vec_hex(seed_hex, seed_want, sizeof seed_want), 64);
        ck_assert_int_eq(bip39_mnemonic_from_entropy(entropy, ent_len, words, sizeof words), 0);
        ck_assert_str_eq(words, mnemonic);
        ck_assert_int_eq(bip39_mnemonic_check(mnemonic, err, sizeof err), 0);
        ck_assert_int_eq(bip39_mnemonic_to_seed(mnemonic, "TREZOR", seed, err, sizeof err), 0);
        ck_assert_mem_eq(seed, seed_want, 64);
        ck_assert_int_eq(hd_node_from_seed(seed, sizeof seed, &root), 0);
        ck_assert_int_eq(hd_node_xprv_format(&root, xprv), 0);
        ck_assert_str_eq(xprv, xprv_want);
        hd_node_wipe(&root);
        count++;
    }
    fclose(f);
    ck_assert_int_eq(count, 24);
}
END_TEST

START_TEST(test_word_index) {
    ck_assert_int_eq(bip39_word_index("abandon", 7), 0);
    ck_assert_int_eq(bip39_word_index("zoo", 3), 2047);
    ck_assert_int_eq(bip39_word_index("zoology", 3), 2047); /* only len bytes count */
    ck_assert_int_eq(bip39_word_index("about", 5), 3);
    ck_assert_int_eq(bip39_word_index("zo", 2), TXL_EINVAL);
    ck_assert_int_eq(bip39_word_index("", 0), TXL_EINVAL);
    ck_assert_int_eq(bip39_word_index("abandonab", 9), TXL_EINVAL);
    ck_assert_int_eq(bip39_word_index("Abandon", 7), TXL_EINVAL);
    ck_assert_str_eq(bip39_english[1024], "length");
}
END_TEST

START_TEST(test_whitespace) {
    uint8_t a[64], b[64];
    ck_assert_int_eq(bip39_mnemonic_to_seed(ABANDON11 " about", "TREZOR", a, NULL, 0), 0);
    ck_assert_int_eq(bip39_mnemonic_to_seed("\n  abandon\tabandon  abandon abandon abandon "
                                            "abandon\r\nabandon abandon abandon abandon "
                                            "abandon   about  \n",
                                            "TREZOR", b, NULL, 0),
                     0);
    ck_assert_mem_eq(a, b, 64);
    /* A NULL passphrase is the empty passphrase. */
    ck_assert_int_eq(bip39_mnemonic_to_seed(ABANDON11 " about", NULL, a, NULL, 0), 0);
    ck_assert_int_eq(bip39_mnemonic_to_seed(ABANDON11 " about", "", b, NULL, 0), 0);
    ck_assert_mem_eq(a, b, 64);
}
END_TEST

START_TEST(test_misuse) {
    char err[256];
    uint8_t seed[64];

    /* Checksum: "abandon" x12 has the wrong last word. */
    ck_assert_int_eq(bip39_mnemonic_check(ABANDON11 " abandon", err, sizeof err), TXL_ECHECKSUM);
    ck_assert_ptr_nonnull(strstr(err, "checksum"));
    ck_assert_int_eq(bip39_mnemonic_to_seed(ABANDON11 " abandon", "", seed, err, sizeof err),
                     TXL_ECHECKSUM);
    /* Words swapped in a valid mnemonic. */
    ck_assert_int_eq(bip39_mnemonic_check("legal winner thank year wave sausage worth useful "
                                          "legal winner yellow thank",
                                          err, sizeof err),
                     TXL_ECHECKSUM);
    /* Unknown word: the reason gives its position, never the word. */
    ck_assert_int_eq(bip39_mnemonic_check(ABANDON11 " aboutt", err, sizeof err), TXL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "word 12"));
    ck_assert_ptr_null(strstr(err, "aboutt"));
    ck_assert_int_eq(bip39_mnemonic_check(ABANDON11 " ABOUT", err, sizeof err), TXL_EINVAL);
    /* Wrong word counts. */
    ck_assert_int_eq(bip39_mnemonic_check(ABANDON11, err, sizeof err), TXL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "11 words"));
    ck_assert_int_eq(bip39_mnemonic_check(ABANDON11 " abandon about", err, sizeof err),
                     TXL_EINVAL);
    ck_assert_int_eq(bip39_mnemonic_check("", err, sizeof err), TXL_EINVAL);
    ck_assert_int_eq(bip39_mnemonic_check(" \n ", err, sizeof err), TXL_EINVAL);
    ck_assert_int_eq(bip39_mnemonic_check(ABANDON11 " " ABANDON11 " abandon abandon about",
                                          err, sizeof err),
                     TXL_EINVAL);
    /* Non-ASCII mnemonic or passphrase. */
    ck_assert_int_eq(bip39_mnemonic_check(ABANDON11 " ab\xc3\xa1ndon", err, sizeof err),
                     TXL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "non-ascii"));
    ck_assert_int_eq(bip39_mnemonic_to_seed(ABANDON11 " about", "p\xc3\xa4ss", seed, err,
                                            sizeof err),
                     TXL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "passphrase"));
    /* A NULL errstr is allowed. */
    ck_assert_int_eq(bip39_mnemonic_check("zoo", NULL, 0), TXL_EINVAL);
}
END_TEST

START_TEST(test_from_entropy_limits) {
    uint8_t entropy[33] = {0};
    char out[BIP39_MNEMONIC_MAX], small[20];

    ck_assert_int_eq(bip39_mnemonic_from_entropy(entropy, 15, out, sizeof out), TXL_EINVAL);
    ck_assert_int_eq(bip39_mnemonic_from_entropy(entropy, 17, out, sizeof out), TXL_EINVAL);
    ck_assert_int_eq(bip39_mnemonic_from_entropy(entropy, 33, out, sizeof out), TXL_EINVAL);
    ck_assert_int_eq(bip39_mnemonic_from_entropy(entropy, 16, small, sizeof small),
                     TXL_ENOSPACE);
    ck_assert_str_eq(small, "");
    memset(entropy, 0xff, sizeof entropy);
    ck_assert_int_eq(bip39_mnemonic_from_entropy(entropy, 32, out, sizeof out), 0);
    ck_assert_int_eq(bip39_mnemonic_check(out, NULL, 0), 0);
}
END_TEST

/* Writes contents to a new temporary file with the given mode; returns its path. */
static char *tmp_file_write(const char *contents, mode_t mode) {
    return unit_tmp_file(contents, strlen(contents), mode);
}

START_TEST(test_seed_from_files) {
    char *m600 = tmp_file_write(ABANDON11 " about\n", 0600);
    char *m644 = tmp_file_write(ABANDON11 " about\n", 0644);
    char *pass = tmp_file_write("TREZOR\n", 0600);
    char *bad = tmp_file_write(ABANDON11 " abandon\n", 0600);
    uint8_t seed[64], want[64];
    char err[512];
    int exposed = -1;

    ck_assert_int_eq(bip39_mnemonic_to_seed(ABANDON11 " about", "TREZOR", want, NULL, 0), 0);
    ck_assert_int_eq(bip39_seed_from_files(m600, pass, 1, seed, &exposed, err, sizeof err), 0);
    ck_assert_mem_eq(seed, want, 64);
    ck_assert_int_eq(exposed, 0);
    ck_assert_int_eq(bip39_seed_from_files(m644, pass, 0, seed, &exposed, err, sizeof err), 0);
    ck_assert_mem_eq(seed, want, 64);
    ck_assert_int_eq(exposed, 1);
    ck_assert_int_eq(bip39_seed_from_files(m644, pass, 1, seed, &exposed, err, sizeof err),
                     TXL_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, m644));
    ck_assert_int_eq(bip39_seed_from_files(bad, NULL, 1, seed, NULL, err, sizeof err),
                     TXL_ECHECKSUM);
    ck_assert_ptr_nonnull(strstr(err, bad));
    ck_assert_int_eq(bip39_seed_from_files("/nonexistent/mnemonic", NULL, 0, seed, NULL, err,
                                           sizeof err),
                     TXL_EIO);
    ck_assert_int_eq(bip39_seed_from_files(m600, "/nonexistent/pass", 0, seed, NULL, err,
                                           sizeof err),
                     TXL_EIO);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/pass"));
    unlink(m600), unlink(m644), unlink(pass), unlink(bad);
    free(m600), free(m644), free(pass), free(bad);
}
END_TEST

int main(void) {
    Suite *s = suite_create("bip39");
    TCase *tc = tcase_create("bip39");

    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_word_index);
    tcase_add_test(tc, test_whitespace);
    tcase_add_test(tc, test_misuse);
    tcase_add_test(tc, test_from_entropy_limits);
    tcase_add_test(tc, test_seed_from_files);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
