/*
 * base58.h - Bitcoin's base58 and base58check encodings, as used by BIP-32
 * extended keys (xprv/xpub).
 *
 * base58check appends the first 4 bytes of SHA-256(SHA-256(payload)). Inputs
 * are limited to BASE58_MAX_BYTES decoded bytes (xkeys are 82). The conversion
 * loops run a fixed number of steps for a given length, so secrets such as an
 * xprv do not steer them; the temporary buffers are wiped. No allocation;
 * thread-safe.
 */
#ifndef TXLANE_BASE58_H
#define TXLANE_BASE58_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/err.h"

#define BASE58_MAX_BYTES 128 /* longest byte string encoded or decoded */
#define BASE58_CHECK_LEN 4   /* checksum bytes of base58check */

/* Encodes n bytes (n <= BASE58_MAX_BYTES) into out as a NUL-terminated string.
 * Returns 0, TXL_ERANGE if n is too large, TXL_ENOSPACE if out_cap is too small
 * (out then holds an empty string when out_cap > 0). */
TXL_WUR int base58_encode(const uint8_t *in, size_t n, char *out, size_t out_cap);

/* Decodes slen chars of s. Returns 0 and sets *out_len; TXL_EINVAL on a char
 * outside the alphabet (including NUL and whitespace), TXL_ERANGE if the value
 * exceeds BASE58_MAX_BYTES, TXL_ENOSPACE if it exceeds out_cap. */
TXL_WUR int base58_decode(const char *s, size_t slen, uint8_t *out, size_t out_cap,
                          size_t *out_len);

/* base58_encode(payload || checksum). n <= BASE58_MAX_BYTES - 4. Also
 * TXL_ECRYPTO if hashing fails. */
TXL_WUR int base58check_encode(const uint8_t *payload, size_t n, char *out, size_t out_cap);

/* Decodes a NUL-terminated base58check string and verifies its checksum;
 * writes the payload (without checksum) to out. Returns 0, the errors of
 * base58_decode, TXL_EINVAL if shorter than the checksum, TXL_ECHECKSUM on
 * a checksum mismatch. */
TXL_WUR int base58check_decode(const char *s, uint8_t *out, size_t out_cap, size_t *out_len);

#endif
