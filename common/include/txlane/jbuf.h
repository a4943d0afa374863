/*
 * jbuf.h - a small JSON writer into a growable buffer, for the messages the
 * programs produce (msg.h) and the CLI's output.
 *
 *   jbuf_t j; jbuf_init(&j);
 *   jbuf_obj_begin(&j);
 *   jbuf_key_str(&j, "request_id", id);
 *   jbuf_key_u64(&j, "nonce", 7);
 *   jbuf_obj_end(&j);            // j.buf is "{...}", NUL-terminated, j.len bytes
 *   jbuf_free(&j);
 *
 * Strings are escaped per RFC 8259 (control characters as \u00XX); the
 * caller passes valid UTF-8. Commas between members are inserted for the
 * caller. Nesting depth is bounded by JBUF_DEPTH (asserted). Allocation
 * aborts on out-of-memory (xmalloc). A jbuf belongs to one thread.
 */
#ifndef TXLANE_JBUF_H
#define TXLANE_JBUF_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/uint256.h"

#define JBUF_DEPTH 8

typedef struct {
    char *buf; /* NUL-terminated text, owned */
    size_t len, cap;
    int depth;
    unsigned char first[JBUF_DEPTH]; /* 1 while the open container is empty */
} jbuf_t;

void jbuf_init(jbuf_t *j);
/* Empties the buffer, keeps its allocation. */
void jbuf_reset(jbuf_t *j);
/* Frees the buffer; accepts a zeroed or freed jbuf. */
void jbuf_free(jbuf_t *j);

void jbuf_obj_begin(jbuf_t *j);
void jbuf_obj_end(jbuf_t *j);
void jbuf_arr_begin(jbuf_t *j);
void jbuf_arr_end(jbuf_t *j);
/* Starts a member of the open object: writes "key": (then write one value). */
void jbuf_key(jbuf_t *j, const char *key);

/* Values (as array elements, or after jbuf_key). */
void jbuf_str(jbuf_t *j, const char *s);
void jbuf_strn(jbuf_t *j, const char *s, size_t n);
void jbuf_u64(jbuf_t *j, uint64_t v);
void jbuf_i64(jbuf_t *j, int64_t v);
void jbuf_bool(jbuf_t *j, int v);
void jbuf_null(jbuf_t *j);
/* Already-encoded JSON text, copied as it is (e.g. a metadata object). */
void jbuf_raw(jbuf_t *j, const char *json, size_t n);
/* "0x" + lower-case hex of n bytes. */
void jbuf_hex(jbuf_t *j, const uint8_t *bytes, size_t n);
/* Decimal string of a uint256 ("1000"), the form of every amount. */
void jbuf_u256(jbuf_t *j, const uint256_t *v);
/* EIP-55 checksummed address string. */
void jbuf_addr(jbuf_t *j, const eth_address_t *a);

/* Members: jbuf_key + value. */
void jbuf_key_str(jbuf_t *j, const char *key, const char *s);
void jbuf_key_u64(jbuf_t *j, const char *key, uint64_t v);
void jbuf_key_i64(jbuf_t *j, const char *key, int64_t v);
void jbuf_key_u256(jbuf_t *j, const char *key, const uint256_t *v);
void jbuf_key_addr(jbuf_t *j, const char *key, const eth_address_t *a);
void jbuf_key_hex(jbuf_t *j, const char *key, const uint8_t *bytes, size_t n);

#endif
