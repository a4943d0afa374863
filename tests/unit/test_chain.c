/*
 * test_chain.c - unit tests of chain.h: blocks with full transactions,
 * hashes-only headers, block receipts, receipts and transactions looked up
 * by hash as anvil answers them (recorded answers, trimmed; senders set to a
 * lane and another address), the sender filter, the completeness checks of a
 * block's receipts, the strictness every malformed field meets, and which
 * error answers say that the node lacks a method.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "txlane/chain.h"
#include "unit_test.h"

#define H16(c) c c c c c c c c c c c c c c c c
#define H(c) "0x" H16(c) H16(c) H16(c) H16(c) /* a 32-byte hash of one repeated digit */
#define LANE "0x8a62d6daabb2dd6ba52a5a4e045e9797f4269112"
#define OTHER "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"

/* Block 0x1a5 of a test run: an EIP-1559 transfer from a lane, then a
 * contract creation and a call with calldata from another sender. */
static const char block_json[] =
    "{\"hash\":\"0xfd2f529af4c895c778a6a79c460d86c7735f7407ed19e2f9dfd1e4224704580b\","
    "\"parentHash\":\"0x38e881a3e330e1faa68d4216d9d6a75e02cc47bcdee6e062a929449d7fe5e501\","
    "\"number\":\"0x1a5\",\"timestamp\":\"0x6b017813\",\"baseFeePerGas\":\"0x7\",\"transactions\":["
    "{\"type\":\"0x2\",\"chainId\":\"0x7a69\",\"nonce\":\"0x1\",\"gas\":\"0x5208\","
    "\"to\":\"0xd0544e164e6a2fb371b950bb8d19997174656df1\",\"value\":\"0x5\",\"input\":\"0x\","
    "\"hash\":\"0xd0d8e9fd25f8247d845a8e63fa5dfd9f45a7ebab6c3bb8184a828a7151718efe\","
    "\"transactionIndex\":\"0x0\",\"from\":\"" LANE "\"},"
    "{\"nonce\":\"0x0\",\"to\":null,\"value\":\"0x0\",\"input\":\"0x60006000fd\","
    "\"hash\":\"" H("a") "\",\"from\":\"" OTHER "\"},"
    "{\"nonce\":\"0x2a\",\"to\":\"0xD0544E164E6A2FB371B950BB8D19997174656DF1\","
    "\"value\":\"0xde0b6b3a7640000\",\"input\":\"0xdeadbeef\",\"hash\":\"" H("b") "\","
    "\"from\":\"" LANE "\"}]}";

static const char receipt_json[] =
    "{\"transactionHash\":\"0xd0d8e9fd25f8247d845a8e63fa5dfd9f45a7ebab6c3bb8184a828a7151718efe\","
    "\"transactionIndex\":\"0x0\","
    "\"blockHash\":\"0xfd2f529af4c895c778a6a79c460d86c7735f7407ed19e2f9dfd1e4224704580b\","
    "\"blockNumber\":\"0x1a5\",\"from\":\"" LANE "\",\"gasUsed\":\"0x5208\","
    "\"cumulativeGasUsed\":\"0x5208\",\"effectiveGasPrice\":\"0x3b9aca07\",\"status\":\"0x1\","
    "\"logs\":[],\"type\":\"0x2\"}";

/* Block 0x27c of a test run as eth_getBlockByNumber(n, false) answers it:
 * four transactions, by hash. */
#define B27C "0x36a0b52cc49c42e983c2b7445503387a1fcc7465148aa5854619e1c2eb0ec8e2"
#define T0 "0xfdd5d65f76069806b515e5d03fb141f8e623c7c7278123f447601e7d26efb125"
#define T1 "0x4eae2bb9772949b686f5acefce0afeb601d384658025616c33782cfd3cb29be1"
#define T2 "0x5efc1d6da436362b3e1c6895d042dc8bf0b4dc86a43e65a65c7629cdc2d9d14f"
#define T3 "0x7dfe5d3145fde907183ce10c2244f5607b82917747fbdb86e8d00f6a3b637222"
static const char header_json[] =
    "{\"hash\":\"" B27C "\","
    "\"parentHash\":\"0xe3091e94235532b39bdfa7413a639f44834a9b2ff6a6be18da5ad2efaec84463\","
    "\"miner\":\"0x0000000000000000000000000000000000000000\",\"difficulty\":\"0x0\","
    "\"number\":\"0x27c\",\"gasLimit\":\"0x11e1a300\",\"gasUsed\":\"0x14820\","
    "\"timestamp\":\"0x6b0e7e3b\",\"baseFeePerGas\":\"0x7\",\"uncles\":[],"
    "\"transactions\":[\"" T0 "\",\"" T1 "\",\"" T2 "\",\"" T3 "\"],\"withdrawals\":[]}";

/* One receipt of block 0x27c as eth_getBlockReceipts lists it. */
#define RECEIPT(hash, index, from, to, gas, status)                                                \
    "{\"type\":\"0x2\",\"status\":\"" status "\",\"cumulativeGasUsed\":\"0x14820\",\"logs\":[],"     \
    "\"transactionHash\":\"" hash "\",\"transactionIndex\":\"" index "\",\"blockHash\":\"" B27C      \
    "\",\"blockNumber\":\"0x27c\",\"gasUsed\":\"" gas "\",\"effectiveGasPrice\":\"0x3b9aca07\","     \
    "\"from\":\"" from "\",\"to\":" to ",\"contractAddress\":null,\"blockTimestamp\":1796111931}"
