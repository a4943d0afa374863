/*
 * keccak.h - Ethereum Keccak-256.
 *
 * This is the original Keccak submission with padding byte 0x01, as used by
 * Ethereum for hashes and addresses; it differs from FIPS-202 SHA3-256 (0x06).
 * One-shot keccak256() and an incremental context. No allocation; a context
 * belongs to one thread at a time.
 */
#ifndef TXLANE_KECCAK_H
#define TXLANE_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define KECCAK256_RATE 136 /* bytes absorbed per permutation */

typedef struct {
    uint64_t st[25];
    size_t pos; /* bytes absorbed into the current block, < KECCAK256_RATE */
} keccak256_ctx_t;

/* Hashes len bytes at data (data may be NULL when len is 0) into out. */
void keccak256(const uint8_t *data, size_t len, uint8_t out[32]);

void keccak256_init(keccak256_ctx_t *ctx);
void keccak256_update(keccak256_ctx_t *ctx, const uint8_t *data, size_t len);
/* Writes the digest to out and wipes the context; init again to reuse it. */
void keccak256_final(keccak256_ctx_t *ctx, uint8_t out[32]);

#endif
