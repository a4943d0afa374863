/*
 * test_chain.c - unit tests of chain.h: blocks with full transactions and
 * receipts as anvil answers them (recorded answers, trimmed), the sender
 * filter, and the strictness every malformed field meets.
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
START_TEST(test_block_malformed) {
    static const struct {
        const char *from, *to, *field;
    } cases[] = {
        {"\"number\":\"0x1a5\"", "\"number\":\"421\"", "number"},
        {"\"number\":\"0x1a5\"", "\"number\":421", "number"},
        {"\"number\":\"0x1a5\"", "\"number\":\"0x10000000000000000\"", "number"},
        {"\"hash\":\"0xfd2f", "\"hash\":\"0xfd2", "hash"},
        {"\"parentHash\":\"0x38", "\"parentHash\":\"0xzz", "parentHash"},
        {"\"timestamp\":\"0x6b017813\",", "", "timestamp"},
        {"\"from\":\"" LANE "\"}", "\"from\":\"0x8a62\"}", "from"},
        {"\"nonce\":\"0x1\"", "\"nonce\":\"1\"", "nonce"},
        {"\"value\":\"0x5\"", "\"value\":\"0x1" H16("0") H16("0") H16("0") H16("0") "\"", "value"},
        {"\"input\":\"0x\"", "\"input\":\"0x0\"", "input"},
        {"\"to\":\"0xd0544e164e6a2fb371b950bb8d19997174656df1\"", "\"to\":7", "to"},
        {"\"hash\":\"0xd0d8", "\"hash\":\"0xd0d", "hash"},
        {"\"transactions\":[", "\"transactions\":{\"x\":[", "transactions"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = replace(block_json, cases[i].from, cases[i].to);
        if (strcmp(cases[i].field, "transactions") == 0) {
            char *fixed = replace(text, "]}", "]}}");
            free(text);
            text = fixed;
        }
        yajl_val v = parse_json(text);
        chain_block_t b;
        err[0] = '\0';
        ck_assert_int_eq(chain_block_parse(v, NULL, NULL, &b, err, sizeof(err)), TXL_EINVAL);
        char want[64];
        snprintf(want, sizeof(want), "'%s'", cases[i].field);
        ck_assert_msg(strstr(err, want) != NULL, "case %zu: '%s' does not name %s", i, err, want);
        chain_block_clear(&b);
        yajl_tree_free(v);
        free(text);
    }
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

START_TEST(test_receipt_malformed) {
    static const struct {
        const char *from, *to, *field;
    } cases[] = {
        {"\"status\":\"0x1\"", "\"status\":\"0x2\"", "status"},
        {"\"status\":\"0x1\"", "\"root\":\"0x1\"", "status"}, /* pre-Byzantium */
        {"\"gasUsed\":\"0x5208\"", "\"gasUsed\":null", "gasUsed"},
        {"\"blockNumber\":\"0x1a5\"", "\"blockNumber\":\"\"", "blockNumber"},
        {"\"blockHash\":\"0xfd", "\"blockHash\":\"fd", "blockHash"},
        {"\"transactionHash\":\"0xd0d8", "\"transactionHash\":\"0xd0d8d0d8", "transactionHash"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = replace(receipt_json, cases[i].from, cases[i].to);
        yajl_val v = parse_json(text);
        chain_receipt_t r;
        ck_assert_int_eq(chain_receipt_parse(v, &r, err, sizeof(err)), TXL_EINVAL);
        ck_assert_msg(strstr(err, cases[i].field) != NULL, "case %zu: %s", i, err);
        yajl_tree_free(v);
        free(text);
    }
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
    chain_block_params(0, params);
    ck_assert_str_eq(params, "[\"0x0\",true]");
    chain_block_params(UINT64_MAX, params);
    ck_assert_str_eq(params, "[\"0xffffffffffffffff\",true]");
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
    suite_add_tcase(s, tc);
    return unit_run(s);
}
