/*
 * bip39.h - BIP-39 mnemonics (English word list): validation, mnemonic to
 * seed, entropy to mnemonic, and loading a wallet seed from secret files.
 *
 * Only ASCII is supported: BIP-39 asks for NFKD normalisation of mnemonic and
 * passphrase, which is the identity on ASCII, so non-ASCII input is rejected
 * (TXL_EINVAL with a reason) rather than normalised. Words are the lower-case
 * English list; any run of ASCII whitespace between words counts as one space.
 * Word look-up is constant-time over the list, and every copy of mnemonic,
 * passphrase or seed made here is wiped. Reasons in errstr never quote words.
 * No global state; thread-safe.
 */
#ifndef TXLANE_BIP39_H
#define TXLANE_BIP39_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/err.h"

#define BIP39_WORDLIST_LEN 2048
#define BIP39_WORD_MAX 8  /* longest English word */
#define BIP39_WORDS_MAX 24
#define BIP39_SEED_LEN 64
/* Bytes of the longest normalised mnemonic with its NUL: 24 words, 23 spaces. */
#define BIP39_MNEMONIC_MAX (BIP39_WORDS_MAX * (BIP39_WORD_MAX + 1))

/* The English list in BIP-39 order, each word NUL-padded (generated at build time
 * from common/data/bip39_english.txt). */
extern const char bip39_english[BIP39_WORDLIST_LEN][BIP39_WORD_MAX + 1];

/* Index 0..2047 of the len-byte word w in the English list, or TXL_EINVAL. */
TXL_WUR int bip39_word_index(const char *w, size_t len);

/* Validates a mnemonic: ASCII only, 12/15/18/21/24 known words (else TXL_EINVAL),
 * correct checksum (else TXL_ECHECKSUM). errstr (may be NULL) gets the reason. */
TXL_WUR int bip39_mnemonic_check(const char *mnemonic, char *errstr, size_t errstr_size);

/* Validates the mnemonic as bip39_mnemonic_check does and derives the 64-byte
 * seed PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" + passphrase, 2048). passphrase
 * may be NULL (= ""); non-ASCII is TXL_EINVAL. The caller wipes seed. */
TXL_WUR int bip39_mnemonic_to_seed(const char *mnemonic, const char *passphrase,
                                   uint8_t seed[BIP39_SEED_LEN], char *errstr,
                                   size_t errstr_size);

/* Writes the mnemonic of ent_len bytes of entropy (16, 20, 24, 28 or 32; else
 * TXL_EINVAL) into out, NUL-terminated; TXL_ENOSPACE if out_cap is too small
 * (BIP39_MNEMONIC_MAX always suffices). For generating test wallets: the word
 * table look-up here is not constant-time. The caller wipes out. */
TXL_WUR int bip39_mnemonic_from_entropy(const uint8_t *entropy, size_t ent_len, char *out,
                                        size_t out_cap);

/* Reads the mnemonic at mnemonic_path and the passphrase at passphrase_path (NULL
 * for none) with secret_file_read, and derives the seed. If *exposed is not NULL
 * it is set to 1 when group or others may access the mnemonic file; with
 * require_private such a file is refused (TXL_ECONFIG) before it is parsed.
 * Returns 0 or the first error, with a one-line reason in errstr. Everything read
 * is wiped; the caller wipes seed. */
TXL_WUR int bip39_seed_from_files(const char *mnemonic_path, const char *passphrase_path,
                                  int require_private, uint8_t seed[BIP39_SEED_LEN],
                                  int *exposed, char *errstr, size_t errstr_size);

#endif
