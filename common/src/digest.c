/*
 * digest.c - SHA-256, HASH160, HMAC-SHA512 and PBKDF2-HMAC-SHA512 over
 * OpenSSL libcrypto (see digest.h).
 *
 * Algorithms come from the default provider by implicit fetch (RIPEMD-160 is
 * back in the default provider since OpenSSL 3.0.7). Intermediate digests that
 * may derive from secrets are wiped before returning.
 */
#include "txlane/digest.h"

#include <assert.h>
#include <limits.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "txlane/secure.h"

static int digest_evp(const EVP_MD *md, const uint8_t *data, size_t len, uint8_t *out,
                      unsigned want) {
    unsigned got = 0;
    if (md == NULL || EVP_Digest(data, len, out, &got, md, NULL) != 1 || got != want)
        return TXL_ECRYPTO;
    return 0;
}

int digest_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    assert(out != NULL && (data != NULL || len == 0));
    return digest_evp(EVP_sha256(), data, len, out, DIGEST_SHA256_LEN);
}

int digest_hash160(const uint8_t *data, size_t len, uint8_t out[20]) {
    uint8_t sha[DIGEST_SHA256_LEN];
    int rc = digest_sha256(data, len, sha);
    if (rc == 0)
        rc = digest_evp(EVP_ripemd160(), sha, sizeof sha, out, DIGEST_HASH160_LEN);
    secure_wipe(sha, sizeof sha);
    return rc;
}

int digest_hmac_sha512(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                       uint8_t out[64]) {
    unsigned got = 0;
    assert(key != NULL && out != NULL && (data != NULL || len == 0));
    if (key_len > INT_MAX)
        return TXL_ECRYPTO;
    if (HMAC(EVP_sha512(), key, (int)key_len, data, len, out, &got) == NULL ||
        got != DIGEST_SHA512_LEN)
        return TXL_ECRYPTO;
    return 0;
}

int digest_pbkdf2_sha512(const uint8_t *pass, size_t pass_len, const uint8_t *salt,
                         size_t salt_len, unsigned iterations, uint8_t *out, size_t out_len) {
    assert(pass != NULL && salt != NULL && out != NULL);
    if (pass_len > INT_MAX || salt_len > INT_MAX || out_len > INT_MAX || iterations == 0 ||
        iterations > INT_MAX)
        return TXL_ECRYPTO;
    if (PKCS5_PBKDF2_HMAC((const char *)pass, (int)pass_len, salt, (int)salt_len,
                          (int)iterations, EVP_sha512(), (int)out_len, out) != 1)
        return TXL_ECRYPTO;
    return 0;
}
