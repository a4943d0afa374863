/*
 * tx.c - signing, encoding and decoding of Ethereum transactions (see tx.h).
 *
 * An encoding is built as three parts so that the call data is never
 * copied to hash it: pre (type byte, list header, the fields before data and
 * the data header), the data bytes themselves, and post (the fields after
 * data). The list header goes in front of the fields once their length is
 * known, into room kept free at the start of pre. The signing hash feeds the
 * three parts to Keccak; the raw transaction concatenates them.
 * Decoding parses strictly and then re-encodes the fields and compares the
 * result with the input, so whatever is accepted has exactly one encoding.
 */
#include "txlane/tx.h"

#include <assert.h>
#include <secp256k1_recovery.h>
#include <string.h>

#include "txlane/keccak.h"
#include "txlane/rlp.h"
#include "txlane/secp.h"

#define TX_PRE_ROOM (1 + RLP_HEADER_MAX) /* type byte + list header */
#define TX_PRE_CAP                                                                                 \
    (TX_PRE_ROOM + 3 * RLP_U64_MAX_LEN + 3 * RLP_U256_MAX_LEN + 21 + RLP_HEADER_MAX)
#define TX_POST_CAP (1 + RLP_U64_MAX_LEN + 2 * RLP_U256_MAX_LEN)

typedef struct {
    uint8_t pre[TX_PRE_CAP];
    size_t pre_off; /* the encoding starts at pre[pre_off] */
    size_t pre_end;
    const uint8_t *data;
    size_t data_len;
    uint8_t post[TX_POST_CAP];
    size_t post_len;
} tx_parts_t;

/* Encodes a 32-byte big-endian integer minimally (leading zeros dropped). */
static size_t tx_put_be32_int(uint8_t *out, const uint8_t be[32]) {
    size_t z = 0;
    while (z < 32 && be[z] == 0)
        z++;
    return rlp_put_bytes(out, be + z, 32 - z);
}

int tx_check(const tx_t *tx) {
    assert(tx->data != NULL || tx->data_len == 0);
    if (tx->type != TX_TYPE_EIP1559 && tx->type != TX_TYPE_LEGACY)
        return TXL_EINVAL;
    if (tx->chain_id == 0)
        return TXL_EINVAL;
    if (tx->type == TX_TYPE_LEGACY && tx->chain_id > (UINT64_MAX - 36) / 2)
        return TXL_ERANGE;
    if (tx->type == TX_TYPE_EIP1559 &&
        uint256_cmp(&tx->max_priority_fee_per_gas, &tx->max_fee_per_gas) > 0)
        return TXL_EINVAL;
    if (tx->data_len > TX_DATA_MAX)
        return TXL_ERANGE;
    return 0;
}

/* Builds the signing preimage (sig == NULL) or the signed encoding of a
 * checked tx into parts. */
static void tx_parts_build(const tx_t *tx, const tx_sig_t *sig, tx_parts_t *parts) {
    uint8_t *p = parts->pre + TX_PRE_ROOM;
    size_t n = 0;
    if (tx->type == TX_TYPE_EIP1559) {
        n += rlp_put_u64(p + n, tx->chain_id);
        n += rlp_put_u64(p + n, tx->nonce);
        n += rlp_put_uint256(p + n, &tx->max_priority_fee_per_gas);
        n += rlp_put_uint256(p + n, &tx->max_fee_per_gas);
    } else {
        n += rlp_put_u64(p + n, tx->nonce);
        n += rlp_put_uint256(p + n, &tx->gas_price);
    }
    n += rlp_put_u64(p + n, tx->gas_limit);
    n += rlp_put_bytes(p + n, tx->to.b, 20);
    n += rlp_put_uint256(p + n, &tx->value);
    if (tx->data_len == 1 && tx->data[0] < 0x80) {
        p[n++] = tx->data[0]; /* a single low byte is its own encoding */
        parts->data = NULL;
        parts->data_len = 0;
    } else {
        n += rlp_put_string_header(p + n, tx->data_len);
        parts->data = tx->data;
        parts->data_len = tx->data_len;
    }
    parts->pre_end = TX_PRE_ROOM + n;

    uint8_t *q = parts->post;
    size_t m = 0;
    if (tx->type == TX_TYPE_EIP1559) {
        q[m++] = 0xc0; /* empty access list */
        if (sig != NULL)
            m += rlp_put_u64(q + m, (uint64_t)sig->y_parity);
    } else if (sig != NULL) {
        m += rlp_put_u64(q + m, tx->chain_id * 2 + 35 + (uint64_t)sig->y_parity);
    } else {
        m += rlp_put_u64(q + m, tx->chain_id);
        q[m++] = 0x80;
        q[m++] = 0x80;
    }
    if (sig != NULL) {
        m += tx_put_be32_int(q + m, sig->r);
        m += tx_put_be32_int(q + m, sig->s);
    }
    parts->post_len = m;

    uint8_t hdr[RLP_HEADER_MAX];
    size_t h = rlp_put_list_header(hdr, n + parts->data_len + m);
    parts->pre_off = TX_PRE_ROOM - h;
    memcpy(parts->pre + parts->pre_off, hdr, h);
    if (tx->type == TX_TYPE_EIP1559)
        parts->pre[--parts->pre_off] = 0x02;
}

