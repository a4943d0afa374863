/*
 * hex.c - hexadecimal encoding and strict decoding (see hex.h).
 *
 * Table-driven in both directions so the cost per byte is two lookups;
 * decoding validates every digit before trusting it.
 */
#include "txlane/hex.h"

#include <stdlib.h>
#include <string.h>

#include "txlane/xmalloc.h"

static const char hex_digits[16] = "0123456789abcdef";

void hex_encode(const uint8_t *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

int hex_digit_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *s, size_t slen, uint8_t *out, size_t out_cap, size_t *out_len) {
    if (slen >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        slen -= 2;
    }
    if (slen % 2 != 0)
        return TXL_EINVAL;
    size_t n = slen / 2;
    for (size_t i = 0; i < slen; i++) {
        if (hex_digit_value(s[i]) < 0)
            return TXL_EINVAL;
    }
    if (n > out_cap)
        return TXL_ENOSPACE;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hex_digit_value(s[2 * i]) << 4 | hex_digit_value(s[2 * i + 1]));
    *out_len = n;
    return 0;
}

int hex_decode_0x_alloc(const char *s, uint8_t **out, size_t *out_len) {
    size_t slen = strlen(s);
    *out = NULL;
    if (slen < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return TXL_EINVAL;
    uint8_t *buf = xmalloc(slen / 2);
    int rc = hex_decode(s, slen, buf, slen / 2, out_len);
    if (rc != 0) {
        free(buf);
        return TXL_EINVAL;
    }
    *out = buf;
    return 0;
}
