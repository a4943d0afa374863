/*
 * rlp.c - RLP encoding and strict decoding (see rlp.h).
 *
 * The encoder's lists are back-patched: rlp_enc_list_begin() records where
 * the payload starts, rlp_enc_list_end() measures it and shifts it right by
 * the header's size before writing the header in front (one memmove per
 * list, negligible for transaction-sized data). The decoder checks every
 * length against the bytes left before using it, so it never reads outside
 * the input however the length fields are forged.
 */
#include "txlane/rlp.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/xmalloc.h"

/* Number of bytes of v without leading zero bytes (0 for v == 0). */
static size_t rlp_be_len(uint64_t v) {
    size_t n = 0;
    while (v != 0) {
        n++;
        v >>= 8;
    }
    return n;
}

static void rlp_put_be(uint8_t *out, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++)
        out[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

size_t rlp_header_len(size_t payload_len) {
    return payload_len < 56 ? 1 : 1 + rlp_be_len(payload_len);
}

size_t rlp_bytes_len(const uint8_t *p, size_t n) {
    if (n == 1 && p[0] < 0x80)
        return 1;
    return rlp_header_len(n) + n;
}

size_t rlp_u64_len(uint64_t v) {
    return v < 0x80 && v != 0 ? 1 : 1 + rlp_be_len(v);
}

size_t rlp_uint256_len(const uint256_t *v) {
    size_t n = uint256_byte_len(v);
    if (n <= 1 && v->w[0] < 0x80 && v->w[0] != 0)
        return 1;
    return 1 + n;
}

static size_t rlp_put_header(uint8_t *out, size_t payload_len, uint8_t short_base) {
    if (payload_len < 56) {
        out[0] = (uint8_t)(short_base + payload_len);
        return 1;
    }
    size_t ll = rlp_be_len(payload_len);
    out[0] = (uint8_t)(short_base + 55 + ll);
    rlp_put_be(out + 1, payload_len, ll);
    return 1 + ll;
}

size_t rlp_put_string_header(uint8_t *out, size_t payload_len) {
    return rlp_put_header(out, payload_len, 0x80);
}

size_t rlp_put_list_header(uint8_t *out, size_t payload_len) {
    return rlp_put_header(out, payload_len, 0xc0);
}

size_t rlp_put_bytes(uint8_t *out, const uint8_t *p, size_t n) {
    if (n == 1 && p[0] < 0x80) {
        out[0] = p[0];
        return 1;
    }
    size_t h = rlp_put_string_header(out, n);
    if (n > 0)
        memcpy(out + h, p, n);
    return h + n;
}

size_t rlp_put_u64(uint8_t *out, uint64_t v) {
    if (v != 0 && v < 0x80) {
        out[0] = (uint8_t)v;
        return 1;
    }
    size_t n = rlp_be_len(v);
    out[0] = (uint8_t)(0x80 + n);
    rlp_put_be(out + 1, v, n);
    return 1 + n;
}

size_t rlp_put_uint256(uint8_t *out, const uint256_t *v) {
    if ((v->w[1] | v->w[2] | v->w[3]) == 0)
        return rlp_put_u64(out, v->w[0]);
    uint8_t be[32];
    uint256_to_be32(v, be);
    size_t n = uint256_byte_len(v);
    out[0] = (uint8_t)(0x80 + n);
    memcpy(out + 1, be + 32 - n, n);
    return 1 + n;
}

/* --- encoder ------------------------------------------------------------- */

void rlp_enc_init(rlp_enc_t *enc) {
    memset(enc, 0, sizeof(*enc));
    enc->owned = 1;
}

void rlp_enc_init_fixed(rlp_enc_t *enc, uint8_t *buf, size_t cap) {
    memset(enc, 0, sizeof(*enc));
    enc->buf = buf;
    enc->cap = cap;
}

void rlp_enc_free(rlp_enc_t *enc) {
    if (enc == NULL)
        return;
    if (enc->owned)
        free(enc->buf);
    enc->buf = NULL;
    enc->len = enc->cap = 0;
}

/* Makes room for n more bytes; 0 or sets the sticky error and returns it. */
static int rlp_enc_reserve(rlp_enc_t *enc, size_t n) {
    if (enc->err)
        return enc->err;
    if (n <= enc->cap - enc->len)
        return 0;
    if (!enc->owned) {
        enc->err = TXL_ENOSPACE;
        return enc->err;
    }
    size_t need = enc->len + n;
    if (need < enc->len) { /* size_t overflow */
        enc->err = TXL_ENOSPACE;
        return enc->err;
    }
    size_t cap = enc->cap ? enc->cap : 128;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    enc->buf = xrealloc(enc->buf, cap);
    enc->cap = cap;
    return 0;
}

void rlp_enc_bytes(rlp_enc_t *enc, const uint8_t *p, size_t n) {
    if (rlp_enc_reserve(enc, rlp_bytes_len(p, n)) == 0)
        enc->len += rlp_put_bytes(enc->buf + enc->len, p, n);
}

void rlp_enc_u64(rlp_enc_t *enc, uint64_t v) {
    if (rlp_enc_reserve(enc, rlp_u64_len(v)) == 0)
        enc->len += rlp_put_u64(enc->buf + enc->len, v);
}

void rlp_enc_uint256(rlp_enc_t *enc, const uint256_t *v) {
    if (rlp_enc_reserve(enc, rlp_uint256_len(v)) == 0)
        enc->len += rlp_put_uint256(enc->buf + enc->len, v);
}

void rlp_enc_raw(rlp_enc_t *enc, const uint8_t *p, size_t n) {
    if (rlp_enc_reserve(enc, n) == 0 && n > 0) {
        memcpy(enc->buf + enc->len, p, n);
        enc->len += n;
    }
}

void rlp_enc_list_begin(rlp_enc_t *enc) {
    if (enc->err)
        return;
    if (enc->depth == RLP_MAX_DEPTH) {
        enc->err = TXL_EINVAL;
        return;
    }
    enc->list_start[enc->depth++] = enc->len;
}

void rlp_enc_list_end(rlp_enc_t *enc) {
    if (enc->err)
        return;
    if (enc->depth == 0) {
        enc->err = TXL_EINVAL;
        return;
    }
    size_t start = enc->list_start[--enc->depth];
    size_t payload = enc->len - start;
    size_t h = rlp_header_len(payload);
    if (rlp_enc_reserve(enc, h) != 0)
        return;
    memmove(enc->buf + start + h, enc->buf + start, payload);
    rlp_put_list_header(enc->buf + start, payload);
    enc->len += h;
}

int rlp_enc_finish(rlp_enc_t *enc, const uint8_t **out, size_t *out_len) {
    if (enc->err)
        return enc->err;
    if (enc->depth != 0)
        return TXL_EINVAL;
    *out = enc->buf;
    *out_len = enc->len;
    return 0;
}

/* --- decoder ------------------------------------------------------------- */

int rlp_item_decode(const uint8_t *buf, size_t n, rlp_item_t *item, size_t *consumed) {
    if (n == 0)
        return TXL_EINVAL;
    uint8_t b = buf[0];
    size_t hdr, len;
    int is_list = b >= 0xc0;
    if (b < 0x80) {
        item->p = buf;
        item->len = 1;
        item->is_list = 0;
        *consumed = 1;
        return 0;
    }
    uint8_t base = is_list ? 0xc0 : 0x80;
    if (b - base < 56) {
        hdr = 1;
        len = (size_t)(b - base);
        /* A single byte below 0x80 must be encoded as itself. */
        if (!is_list && len == 1 && (n < 2 || buf[1] < 0x80))
            return TXL_EINVAL;
    } else {
        size_t ll = (size_t)(b - base - 55);
        if (n - 1 < ll)
            return TXL_EINVAL;
        if (buf[1] == 0) /* length with a leading zero byte */
            return TXL_EINVAL;
        if (ll > sizeof(size_t))
            return TXL_EINVAL;
        len = 0;
        for (size_t i = 0; i < ll; i++)
            len = len << 8 | buf[1 + i];
        if (len < 56) /* long form for a short length */
            return TXL_EINVAL;
        hdr = 1 + ll;
    }
    if (len > n - hdr)
        return TXL_EINVAL;
    item->p = buf + hdr;
    item->len = len;
    item->is_list = is_list;
    *consumed = hdr + len;
    return 0;
}

int rlp_decode_one(const uint8_t *buf, size_t n, rlp_item_t *item) {
    size_t used;
    int rc = rlp_item_decode(buf, n, item, &used);
    if (rc != 0)
        return rc;
    return used == n ? 0 : TXL_EINVAL;
}

void rlp_iter_init(rlp_iter_t *it, const rlp_item_t *list) {
    assert(list->is_list);
    it->p = list->p;
    it->left = list->len;
}

int rlp_iter_next(rlp_iter_t *it, rlp_item_t *item) {
    if (it->left == 0)
        return 0;
    size_t used;
    int rc = rlp_item_decode(it->p, it->left, item, &used);
    if (rc != 0)
        return rc;
    it->p += used;
    it->left -= used;
    return 1;
}

int rlp_list_items(const rlp_item_t *list, rlp_item_t *items, size_t count) {
    if (!list->is_list)
        return TXL_EINVAL;
    rlp_iter_t it;
    rlp_iter_init(&it, list);
    for (size_t i = 0; i < count; i++) {
        if (rlp_iter_next(&it, &items[i]) != 1)
            return TXL_EINVAL;
    }
    return it.left == 0 ? 0 : TXL_EINVAL;
}

/* Checks an integer item: a string without leading zero bytes. */
static int rlp_item_int_check(const rlp_item_t *item) {
    if (item->is_list)
        return TXL_EINVAL;
    if (item->len > 0 && item->p[0] == 0)
        return TXL_EINVAL;
    return 0;
}

int rlp_item_to_u64(const rlp_item_t *item, uint64_t *out) {
    int rc = rlp_item_int_check(item);
    if (rc != 0)
        return rc;
    if (item->len > 8)
        return TXL_ERANGE;
    uint64_t v = 0;
    for (size_t i = 0; i < item->len; i++)
        v = v << 8 | item->p[i];
    *out = v;
    return 0;
}

int rlp_item_to_uint256(const rlp_item_t *item, uint256_t *out) {
    int rc = rlp_item_int_check(item);
    if (rc != 0)
        return rc;
    return uint256_from_be(item->p, item->len, out);
}
