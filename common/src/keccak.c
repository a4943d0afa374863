/*
 * keccak.c - Keccak-256 as used by Ethereum (see keccak.h).
 *
 * The state is 25 little-endian 64-bit lanes, lane (x, y) at index x + 5y.
 * keccak_f1600() keeps the lanes in locals and spells out theta, rho+pi,
 * chi and iota for all 25 lanes, so every index and rotation amount is a
 * constant; 24 rounds run in a loop over that unrolled body. Whole blocks
 * are absorbed straight from the input with 64-bit little-endian loads;
 * only a partial block goes through byte-wise XOR into the lanes.
 * A context is plain data: no allocation, one thread at a time.
 */
#include "txlane/keccak.h"

#include <string.h>

#include "txlane/secure.h"

#define ROL64(v, n) (((v) << (n)) | ((v) >> ((64 - (n)) & 63)))

static const uint64_t keccak_rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

static inline uint64_t keccak_load64(const uint8_t *p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
#endif
}

static inline void keccak_store64(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

/* chi on one row: out[x] = b[x] ^ (~b[x+1] & b[x+2]). */
#define KECCAK_CHI(o0, o1, o2, o3, o4, b0, b1, b2, b3, b4)                                        \
    do {                                                                                           \
        o0 = b0 ^ (~b1 & b2);                                                                      \
        o1 = b1 ^ (~b2 & b3);                                                                      \
        o2 = b2 ^ (~b3 & b4);                                                                      \
        o3 = b3 ^ (~b4 & b0);                                                                      \
        o4 = b4 ^ (~b0 & b1);                                                                      \
    } while (0)

static void keccak_f1600(uint64_t st[25]) {
    uint64_t a0 = st[0], a1 = st[1], a2 = st[2], a3 = st[3], a4 = st[4];
    uint64_t a5 = st[5], a6 = st[6], a7 = st[7], a8 = st[8], a9 = st[9];
    uint64_t a10 = st[10], a11 = st[11], a12 = st[12], a13 = st[13], a14 = st[14];
    uint64_t a15 = st[15], a16 = st[16], a17 = st[17], a18 = st[18], a19 = st[19];
    uint64_t a20 = st[20], a21 = st[21], a22 = st[22], a23 = st[23], a24 = st[24];

    for (int round = 0; round < 24; round++) {
        /* theta */
        uint64_t c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
        uint64_t c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
        uint64_t c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
        uint64_t c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
        uint64_t c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
        uint64_t d0 = c4 ^ ROL64(c1, 1);
        uint64_t d1 = c0 ^ ROL64(c2, 1);
        uint64_t d2 = c1 ^ ROL64(c3, 1);
        uint64_t d3 = c2 ^ ROL64(c4, 1);
        uint64_t d4 = c3 ^ ROL64(c0, 1);

        /* rho and pi: lane (x, y) moves to (y, 2x + 3y) rotated by its offset;
         * bN is the lane landing at index N. */
        uint64_t b0 = a0 ^ d0;
        uint64_t b10 = ROL64(a1 ^ d1, 1);
        uint64_t b20 = ROL64(a2 ^ d2, 62);
        uint64_t b5 = ROL64(a3 ^ d3, 28);
        uint64_t b15 = ROL64(a4 ^ d4, 27);
        uint64_t b16 = ROL64(a5 ^ d0, 36);
        uint64_t b1 = ROL64(a6 ^ d1, 44);
        uint64_t b11 = ROL64(a7 ^ d2, 6);
        uint64_t b21 = ROL64(a8 ^ d3, 55);
        uint64_t b6 = ROL64(a9 ^ d4, 20);
        uint64_t b7 = ROL64(a10 ^ d0, 3);
        uint64_t b17 = ROL64(a11 ^ d1, 10);
        uint64_t b2 = ROL64(a12 ^ d2, 43);
        uint64_t b12 = ROL64(a13 ^ d3, 25);
        uint64_t b22 = ROL64(a14 ^ d4, 39);
        uint64_t b23 = ROL64(a15 ^ d0, 41);
        uint64_t b8 = ROL64(a16 ^ d1, 45);
        uint64_t b18 = ROL64(a17 ^ d2, 15);
        uint64_t b3 = ROL64(a18 ^ d3, 21);
        uint64_t b13 = ROL64(a19 ^ d4, 8);
        uint64_t b14 = ROL64(a20 ^ d0, 18);
        uint64_t b24 = ROL64(a21 ^ d1, 2);
        uint64_t b9 = ROL64(a22 ^ d2, 61);
        uint64_t b19 = ROL64(a23 ^ d3, 56);
        uint64_t b4 = ROL64(a24 ^ d4, 14);

        /* chi, row by row, then iota */
        KECCAK_CHI(a0, a1, a2, a3, a4, b0, b1, b2, b3, b4);
        KECCAK_CHI(a5, a6, a7, a8, a9, b5, b6, b7, b8, b9);
        KECCAK_CHI(a10, a11, a12, a13, a14, b10, b11, b12, b13, b14);
        KECCAK_CHI(a15, a16, a17, a18, a19, b15, b16, b17, b18, b19);
        KECCAK_CHI(a20, a21, a22, a23, a24, b20, b21, b22, b23, b24);
        a0 ^= keccak_rc[round];
    }

    st[0] = a0, st[1] = a1, st[2] = a2, st[3] = a3, st[4] = a4;
    st[5] = a5, st[6] = a6, st[7] = a7, st[8] = a8, st[9] = a9;
    st[10] = a10, st[11] = a11, st[12] = a12, st[13] = a13, st[14] = a14;
    st[15] = a15, st[16] = a16, st[17] = a17, st[18] = a18, st[19] = a19;
    st[20] = a20, st[21] = a21, st[22] = a22, st[23] = a23, st[24] = a24;
}

/* XORs one full block (KECCAK256_RATE bytes = 17 lanes) into the state. */
static inline void keccak_absorb_block(uint64_t st[25], const uint8_t *p) {
    for (int i = 0; i < KECCAK256_RATE / 8; i++)
        st[i] ^= keccak_load64(p + 8 * i);
    keccak_f1600(st);
}

static inline void keccak_xor_byte(uint64_t st[25], size_t pos, uint8_t byte) {
    st[pos / 8] ^= (uint64_t)byte << (8 * (pos % 8));
}

void keccak256_init(keccak256_ctx_t *ctx) {
    memset(ctx, 0, sizeof(*ctx));
}

void keccak256_update(keccak256_ctx_t *ctx, const uint8_t *data, size_t len) {
    if (ctx->pos > 0) {
        while (len > 0 && ctx->pos < KECCAK256_RATE) {
            keccak_xor_byte(ctx->st, ctx->pos++, *data++);
            len--;
        }
        if (ctx->pos < KECCAK256_RATE)
            return;
        keccak_f1600(ctx->st);
        ctx->pos = 0;
    }
    while (len >= KECCAK256_RATE) {
        keccak_absorb_block(ctx->st, data);
        data += KECCAK256_RATE;
        len -= KECCAK256_RATE;
    }
    while (len > 0) {
        keccak_xor_byte(ctx->st, ctx->pos++, *data++);
        len--;
    }
}

void keccak256_final(keccak256_ctx_t *ctx, uint8_t out[32]) {
    keccak_xor_byte(ctx->st, ctx->pos, 0x01);
    keccak_xor_byte(ctx->st, KECCAK256_RATE - 1, 0x80);
    keccak_f1600(ctx->st);
    for (int i = 0; i < 4; i++)
        keccak_store64(out + 8 * i, ctx->st[i]);
    secure_wipe(ctx, sizeof(*ctx));
}

void keccak256(const uint8_t *data, size_t len, uint8_t out[32]) {
    keccak256_ctx_t ctx;
    keccak256_init(&ctx);
    if (len > 0)
        keccak256_update(&ctx, data, len);
    keccak256_final(&ctx, out);
}
