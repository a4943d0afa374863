/*
 * chain.h - blocks, receipts and transactions as an EVM node returns them
 * over JSON-RPC, parsed strictly from rpc.h's yajl trees into plain structs.
 *
 * A block is read one of two ways:
 *   - header + block receipts: eth_getBlockByNumber(n, false) (transaction
 *     hashes only) with chain_header_parse, then eth_getBlockReceipts(n)
 *     with chain_block_receipts_parse. Cheap for the node (no transaction
 *     objects to build); a receipt names its sender but carries no nonce,
 *     value or input, which eth_getTransactionByHash (chain_tx_parse) gives
 *     for the few transactions that need them;
 *   - full transactions: eth_getBlockByNumber(n, true) with
 *     chain_block_parse, and eth_getTransactionReceipt per transaction
 *     (chain_receipt_parse), for nodes without eth_getBlockReceipts
 *     (chain_method_unsupported tells such an answer).
 * Either way only what is needed is parsed fully: the sender of every
 * transaction (or receipt) is read, and a caller's filter decides which ones
 * are kept with their full fields. On a busy chain only a few transactions
 * concern txlane's lanes, so the others cost little more than an address
 * parse each. A block's receipts are checked for completeness all the same:
 * one per transaction of the header, every index once, all of that block.
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
    uint8_t tx_hash[CHAIN_HASH_LEN];
    uint8_t block_hash[CHAIN_HASH_LEN];
    uint64_t block_number;
    uint32_t index; /* transactionIndex: position in the block */
    eth_address_t from;
    int has_to; /* 0 for a contract creation */
    eth_address_t to;
    uint64_t gas_used;
    int status; /* 1 success, 0 reverted */
} chain_receipt_t;

typedef struct {
    uint64_t number;
    uint8_t hash[CHAIN_HASH_LEN];
    uint8_t parent_hash[CHAIN_HASH_LEN];
    uint64_t timestamp;
    size_t tx_count; /* every transaction of the block */
    chain_tx_t *txs; /* chain_block_parse: the ones the filter kept, in block order; owned */
    size_t n_txs;
    /* chain_block_receipts_parse: the receipts the filter kept, in block order; owned */
    chain_receipt_t *receipts;
    size_t n_receipts;
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
/*
 * Parses an eth_getBlockByNumber(..., false) result into b (zeroed first):
 * number, hash, parentHash, timestamp, and tx_count from the transaction
 * hashes (each must be one; b->txs stays NULL). Returns 0, or TXL_EINVAL
 * with errstr naming the field (also when the node sent transaction objects
 * instead of hashes). Free with chain_block_clear in every case.
 */
int chain_header_parse(yajl_val v, chain_block_t *b, char *errstr, size_t errstr_size) TXL_WUR;

/*
 * Parses an eth_getBlockReceipts result for b, a header from
 * chain_header_parse, into b->receipts (owned by b). The array must be the
 * block's complete list: b->tx_count receipts, each with blockHash and
 * blockNumber of b, every transactionIndex 0..tx_count-1 exactly once.
 * Every receipt's sender, index and block are read; keep (NULL: keep all)
 * decides which are parsed fully and kept, in transactionIndex order.
 * Returns 0, or TXL_EINVAL with errstr naming the field, the receipt or
 * what is incomplete (then b->receipts is empty). A null result (receipts
 * not there) is the caller's to handle.
 */
int chain_block_receipts_parse(yajl_val v, chain_tx_filter_fn keep, void *ctx, chain_block_t *b,
                               char *errstr, size_t errstr_size) TXL_WUR;

/* Frees what b owns and zeroes it; accepts a zeroed or cleared block. */
void chain_block_clear(chain_block_t *b);

/* Parses an eth_getTransactionReceipt result (an object; the caller handles
 * null, "not mined yet"). A receipt without "status" (pre-Byzantium) is
 * TXL_EINVAL; "to" may be null or absent (a contract creation). Returns 0 or
 * TXL_EINVAL with errstr naming the field. */
int chain_receipt_parse(yajl_val v, chain_receipt_t *r, char *errstr,
                        size_t errstr_size) TXL_WUR;

/*
 * Parses an eth_getTransactionByHash result (an object; the caller handles
 * null, "unknown") into tx (zeroed first; tx->input is owned by tx: free
 * with chain_tx_clear in every case) and where it was mined: block_hash,
 * block_number and tx->index. Returns 0; TXL_ENOTFOUND for a transaction
 * in no block yet (blockHash null: pending); TXL_EINVAL with errstr naming
 * the field.
 */
int chain_tx_parse(yajl_val v, chain_tx_t *tx, uint8_t block_hash[CHAIN_HASH_LEN],
                   uint64_t *block_number, char *errstr, size_t errstr_size) TXL_WUR;
/* Frees what tx owns (its input) and zeroes it. */
void chain_tx_clear(chain_tx_t *tx);

/*
 * 1 when a JSON-RPC error answer says that the node does not implement the
 * method called: code -32601 ("method not found"), or a message such as
 * geth's "the method eth_getBlockReceipts does not exist/is not available",
 * "method not found", "method ... not supported" / "unsupported method"
 * (case-insensitive). 0 for any other error (message may be NULL).
 */
int chain_method_unsupported(long long code, const char *message);

/* "0x" + 64 lower-case hex digits and a NUL. */
void chain_hash_format(const uint8_t hash[CHAIN_HASH_LEN], char out[CHAIN_HASH_STR_LEN + 1]);
/* Parses "0x" + exactly 64 hex digits (either case). 0 or TXL_EINVAL. */
int chain_hash_parse(const char *s, uint8_t out[CHAIN_HASH_LEN]) TXL_WUR;

/* Writes the params of eth_getBlockByNumber for block number, with full
 * transactions (["0x1f",true]) or hashes only (["0x1f",false]). */
void chain_block_params(uint64_t number, int full_txs, char out[40]);
/* Writes the params of eth_getBlockReceipts for block number: ["0x1f"]. */
void chain_block_receipts_params(uint64_t number, char out[40]);

#endif
