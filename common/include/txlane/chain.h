/*
 * chain.h - blocks and receipts as an EVM node returns them over JSON-RPC
 * (eth_getBlockByNumber with full transactions, eth_getTransactionReceipt),
 * parsed strictly from rpc.h's yajl trees into plain structs.
 *
 * A block's transactions are parsed only as far as needed: the sender of
 * every transaction is read, and a caller's filter decides which ones are
 * kept with their full fields (hash, nonce, to, value, input). On a busy
 * chain only a few transactions concern txlane's lanes, so the others cost
 * one address parse each.
 *
 * Parsing never trusts the node: a missing or malformed field is an error
 * whose errstr names it. Plain values; a chain_block_t belongs to one thread.
 */
#ifndef TXLANE_CHAIN_H
#define TXLANE_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "txlane/address.h"
#include "txlane/err.h"
#include "txlane/uint256.h"

#define CHAIN_HASH_LEN 32
#define CHAIN_HASH_STR_LEN 66 /* "0x" + 64 hex, without the NUL */

typedef struct {
    uint8_t hash[CHAIN_HASH_LEN];
    eth_address_t from;
    uint64_t nonce;
    int has_to; /* 0 for a contract creation */
    eth_address_t to;
    uint256_t value;
    uint8_t *input; /* owned by the block; NULL when empty */
    size_t input_len;
    uint32_t index; /* position in the block */
} chain_tx_t;

typedef struct {
    uint64_t number;
    uint8_t hash[CHAIN_HASH_LEN];
    uint8_t parent_hash[CHAIN_HASH_LEN];
    uint64_t timestamp;
    size_t tx_count; /* every transaction of the block */
    chain_tx_t *txs; /* the ones the filter kept, in block order; owned */
    size_t n_txs;
} chain_block_t;

/* Returns 1 to keep the transaction sent by from, 0 to skip it. */
typedef int (*chain_tx_filter_fn)(const eth_address_t *from, void *ctx);

/*
 * Parses an eth_getBlockByNumber(..., true) result into b (zeroed first).
 * keep may be NULL (keep every transaction). Returns 0; TXL_EINVAL with
 * errstr naming the field for a malformed block (also when the node sent
 * transaction hashes instead of objects). Free with chain_block_clear in
 * every case.
 */
int chain_block_parse(yajl_val v, chain_tx_filter_fn keep, void *ctx, chain_block_t *b,
                      char *errstr, size_t errstr_size) TXL_WUR;
/* Frees what b owns and zeroes it; accepts a zeroed or cleared block. */
void chain_block_clear(chain_block_t *b);

typedef struct {
    uint8_t tx_hash[CHAIN_HASH_LEN];
    uint8_t block_hash[CHAIN_HASH_LEN];
    uint64_t block_number;
    uint64_t gas_used;
    int status; /* 1 success, 0 reverted */
} chain_receipt_t;

/* Parses an eth_getTransactionReceipt result (an object; the caller handles
 * null, "not mined yet"). A receipt without "status" (pre-Byzantium) is
 * TXL_EINVAL. Returns 0 or TXL_EINVAL with errstr naming the field. */
int chain_receipt_parse(yajl_val v, chain_receipt_t *r, char *errstr,
                        size_t errstr_size) TXL_WUR;

/* "0x" + 64 lower-case hex digits and a NUL. */
void chain_hash_format(const uint8_t hash[CHAIN_HASH_LEN], char out[CHAIN_HASH_STR_LEN + 1]);
/* Parses "0x" + exactly 64 hex digits (either case). 0 or TXL_EINVAL. */
int chain_hash_parse(const char *s, uint8_t out[CHAIN_HASH_LEN]) TXL_WUR;

/* Writes the params of eth_getBlockByNumber for block number with full
 * transactions: ["0x1f",true]. out has room for 40 bytes. */
void chain_block_params(uint64_t number, char out[40]);

#endif
