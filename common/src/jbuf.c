/*
 * jbuf.c - JSON writer into a growable buffer (see jbuf.h).
 *
 * The buffer is always NUL-terminated. Commas are placed from two facts: the
 * open container's "first" flag, and whether the text just written is a key
 * (it then ends with ':'): a value right after its key needs no comma, any
 * other value or key in a non-empty container does. Strings are escaped per
 * RFC 8259: '"', '\\' and the C0 controls; everything else (UTF-8) passes.
 * Nesting beyond JBUF_DEPTH, closing or keying outside a container abort
 * the program (caller bugs), also in release builds.
 */
#include "txlane/jbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/xmalloc.h"

#define JBUF_INITIAL_CAP 256

/* Caller bugs that would write outside first[]: checked in every build
 * (assert() vanishes under NDEBUG). */
#define JBUF_CHECK(cond)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "jbuf: %s: misuse: %s\n", __func__, #cond);                     \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

void jbuf_init(jbuf_t *j) {
    memset(j, 0, sizeof(*j));
    j->cap = JBUF_INITIAL_CAP;
    j->buf = xmalloc(j->cap);
    j->buf[0] = '\0';
}

void jbuf_reset(jbuf_t *j) {
    if (j->buf == NULL) {
        jbuf_init(j);
        return;
    }
    j->len = 0;
    j->depth = 0;
    j->buf[0] = '\0';
}

void jbuf_free(jbuf_t *j) {
    if (j == NULL)
        return;
    free(j->buf);
    memset(j, 0, sizeof(*j));
}

/* Makes room for n more bytes and the NUL. */
static void jbuf_reserve(jbuf_t *j, size_t n) {
    if (j->buf == NULL)
        jbuf_init(j);
    if (j->len + n + 1 <= j->cap)
        return;
    size_t cap = j->cap;
    while (j->len + n + 1 > cap)
        cap *= 2;
    j->buf = xrealloc(j->buf, cap);
    j->cap = cap;
}

