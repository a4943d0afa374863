/*
 * hex.h - hexadecimal encoding and strict decoding of byte strings.
 *
 * Encoding is lower-case without a prefix. Decoding accepts an optional
 * "0x"/"0X" prefix and either case of digits; it never writes past out_cap.
 * Only hex_decode_0x_alloc() allocates. Thread-safe.
 */
#ifndef TXLANE_HEX_H
#define TXLANE_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/err.h"

/* Writes 2n lower-case hex digits and a NUL to out (2n + 1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Decodes slen chars of s (an optional 0x/0X prefix, then an even number of
 * hex digits; "0x" alone is zero bytes) into out. Returns 0 and sets *out_len,
 * TXL_EINVAL on odd length or a non-hex char (including NUL), TXL_ENOSPACE if
 * the bytes exceed out_cap. */
TXL_WUR int hex_decode(const char *s, size_t slen, uint8_t *out, size_t out_cap, size_t *out_len);

/* Decodes a NUL-terminated "0x"/"0X" + hex string into a new buffer that the
 * caller frees (also when *out_len is 0). Returns 0, or TXL_EINVAL (missing
 * prefix, odd length, non-hex) with *out set to NULL. */
TXL_WUR int hex_decode_0x_alloc(const char *s, uint8_t **out, size_t *out_len);

/* Value of one hex digit, or -1 if c is not [0-9a-fA-F]. */
int hex_digit_value(char c);

#endif
