/*
 * uint256.h - unsigned 256-bit integers for wei amounts, fees and gas.
 *
 * Four 64-bit limbs, w[0] least significant. Every operation that can
 * overflow reports it (TXL_ERANGE) instead of wrapping, and parsing rejects
 * anything that is not exactly a number in range: signs, spaces, empty
 * strings, "0x" without digits, decimal points, junk and values >= 2^256.
 * Decimal parsing accepts leading zeros ("007" is 7); hex parsing accepts
 * leading zero digits ("0x0007" is 7). Out parameters may alias inputs.
 * Plain values: no allocation, thread-safe.
 */
#ifndef TXLANE_UINT256_H
#define TXLANE_UINT256_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/err.h"

typedef struct {
    uint64_t w[4];
} uint256_t;

#define UINT256_DEC_BUF 79 /* 78 digits of 2^256-1 + NUL */
#define UINT256_HEX_BUF 67 /* "0x" + 64 digits + NUL */

/* Decimal, or hex when prefixed "0x"/"0X". Returns 0, TXL_EINVAL for
 * malformed input, TXL_ERANGE for values >= 2^256. out untouched on error. */
TXL_WUR int uint256_parse(const char *s, uint256_t *out);
/* The same over len bytes that need not be NUL-terminated (a NUL inside is junk). */
TXL_WUR int uint256_parse_n(const char *s, size_t len, uint256_t *out);
/* Decimal digits only. */
TXL_WUR int uint256_parse_dec(const char *s, uint256_t *out);
/* "0x"/"0X" followed by at least one hex digit (either case). */
TXL_WUR int uint256_parse_hex(const char *s, uint256_t *out);

/* Decimal digits without leading zeros ("0" for zero), NUL-terminated. */
void uint256_format_dec(const uint256_t *a, char out[UINT256_DEC_BUF]);
/* "0x" + minimal lower-case hex ("0x0" for zero), NUL-terminated. */
void uint256_format_hex(const uint256_t *a, char out[UINT256_HEX_BUF]);

void uint256_from_u64(uint64_t v, uint256_t *out);
/* Returns 0, or TXL_ERANGE if a does not fit 64 bits (out untouched). */
TXL_WUR int uint256_to_u64(const uint256_t *a, uint64_t *out);

/* 32-byte big-endian conversions. */
void uint256_to_be32(const uint256_t *a, uint8_t out[32]);
void uint256_from_be32(const uint8_t in[32], uint256_t *out);
/* Big-endian bytes of any length n <= 32 (TXL_ERANGE if n > 32). */
TXL_WUR int uint256_from_be(const uint8_t *in, size_t n, uint256_t *out);
/* Minimal big-endian length in bytes: 0 for zero, at most 32. */
size_t uint256_byte_len(const uint256_t *a);

/* out = a + b; TXL_ERANGE on overflow (out untouched). */
TXL_WUR int uint256_add(const uint256_t *a, const uint256_t *b, uint256_t *out);
/* out = a - b; TXL_ERANGE if b > a (out untouched). */
TXL_WUR int uint256_sub(const uint256_t *a, const uint256_t *b, uint256_t *out);
/* out = a * m; TXL_ERANGE on overflow (out untouched). */
TXL_WUR int uint256_mul_u64(const uint256_t *a, uint64_t m, uint256_t *out);
/* out = ceil(a * percent / 100), e.g. percent 120 for a 20 % fee bump;
 * TXL_ERANGE if the result is >= 2^256 (the product may exceed it). */
TXL_WUR int uint256_mul_percent_ceil(const uint256_t *a, uint64_t percent, uint256_t *out);

/* -1, 0 or 1 as a <, ==, > b. */
int uint256_cmp(const uint256_t *a, const uint256_t *b);
/* 1 if a is zero, else 0. */
int uint256_is_zero(const uint256_t *a);
void uint256_min(const uint256_t *a, const uint256_t *b, uint256_t *out);
void uint256_max(const uint256_t *a, const uint256_t *b, uint256_t *out);

#endif