static void jbuf_put(jbuf_t *j, const char *s, size_t n) {
    jbuf_reserve(j, n);
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void jbuf_putc(jbuf_t *j, char c) {
    jbuf_reserve(j, 1);
    j->buf[j->len++] = c;
    j->buf[j->len] = '\0';
}

/* Before a value: a comma unless it is the first in its container or it
 * follows its key. */
static void jbuf_before_value(jbuf_t *j) {
    if (j->depth == 0)
        return;
    int after_key = j->len > 0 && j->buf[j->len - 1] == ':';
    if (!after_key && !j->first[j->depth - 1])
        jbuf_putc(j, ',');
    j->first[j->depth - 1] = 0;
}

static void jbuf_open(jbuf_t *j, char c) {
    jbuf_before_value(j);
    JBUF_CHECK(j->depth < JBUF_DEPTH);
    jbuf_putc(j, c);
    j->first[j->depth++] = 1;
}

static void jbuf_close(jbuf_t *j, char c) {
    JBUF_CHECK(j->depth > 0);
    j->depth--;
    jbuf_putc(j, c);
}

void jbuf_obj_begin(jbuf_t *j) {
    jbuf_open(j, '{');
}

void jbuf_obj_end(jbuf_t *j) {
    jbuf_close(j, '}');
}

void jbuf_arr_begin(jbuf_t *j) {
    jbuf_open(j, '[');
}

void jbuf_arr_end(jbuf_t *j) {
    jbuf_close(j, ']');
}

/* Appends s[0..n) as a quoted, escaped JSON string. */
static void jbuf_quote(jbuf_t *j, const char *s, size_t n) {
    static const char hexd[] = "0123456789abcdef";
    /* worst case: every byte becomes \u00XX */
    jbuf_reserve(j, n * 6 + 2);
    char *o = j->buf + j->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            *o++ = '\\';
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            break;
        case '\b':
            *o++ = '\\';
            *o++ = 'b';
            break;
        case '\f':
            *o++ = '\\';
            *o++ = 'f';
            break;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        default:
            if (c < 0x20) {
                memcpy(o, "\\u00", 4);
                o[4] = hexd[c >> 4];
                o[5] = hexd[c & 0xf];
                o += 6;
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    j->len = (size_t)(o - j->buf);
    j->buf[j->len] = '\0';
}

void jbuf_key(jbuf_t *j, const char *key) {
    JBUF_CHECK(j->depth > 0);
    if (!j->first[j->depth - 1])
        jbuf_putc(j, ',');
    j->first[j->depth - 1] = 0;
    jbuf_quote(j, key, strlen(key));
    jbuf_putc(j, ':');
}

void jbuf_str(jbuf_t *j, const char *s) {
    jbuf_strn(j, s, strlen(s));
}

void jbuf_strn(jbuf_t *j, const char *s, size_t n) {
    jbuf_before_value(j);
    jbuf_quote(j, s, n);
}

void jbuf_u64(jbuf_t *j, uint64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    jbuf_before_value(j);
    jbuf_put(j, tmp, (size_t)n);
}

void jbuf_i64(jbuf_t *j, int64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    jbuf_before_value(j);
    jbuf_put(j, tmp, (size_t)n);
}

void jbuf_bool(jbuf_t *j, int v) {
    jbuf_before_value(j);
    if (v)
        jbuf_put(j, "true", 4);
    else
        jbuf_put(j, "false", 5);
}

void jbuf_null(jbuf_t *j) {
    jbuf_before_value(j);
    jbuf_put(j, "null", 4);
}

void jbuf_raw(jbuf_t *j, const char *json, size_t n) {
    jbuf_before_value(j);
    jbuf_put(j, json, n);
}

void jbuf_hex(jbuf_t *j, const uint8_t *bytes, size_t n) {
    static const char hexd[] = "0123456789abcdef";
    jbuf_before_value(j);
    jbuf_reserve(j, 2 * n + 4);
    char *o = j->buf + j->len;
    memcpy(o, "\"0x", 3);
    o += 3;
    for (size_t i = 0; i < n; i++) {
        *o++ = hexd[bytes[i] >> 4];
        *o++ = hexd[bytes[i] & 0xf];
    }
    *o++ = '"';
    j->len = (size_t)(o - j->buf);
    j->buf[j->len] = '\0';
}

void jbuf_u256(jbuf_t *j, const uint256_t *v) {
    char dec[UINT256_DEC_BUF];
    uint256_format_dec(v, dec);
    jbuf_before_value(j);
    jbuf_putc(j, '"');
    jbuf_put(j, dec, strlen(dec));
    jbuf_putc(j, '"');
}

void jbuf_addr(jbuf_t *j, const eth_address_t *a) {
    char s[ADDRESS_STR_LEN + 1];
    address_format(a, s);
    jbuf_before_value(j);
    jbuf_putc(j, '"');
    jbuf_put(j, s, ADDRESS_STR_LEN);
    jbuf_putc(j, '"');
}

void jbuf_key_str(jbuf_t *j, const char *key, const char *s) {
    jbuf_key(j, key);
    jbuf_str(j, s);
}

void jbuf_key_u64(jbuf_t *j, const char *key, uint64_t v) {
    jbuf_key(j, key);
    jbuf_u64(j, v);
}

void jbuf_key_i64(jbuf_t *j, const char *key, int64_t v) {
    jbuf_key(j, key);
    jbuf_i64(j, v);
}

void jbuf_key_u256(jbuf_t *j, const char *key, const uint256_t *v) {
    jbuf_key(j, key);
    jbuf_u256(j, v);
}

void jbuf_key_addr(jbuf_t *j, const char *key, const eth_address_t *a) {
    jbuf_key(j, key);
    jbuf_addr(j, a);
}

void jbuf_key_hex(jbuf_t *j, const char *key, const uint8_t *bytes, size_t n) {
    jbuf_key(j, key);
    jbuf_hex(j, bytes, n);
}