static size_t tx_parts_len(const tx_parts_t *parts) {
    return parts->pre_end - parts->pre_off + parts->data_len + parts->post_len;
}

static void tx_parts_hash(const tx_parts_t *parts, uint8_t out[32]) {
    keccak256_ctx_t k;
    keccak256_init(&k);
    keccak256_update(&k, parts->pre + parts->pre_off, parts->pre_end - parts->pre_off);
    if (parts->data_len > 0)
        keccak256_update(&k, parts->data, parts->data_len);
    keccak256_update(&k, parts->post, parts->post_len);
    keccak256_final(&k, out);
}

static int tx_parts_copy(const tx_parts_t *parts, uint8_t *raw, size_t cap, size_t *raw_len) {
    size_t len = tx_parts_len(parts);
    if (len > cap)
        return TXL_ENOSPACE;
    size_t a = parts->pre_end - parts->pre_off;
    memcpy(raw, parts->pre + parts->pre_off, a);
    if (parts->data_len > 0)
        memcpy(raw + a, parts->data, parts->data_len);
    memcpy(raw + a + parts->data_len, parts->post, parts->post_len);
    *raw_len = len;
    return 0;
}

/* 1 if raw[0..len) is exactly the encoding in parts, else 0. */
static int tx_parts_equal(const tx_parts_t *parts, const uint8_t *raw, size_t len) {
    size_t a = parts->pre_end - parts->pre_off;
    if (len != tx_parts_len(parts))
        return 0;
    return memcmp(raw, parts->pre + parts->pre_off, a) == 0 &&
           (parts->data_len == 0 || memcmp(raw + a, parts->data, parts->data_len) == 0) &&
           memcmp(raw + a + parts->data_len, parts->post, parts->post_len) == 0;
}

int tx_signing_hash(const tx_t *tx, uint8_t out[32]) {
    int rc = tx_check(tx);
    if (rc != 0)
        return rc;
    tx_parts_t parts;
    tx_parts_build(tx, NULL, &parts);
    tx_parts_hash(&parts, out);
    return 0;
}

int tx_encode_signed(const tx_t *tx, const tx_sig_t *sig, uint8_t *raw, size_t cap,
                     size_t *raw_len) {
    int rc = tx_check(tx);
    if (rc != 0)
        return rc;
    if (sig->y_parity != 0 && sig->y_parity != 1)
        return TXL_EINVAL;
    tx_parts_t parts;
    tx_parts_build(tx, sig, &parts);
    return tx_parts_copy(&parts, raw, cap, raw_len);
}

int tx_sign(const tx_t *tx, const uint8_t seckey[32], uint8_t *raw, size_t cap, size_t *raw_len,
            uint8_t tx_hash[32]) {
    const secp256k1_context *ctx = secp_context();
    int rc = tx_check(tx);
    if (rc != 0)
        return rc;
    if (!secp256k1_ec_seckey_verify(ctx, seckey))
        return TXL_ECRYPTO;

    tx_parts_t parts;
    uint8_t digest[32];
    tx_parts_build(tx, NULL, &parts);
    tx_parts_hash(&parts, digest);

    secp256k1_ecdsa_recoverable_signature rsig;
    if (!secp256k1_ecdsa_sign_recoverable(ctx, &rsig, digest, seckey, NULL, NULL))
        return TXL_ECRYPTO;
    uint8_t rs[64];
    tx_sig_t sig;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, &sig.y_parity, &rsig);
    if (sig.y_parity > 1) /* r overflowed the order: probability ~2^-127 */
        return TXL_ECRYPTO;
    memcpy(sig.r, rs, 32);
    memcpy(sig.s, rs + 32, 32);

    tx_parts_build(tx, &sig, &parts);
    rc = tx_parts_copy(&parts, raw, cap, raw_len);
    if (rc != 0)
        return rc;
    keccak256(raw, *raw_len, tx_hash);
    return 0;
}

/* --- decoding ------------------------------------------------------------ */

static int tx_item_bytes(const rlp_item_t *item, size_t want_len) {
    return !item->is_list && item->len == want_len;
}

/* Reads r and s and checks them: 0 < r < n, 0 < s <= n/2. */
static int tx_decode_sig(const rlp_item_t *ir, const rlp_item_t *is, int y_parity,
                         tx_sig_t *sig) {
    uint256_t r, s;
    if (rlp_item_to_uint256(ir, &r) != 0 || rlp_item_to_uint256(is, &s) != 0)
        return TXL_EINVAL;
    if (uint256_is_zero(&r) || uint256_is_zero(&s))
        return TXL_EINVAL;
    uint256_to_be32(&r, sig->r);
    uint256_to_be32(&s, sig->s);
    sig->y_parity = y_parity;

    const secp256k1_context *ctx = secp_context();
    uint8_t rs[64];
    memcpy(rs, sig->r, 32);
    memcpy(rs + 32, sig->s, 32);
    secp256k1_ecdsa_signature plain;
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, &plain, rs)) /* r or s >= n */
        return TXL_EINVAL;
    if (secp256k1_ecdsa_signature_normalize(ctx, NULL, &plain)) /* high s */
        return TXL_EINVAL;
    return 0;
}

