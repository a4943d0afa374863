/*
 * chain.c - strict parsing of JSON-RPC blocks and receipts (see chain.h).
 *
 * Quantities are "0x" hex without leading zeros in the spec; nodes are not
 * always that strict, so leading zeros are accepted, anything else is not.
 * Data fields ("input", hashes) are "0x" + an even number of hex digits.
 */
#include "txlane/chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/hex.h"
#include "txlane/xmalloc.h"

static int chain_fail(char *errstr, size_t errstr_size, const char *what, const char *field) {
    snprintf(errstr, errstr_size, "%s: field '%s' missing or malformed", what, field);
    return TXL_EINVAL;
}

static yajl_val chain_member(yajl_val obj, const char *key) {
    const char *path[] = {key, NULL};
    return yajl_tree_get(obj, path, yajl_t_any);
}

static const char *chain_member_str(yajl_val obj, const char *key) {
    yajl_val v = chain_member(obj, key);
    return v != NULL && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

/* A "0x" quantity that fits 64 bits. */
static int chain_quantity_u64(const char *s, uint64_t *out) {
    uint256_t v;
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return TXL_EINVAL;
    if (uint256_parse_hex(s, &v) != 0 || uint256_to_u64(&v, out) != 0)
        return TXL_EINVAL;
    return 0;
}

static int chain_member_u64(yajl_val obj, const char *key, uint64_t *out) {
    return chain_quantity_u64(chain_member_str(obj, key), out);
}

static int chain_member_hash(yajl_val obj, const char *key, uint8_t out[CHAIN_HASH_LEN]) {
    const char *s = chain_member_str(obj, key);
    return s != NULL ? chain_hash_parse(s, out) : TXL_EINVAL;
}

static int chain_member_address(yajl_val obj, const char *key, eth_address_t *out) {
    const char *s = chain_member_str(obj, key);
    return s != NULL ? address_parse(s, out) : TXL_EINVAL;
}

int chain_hash_parse(const char *s, uint8_t out[CHAIN_HASH_LEN]) {
    size_t n = 0;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || strlen(s) != CHAIN_HASH_STR_LEN)
        return TXL_EINVAL;
    if (hex_decode(s, CHAIN_HASH_STR_LEN, out, CHAIN_HASH_LEN, &n) != 0 || n != CHAIN_HASH_LEN)
        return TXL_EINVAL;
    return 0;
}

void chain_hash_format(const uint8_t hash[CHAIN_HASH_LEN], char out[CHAIN_HASH_STR_LEN + 1]) {
    out[0] = '0';
    out[1] = 'x';
    hex_encode(hash, CHAIN_HASH_LEN, out + 2);
}

void chain_block_params(uint64_t number, char out[40]) {
    snprintf(out, 40, "[\"0x%" PRIx64 "\",true]", number);
}

/* Parses the full fields of one transaction object (from is already set). */
static int chain_tx_parse(yajl_val v, chain_tx_t *tx, char *errstr, size_t errstr_size) {
    static const char what[] = "block transaction";
    if (chain_member_hash(v, "hash", tx->hash) != 0)
        return chain_fail(errstr, errstr_size, what, "hash");
    if (chain_member_u64(v, "nonce", &tx->nonce) != 0)
        return chain_fail(errstr, errstr_size, what, "nonce");
    yajl_val to = chain_member(v, "to");
    if (to == NULL || YAJL_IS_NULL(to)) {
        tx->has_to = 0;
    } else if (!YAJL_IS_STRING(to) || address_parse(YAJL_GET_STRING(to), &tx->to) != 0) {
        return chain_fail(errstr, errstr_size, what, "to");
    } else {
        tx->has_to = 1;
    }
    const char *value = chain_member_str(v, "value");
    if (value == NULL || value[0] != '0' || (value[1] != 'x' && value[1] != 'X') ||
        uint256_parse_hex(value, &tx->value) != 0)
        return chain_fail(errstr, errstr_size, what, "value");
    /* geth and anvil say "input"; some older nodes said "data" */
    const char *input = chain_member_str(v, "input");
    if (input == NULL)
        input = chain_member_str(v, "data");
    if (input == NULL || hex_decode_0x_alloc(input, &tx->input, &tx->input_len) != 0)
        return chain_fail(errstr, errstr_size, what, "input");
    if (tx->input_len == 0) {
        free(tx->input);
        tx->input = NULL;
    }
    return 0;
}

