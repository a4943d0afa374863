/*
 * digest.h - the hash functions of Bitcoin's key formats (BIP-32, BIP-39,
 * base58check), as thin wrappers over OpenSSL libcrypto: SHA-256, HASH160
 * (RIPEMD-160 of SHA-256), HMAC-SHA512 and PBKDF2-HMAC-SHA512.
 *
 * Ethereum's Keccak-256 is elsewhere (keccak.h). Each function returns 0 or
 * TXL_ECRYPTO if libcrypto fails (an algorithm missing from its providers).
 * No allocation by txlane; libcrypto cleanses its own key schedules. Thread-safe.
 */
#ifndef TXLANE_DIGEST_H
#define TXLANE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/err.h"

#define DIGEST_SHA256_LEN 32
#define DIGEST_HASH160_LEN 20
#define DIGEST_SHA512_LEN 64

/* SHA-256 of len bytes at data (data may be NULL when len is 0). */
TXL_WUR int digest_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* RIPEMD-160(SHA-256(data)): BIP-32 key identifiers and fingerprints. */
TXL_WUR int digest_hash160(const uint8_t *data, size_t len, uint8_t out[20]);

/* HMAC-SHA512 of data under key. */
TXL_WUR int digest_hmac_sha512(const uint8_t *key, size_t key_len, const uint8_t *data,
                               size_t len, uint8_t out[64]);

/* PBKDF2-HMAC-SHA512 of pass/salt, iterations rounds, out_len bytes into out. */
TXL_WUR int digest_pbkdf2_sha512(const uint8_t *pass, size_t pass_len, const uint8_t *salt,
                                 size_t salt_len, unsigned iterations, uint8_t *out,
                                 size_t out_len);

#endif