/* Decodes the fields shared by both types, from items[0] = gas_limit on. */
static int tx_decode_common(const rlp_item_t *items, tx_t *tx) {
    int rc = rlp_item_to_u64(&items[0], &tx->gas_limit);
    if (rc != 0)
        return rc;
    if (!tx_item_bytes(&items[1], 20)) /* empty = contract creation: unsupported */
        return TXL_EINVAL;
    memcpy(tx->to.b, items[1].p, 20);
    rc = rlp_item_to_uint256(&items[2], &tx->value);
    if (rc != 0)
        return rc;
    if (items[3].is_list)
        return TXL_EINVAL;
    tx->data = items[3].len > 0 ? items[3].p : NULL;
    tx->data_len = items[3].len;
    return tx->data_len > TX_DATA_MAX ? TXL_ERANGE : 0;
}

static int tx_decode_1559(const rlp_item_t *list, tx_decoded_t *out) {
    rlp_item_t it[12];
    tx_t *tx = &out->tx;
    uint64_t y;
    int rc;
    if (rlp_list_items(list, it, 12) != 0)
        return TXL_EINVAL;
    tx->type = TX_TYPE_EIP1559;
    if ((rc = rlp_item_to_u64(&it[0], &tx->chain_id)) != 0 ||
        (rc = rlp_item_to_u64(&it[1], &tx->nonce)) != 0 ||
        (rc = rlp_item_to_uint256(&it[2], &tx->max_priority_fee_per_gas)) != 0 ||
        (rc = rlp_item_to_uint256(&it[3], &tx->max_fee_per_gas)) != 0 ||
        (rc = tx_decode_common(&it[4], tx)) != 0)
        return rc;
    if (!it[8].is_list || it[8].len != 0) /* access lists are not supported */
        return TXL_EINVAL;
    if (rlp_item_to_u64(&it[9], &y) != 0 || y > 1)
        return TXL_EINVAL;
    return tx_decode_sig(&it[10], &it[11], (int)y, &out->sig);
}

static int tx_decode_legacy(const rlp_item_t *list, tx_decoded_t *out) {
    rlp_item_t it[9];
    tx_t *tx = &out->tx;
    uint64_t v;
    int rc;
    if (rlp_list_items(list, it, 9) != 0)
        return TXL_EINVAL;
    tx->type = TX_TYPE_LEGACY;
    if ((rc = rlp_item_to_u64(&it[0], &tx->nonce)) != 0 ||
        (rc = rlp_item_to_uint256(&it[1], &tx->gas_price)) != 0 ||
        (rc = tx_decode_common(&it[2], tx)) != 0)
        return rc;
    if ((rc = rlp_item_to_u64(&it[6], &v)) != 0)
        return rc;
    if (v < 37) /* 27/28 are pre-EIP-155; 35/36 would mean chain id 0 */
        return TXL_EINVAL;
    tx->chain_id = (v - 35) / 2;
    return tx_decode_sig(&it[7], &it[8], (int)((v - 35) % 2), &out->sig);
}

int tx_decode(const uint8_t *raw, size_t len, tx_decoded_t *out) {
    rlp_item_t list;
    int rc;
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return TXL_EINVAL;
    if (raw[0] == 0x02) {
        if (rlp_decode_one(raw + 1, len - 1, &list) != 0 || !list.is_list)
            return TXL_EINVAL;
        rc = tx_decode_1559(&list, out);
    } else if (raw[0] >= 0xc0) {
        if (rlp_decode_one(raw, len, &list) != 0)
            return TXL_EINVAL;
        rc = tx_decode_legacy(&list, out);
    } else {
        return TXL_EINVAL; /* unknown transaction type */
    }
    if (rc == 0)
        rc = tx_check(&out->tx);
    if (rc != 0)
        return rc;

    tx_parts_t parts;
    tx_parts_build(&out->tx, &out->sig, &parts);
    if (!tx_parts_equal(&parts, raw, len))
        return TXL_EINVAL;
    tx_parts_build(&out->tx, NULL, &parts);
    tx_parts_hash(&parts, out->signing_hash);
    keccak256(raw, len, out->hash);
    return 0;
}

int tx_recover_sender(const tx_decoded_t *dec, eth_address_t *from) {
    const secp256k1_context *ctx = secp_context();
    uint8_t rs[64];
    memcpy(rs, dec->sig.r, 32);
    memcpy(rs + 32, dec->sig.s, 32);
    secp256k1_ecdsa_recoverable_signature rsig;
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, rs, dec->sig.y_parity) ||
        !secp256k1_ecdsa_recover(ctx, &pk, &rsig, dec->signing_hash))
        return TXL_ECRYPTO;
    return address_from_pubkey(&pk, from);
}
