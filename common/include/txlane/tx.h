/*
 * tx.h - Ethereum transactions: EIP-1559 (type 2) and legacy EIP-155.
 *
 * A tx_t holds the fields to sign; it always has a 20-byte recipient
 * (contract creation is not supported) and, for type 2, an empty access
 * list. Signing computes the signing hash by streaming the RLP straight into
 * Keccak, signs it with libsecp256k1 (RFC 6979 nonces, low-s) and writes the
 * raw transaction into the caller's buffer: no allocation, no copy of the
 * key. Decoding is strict: only canonical RLP, known types, y_parity 0/1
 * (or v = chain_id * 2 + 35 + y_parity), low-s signatures, no trailing bytes.
 * Thread-safe (uses the shared context of secp.h).
 */
#ifndef TXLANE_TX_H
#define TXLANE_TX_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/err.h"
#include "txlane/uint256.h"

typedef enum {
    TX_TYPE_LEGACY = 0,  /* EIP-155 replay-protected legacy transaction */
    TX_TYPE_EIP1559 = 2, /* EIP-1559 dynamic-fee transaction */
} tx_type_t;

#define TX_DATA_MAX (16u << 20) /* call data limit accepted by this module */
#define TX_RAW_OVERHEAD 240     /* raw length <= data_len + TX_RAW_OVERHEAD */

typedef struct {
    tx_type_t type;
    uint64_t chain_id; /* >= 1 */
    uint64_t nonce;
    uint256_t max_priority_fee_per_gas; /* type 2 only */
    uint256_t max_fee_per_gas;          /* type 2 only */
    uint256_t gas_price;                /* legacy only */
    uint64_t gas_limit;
    eth_address_t to;
    uint256_t value;
    const uint8_t *data; /* borrowed; may be NULL when data_len is 0 */
    size_t data_len;
} tx_t;

typedef struct {
    uint8_t r[32]; /* big-endian */
    uint8_t s[32]; /* big-endian, <= n/2 */
    int y_parity;  /* 0 or 1 */
} tx_sig_t;

typedef struct {
    tx_t tx;                  /* tx.data points into the decoded raw bytes */
    tx_sig_t sig;
    uint8_t hash[32];         /* keccak256(raw): the transaction hash */
    uint8_t signing_hash[32]; /* the hash the sender signed */
} tx_decoded_t;

/* Capacity a raw buffer needs for tx. */
static inline size_t tx_raw_cap(const tx_t *tx) {
    return tx->data_len + TX_RAW_OVERHEAD;
}

/* Checks the fields: type known, chain_id >= 1 (and v fits 64 bits for
 * legacy), max_priority_fee_per_gas <= max_fee_per_gas, data_len <=
 * TX_DATA_MAX. Returns 0, TXL_EINVAL or TXL_ERANGE. */
TXL_WUR int tx_check(const tx_t *tx);

/* The hash to sign: keccak256(0x02 || rlp([chain_id, nonce, tip, fee cap,
 * gas, to, value, data, []])) or keccak256(rlp([nonce, gas_price, gas, to,
 * value, data, chain_id, 0, 0])). Returns 0 or a tx_check() error. */
TXL_WUR int tx_signing_hash(const tx_t *tx, uint8_t out[32]);

/* Writes the signed raw transaction (0x02 || rlp(...) for type 2) to
 * raw[0..cap) and its length to *raw_len. TXL_ENOSPACE if cap is short. */
TXL_WUR int tx_encode_signed(const tx_t *tx, const tx_sig_t *sig, uint8_t *raw, size_t cap,
                             size_t *raw_len);

/* Signs tx with the 32-byte secret key and writes the raw transaction
 * (capacity tx_raw_cap(tx) always suffices) and its hash keccak256(raw).
 * TXL_ECRYPTO if the key is zero or >= the curve order; tx_check() errors;
 * TXL_ENOSPACE. The key is only read; the caller wipes it. */
TXL_WUR int tx_sign(const tx_t *tx, const uint8_t seckey[32], uint8_t *raw, size_t cap,
                    size_t *raw_len, uint8_t tx_hash[32]);

/* Decodes a signed raw transaction of type 2 or legacy EIP-155. out->tx.data
 * points into raw, which must outlive out. TXL_EINVAL for anything malformed,
 * non-canonical, of another type or pre-EIP-155; TXL_ERANGE for fields wider
 * than this module holds (chain id, nonce, gas beyond 64 bits). */
TXL_WUR int tx_decode(const uint8_t *raw, size_t len, tx_decoded_t *out);

/* Recovers the sender of a decoded transaction. TXL_ECRYPTO if the signature
 * does not recover to a public key. */
TXL_WUR int tx_recover_sender(const tx_decoded_t *dec, eth_address_t *from);

#endif
