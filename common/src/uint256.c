/*
 * uint256.c - unsigned 256-bit arithmetic, parsing and formatting
 * (see uint256.h).
 *
 * Limb arithmetic uses unsigned __int128 for carries and products. Parsing
 * accumulates into a 5th limb so that overflow past 2^256 is seen at the
 * digit that causes it; nothing is ever truncated.
 */
#include "txlane/uint256.h"

#include <string.h>

#include "txlane/hex.h"

__extension__ typedef unsigned __int128 u128;

/* acc = acc * mul + add over 4 limbs; returns the carry out of the top limb. */
static uint64_t uint256_muladd_small(uint64_t acc[4], uint64_t mul, uint64_t add) {
    uint64_t carry = add;
    for (int i = 0; i < 4; i++) {
        u128 t = (u128)acc[i] * mul + carry;
        acc[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
    return carry;
}

static int uint256_parse_dec_n(const char *s, size_t len, uint256_t *out) {
    if (len == 0)
        return TXL_EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return TXL_EINVAL;
    }
    uint64_t acc[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < len; i++) {
        if (uint256_muladd_small(acc, 10, (uint64_t)(s[i] - '0')) != 0)
            return TXL_ERANGE;
    }
    memcpy(out->w, acc, sizeof(acc));
    return 0;
}

static int uint256_parse_hex_n(const char *s, size_t len, uint256_t *out) {
    if (len < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return TXL_EINVAL;
    s += 2;
    len -= 2;
    for (size_t i = 0; i < len; i++) {
        if (hex_digit_value(s[i]) < 0)
            return TXL_EINVAL;
    }
    while (len > 0 && s[0] == '0') {
        s++;
        len--;
    }
    if (len > 64)
        return TXL_ERANGE;
    uint64_t acc[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < len; i++) {
        size_t bit = 4 * (len - 1 - i);
        acc[bit / 64] |= (uint64_t)hex_digit_value(s[i]) << (bit % 64);
    }
    memcpy(out->w, acc, sizeof(acc));
    return 0;
}

int uint256_parse_n(const char *s, size_t len, uint256_t *out) {
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return uint256_parse_hex_n(s, len, out);
    return uint256_parse_dec_n(s, len, out);
}

int uint256_parse(const char *s, uint256_t *out) {
    return uint256_parse_n(s, strlen(s), out);
}

int uint256_parse_dec(const char *s, uint256_t *out) {
    return uint256_parse_dec_n(s, strlen(s), out);
}

int uint256_parse_hex(const char *s, uint256_t *out) {
    return uint256_parse_hex_n(s, strlen(s), out);
}

void uint256_format_dec(const uint256_t *a, char out[UINT256_DEC_BUF]) {
    /* Divide by 10^19 repeatedly; each remainder gives 19 decimal digits. */
    const uint64_t chunk = 10000000000000000000ULL;
    uint64_t q[4];
    memcpy(q, a->w, sizeof(q));
    char tmp[UINT256_DEC_BUF + 19];
    size_t pos = sizeof(tmp);
    tmp[--pos] = '\0';
    do {
        uint64_t rem = 0;
        for (int i = 3; i >= 0; i--) {
            u128 cur = ((u128)rem << 64) | q[i];
            q[i] = (uint64_t)(cur / chunk);
            rem = (uint64_t)(cur % chunk);
        }
        int last = (q[0] | q[1] | q[2] | q[3]) == 0;
        for (int d = 0; d < 19 && (!last || rem != 0 || d == 0); d++) {
            tmp[--pos] = (char)('0' + rem % 10);
            rem /= 10;
        }
        if (last)
            break;
    } while (1);
    memcpy(out, tmp + pos, sizeof(tmp) - pos);
}

void uint256_format_hex(const uint256_t *a, char out[UINT256_HEX_BUF]) {
    static const char digits[16] = "0123456789abcdef";
    size_t n = 0;
    out[n++] = '0';
    out[n++] = 'x';
    int started = 0;
    for (int i = 63; i >= 0; i--) {
        unsigned nib = (unsigned)(a->w[i / 16] >> (4 * (i % 16))) & 0x0f;
        if (nib != 0 || started || i == 0) {
            out[n++] = digits[nib];
            started = 1;
        }
    }
    out[n] = '\0';
}

void uint256_from_u64(uint64_t v, uint256_t *out) {
    out->w[0] = v;
    out->w[1] = out->w[2] = out->w[3] = 0;
}

int uint256_to_u64(const uint256_t *a, uint64_t *out) {
    if ((a->w[1] | a->w[2] | a->w[3]) != 0)
        return TXL_ERANGE;
    *out = a->w[0];
    return 0;
}

void uint256_to_be32(const uint256_t *a, uint8_t out[32]) {
    for (int i = 0; i < 32; i++)
        out[31 - i] = (uint8_t)(a->w[i / 8] >> (8 * (i % 8)));
}

void uint256_from_be32(const uint8_t in[32], uint256_t *out) {
    uint256_t r = {{0, 0, 0, 0}};
    for (int i = 0; i < 32; i++)
        r.w[i / 8] |= (uint64_t)in[31 - i] << (8 * (i % 8));
    *out = r;
}

int uint256_from_be(const uint8_t *in, size_t n, uint256_t *out) {
    if (n > 32)
        return TXL_ERANGE;
    uint8_t buf[32] = {0};
    if (n > 0)
        memcpy(buf + 32 - n, in, n);
    uint256_from_be32(buf, out);
    return 0;
}

size_t uint256_byte_len(const uint256_t *a) {
    for (int i = 3; i >= 0; i--) {
        if (a->w[i] != 0) {
            size_t bits = 64 - (size_t)__builtin_clzll(a->w[i]);
            return (size_t)i * 8 + (bits + 7) / 8;
        }
    }
    return 0;
}

int uint256_add(const uint256_t *a, const uint256_t *b, uint256_t *out) {
    uint64_t r[4];
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 t = (u128)a->w[i] + b->w[i] + carry;
        r[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
    if (carry)
        return TXL_ERANGE;
    memcpy(out->w, r, sizeof(r));
    return 0;
}

int uint256_sub(const uint256_t *a, const uint256_t *b, uint256_t *out) {
    if (uint256_cmp(a, b) < 0)
        return TXL_ERANGE;
    uint64_t r[4];
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t x = a->w[i], y = b->w[i];
        r[i] = x - y - borrow;
        borrow = (x < y) || (x == y && borrow);
    }
    memcpy(out->w, r, sizeof(r));
    return 0;
}

int uint256_mul_u64(const uint256_t *a, uint64_t m, uint256_t *out) {
    uint64_t r[4];
    memcpy(r, a->w, sizeof(r));
    if (uint256_muladd_small(r, m, 0) != 0)
        return TXL_ERANGE;
    memcpy(out->w, r, sizeof(r));
    return 0;
}

int uint256_mul_percent_ceil(const uint256_t *a, uint64_t percent, uint256_t *out) {
    /* 320-bit product in p[0..4], then long division by 100 from the top. */
    uint64_t p[5];
    memcpy(p, a->w, 4 * sizeof(uint64_t));
    p[4] = uint256_muladd_small(p, percent, 0);
    uint64_t rem = 0;
    for (int i = 4; i >= 0; i--) {
        u128 cur = ((u128)rem << 64) | p[i];
        p[i] = (uint64_t)(cur / 100);
        rem = (uint64_t)(cur % 100);
    }
    if (rem != 0) {
        for (int i = 0; i < 5; i++) {
            if (++p[i] != 0)
                break;
        }
    }
    if (p[4] != 0)
        return TXL_ERANGE;
    memcpy(out->w, p, 4 * sizeof(uint64_t));
    return 0;
}

int uint256_cmp(const uint256_t *a, const uint256_t *b) {
    for (int i = 3; i >= 0; i--) {
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

int uint256_is_zero(const uint256_t *a) {
    return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

void uint256_min(const uint256_t *a, const uint256_t *b, uint256_t *out) {
    *out = uint256_cmp(a, b) <= 0 ? *a : *b;
}

void uint256_max(const uint256_t *a, const uint256_t *b, uint256_t *out) {
    *out = uint256_cmp(a, b) >= 0 ? *a : *b;
}
