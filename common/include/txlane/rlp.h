/*
 * rlp.h - Recursive Length Prefix encoding (Ethereum yellow paper, app. B).
 *
 * Three layers:
 *  - rlp_put_*: write one item header or scalar into memory the caller has
 *    sized with the matching rlp_*_len(); no checks, no allocation. This is
 *    the two-pass path for hot code that knows its payload length up front.
 *  - rlp_enc_t: an encoder over a growable (owned, xrealloc) or fixed
 *    (caller's) buffer with nested lists whose headers are back-patched at
 *    rlp_enc_list_end(). Errors are sticky and reported by rlp_enc_finish().
 *  - rlp_item_decode()/rlp_iter_*: a strict decoder that only ever returns
 *    items lying inside the input and rejects every non-canonical form:
 *    a single byte < 0x80 wrapped as 0x81xx, the long form for lengths < 56,
 *    length-of-length with leading zero bytes, and (in the integer
 *    accessors) integers with leading zero bytes. Items point into the input.
 *
 * No globals; an encoder or iterator belongs to one thread at a time.
 */
#ifndef TXLANE_RLP_H
#define TXLANE_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/err.h"
#include "txlane/uint256.h"

#define RLP_MAX_DEPTH 16   /* list nesting supported by rlp_enc_t */
#define RLP_HEADER_MAX 9   /* longest item header: 0xb7/0xf7 + 8 length bytes */
#define RLP_U64_MAX_LEN 9  /* longest encoding of a uint64 */
#define RLP_U256_MAX_LEN 33 /* longest encoding of a uint256 */

/* --- lengths and unchecked writers --------------------------------------- */

/* Bytes of a string or list header for a payload of payload_len bytes: 1 below
 * 56, else 1 + the length of the length. (A single byte < 0x80 is its own
 * encoding without header: rlp_bytes_len() counts whole items.) */
size_t rlp_header_len(size_t payload_len);
/* Total encoded length of a byte string / integer. */
size_t rlp_bytes_len(const uint8_t *p, size_t n);
size_t rlp_u64_len(uint64_t v);
size_t rlp_uint256_len(const uint256_t *v);

/* Each writes at out and returns the number of bytes written. */
size_t rlp_put_string_header(uint8_t *out, size_t payload_len);
size_t rlp_put_list_header(uint8_t *out, size_t payload_len);
size_t rlp_put_bytes(uint8_t *out, const uint8_t *p, size_t n);
size_t rlp_put_u64(uint8_t *out, uint64_t v);
size_t rlp_put_uint256(uint8_t *out, const uint256_t *v);

/* --- encoder ------------------------------------------------------------- */

typedef struct {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int owned;  /* 1: buf is ours (xrealloc), freed by rlp_enc_free */
    int err;    /* sticky: first error seen */
    size_t depth;
    size_t list_start[RLP_MAX_DEPTH]; /* offset of each open list's payload */
} rlp_enc_t;

/* A growable encoder; release with rlp_enc_free(). */
void rlp_enc_init(rlp_enc_t *enc);
/* An encoder writing into buf[0..cap); running out sets TXL_ENOSPACE. */
void rlp_enc_init_fixed(rlp_enc_t *enc, uint8_t *buf, size_t cap);
/* Frees an owned buffer; accepts a fixed encoder (no-op) and NULL. */
void rlp_enc_free(rlp_enc_t *enc);

void rlp_enc_bytes(rlp_enc_t *enc, const uint8_t *p, size_t n);
void rlp_enc_u64(rlp_enc_t *enc, uint64_t v);
void rlp_enc_uint256(rlp_enc_t *enc, const uint256_t *v);
/* Appends an already-encoded item (or items) verbatim. */
void rlp_enc_raw(rlp_enc_t *enc, const uint8_t *p, size_t n);
void rlp_enc_list_begin(rlp_enc_t *enc);
void rlp_enc_list_end(rlp_enc_t *enc);

/* Returns the first error (TXL_ENOSPACE, or TXL_EINVAL for unbalanced or
 * too deep lists) or 0 with the encoding in *out / *out_len. The bytes stay
 * owned by the encoder (or are the caller's fixed buffer). */
TXL_WUR int rlp_enc_finish(rlp_enc_t *enc, const uint8_t **out, size_t *out_len);

/* --- decoder ------------------------------------------------------------- */

typedef struct {
    const uint8_t *p; /* payload (inside the decoded buffer) */
    size_t len;       /* payload length */
    int is_list;
} rlp_item_t;

/* Decodes the item at the start of buf[0..n); *consumed = its total length.
 * TXL_EINVAL on non-canonical or truncated input (n == 0 included). */
TXL_WUR int rlp_item_decode(const uint8_t *buf, size_t n, rlp_item_t *item, size_t *consumed);
/* buf must hold exactly one item: trailing bytes are TXL_EINVAL. */
TXL_WUR int rlp_decode_one(const uint8_t *buf, size_t n, rlp_item_t *item);

typedef struct {
    const uint8_t *p;
    size_t left;
} rlp_iter_t;

/* Iterates over the items inside a list item (asserts item->is_list). */
void rlp_iter_init(rlp_iter_t *it, const rlp_item_t *list);
/* 1 and the next item, 0 at the end, TXL_EINVAL on malformed input. */
TXL_WUR int rlp_iter_next(rlp_iter_t *it, rlp_item_t *item);
/* Reads exactly count items of the list into items[]; TXL_EINVAL if the
 * list holds fewer or more, or is malformed. */
TXL_WUR int rlp_list_items(const rlp_item_t *list, rlp_item_t *items, size_t count);

/* Integer accessors: a string item of minimal big-endian bytes (empty = 0,
 * no leading zero byte). TXL_EINVAL for lists or leading zeros, TXL_ERANGE
 * if too large for the type. */
TXL_WUR int rlp_item_to_u64(const rlp_item_t *item, uint64_t *out);
TXL_WUR int rlp_item_to_uint256(const rlp_item_t *item, uint256_t *out);

#endif