#define R0 RECEIPT(T0, "0x0", OTHER, "\"0xdbc3bdf824fc80e11e1ad9b963691d8e573c099e\"", "0x5208", "0x1")
#define R1 RECEIPT(T1, "0x1", LANE, "\"0x607d658cdf0fc33753a11efaa751aebdbe024d30\"", "0x5208", "0x1")
#define R2 RECEIPT(T2, "0x2", OTHER, "\"0xc0bd3d32e5ccb36e0d00ae460fc3c132eb87d313\"", "0x5208", "0x1")
#define R3 RECEIPT(T3, "0x3", LANE, "null", "0x1a2b3", "0x0") /* a reverted creation */
static const char receipts_json[] = "[" R0 "," R1 "," R2 "," R3 "]";

/* eth_getTransactionByHash of the second one. */
static const char tx_json[] =
    "{\"type\":\"0x2\",\"chainId\":\"0x7a69\",\"nonce\":\"0x4d\",\"gas\":\"0x5208\","
    "\"maxFeePerGas\":\"0x3b9aca0e\",\"maxPriorityFeePerGas\":\"0x3b9aca00\","
    "\"to\":\"0x607d658cdf0fc33753a11efaa751aebdbe024d30\",\"value\":\"0xe8d4a51000\","
    "\"accessList\":[],\"input\":\"0x\","
    "\"r\":\"0xf008a8ea8d57adb1ecc15dfb49010cac6274288f980840e4d65931914b14b8c\","
    "\"s\":\"0x50fdd6283d390f216a33d70e6bfa459c3ef45256dcbb8a2f97937445f8bdb3b2\","
    "\"yParity\":\"0x0\",\"v\":\"0x0\",\"hash\":\"" T1 "\",\"blockHash\":\"" B27C "\","
    "\"blockNumber\":\"0x27c\",\"transactionIndex\":\"0x1\",\"from\":\"" LANE "\","
    "\"gasPrice\":\"0x3b9aca07\",\"blockTimestamp\":\"0x6b0e7e3b\"}";

static yajl_val parse_json(const char *text) {
    char err[128];
    yajl_val v = yajl_tree_parse(text, err, sizeof(err));
    ck_assert_msg(v != NULL, "test json: %s", err);
    return v;
}