int chain_block_parse(yajl_val v, chain_tx_filter_fn keep, void *ctx, chain_block_t *b,
                      char *errstr, size_t errstr_size) {
    static const char what[] = "block";
    memset(b, 0, sizeof(*b));
    if (v == NULL || !YAJL_IS_OBJECT(v)) {
        snprintf(errstr, errstr_size, "block: not a JSON object");
        return TXL_EINVAL;
    }
    if (chain_member_u64(v, "number", &b->number) != 0)
        return chain_fail(errstr, errstr_size, what, "number");
    if (chain_member_hash(v, "hash", b->hash) != 0)
        return chain_fail(errstr, errstr_size, what, "hash");
    if (chain_member_hash(v, "parentHash", b->parent_hash) != 0)
        return chain_fail(errstr, errstr_size, what, "parentHash");
    if (chain_member_u64(v, "timestamp", &b->timestamp) != 0)
        return chain_fail(errstr, errstr_size, what, "timestamp");
    yajl_val txs = chain_member(v, "transactions");
    if (txs == NULL || !YAJL_IS_ARRAY(txs))
        return chain_fail(errstr, errstr_size, what, "transactions");
    b->tx_count = txs->u.array.len;
    for (size_t i = 0; i < txs->u.array.len; i++) {
        yajl_val t = txs->u.array.values[i];
        eth_address_t from;
        if (!YAJL_IS_OBJECT(t)) {
            snprintf(errstr, errstr_size,
                     "block %" PRIu64 ": transaction %zu is not an object (full transactions "
                     "were asked for)",
                     b->number, i);
            return TXL_EINVAL;
        }
        if (chain_member_address(t, "from", &from) != 0)
            return chain_fail(errstr, errstr_size, "block transaction", "from");
        if (keep != NULL && !keep(&from, ctx))
            continue;
        if (b->n_txs == 0)
            b->txs = xcalloc(txs->u.array.len, sizeof(chain_tx_t));
        chain_tx_t *tx = &b->txs[b->n_txs++];
        tx->from = from;
        tx->index = (uint32_t)i;
        int rc = chain_tx_parse(t, tx, errstr, errstr_size);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void chain_block_clear(chain_block_t *b) {
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_txs; i++)
        free(b->txs[i].input);
    free(b->txs);
    memset(b, 0, sizeof(*b));
}

int chain_receipt_parse(yajl_val v, chain_receipt_t *r, char *errstr, size_t errstr_size) {
    static const char what[] = "receipt";
    uint64_t status;
    memset(r, 0, sizeof(*r));
    if (v == NULL || !YAJL_IS_OBJECT(v)) {
        snprintf(errstr, errstr_size, "receipt: not a JSON object");
        return TXL_EINVAL;
    }
    if (chain_member_hash(v, "transactionHash", r->tx_hash) != 0)
        return chain_fail(errstr, errstr_size, what, "transactionHash");
    if (chain_member_hash(v, "blockHash", r->block_hash) != 0)
        return chain_fail(errstr, errstr_size, what, "blockHash");
    if (chain_member_u64(v, "blockNumber", &r->block_number) != 0)
        return chain_fail(errstr, errstr_size, what, "blockNumber");
    if (chain_member_u64(v, "gasUsed", &r->gas_used) != 0)
        return chain_fail(errstr, errstr_size, what, "gasUsed");
    if (chain_member_u64(v, "status", &status) != 0 || status > 1)
        return chain_fail(errstr, errstr_size, what, "status");
    r->status = (int)status;
    return 0;
}
