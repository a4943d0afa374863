/*
 * chain.c - strict parsing of JSON-RPC blocks, receipts and transactions
 * (see chain.h).
 *
 * Quantities are "0x" hex without leading zeros in the spec; nodes are not
 * always that strict, so leading zeros are accepted, anything else is not.
 * Data fields ("input", hashes) are "0x" + an even number of hex digits.
 * An optional address ("to") is null for a contract creation; a missing one
 * reads the same, as some nodes leave null fields out.
 */
#include "txlane/chain.h"

#include <ctype.h>
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

/* 0 when v is a JSON object, else TXL_EINVAL with errstr "<what>: not a JSON object". */
static int chain_object(yajl_val v, const char *what, char *errstr, size_t errstr_size) {
    if (v != NULL && YAJL_IS_OBJECT(v))
        return 0;
    snprintf(errstr, errstr_size, "%s: not a JSON object", what);
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

/* An address that may be null or absent: *has = 0 then. */
static int chain_member_address_opt(yajl_val obj, const char *key, int *has, eth_address_t *out) {
    yajl_val v = chain_member(obj, key);
    *has = 0;
    if (v == NULL || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_STRING(v) || address_parse(YAJL_GET_STRING(v), out) != 0)
        return TXL_EINVAL;
    *has = 1;
    return 0;
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

void chain_block_params(uint64_t number, int full_txs, char out[40]) {
    snprintf(out, 40, "[\"0x%" PRIx64 "\",%s]", number, full_txs ? "true" : "false");
}

void chain_block_receipts_params(uint64_t number, char out[40]) {
    snprintf(out, 40, "[\"0x%" PRIx64 "\"]", number);
}

/* Parses the full fields of one transaction object (from is already set). */
static int chain_tx_fields(yajl_val v, const char *what, chain_tx_t *tx, char *errstr,
                           size_t errstr_size) {
    if (chain_member_hash(v, "hash", tx->hash) != 0)
        return chain_fail(errstr, errstr_size, what, "hash");
    if (chain_member_u64(v, "nonce", &tx->nonce) != 0)
        return chain_fail(errstr, errstr_size, what, "nonce");
    if (chain_member_address_opt(v, "to", &tx->has_to, &tx->to) != 0)
        return chain_fail(errstr, errstr_size, what, "to");
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

/* The fields every block answer has (zeroes b first); *txs receives the
 * "transactions" array. */
static int chain_header_fields(yajl_val v, chain_block_t *b, yajl_val *txs, char *errstr,
                               size_t errstr_size) {
    static const char what[] = "block";
    memset(b, 0, sizeof(*b));
    if (chain_object(v, what, errstr, errstr_size) != 0)
        return TXL_EINVAL;
    if (chain_member_u64(v, "number", &b->number) != 0)
        return chain_fail(errstr, errstr_size, what, "number");
    if (chain_member_hash(v, "hash", b->hash) != 0)
        return chain_fail(errstr, errstr_size, what, "hash");
    if (chain_member_hash(v, "parentHash", b->parent_hash) != 0)
        return chain_fail(errstr, errstr_size, what, "parentHash");
    if (chain_member_u64(v, "timestamp", &b->timestamp) != 0)
        return chain_fail(errstr, errstr_size, what, "timestamp");
    *txs = chain_member(v, "transactions");
    if (*txs == NULL || !YAJL_IS_ARRAY(*txs))
        return chain_fail(errstr, errstr_size, what, "transactions");
    b->tx_count = (*txs)->u.array.len;
    return 0;
}

int chain_header_parse(yajl_val v, chain_block_t *b, char *errstr, size_t errstr_size) {
    yajl_val txs;
    uint8_t hash[CHAIN_HASH_LEN];
    int rc = chain_header_fields(v, b, &txs, errstr, errstr_size);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < txs->u.array.len; i++) {
        yajl_val t = txs->u.array.values[i];
        if (!YAJL_IS_STRING(t) || chain_hash_parse(YAJL_GET_STRING(t), hash) != 0) {
            snprintf(errstr, errstr_size,
                     "block %" PRIu64 ": transaction %zu is not a hash (hashes only were asked "
                     "for)",
                     b->number, i);
            return TXL_EINVAL;
        }
    }
    return 0;
}

int chain_block_parse(yajl_val v, chain_tx_filter_fn keep, void *ctx, chain_block_t *b,
                      char *errstr, size_t errstr_size) {
    yajl_val txs;
    int rc = chain_header_fields(v, b, &txs, errstr, errstr_size);
    if (rc != 0)
        return rc;
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
        rc = chain_tx_fields(t, "block transaction", tx, errstr, errstr_size);
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
    free(b->receipts);
    memset(b, 0, sizeof(*b));
}

/* What locates a receipt: sender, position, block. */
static int chain_receipt_place(yajl_val v, chain_receipt_t *r, char *errstr, size_t errstr_size) {
    static const char what[] = "receipt";
    uint64_t index;
    if (chain_object(v, what, errstr, errstr_size) != 0)
        return TXL_EINVAL;
    if (chain_member_address(v, "from", &r->from) != 0)
        return chain_fail(errstr, errstr_size, what, "from");
    if (chain_member_u64(v, "transactionIndex", &index) != 0 || index > UINT32_MAX)
        return chain_fail(errstr, errstr_size, what, "transactionIndex");
    r->index = (uint32_t)index;
    if (chain_member_hash(v, "blockHash", r->block_hash) != 0)
        return chain_fail(errstr, errstr_size, what, "blockHash");
    if (chain_member_u64(v, "blockNumber", &r->block_number) != 0)
        return chain_fail(errstr, errstr_size, what, "blockNumber");
    return 0;
}

/* The rest of a receipt, once placed. */
static int chain_receipt_fields(yajl_val v, chain_receipt_t *r, char *errstr,
                                size_t errstr_size) {
    static const char what[] = "receipt";
    uint64_t status;
    if (chain_member_hash(v, "transactionHash", r->tx_hash) != 0)
        return chain_fail(errstr, errstr_size, what, "transactionHash");
    if (chain_member_address_opt(v, "to", &r->has_to, &r->to) != 0)
        return chain_fail(errstr, errstr_size, what, "to");
    if (chain_member_u64(v, "gasUsed", &r->gas_used) != 0)
        return chain_fail(errstr, errstr_size, what, "gasUsed");
    if (chain_member_u64(v, "status", &status) != 0 || status > 1)
        return chain_fail(errstr, errstr_size, what, "status");
    r->status = (int)status;
    return 0;
}

int chain_receipt_parse(yajl_val v, chain_receipt_t *r, char *errstr, size_t errstr_size) {
    memset(r, 0, sizeof(*r));
    int rc = chain_receipt_place(v, r, errstr, errstr_size);
    return rc != 0 ? rc : chain_receipt_fields(v, r, errstr, errstr_size);
}

static int chain_receipt_index_cmp(const void *a, const void *b) {
    uint32_t x = ((const chain_receipt_t *)a)->index, y = ((const chain_receipt_t *)b)->index;
    return (x > y) - (x < y);
}

int chain_block_receipts_parse(yajl_val v, chain_tx_filter_fn keep, void *ctx, chain_block_t *b,
                               char *errstr, size_t errstr_size) {
    int rc = 0;
    free(b->receipts);
    b->receipts = NULL;
    b->n_receipts = 0;
    if (v == NULL || !YAJL_IS_ARRAY(v)) {
        snprintf(errstr, errstr_size, "block %" PRIu64 " receipts: not a JSON array", b->number);
        return TXL_EINVAL;
    }
    size_t n = v->u.array.len;
    if (n != b->tx_count) {
        snprintf(errstr, errstr_size,
                 "block %" PRIu64 " receipts: %zu for %zu transactions (incomplete or chain "
                 "moving?)",
                 b->number, n, b->tx_count);
        return TXL_EINVAL;
    }
    unsigned char *seen = xcalloc(n > 0 ? n : 1, 1); /* transactionIndex i was met */
    chain_receipt_t *kept = NULL;
    size_t n_kept = 0;
    for (size_t i = 0; i < n; i++) {
        yajl_val rv = v->u.array.values[i];
        chain_receipt_t r;
        memset(&r, 0, sizeof(r));
        rc = chain_receipt_place(rv, &r, errstr, errstr_size);
        if (rc != 0)
            goto cleanup;
        if (memcmp(r.block_hash, b->hash, CHAIN_HASH_LEN) != 0 || r.block_number != b->number) {
            snprintf(errstr, errstr_size,
                     "block %" PRIu64 " receipts: receipt %zu is from another block (chain "
                     "moving?)",
                     b->number, i);
            rc = TXL_EINVAL;
            goto cleanup;
        }
        if (r.index >= n || seen[r.index]) {
            snprintf(errstr, errstr_size,
                     "block %" PRIu64 " receipts: receipt %zu has transactionIndex %" PRIu32
                     " (%s)",
                     b->number, i, r.index, r.index >= n ? "out of range" : "twice");
            rc = TXL_EINVAL;
            goto cleanup;
        }
        seen[r.index] = 1;
        if (keep != NULL && !keep(&r.from, ctx))
            continue;
        rc = chain_receipt_fields(rv, &r, errstr, errstr_size);
        if (rc != 0)
            goto cleanup;
        if (kept == NULL)
            kept = xcalloc(n, sizeof(chain_receipt_t));
        kept[n_kept++] = r;
    }
    /* n receipts, every index once: the block's whole list */
    if (n_kept > 1)
        qsort(kept, n_kept, sizeof(chain_receipt_t), chain_receipt_index_cmp);
    b->receipts = kept;
    b->n_receipts = n_kept;
    kept = NULL;
cleanup:
    free(kept);
    free(seen);
    return rc;
}

int chain_tx_parse(yajl_val v, chain_tx_t *tx, uint8_t block_hash[CHAIN_HASH_LEN],
                   uint64_t *block_number, char *errstr, size_t errstr_size) {
    static const char what[] = "transaction";
    uint64_t index;
    memset(tx, 0, sizeof(*tx));
    if (chain_object(v, what, errstr, errstr_size) != 0)
        return TXL_EINVAL;
    if (chain_member_address(v, "from", &tx->from) != 0)
        return chain_fail(errstr, errstr_size, what, "from");
    int rc = chain_tx_fields(v, what, tx, errstr, errstr_size);
    if (rc != 0)
        return rc;
    yajl_val bh = chain_member(v, "blockHash");
    if (bh != NULL && YAJL_IS_NULL(bh)) {
        snprintf(errstr, errstr_size, "transaction: in no block (pending)");
        return TXL_ENOTFOUND;
    }
    if (chain_member_hash(v, "blockHash", block_hash) != 0)
        return chain_fail(errstr, errstr_size, what, "blockHash");
    if (chain_member_u64(v, "blockNumber", block_number) != 0)
        return chain_fail(errstr, errstr_size, what, "blockNumber");
    if (chain_member_u64(v, "transactionIndex", &index) != 0 || index > UINT32_MAX)
        return chain_fail(errstr, errstr_size, what, "transactionIndex");
    tx->index = (uint32_t)index;
    return 0;
}

void chain_tx_clear(chain_tx_t *tx) {
    if (tx == NULL)
        return;
    free(tx->input);
    memset(tx, 0, sizeof(*tx));
}

/* Lower-cases the first size - 1 bytes of s into out. */
static void chain_lower(const char *s, char *out, size_t size) {
    size_t i = 0;
    for (; s != NULL && s[i] != '\0' && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

int chain_method_unsupported(long long code, const char *message) {
    /* geth: "the method X does not exist/is not available"; besu, erigon, many
     * gateways: "method not found" (code -32601); others: "method X is not
     * supported", "unsupported method: X" */
    static const char *const patterns[] = {"does not exist", "not available", "not found",
                                           "not supported", "unsupported"};
    char msg[256];
    if (code == -32601)
        return 1;
    chain_lower(message, msg, sizeof(msg));
    if (strstr(msg, "method") == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        if (strstr(msg, patterns[i]) != NULL)
            return 1;
    }
    return 0;
}
