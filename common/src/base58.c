/*
 * base58.c - base58 and base58check (see base58.h).
 *
 * Numbers are converted between base 256 and base 58 by schoolbook
 * multiply-and-add over a fixed-size digit array: every input symbol touches
 * every output digit, so the work depends on lengths only. Leading zero bytes
 * map to leading '1's one for one, as Bitcoin defines it.
 */
#include "txlane/base58.h"

#include <assert.h>
#include <string.h>

#include "txlane/digest.h"
#include "txlane/secure.h"

static const char base58_alphabet[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Digits of BASE58_MAX_BYTES bytes: the n * 138 / 100 + 1 estimate used below, which
 * is at least n * log(256) / log(58). */
#define BASE58_MAX_DIGITS (BASE58_MAX_BYTES * 138 / 100 + 1)

static int base58_char_value(unsigned char c) {
    const char *p;
    if (c == '\0')
        return -1;
    p = strchr(base58_alphabet, c);
    return p == NULL ? -1 : (int)(p - base58_alphabet);
}

int base58_encode(const uint8_t *in, size_t n, char *out, size_t out_cap) {
    uint8_t digits[BASE58_MAX_DIGITS]; /* little-endian base-58 digits */
    size_t zeros = 0, ndigits, len, i, j;
    int rc = 0;

    assert((in != NULL || n == 0) && out != NULL);
    if (out_cap > 0)
        out[0] = '\0';
    if (n > BASE58_MAX_BYTES)
        return TXL_ERANGE;
    while (zeros < n && in[zeros] == 0)
        zeros++;
    ndigits = (n - zeros) * 138 / 100 + 1;
    memset(digits, 0, ndigits);
    for (i = zeros; i < n; i++) {
        unsigned carry = in[i];
        for (j = 0; j < ndigits; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    while (ndigits > 0 && digits[ndigits - 1] == 0)
        ndigits--;
    len = zeros + ndigits;
    if (len + 1 > out_cap) {
        rc = TXL_ENOSPACE;
        goto cleanup;
    }
    memset(out, '1', zeros);
    for (i = 0; i < ndigits; i++)
        out[zeros + i] = base58_alphabet[digits[ndigits - 1 - i]];
    out[len] = '\0';
cleanup:
    secure_wipe(digits, sizeof digits);
    return rc;
}

int base58_decode(const char *s, size_t slen, uint8_t *out, size_t out_cap, size_t *out_len) {
    uint8_t bytes[BASE58_MAX_BYTES + 1]; /* little-endian base-256 value */
    size_t zeros = 0, nbytes, len, i, j;
    int rc = 0;

    assert((s != NULL || slen == 0) && (out != NULL || out_cap == 0) && out_len != NULL);
    while (zeros < slen && s[zeros] == '1')
        zeros++;
    if (zeros > BASE58_MAX_BYTES || slen - zeros > BASE58_MAX_DIGITS)
        return TXL_ERANGE;
    nbytes = (slen - zeros) * 733 / 1000 + 1;
    if (nbytes > sizeof bytes)
        nbytes = sizeof bytes;
    memset(bytes, 0, nbytes);
    for (i = zeros; i < slen; i++) {
        int v = base58_char_value((unsigned char)s[i]);
        unsigned carry;
        if (v < 0) {
            rc = TXL_EINVAL;
            goto cleanup;
        }
        carry = (unsigned)v;
        for (j = 0; j < nbytes; j++) {
            carry += (unsigned)bytes[j] * 58;
            bytes[j] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        if (carry != 0) {
            rc = TXL_ERANGE;
            goto cleanup;
        }
    }
    while (nbytes > 0 && bytes[nbytes - 1] == 0)
        nbytes--;
    len = zeros + nbytes;
    if (len > BASE58_MAX_BYTES) {
        rc = TXL_ERANGE;
        goto cleanup;
    }
    if (len > out_cap) {
        rc = TXL_ENOSPACE;
        goto cleanup;
    }
    memset(out, 0, zeros);
    for (i = 0; i < nbytes; i++)
        out[zeros + i] = bytes[nbytes - 1 - i];
    *out_len = len;
cleanup:
    secure_wipe(bytes, sizeof bytes);
    return rc;
}

/* First 4 bytes of SHA-256(SHA-256(data)). */
static int base58_checksum(const uint8_t *data, size_t n, uint8_t check[BASE58_CHECK_LEN]) {
    uint8_t h[DIGEST_SHA256_LEN];
    int rc = digest_sha256(data, n, h);
    if (rc == 0)
        rc = digest_sha256(h, sizeof h, h);
    if (rc == 0)
        memcpy(check, h, BASE58_CHECK_LEN);
    secure_wipe(h, sizeof h);
    return rc;
}

int base58check_encode(const uint8_t *payload, size_t n, char *out, size_t out_cap) {
    uint8_t buf[BASE58_MAX_BYTES];
    int rc;

    assert((payload != NULL || n == 0) && out != NULL);
    if (out_cap > 0)
        out[0] = '\0';
    if (n > BASE58_MAX_BYTES - BASE58_CHECK_LEN)
        return TXL_ERANGE;
    if (n > 0)
        memcpy(buf, payload, n);
    rc = base58_checksum(buf, n, buf + n);
    if (rc == 0)
        rc = base58_encode(buf, n + BASE58_CHECK_LEN, out, out_cap);
    secure_wipe(buf, sizeof buf);
    return rc;
}

int base58check_decode(const char *s, uint8_t *out, size_t out_cap, size_t *out_len) {
    uint8_t buf[BASE58_MAX_BYTES];
    uint8_t check[BASE58_CHECK_LEN];
    size_t len = 0, n;
    int rc;

    assert(s != NULL && (out != NULL || out_cap == 0) && out_len != NULL);
    rc = base58_decode(s, strlen(s), buf, sizeof buf, &len);
    if (rc != 0)
        goto cleanup;
    if (len < BASE58_CHECK_LEN) {
        rc = TXL_EINVAL;
        goto cleanup;
    }
    n = len - BASE58_CHECK_LEN;
    rc = base58_checksum(buf, n, check);
    if (rc != 0)
        goto cleanup;
    if (memcmp(check, buf + n, BASE58_CHECK_LEN) != 0) {
        rc = TXL_ECHECKSUM;
        goto cleanup;
    }
    if (n > out_cap) {
        rc = TXL_ENOSPACE;
        goto cleanup;
    }
    if (n > 0)
        memcpy(out, buf, n);
    *out_len = n;
cleanup:
    secure_wipe(buf, sizeof buf);
    secure_wipe(check, sizeof check);
    return rc;
}
