/*
 * bip39.c - BIP-39 mnemonics (see bip39.h).
 *
 * A mnemonic is parsed once into its word indices and its normalised form
 * (single spaces). The indices form an 11-bit big-endian bit string: the first
 * ENT bits are the entropy, the last ENT/32 bits the start of SHA-256(entropy).
 * The seed is PBKDF2 over the normalised form. Every buffer holding secret
 * material lives on the stack (or in a secret_file_t) and is wiped on return.
 */
#include "txlane/bip39.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/digest.h"
#include "txlane/secret_file.h"
#include "txlane/secure.h"
#include "txlane/xmalloc.h"

#define BIP39_PBKDF2_ROUNDS 2048
#define BIP39_SALT_PREFIX "mnemonic"
#define BIP39_ENTROPY_MAX 32

/* A parsed mnemonic: word indices and the normalised text. */
typedef struct {
    uint16_t idx[BIP39_WORDS_MAX];
    size_t nwords;
    char text[BIP39_MNEMONIC_MAX];
    size_t text_len;
} bip39_parsed_t;

static void bip39_error(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bip39_error(char *errstr, size_t errstr_size, const char *fmt, ...) {
    va_list ap;
    if (errstr == NULL || errstr_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

static int bip39_is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int bip39_word_index(const char *w, size_t len) {
    char padded[BIP39_WORD_MAX] = {0};
    uint32_t found = 0, index = 0;

    assert(w != NULL || len == 0);
    if (len == 0 || len > BIP39_WORD_MAX)
        return TXL_EINVAL;
    memcpy(padded, w, len);
    /* Compare with every word so the time does not depend on which one matches. */
    for (uint32_t i = 0; i < BIP39_WORDLIST_LEN; i++) {
        uint32_t diff = 0, eq;
        for (size_t k = 0; k < BIP39_WORD_MAX; k++)
            diff |= (uint8_t)(padded[k] ^ bip39_english[i][k]);
        eq = (diff - 1) >> 31; /* 1 iff diff == 0 */
        found |= eq;
        index |= (0u - eq) & i;
    }
    secure_wipe(padded, sizeof padded);
    return found ? (int)index : TXL_EINVAL;
}

/* TXL_EINVAL unless s is ASCII: BIP-39's NFKD is the identity only there. */
static int bip39_ascii_check(const char *s, const char *what, char *errstr, size_t errstr_size) {
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80) {
            bip39_error(errstr, errstr_size,
                        "%s has a non-ascii character: only ascii is supported (no nfkd "
                        "normalisation)",
                        what);
            return TXL_EINVAL;
        }
    }
    return 0;
}

/* Packs the 11-bit word indices into bytes (big-endian bit order). */
static void bip39_bits_pack(const uint16_t *idx, size_t nwords, uint8_t *bytes, size_t cap) {
    memset(bytes, 0, cap);
    for (size_t w = 0; w < nwords; w++) {
        for (size_t b = 0; b < 11; b++) {
            size_t bit = w * 11 + b;
            uint8_t v = (uint8_t)((idx[w] >> (10 - b)) & 1);
            bytes[bit / 8] |= (uint8_t)(v << (7 - bit % 8));
        }
    }
}

/* Splits, looks up and checksums the mnemonic into *p. */
static int bip39_parse(const char *mnemonic, bip39_parsed_t *p, char *errstr,
                       size_t errstr_size) {
    uint8_t bits[BIP39_ENTROPY_MAX + 1];
    uint8_t hash[DIGEST_SHA256_LEN];
    const char *s = mnemonic;
    size_t ent_bytes, cs_bits;
    int rc = 0;

    memset(p, 0, sizeof *p);
    if (bip39_ascii_check(mnemonic, "mnemonic", errstr, errstr_size) != 0)
        return TXL_EINVAL;
    for (;;) {
        size_t len = 0;
        int index;
        while (bip39_is_space((unsigned char)*s))
            s++;
        if (*s == '\0')
            break;
        while (s[len] != '\0' && !bip39_is_space((unsigned char)s[len]))
            len++;
        if (p->nwords == BIP39_WORDS_MAX) {
            bip39_error(errstr, errstr_size, "mnemonic has more than %d words",
                        BIP39_WORDS_MAX);
            return TXL_EINVAL;
        }
        index = bip39_word_index(s, len);
        if (index < 0) {
            bip39_error(errstr, errstr_size,
                        "mnemonic word %zu is not in the bip-39 english word list",
                        p->nwords + 1);
            return TXL_EINVAL;
        }
        if (p->nwords > 0)
            p->text[p->text_len++] = ' ';
        memcpy(p->text + p->text_len, s, len);
        p->text_len += len;
        p->idx[p->nwords++] = (uint16_t)index;
        s += len;
    }
    if (p->nwords < 12 || p->nwords % 3 != 0) {
        bip39_error(errstr, errstr_size,
                    "mnemonic has %zu words: expected 12, 15, 18, 21 or 24", p->nwords);
        return TXL_EINVAL;
    }
    /* nwords words carry 11 * nwords bits: ENT = 32 * nwords / 3, CS = ENT / 32. */
    ent_bytes = p->nwords * 4 / 3;
    cs_bits = p->nwords / 3;
    bip39_bits_pack(p->idx, p->nwords, bits, sizeof bits);
    rc = digest_sha256(bits, ent_bytes, hash);
    if (rc == 0 && (hash[0] >> (8 - cs_bits)) != (bits[ent_bytes] >> (8 - cs_bits))) {
        bip39_error(errstr, errstr_size,
                    "mnemonic checksum mismatch: a word is wrong or out of order");
        rc = TXL_ECHECKSUM;
    }
    secure_wipe(bits, sizeof bits);
    secure_wipe(hash, sizeof hash);
    return rc;
}

int bip39_mnemonic_check(const char *mnemonic, char *errstr, size_t errstr_size) {
    bip39_parsed_t p;
    int rc;

    assert(mnemonic != NULL);
    rc = bip39_parse(mnemonic, &p, errstr, errstr_size);
    secure_wipe(&p, sizeof p);
    return rc;
}

int bip39_mnemonic_to_seed(const char *mnemonic, const char *passphrase,
                           uint8_t seed[BIP39_SEED_LEN], char *errstr, size_t errstr_size) {
    bip39_parsed_t p;
    uint8_t *salt = NULL;
    size_t pass_len, salt_len = 0;
    int rc;

    assert(mnemonic != NULL && seed != NULL);
    if (passphrase == NULL)
        passphrase = "";
    pass_len = strlen(passphrase);
    rc = bip39_ascii_check(passphrase, "passphrase", errstr, errstr_size);
    if (rc != 0)
        return rc;
    rc = bip39_parse(mnemonic, &p, errstr, errstr_size);
    if (rc != 0)
        goto cleanup;
    salt_len = strlen(BIP39_SALT_PREFIX) + pass_len;
    salt = xmalloc(salt_len);
    memcpy(salt, BIP39_SALT_PREFIX, strlen(BIP39_SALT_PREFIX));
    memcpy(salt + strlen(BIP39_SALT_PREFIX), passphrase, pass_len);
    rc = digest_pbkdf2_sha512((const uint8_t *)p.text, p.text_len, salt, salt_len,
                              BIP39_PBKDF2_ROUNDS, seed, BIP39_SEED_LEN);
    if (rc != 0)
        bip39_error(errstr, errstr_size, "pbkdf2-hmac-sha512 failed");
cleanup:
    if (salt != NULL) {
        secure_wipe(salt, salt_len);
        free(salt);
    }
    secure_wipe(&p, sizeof p);
    return rc;
}

int bip39_mnemonic_from_entropy(const uint8_t *entropy, size_t ent_len, char *out,
                                size_t out_cap) {
    uint8_t bits[BIP39_ENTROPY_MAX + 1];
    size_t nwords, pos = 0;
    int rc;

    assert(entropy != NULL && out != NULL);
    if (out_cap > 0)
        out[0] = '\0';
    if (ent_len < 16 || ent_len > BIP39_ENTROPY_MAX || ent_len % 4 != 0)
        return TXL_EINVAL;
    nwords = ent_len * 3 / 4;
    memset(bits, 0, sizeof bits);
    memcpy(bits, entropy, ent_len);
    {
        uint8_t hash[DIGEST_SHA256_LEN];
        rc = digest_sha256(entropy, ent_len, hash);
        bits[ent_len] = hash[0]; /* only the top ent_len / 4 bits are used */
        secure_wipe(hash, sizeof hash);
    }
    for (size_t w = 0; rc == 0 && w < nwords; w++) {
        uint32_t index = 0;
        size_t len;
        for (size_t b = 0; b < 11; b++) {
            size_t bit = w * 11 + b;
            index = (index << 1) | ((bits[bit / 8] >> (7 - bit % 8)) & 1u);
        }
        len = strlen(bip39_english[index]);
        if (pos + (w > 0) + len + 1 > out_cap) {
            secure_wipe(out, pos);
            if (out_cap > 0)
                out[0] = '\0';
            rc = TXL_ENOSPACE;
            break;
        }
        if (w > 0)
            out[pos++] = ' ';
        memcpy(out + pos, bip39_english[index], len);
        pos += len;
        out[pos] = '\0';
    }
    secure_wipe(bits, sizeof bits);
    return rc;
}

int bip39_seed_from_files(const char *mnemonic_path, const char *passphrase_path,
                          int require_private, uint8_t seed[BIP39_SEED_LEN], int *exposed,
                          char *errstr, size_t errstr_size) {
    secret_file_t mnemonic = {0}, passphrase = {0};
    char reason[256];
    int rc;

    assert(mnemonic_path != NULL && seed != NULL);
    rc = secret_file_read(mnemonic_path, &mnemonic, errstr, errstr_size);
    if (rc != 0)
        goto cleanup;
    if (exposed != NULL)
        *exposed = secret_file_is_exposed(&mnemonic);
    if (require_private && secret_file_is_exposed(&mnemonic)) {
        bip39_error(errstr, errstr_size,
                    "%s: group or others may access the mnemonic file (chmod 600 it)",
                    mnemonic_path);
        rc = TXL_ECONFIG;
        goto cleanup;
    }
    if (passphrase_path != NULL) {
        rc = secret_file_read(passphrase_path, &passphrase, errstr, errstr_size);
        if (rc != 0)
            goto cleanup;
        rc = bip39_ascii_check(passphrase.data, "passphrase", reason, sizeof reason);
        if (rc != 0) {
            bip39_error(errstr, errstr_size, "%s: %s", passphrase_path, reason);
            goto cleanup;
        }
    }
    rc = bip39_mnemonic_to_seed(mnemonic.data, passphrase.data, seed, reason, sizeof reason);
    if (rc != 0)
        bip39_error(errstr, errstr_size, "%s: %s", mnemonic_path, reason);
cleanup:
    secret_file_release(&passphrase);
    secret_file_release(&mnemonic);
    return rc;
}