/* Replaces the first occurrence of from with to in src; caller frees. */
static char *replace(const char *src, const char *from, const char *to) {
    const char *at = strstr(src, from);
    ck_assert_ptr_nonnull(at);
    size_t n = strlen(src) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    ck_assert_ptr_nonnull(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
    return out;
}

/* A variant of a recorded answer: from replaced by to (from NULL: to is the
 * whole text), and what the error must say. */
typedef struct {
    const char *from, *to, *want;
} bad_case_t;

/* Runs the parser under test on text; cleans up what it made. */
typedef int (*parse_case_fn)(const char *text, char *err, size_t err_size);

/* Each variant of base must be TXL_EINVAL with an errstr containing its want. */
static void check_invalid(const char *base, const bad_case_t *cases, size_t n,
                          parse_case_fn parse) {
    char err[256];
    for (size_t i = 0; i < n; i++) {
        char *text = replace(cases[i].from != NULL ? base : cases[i].to,
                             cases[i].from != NULL ? cases[i].from : "",
                             cases[i].from != NULL ? cases[i].to : "");
        err[0] = '\0';
        ck_assert_int_eq(parse(text, err, sizeof(err)), TXL_EINVAL);
        ck_assert_msg(strstr(err, cases[i].want) != NULL, "case %zu: '%s' does not say %s", i,
                      err, cases[i].want);
        free(text);
    }
}
#define CHECK_INVALID(base, cases, parse)                                                          \
    check_invalid(base, cases, sizeof(cases) / sizeof(cases[0]), parse)

static int keep_lane(const eth_address_t *from, void *ctx) {
    eth_address_t lane;
    ck_assert_int_eq(address_parse(LANE, &lane), 0);
    (*(int *)ctx)++;
    return address_equal(from, &lane);
}

START_TEST(test_block_all) {
    yajl_val v = parse_json(block_json);
    chain_block_t b;
    char err[256], hash[CHAIN_HASH_STR_LEN + 1];
    ck_assert_int_eq(chain_block_parse(v, NULL, NULL, &b, err, sizeof(err)), 0);
    ck_assert_uint_eq(b.number, 0x1a5);
    ck_assert_uint_eq(b.timestamp, 0x6b017813);
    chain_hash_format(b.hash, hash);
    ck_assert_str_eq(hash, "0xfd2f529af4c895c778a6a79c460d86c7735f7407ed19e2f9dfd1e4224704580b");
    chain_hash_format(b.parent_hash, hash);
    ck_assert_str_eq(hash, "0x38e881a3e330e1faa68d4216d9d6a75e02cc47bcdee6e062a929449d7fe5e501");
    ck_assert_uint_eq(b.tx_count, 3);
    ck_assert_uint_eq(b.n_txs, 3);

    const chain_tx_t *t = &b.txs[0];
    chain_hash_format(t->hash, hash);
    ck_assert_str_eq(hash, "0xd0d8e9fd25f8247d845a8e63fa5dfd9f45a7ebab6c3bb8184a828a7151718efe");
    ck_assert_uint_eq(t->nonce, 1);
    ck_assert_int_eq(t->has_to, 1);
    ck_assert_uint_eq(t->value.w[0], 5);
    ck_assert_ptr_null(t->input);
    ck_assert_uint_eq(t->input_len, 0);
    ck_assert_uint_eq(t->index, 0);

    t = &b.txs[1]; /* contract creation */
    ck_assert_int_eq(t->has_to, 0);
    ck_assert_uint_eq(t->input_len, 5);
    ck_assert_mem_eq(t->input, "\x60\x00\x60\x00\xfd", 5);

    t = &b.txs[2]; /* upper-case hex address, 1 ether, calldata */
    eth_address_t to;
    ck_assert_int_eq(address_parse("0xd0544e164e6a2fb371b950bb8d19997174656df1", &to), 0);
    ck_assert(address_equal(&t->to, &to));
    ck_assert_uint_eq(t->nonce, 42);
    ck_assert_uint_eq(t->value.w[0], 1000000000000000000ull);
    ck_assert_uint_eq(t->input_len, 4);
    ck_assert_uint_eq(t->index, 2);
    chain_block_clear(&b);
    ck_assert_ptr_null(b.txs);
    chain_block_clear(&b); /* twice is harmless */
    yajl_tree_free(v);
}
END_TEST

START_TEST(test_block_filter) {
    yajl_val v = parse_json(block_json);
    chain_block_t b;
    char err[256];
    int asked = 0;
    ck_assert_int_eq(chain_block_parse(v, keep_lane, &asked, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(asked, 3);
    ck_assert_uint_eq(b.tx_count, 3);
    ck_assert_uint_eq(b.n_txs, 2);
    ck_assert_uint_eq(b.txs[0].index, 0);
    ck_assert_uint_eq(b.txs[1].index, 2);
    ck_assert_uint_eq(b.txs[1].nonce, 42);
    chain_block_clear(&b);
    yajl_tree_free(v);
}
END_TEST

START_TEST(test_block_empty) {
    yajl_val v = parse_json("{\"hash\":\"" H("1") "\",\"parentHash\":\"" H("2") "\","
                            "\"number\":\"0x0\",\"timestamp\":\"0x0\",\"transactions\":[]}");
    chain_block_t b;
    char err[256];
    ck_assert_int_eq(chain_block_parse(v, keep_lane, NULL, &b, err, sizeof(err)), 0);
    ck_assert_uint_eq(b.number, 0);
    ck_assert_uint_eq(b.tx_count, 0);
    ck_assert_ptr_null(b.txs);
    chain_block_clear(&b);
    yajl_tree_free(v);
}
END_TEST

/* Each malformed variant of the block fails and names the field. */
static int parse_block(const char *text, char *err, size_t err_size) {
    yajl_val v = parse_json(text);
    chain_block_t b;
    int rc = chain_block_parse(v, NULL, NULL, &b, err, err_size);
    chain_block_clear(&b);
    yajl_tree_free(v);
    return rc;
}

START_TEST(test_block_malformed) {
    static const bad_case_t cases[] = {
        {"\"number\":\"0x1a5\"", "\"number\":\"421\"", "'number'"},
        {"\"number\":\"0x1a5\"", "\"number\":421", "'number'"},
        {"\"number\":\"0x1a5\"", "\"number\":\"0x10000000000000000\"", "'number'"},
        {"\"hash\":\"0xfd2f", "\"hash\":\"0xfd2", "'hash'"},
        {"\"parentHash\":\"0x38", "\"parentHash\":\"0xzz", "'parentHash'"},
        {"\"timestamp\":\"0x6b017813\",", "", "'timestamp'"},
        {"\"from\":\"" LANE "\"}", "\"from\":\"0x8a62\"}", "'from'"},
        {"\"nonce\":\"0x1\"", "\"nonce\":\"1\"", "'nonce'"},
        {"\"value\":\"0x5\"", "\"value\":\"0x1" H16("0") H16("0") H16("0") H16("0") "\"",
         "'value'"},
        {"\"input\":\"0x\"", "\"input\":\"0x0\"", "'input'"},
        {"\"to\":\"0xd0544e164e6a2fb371b950bb8d19997174656df1\"", "\"to\":7", "'to'"},
        {"\"hash\":\"0xd0d8", "\"hash\":\"0xd0d", "'hash'"},
        {"\"transactions\":[", "\"transactions\":{},\"x\":[", "'transactions'"},
        {NULL, "null", "not a JSON object"},
    };
    CHECK_INVALID(block_json, cases, parse_block);
}
END_TEST

START_TEST(test_block_hashes_only) {
    yajl_val v = parse_json("{\"hash\":\"" H("1") "\",\"parentHash\":\"" H("2") "\","
                            "\"number\":\"0x5\",\"timestamp\":\"0x0\","
                            "\"transactions\":[\"" H("3") "\"]}");
    chain_block_t b;
    char err[256];
    ck_assert_int_eq(chain_block_parse(v, NULL, NULL, &b, err, sizeof(err)), TXL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not an object"));
    chain_block_clear(&b);
    yajl_tree_free(v);
    v = parse_json("null");
    ck_assert_int_eq(chain_block_parse(v, NULL, NULL, &b, err, sizeof(err)), TXL_EINVAL);
    chain_block_clear(&b);
    yajl_tree_free(v);
}
END_TEST

START_TEST(test_receipt) {
    yajl_val v = parse_json(receipt_json);
    chain_receipt_t r;
    char err[256], hash[CHAIN_HASH_STR_LEN + 1];
    ck_assert_int_eq(chain_receipt_parse(v, &r, err, sizeof(err)), 0);
    ck_assert_int_eq(r.status, 1);
    ck_assert_uint_eq(r.gas_used, 21000);
    ck_assert_uint_eq(r.block_number, 0x1a5);
    ck_assert_uint_eq(r.index, 0);
    eth_address_t lane;
    ck_assert_int_eq(address_parse(LANE, &lane), 0);
    ck_assert(address_equal(&r.from, &lane));
    ck_assert_int_eq(r.has_to, 0); /* this recorded receipt has no "to": read as a creation */
    chain_hash_format(r.tx_hash, hash);
    ck_assert_str_eq(hash, "0xd0d8e9fd25f8247d845a8e63fa5dfd9f45a7ebab6c3bb8184a828a7151718efe");
    chain_hash_format(r.block_hash, hash);
    ck_assert_str_eq(hash, "0xfd2f529af4c895c778a6a79c460d86c7735f7407ed19e2f9dfd1e4224704580b");
    yajl_tree_free(v);

    char *reverted = replace(receipt_json, "\"status\":\"0x1\"", "\"status\":\"0x0\"");
    v = parse_json(reverted);
    ck_assert_int_eq(chain_receipt_parse(v, &r, err, sizeof(err)), 0);
    ck_assert_int_eq(r.status, 0);
    yajl_tree_free(v);
    free(reverted);
}
END_TEST

static int parse_receipt(const char *text, char *err, size_t err_size) {
    yajl_val v = parse_json(text);
    chain_receipt_t r;
    int rc = chain_receipt_parse(v, &r, err, err_size);
    yajl_tree_free(v);
    return rc;
}

START_TEST(test_receipt_malformed) {
    static const bad_case_t cases[] = {
        {"\"status\":\"0x1\"", "\"status\":\"0x2\"", "'status'"},
        {"\"status\":\"0x1\"", "\"root\":\"0x1\"", "'status'"}, /* pre-Byzantium */
        {"\"gasUsed\":\"0x5208\"", "\"gasUsed\":null", "'gasUsed'"},
        {"\"blockNumber\":\"0x1a5\"", "\"blockNumber\":\"\"", "'blockNumber'"},
        {"\"blockHash\":\"0xfd", "\"blockHash\":\"fd", "'blockHash'"},
        {"\"transactionHash\":\"0xd0d8", "\"transactionHash\":\"0xd0d8d0d8", "'transactionHash'"},
        {"\"from\":\"" LANE "\"", "\"from\":null", "'from'"},
        {"\"from\":\"" LANE "\"", "\"sender\":\"" LANE "\"", "'from'"},
        {"\"from\":\"" LANE "\"", "\"from\":\"" LANE "\",\"to\":7", "'to'"},
        {"\"from\":\"" LANE "\"", "\"from\":\"" LANE "\",\"to\":\"0x12\"", "'to'"},
        {"\"transactionIndex\":\"0x0\"", "\"transactionIndex\":0", "'transactionIndex'"},
        {"\"transactionIndex\":\"0x0\"", "\"transactionIndex\":\"0x100000000\"",
         "'transactionIndex'"},
        {"\"transactionIndex\":\"0x0\",", "", "'transactionIndex'"},
        {NULL, "[]", "not a JSON object"},
    };
    CHECK_INVALID(receipt_json, cases, parse_receipt);
}
END_TEST

START_TEST(test_hash_and_params) {
    uint8_t h[CHAIN_HASH_LEN];
    char out[CHAIN_HASH_STR_LEN + 1], params[40];
    ck_assert_int_eq(chain_hash_parse(H("A"), h), 0);
    chain_hash_format(h, out);
    ck_assert_str_eq(out, H("a"));
    ck_assert_int_eq(chain_hash_parse(H("a") "a", h), TXL_EINVAL);
    ck_assert_int_eq(chain_hash_parse("", h), TXL_EINVAL);
    ck_assert_int_eq(chain_hash_parse("0", h), TXL_EINVAL);
    ck_assert_int_eq(chain_hash_parse("0x", h), TXL_EINVAL);
    chain_block_params(0, 1, params);
    ck_assert_str_eq(params, "[\"0x0\",true]");
    chain_block_params(UINT64_MAX, 1, params);
    ck_assert_str_eq(params, "[\"0xffffffffffffffff\",true]");
    chain_block_params(0x27c, 0, params);
    ck_assert_str_eq(params, "[\"0x27c\",false]");
    chain_block_params(UINT64_MAX, 0, params);
    ck_assert_str_eq(params, "[\"0xffffffffffffffff\",false]");
    chain_block_receipts_params(0x27c, params);
    ck_assert_str_eq(params, "[\"0x27c\"]");
    chain_block_receipts_params(UINT64_MAX, params);
    ck_assert_str_eq(params, "[\"0xffffffffffffffff\"]");
}
END_TEST

START_TEST(test_header) {
    yajl_val v = parse_json(header_json);
    chain_block_t b;
    char err[256], hash[CHAIN_HASH_STR_LEN + 1];
    ck_assert_int_eq(chain_header_parse(v, &b, err, sizeof(err)), 0);
    ck_assert_uint_eq(b.number, 0x27c);
    ck_assert_uint_eq(b.timestamp, 0x6b0e7e3b);
    chain_hash_format(b.hash, hash);
    ck_assert_str_eq(hash, B27C);
    chain_hash_format(b.parent_hash, hash);
    ck_assert_str_eq(hash, "0xe3091e94235532b39bdfa7413a639f44834a9b2ff6a6be18da5ad2efaec84463");
    ck_assert_uint_eq(b.tx_count, 4);
    ck_assert_ptr_null(b.txs);
    ck_assert_uint_eq(b.n_txs, 0);
    ck_assert_ptr_null(b.receipts);
    chain_block_clear(&b);
    yajl_tree_free(v);

    /* an empty block */
    v = parse_json("{\"hash\":\"" H("1") "\",\"parentHash\":\"" H("2") "\","
                   "\"number\":\"0x0\",\"timestamp\":\"0x0\",\"transactions\":[]}");
    ck_assert_int_eq(chain_header_parse(v, &b, err, sizeof(err)), 0);
    ck_assert_uint_eq(b.tx_count, 0);
    chain_block_clear(&b);
    yajl_tree_free(v);
}
END_TEST

/* Hashes and objects are not interchangeable: each parser refuses the other's answer. */
START_TEST(test_header_vs_full) {
    chain_block_t b;
    char err[256];
    yajl_val v = parse_json(block_json);
    ck_assert_int_eq(chain_header_parse(v, &b, err, sizeof(err)), TXL_EINVAL);
    ck_assert_msg(strstr(err, "not a hash") != NULL, "%s", err);
    chain_block_clear(&b);
    yajl_tree_free(v);
    v = parse_json(header_json);
    ck_assert_int_eq(chain_block_parse(v, NULL, NULL, &b, err, sizeof(err)), TXL_EINVAL);
    ck_assert_msg(strstr(err, "not an object") != NULL, "%s", err);
    chain_block_clear(&b);
    yajl_tree_free(v);
}
END_TEST

static int parse_header(const char *text, char *err, size_t err_size) {
    yajl_val v = parse_json(text);
    chain_block_t b;
    int rc = chain_header_parse(v, &b, err, err_size);
    chain_block_clear(&b);
    yajl_tree_free(v);
    return rc;
}

START_TEST(test_header_malformed) {
    static const bad_case_t cases[] = {
        {"\"number\":\"0x27c\"", "\"number\":636", "'number'"},
        {"\"number\":\"0x27c\",", "", "'number'"},
        {"\"hash\":\"0x36a0", "\"hash\":\"0x36a", "'hash'"},
        {"\"parentHash\":\"0xe3", "\"parentHash\":\"e3", "'parentHash'"},
        {"\"timestamp\":\"0x6b0e7e3b\"", "\"timestamp\":null", "'timestamp'"},
        {"\"transactions\":[", "\"transactions\":7,\"x\":[", "'transactions'"},
        {"\"" T2 "\"", "\"0x5efc\"", "transaction 2 is not a hash"},
        {"\"" T2 "\"", "null", "transaction 2 is not a hash"},
        {"\"" T2 "\"", "2", "transaction 2 is not a hash"},
        {NULL, "[]", "not a JSON object"},
    };
    CHECK_INVALID(header_json, cases, parse_header);
}
END_TEST

/* Parses header_json into b and receipts_text against it; returns the result. */
static int receipts_parse(const char *receipts_text, chain_tx_filter_fn keep, void *ctx,
                          chain_block_t *b, char *err, size_t err_size) {
    yajl_val h = parse_json(header_json), r = parse_json(receipts_text);
    ck_assert_int_eq(chain_header_parse(h, b, err, err_size), 0);
    int rc = chain_block_receipts_parse(r, keep, ctx, b, err, err_size);
    yajl_tree_free(h);
    yajl_tree_free(r);
    return rc;
}

START_TEST(test_block_receipts) {
    chain_block_t b;
    char err[256], hash[CHAIN_HASH_STR_LEN + 1];
    int asked = 0;
    eth_address_t lane, to;
    ck_assert_int_eq(address_parse(LANE, &lane), 0);
    ck_assert_int_eq(receipts_parse(receipts_json, keep_lane, &asked, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(asked, 4); /* every sender read */
    ck_assert_uint_eq(b.n_receipts, 2);
    const chain_receipt_t *r = &b.receipts[0];
    ck_assert_uint_eq(r->index, 1);
    chain_hash_format(r->tx_hash, hash);
    ck_assert_str_eq(hash, T1);
    chain_hash_format(r->block_hash, hash);
    ck_assert_str_eq(hash, B27C);
    ck_assert_uint_eq(r->block_number, 0x27c);
    ck_assert(address_equal(&r->from, &lane));
    ck_assert_int_eq(r->has_to, 1);
    ck_assert_int_eq(address_parse("0x607d658cdf0fc33753a11efaa751aebdbe024d30", &to), 0);
    ck_assert(address_equal(&r->to, &to));
    ck_assert_uint_eq(r->gas_used, 21000);
    ck_assert_int_eq(r->status, 1);
    r = &b.receipts[1]; /* the reverted contract creation */
    ck_assert_uint_eq(r->index, 3);
    chain_hash_format(r->tx_hash, hash);
    ck_assert_str_eq(hash, T3);
    ck_assert_int_eq(r->has_to, 0);
    ck_assert_uint_eq(r->gas_used, 0x1a2b3);
    ck_assert_int_eq(r->status, 0);
    chain_block_clear(&b);
    ck_assert_ptr_null(b.receipts);

    /* no filter: all four; parsing again replaces what b held */
    ck_assert_int_eq(receipts_parse(receipts_json, NULL, NULL, &b, err, sizeof(err)), 0);
    ck_assert_uint_eq(b.n_receipts, 4);
    for (uint32_t i = 0; i < 4; i++)
        ck_assert_uint_eq(b.receipts[i].index, i);
    yajl_val again = parse_json(receipts_json);
    ck_assert_int_eq(chain_block_receipts_parse(again, keep_lane, &asked, &b, err, sizeof(err)), 0);
    ck_assert_uint_eq(b.n_receipts, 2);
    yajl_tree_free(again);
    chain_block_clear(&b);
}
END_TEST

/* A complete list in another order is the same list; kept in block order. */
START_TEST(test_block_receipts_order) {
    chain_block_t b;
    char err[256];
    int asked = 0;
    ck_assert_int_eq(receipts_parse("[" R3 "," R2 "," R0 "," R1 "]", keep_lane, &asked, &b, err,
                                    sizeof(err)),
                     0);
    ck_assert_uint_eq(b.n_receipts, 2);
    ck_assert_uint_eq(b.receipts[0].index, 1);
    ck_assert_uint_eq(b.receipts[1].index, 3);
    chain_block_clear(&b);

    /* an empty block has an empty list */
    yajl_val h = parse_json("{\"hash\":\"" H("1") "\",\"parentHash\":\"" H("2") "\","
                            "\"number\":\"0x0\",\"timestamp\":\"0x0\",\"transactions\":[]}");
    yajl_val r = parse_json("[]");
    ck_assert_int_eq(chain_header_parse(h, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(chain_block_receipts_parse(r, keep_lane, &asked, &b, err, sizeof(err)), 0);
    ck_assert_uint_eq(b.n_receipts, 0);
    ck_assert_ptr_null(b.receipts);
    chain_block_clear(&b);
    yajl_tree_free(h);
    yajl_tree_free(r);
}
END_TEST

/* Anything but the block's whole list of receipts is refused, whoever sent
 * the missing or extra one. */
static int parse_lane_receipts(const char *text, char *err, size_t err_size) {
    chain_block_t b;
    int rc = receipts_parse(text, keep_lane, &(int){0}, &b, err, err_size);
    if (rc != 0) { /* nothing kept from a refused list */
        ck_assert_ptr_null(b.receipts);
        ck_assert_uint_eq(b.n_receipts, 0);
    }
    chain_block_clear(&b);
    return rc;
}

START_TEST(test_block_receipts_incomplete) {
    static const bad_case_t cases[] = {
        {NULL, "[" R0 "," R1 "," R2 "]", "3 for 4 transactions"},
        {NULL, "[" R1 "," R2 "," R3 "]", "3 for 4 transactions"}, /* a skipped foreign one */
        {NULL, "[]", "0 for 4 transactions"},
        {NULL, "[" R0 "," R1 "," R2 "," R3 "," R3 "]", "5 for 4 transactions"},
        {NULL, "[" R0 "," R1 "," R1 "," R3 "]", "transactionIndex 1 (twice)"},
        {NULL, "[" R0 "," R1 "," R2 "," R2 "]", "transactionIndex 2 (twice)"},
        {NULL, "{\"receipts\":[" R0 "," R1 "," R2 "," R3 "]}", "not a JSON array"},
        {NULL, "null", "not a JSON array"},
        {NULL, "[" R0 "," R1 "," R2 ",7]", "not a JSON object"},
        {NULL, "[" R0 "," R1 "," R2 ",\"" T3 "\"]", "not a JSON object"},
    };
    CHECK_INVALID("", cases, parse_lane_receipts);
}
END_TEST

/* One receipt altered (the others stay as recorded): which field is named. */
START_TEST(test_block_receipts_malformed) {
    static const bad_case_t cases[] = {
        /* every receipt, kept or not: what places it */
        {"\"transactionIndex\":\"0x2\"", "\"transactionIndex\":\"0x4\"",
         "transactionIndex 4 (out of range)"},
        {"\"transactionIndex\":\"0x2\"", "\"transactionIndex\":2", "'transactionIndex'"},
        {"\"transactionIndex\":\"0x2\",", "", "'transactionIndex'"},
        {"\"from\":\"" OTHER "\",\"to\":\"0xc0bd", "\"from\":\"0x7099\",\"to\":\"0xc0bd",
         "'from'"},
        {"\"from\":\"" OTHER "\",\"to\":\"0xc0bd", "\"to\":\"0xc0bd", "'from'"},
        {"\"blockHash\":\"" B27C "\",\"blockNumber\":\"0x27c\",\"gasUsed\":\"0x5208\","
         "\"effectiveGasPrice\":\"0x3b9aca07\",\"from\":\"" OTHER "\",\"to\":\"0xc0bd",
         "\"blockHash\":\"" H("3") "\",\"blockNumber\":\"0x27c\",\"gasUsed\":\"0x5208\","
         "\"effectiveGasPrice\":\"0x3b9aca07\",\"from\":\"" OTHER "\",\"to\":\"0xc0bd",
         "receipt 2 is from another block"},
        {"\"blockNumber\":\"0x27c\",\"gasUsed\":\"0x5208\",\"effectiveGasPrice\":\"0x3b9aca07\","
         "\"from\":\"" OTHER "\",\"to\":\"0xc0bd",
         "\"blockNumber\":\"0x27d\",\"gasUsed\":\"0x5208\",\"effectiveGasPrice\":\"0x3b9aca07\","
         "\"from\":\"" OTHER "\",\"to\":\"0xc0bd",
         "receipt 2 is from another block"},
        {"\"blockHash\":\"" B27C "\",\"blockNumber\":\"0x27c\",\"gasUsed\":\"0x5208\","
         "\"effectiveGasPrice\":\"0x3b9aca07\",\"from\":\"" OTHER "\",\"to\":\"0xc0bd",
         "\"blockHash\":7,\"blockNumber\":\"0x27c\",\"gasUsed\":\"0x5208\","
         "\"effectiveGasPrice\":\"0x3b9aca07\",\"from\":\"" OTHER "\",\"to\":\"0xc0bd",
         "'blockHash'"},
        /* a kept (lane) receipt: every field */
        {"\"status\":\"0x0\"", "\"status\":\"0x2\"", "'status'"},
        {"\"gasUsed\":\"0x1a2b3\"", "\"gasUsed\":\"\"", "'gasUsed'"},
        {"\"transactionHash\":\"" T3 "\"", "\"transactionHash\":null", "'transactionHash'"},
        {"\"from\":\"" LANE "\",\"to\":null", "\"from\":\"" LANE "\",\"to\":false", "'to'"},
    };
    CHECK_INVALID(receipts_json, cases, parse_lane_receipts);
}
END_TEST

START_TEST(test_tx_lookup) {
    yajl_val v = parse_json(tx_json);
    chain_tx_t tx;
    uint8_t block_hash[CHAIN_HASH_LEN];
    uint64_t block_number = 0;
    char err[256], hash[CHAIN_HASH_STR_LEN + 1];
    eth_address_t lane, to;
    ck_assert_int_eq(chain_tx_parse(v, &tx, block_hash, &block_number, err, sizeof(err)), 0);
    chain_hash_format(tx.hash, hash);
    ck_assert_str_eq(hash, T1);
    ck_assert_int_eq(address_parse(LANE, &lane), 0);
    ck_assert(address_equal(&tx.from, &lane));
    ck_assert_uint_eq(tx.nonce, 0x4d);
    ck_assert_int_eq(tx.has_to, 1);
    ck_assert_int_eq(address_parse("0x607d658cdf0fc33753a11efaa751aebdbe024d30", &to), 0);
    ck_assert(address_equal(&tx.to, &to));
    ck_assert_uint_eq(tx.value.w[0], 0xe8d4a51000ull);
    ck_assert_ptr_null(tx.input);
    ck_assert_uint_eq(tx.index, 1);
    ck_assert_uint_eq(block_number, 0x27c);
    chain_hash_format(block_hash, hash);
    ck_assert_str_eq(hash, B27C);
    chain_tx_clear(&tx);
    yajl_tree_free(v);

    /* with calldata: owned by tx until chain_tx_clear */
    char *text = replace(tx_json, "\"input\":\"0x\"", "\"input\":\"0xa9059cbb00\"");
    v = parse_json(text);
    ck_assert_int_eq(chain_tx_parse(v, &tx, block_hash, &block_number, err, sizeof(err)), 0);
    ck_assert_uint_eq(tx.input_len, 5);
    ck_assert_mem_eq(tx.input, "\xa9\x05\x9c\xbb\x00", 5);
    chain_tx_clear(&tx);
    ck_assert_ptr_null(tx.input);
    chain_tx_clear(&tx); /* twice is harmless */
    yajl_tree_free(v);
    free(text);

    /* pending: known to the node, in no block */
    text = replace(tx_json, "\"blockHash\":\"" B27C "\",\"blockNumber\":\"0x27c\","
                            "\"transactionIndex\":\"0x1\"",
                   "\"blockHash\":null,\"blockNumber\":null,\"transactionIndex\":null");
    v = parse_json(text);
    ck_assert_int_eq(chain_tx_parse(v, &tx, block_hash, &block_number, err, sizeof(err)),
                     TXL_ENOTFOUND);
    chain_tx_clear(&tx);
    yajl_tree_free(v);
    free(text);
}
END_TEST

static int parse_tx(const char *text, char *err, size_t err_size) {
    yajl_val v = parse_json(text);
    chain_tx_t tx;
    uint8_t block_hash[CHAIN_HASH_LEN];
    uint64_t block_number;
    int rc = chain_tx_parse(v, &tx, block_hash, &block_number, err, err_size);
    chain_tx_clear(&tx);
    yajl_tree_free(v);
    return rc;
}

START_TEST(test_tx_lookup_malformed) {
    static const bad_case_t cases[] = {
        {"\"from\":\"" LANE "\"", "\"from\":null", "'from'"},
        {"\"nonce\":\"0x4d\",", "", "'nonce'"},
        {"\"nonce\":\"0x4d\"", "\"nonce\":77", "'nonce'"},
        {"\"hash\":\"" T1 "\"", "\"hash\":\"0x4eae\"", "'hash'"},
        {"\"value\":\"0xe8d4a51000\"", "\"value\":\"1000000000000\"", "'value'"},
        {"\"input\":\"0x\"", "\"input\":\"0xabc\"", "'input'"},
        {"\"to\":\"0x607d", "\"to\":[],\"x\":\"0x607d", "'to'"},
        {"\"blockHash\":\"" B27C "\",", "", "'blockHash'"},
        {"\"blockHash\":\"" B27C "\"", "\"blockHash\":\"0x36a0\"", "'blockHash'"},
        {"\"blockNumber\":\"0x27c\"", "\"blockNumber\":null", "'blockNumber'"},
        {"\"transactionIndex\":\"0x1\"", "\"transactionIndex\":\"one\"", "'transactionIndex'"},
        {NULL, "\"" T1 "\"", "not a JSON object"},
    };
    CHECK_INVALID(tx_json, cases, parse_tx);
}
END_TEST

START_TEST(test_method_unsupported) {
    /* the answers of nodes and gateways without the method */
    ck_assert_int_eq(chain_method_unsupported(-32601, "Method not found"), 1); /* anvil, besu */
    ck_assert_int_eq(chain_method_unsupported(-32601, NULL), 1);
    ck_assert_int_eq(chain_method_unsupported(
                         -32601, "the method eth_getBlockReceipts does not exist/is not available"),
                     1); /* geth */
    ck_assert_int_eq(chain_method_unsupported(
                         -32000, "The method eth_getBlockReceipts does not exist/is not available"),
                     1);
    ck_assert_int_eq(chain_method_unsupported(-32000, "method not found"), 1);
    ck_assert_int_eq(chain_method_unsupported(-32004, "Method eth_getBlockReceipts is not supported"),
                     1);
    ck_assert_int_eq(chain_method_unsupported(-32600, "Unsupported method: eth_getBlockReceipts"),
                     1);
    ck_assert_int_eq(chain_method_unsupported(-32603, "method eth_getBlockReceipts not available "
                                                      "on this plan"),
                     1);
    /* errors that say something else: the call is tried again, the mode kept */
    ck_assert_int_eq(chain_method_unsupported(-32000, "header not found"), 0);
    ck_assert_int_eq(chain_method_unsupported(-32000, "block not found"), 0);
    ck_assert_int_eq(chain_method_unsupported(-32602, "invalid argument 0: hex string without 0x "
                                                      "prefix"),
                     0);
    ck_assert_int_eq(chain_method_unsupported(-32005, "request rate limit exceeded"), 0);
    ck_assert_int_eq(chain_method_unsupported(-32000, "resource not found"), 0);
    ck_assert_int_eq(chain_method_unsupported(-32603, "internal error"), 0);
    ck_assert_int_eq(chain_method_unsupported(0, NULL), 0);
    ck_assert_int_eq(chain_method_unsupported(-32000, ""), 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("chain");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_block_all);
    tcase_add_test(tc, test_block_filter);
    tcase_add_test(tc, test_block_empty);
    tcase_add_test(tc, test_block_malformed);
    tcase_add_test(tc, test_block_hashes_only);
    tcase_add_test(tc, test_receipt);
    tcase_add_test(tc, test_receipt_malformed);
    tcase_add_test(tc, test_hash_and_params);
    tcase_add_test(tc, test_header);
    tcase_add_test(tc, test_header_vs_full);
    tcase_add_test(tc, test_header_malformed);
    tcase_add_test(tc, test_block_receipts);
    tcase_add_test(tc, test_block_receipts_order);
    tcase_add_test(tc, test_block_receipts_incomplete);
    tcase_add_test(tc, test_block_receipts_malformed);
    tcase_add_test(tc, test_tx_lookup);
    tcase_add_test(tc, test_tx_lookup_malformed);
    tcase_add_test(tc, test_method_unsupported);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
