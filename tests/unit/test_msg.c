/*
 * test_msg.c - the inter-program messages: allocated and signed round trips
 * at the limits of every field, strict decoding (each required field
 * missing, of the wrong type or out of range is rejected with errstr naming
 * it), status events, and DLQ entries (truncation on a UTF-8 boundary,
 * raw_hex for bytes that are not UTF-8; yajl must read every entry).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "txlane/msg.h"
#include "txlane/tx.h"
#include "unit_test.h"

#define FROM "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
#define TO "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"

static yajl_val parse_text(const char *text) {
    char err[256];
    yajl_val v = yajl_tree_parse(text, err, sizeof(err));
    ck_assert_msg(v != NULL, "not JSON (%s): %.300s", err, text);
    return v;
}

static yajl_val member(yajl_val obj, const char *key) {
    const char *path[] = {key, NULL};
    return yajl_tree_get(obj, path, yajl_t_any);
}

/* The string member key of obj (fails the test if it is not a string). */
static const char *str_member(yajl_val obj, const char *key) {
    yajl_val v = member(obj, key);
    ck_assert_msg(v != NULL && YAJL_IS_STRING(v), "%s is not a string", key);
    const char *s = YAJL_GET_STRING(v);
    ck_assert_ptr_nonnull(s);
    return s;
}

static void sample_allocated(msg_allocated_t *m) {
    memset(m, 0, sizeof(*m));
    m->tx_id = 42;
    strcpy(m->request_id, "order-8812");
    m->kind = TX_KIND_PAYOUT;
    m->lane = 7;
    ck_assert_int_eq(address_parse(FROM, &m->from), 0);
    m->nonce = 19;
    ck_assert_int_eq(address_parse(TO, &m->to), 0);
    ck_assert_int_eq(uint256_parse_dec("1000000000000000000", &m->value), 0);
    m->data_len = 4;
    m->data = malloc(4);
    memcpy(m->data, "\xa9\x05\x9c\xbb", 4);
    m->gas_limit = 65000;
    ck_assert_int_eq(uint256_parse_dec("30000000000", &m->fees.max_fee_per_gas), 0);
    ck_assert_int_eq(uint256_parse_dec("1500000000", &m->fees.max_priority_fee_per_gas), 0);
    m->chain_id = 31337;
    m->attempt = 2;
    m->created_ms = 1700000000123;
}

static void assert_allocated_eq(const msg_allocated_t *a, const msg_allocated_t *b) {
    ck_assert_int_eq(a->tx_id, b->tx_id);
    ck_assert_str_eq(a->request_id, b->request_id);
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_uint_eq(a->lane, b->lane);
    ck_assert(address_equal(&a->from, &b->from));
    ck_assert_uint_eq(a->nonce, b->nonce);
    ck_assert(address_equal(&a->to, &b->to));
    ck_assert_int_eq(uint256_cmp(&a->value, &b->value), 0);
    ck_assert_uint_eq(a->data_len, b->data_len);
    if (a->data_len > 0)
        ck_assert_mem_eq(a->data, b->data, a->data_len);
    else
        ck_assert_ptr_null(b->data);
    ck_assert_uint_eq(a->gas_limit, b->gas_limit);
    ck_assert_int_eq(uint256_cmp(&a->fees.max_fee_per_gas, &b->fees.max_fee_per_gas), 0);
    ck_assert_int_eq(
        uint256_cmp(&a->fees.max_priority_fee_per_gas, &b->fees.max_priority_fee_per_gas), 0);
    ck_assert_uint_eq(a->chain_id, b->chain_id);
    ck_assert_uint_eq(a->attempt, b->attempt);
    ck_assert_int_eq(a->created_ms, b->created_ms);
}

START_TEST(test_kind_names) {
    tx_kind_t k;
    const char *names[] = {"payout", "cancel", "topup", "sweep"};
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(tx_kind_name((tx_kind_t)i), names[i]);
        ck_assert_int_eq(tx_kind_parse(names[i], &k), 0);
        ck_assert_int_eq(k, i);
    }
    ck_assert_int_eq(tx_kind_parse("Payout", &k), TXL_EINVAL);
    ck_assert_int_eq(tx_kind_parse("", &k), TXL_EINVAL);
    ck_assert_str_eq(tx_kind_name((tx_kind_t)99), "unknown");
}
END_TEST

START_TEST(test_allocated_text) {
    msg_allocated_t m;
    sample_allocated(&m);
    jbuf_t j;
    jbuf_init(&j);
    msg_allocated_encode(&m, &j);
    ck_assert_str_eq(j.buf, "{\"tx_id\":42,\"request_id\":\"order-8812\",\"kind\":\"payout\","
                            "\"lane\":7,\"from\":\"" FROM "\",\"nonce\":19,\"to\":\"" TO "\","
                            "\"value_wei\":\"1000000000000000000\",\"data\":\"0xa9059cbb\","
                            "\"gas_limit\":65000,\"max_fee_per_gas\":\"30000000000\","
                            "\"max_priority_fee_per_gas\":\"1500000000\",\"chain_id\":31337,"
                            "\"attempt\":2,\"created_ms\":1700000000123}");
    msg_allocated_clear(&m);
    jbuf_free(&j);
}
END_TEST

START_TEST(test_allocated_round_trip) {
    msg_allocated_t m, back;
    char err[256];
    jbuf_t j;
    jbuf_init(&j);

    sample_allocated(&m);
    msg_allocated_encode(&m, &j);
    ck_assert_int_eq(msg_allocated_decode(j.buf, j.len, &back, err, sizeof(err)), 0);
    assert_allocated_eq(&m, &back);
    msg_allocated_clear(&back);
    msg_allocated_clear(&m);

    /* limits: every counter at its maximum, no request id, empty data */
    sample_allocated(&m);
    msg_allocated_clear(&m);
    m.request_id[0] = '\0';
    m.kind = TX_KIND_CANCEL;
    m.tx_id = INT64_MAX;
    m.lane = 0x7fffffff;
    m.nonce = UINT64_MAX;
    m.gas_limit = UINT64_MAX;
    m.chain_id = UINT64_MAX;
    m.attempt = UINT32_MAX;
    m.created_ms = INT64_MAX;
    memset(m.value.w, 0xff, sizeof(m.value.w));
    m.fees.max_fee_per_gas = m.value;
    jbuf_reset(&j);
    msg_allocated_encode(&m, &j);
    ck_assert_ptr_null(strstr(j.buf, "request_id"));
    ck_assert_ptr_nonnull(strstr(j.buf, "\"data\":\"0x\""));
    ck_assert_int_eq(msg_allocated_decode(j.buf, j.len, &back, err, sizeof(err)), 0);
    assert_allocated_eq(&m, &back);
    msg_allocated_clear(&back);

    /* a 128-character request id survives */
    memset(m.request_id, 'r', PAYOUT_REQUEST_ID_MAX);
    m.request_id[PAYOUT_REQUEST_ID_MAX] = '\0';
    jbuf_reset(&j);
    msg_allocated_encode(&m, &j);
    ck_assert_int_eq(msg_allocated_decode(j.buf, j.len, &back, err, sizeof(err)), 0);
    assert_allocated_eq(&m, &back);
    msg_allocated_clear(&back);
    jbuf_free(&j);
}
END_TEST

/* The members of a valid allocated message as key/value text pairs. */
static const char *const alloc_members[][2] = {
    {"tx_id", "42"},
    {"request_id", "\"order-1\""},
    {"kind", "\"payout\""},
    {"lane", "7"},
    {"from", "\"" FROM "\""},
    {"nonce", "19"},
    {"to", "\"" TO "\""},
    {"value_wei", "\"1000\""},
    {"data", "\"0x\""},
    {"gas_limit", "21000"},
    {"max_fee_per_gas", "\"30000000000\""},
    {"max_priority_fee_per_gas", "\"1500000000\""},
    {"chain_id", "31337"},
    {"attempt", "0"},
    {"created_ms", "1700000000123"},
};
#define N_ALLOC (sizeof(alloc_members) / sizeof(alloc_members[0]))

static const char *const signed_members[][2] = {
    {"tx_id", "42"},
    {"request_id", "\"order-1\""},
    {"kind", "\"payout\""},
    {"lane", "7"},
    {"from", "\"" FROM "\""},
    {"nonce", "19"},
    {"attempt", "0"},
    {"hash", "\"0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""},
    {"raw", "\"0x02f86c\""},
    {"max_fee_per_gas", "\"30000000000\""},
    {"max_priority_fee_per_gas", "\"1500000000\""},
    {"created_ms", "1700000000123"},
};
#define N_SIGNED (sizeof(signed_members) / sizeof(signed_members[0]))

/* Builds a message from members, with key's value replaced by value (NULL:
 * key left out). The caller frees the result. */
static char *build(const char *const members[][2], size_t n, const char *key, const char *value) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_obj_begin(&j);
    for (size_t i = 0; i < n; i++) {
        const char *v = members[i][1];
        if (key != NULL && strcmp(members[i][0], key) == 0) {
            if (value == NULL)
                continue;
            v = value;
        }
        jbuf_key(&j, members[i][0]);
        jbuf_raw(&j, v, strlen(v));
    }
    jbuf_obj_end(&j);
    return j.buf;
}

typedef struct {
    const char *field;
    const char *value; /* NULL: missing */
} bad_case_t;

static const bad_case_t alloc_bad[] = {
    {"tx_id", NULL},
    {"tx_id", "\"42\""},
    {"tx_id", "-1"},
    {"tx_id", "1.5"},
    {"tx_id", "9223372036854775808"},
    {"request_id", "\"\""},
    {"request_id", "7"},
    {"request_id", "\"a\\u0001b\""},
    {"request_id", "\"caf\xc3\xa9\""},
    {"request_id", "\"rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
                   "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\""},
    {"kind", NULL},
    {"kind", "1"},
    {"kind", "\"refund\""},
    {"lane", NULL},
    {"lane", "\"7\""},
    {"lane", "-1"},
    {"lane", "2147483648"},
    {"lane", "7e0"},
    {"from", NULL},
    {"from", "5"},
    {"from", "\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA\""},
    {"from", "\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\""}, /* checksum */
    {"from", "\"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00\""},
    {"nonce", NULL},
    {"nonce", "\"19\""},
    {"nonce", "-19"},
    {"nonce", "18446744073709551616"},
    {"nonce", "null"},
    {"to", NULL},
    {"to", "null"},
    {"to", "\"0xzz5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA\""},
    {"value_wei", NULL},
    {"value_wei", "1000"},
    {"value_wei", "\"\""},
    {"value_wei", "\"-1\""},
    {"value_wei", "\"1e18\""},
    {"value_wei", "\"0x10\""},
    {"value_wei", "\"11579208923731619542357098500868790785326998466564056403945758400791"
                  "3129639936\""}, /* 2^256 */
    {"data", NULL},
    {"data", "12"},
    {"data", "\"abcd\""},
    {"data", "\"0xabc\""},
    {"data", "\"0xzz\""},
    {"data", "\"0Xab\""},
    {"gas_limit", NULL},
    {"gas_limit", "\"21000\""},
    {"gas_limit", "-21000"},
    {"max_fee_per_gas", NULL},
    {"max_fee_per_gas", "30000000000"},
    {"max_fee_per_gas", "\"0x10\""},
    {"max_priority_fee_per_gas", NULL},
    {"max_priority_fee_per_gas", "true"},
    {"chain_id", NULL},
    {"chain_id", "0"},
    {"chain_id", "\"1\""},
    {"chain_id", "18446744073709551616"},
    {"attempt", NULL},
    {"attempt", "4294967296"},
    {"attempt", "[]"},
    {"created_ms", NULL},
    {"created_ms", "-5"},
    {"created_ms", "{}"},
};

START_TEST(test_allocated_valid_base) {
    char *text = build(alloc_members, N_ALLOC, NULL, NULL);
    msg_allocated_t m;
    char err[256];
    ck_assert_int_eq(msg_allocated_decode(text, strlen(text), &m, err, sizeof(err)), 0);
    ck_assert_str_eq(m.request_id, "order-1");
    ck_assert_ptr_null(m.data);
    ck_assert_uint_eq(m.data_len, 0);
    msg_allocated_clear(&m);
    free(text);
    /* request_id absent or null: a tx without a request */
    const char *optional[] = {NULL, "null"};
    for (int i = 0; i < 2; i++) {
        text = build(alloc_members, N_ALLOC, "request_id", optional[i]);
        ck_assert_int_eq(msg_allocated_decode(text, strlen(text), &m, err, sizeof(err)), 0);
        ck_assert_str_eq(m.request_id, "");
        msg_allocated_clear(&m);
        free(text);
    }
}
END_TEST

START_TEST(test_allocated_bad_field) {
    const bad_case_t *c = &alloc_bad[_i];
    char *text = build(alloc_members, N_ALLOC, c->field, c->value);
    msg_allocated_t m;
    char err[256];
    int rc = msg_allocated_decode(text, strlen(text), &m, err, sizeof(err));
    ck_assert_msg(rc == TXL_EINVAL, "%s=%s accepted: %s", c->field, c->value ? c->value : "-",
                  text);
    ck_assert_msg(strstr(err, c->field) == err, "%s=%s: errstr '%s' does not name the field",
                  c->field, c->value ? c->value : "(missing)", err);
    if (c->value == NULL)
        ck_assert_ptr_nonnull(strstr(err, "missing"));
    msg_allocated_clear(&m);
    ck_assert_ptr_null(m.data);
    free(text);
}
END_TEST

START_TEST(test_allocated_not_a_message) {
    const char *cases[][2] = {
        {"", "invalid JSON"},
        {"{\"tx_id\":", "invalid JSON"},
        {"[1,2]", "JSON object"},
        {"\"x\"", "JSON object"},
        {"null", "JSON object"},
        {"{\"nonce\":1,\"nonce\":2}", "nonce appears twice"},
        {"{\"tx_id\":1,\"x\":\"\xff\"}", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        msg_allocated_t m;
        char err[256];
        ck_assert_int_eq(msg_allocated_decode(cases[i][0], strlen(cases[i][0]), &m, err,
                                              sizeof(err)),
                         TXL_EINVAL);
        ck_assert_msg(strstr(err, cases[i][1]) != NULL, "%s: %s", cases[i][0], err);
        msg_allocated_clear(&m);
    }
    /* a NUL byte inside the message, and a length shorter than the text */
    char *text = build(alloc_members, N_ALLOC, NULL, NULL);
    size_t len = strlen(text);
    msg_allocated_t m;
    char err[256];
    text[10] = '\0';
    ck_assert_int_eq(msg_allocated_decode(text, len, &m, err, sizeof(err)), TXL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "NUL"));
    msg_allocated_clear(&m);
    free(text);
    text = build(alloc_members, N_ALLOC, NULL, NULL);
    ck_assert_int_eq(msg_allocated_decode(text, strlen(text) - 1, &m, err, sizeof(err)),
                     TXL_EINVAL);
    msg_allocated_clear(&m);
    /* errstr may be NULL */
    ck_assert_int_eq(msg_allocated_decode("[]", 2, &m, NULL, 0), TXL_EINVAL);
    msg_allocated_clear(&m);
    free(text);
}
END_TEST

START_TEST(test_allocated_unknown_fields_ignored) {
    char *base = build(alloc_members, N_ALLOC, NULL, NULL);
    size_t n = strlen(base);
    char *text = malloc(n + 64);
    memcpy(text, base, n - 1);
    strcpy(text + n - 1, ",\"future\":{\"a\":[1,2]},\"token\":null}");
    msg_allocated_t m;
    char err[256];
    ck_assert_int_eq(msg_allocated_decode(text, strlen(text), &m, err, sizeof(err)), 0);
    ck_assert_uint_eq(m.nonce, 19);
    msg_allocated_clear(&m);
    free(text);
    free(base);
}
END_TEST

START_TEST(test_allocated_data_limit) {
    /* TX_DATA_MAX bytes are accepted, one more is not */
    size_t n = TX_DATA_MAX + 1;
    char *hex = malloc(2 * n + 5);
    hex[0] = '"';
    hex[1] = '0';
    hex[2] = 'x';
    memset(hex + 3, 'a', 2 * n);
    strcpy(hex + 3 + 2 * n, "\"");
    char *text = build(alloc_members, N_ALLOC, "data", hex);
    msg_allocated_t m;
    char err[256];
    ck_assert_int_eq(msg_allocated_decode(text, strlen(text), &m, err, sizeof(err)), TXL_EINVAL);
    ck_assert_msg(strncmp(err, "data", 4) == 0, "%s", err);
    msg_allocated_clear(&m);
    free(text);
    strcpy(hex + 3 + 2 * (n - 1), "\"");
    text = build(alloc_members, N_ALLOC, "data", hex);
    ck_assert_int_eq(msg_allocated_decode(text, strlen(text), &m, err, sizeof(err)), 0);
    ck_assert_uint_eq(m.data_len, TX_DATA_MAX);
    ck_assert_int_eq(m.data[TX_DATA_MAX - 1], 0xaa);
    msg_allocated_clear(&m);
    free(text);
    free(hex);
}
END_TEST

static void sample_signed(msg_signed_t *m) {
    memset(m, 0, sizeof(*m));
    m->tx_id = 42;
    strcpy(m->request_id, "order-8812");
    m->kind = TX_KIND_TOPUP;
    m->lane = 7;
    ck_assert_int_eq(address_parse(FROM, &m->from), 0);
    m->nonce = 19;
    m->attempt = 1;
    for (int i = 0; i < 32; i++)
        m->hash[i] = (uint8_t)(0xf0 + i);
    m->raw_len = 5;
    m->raw = malloc(5);
    memcpy(m->raw, "\x02\xf8\x6c\x00\xff", 5);
    ck_assert_int_eq(uint256_parse_dec("30000000000", &m->fees.max_fee_per_gas), 0);
    ck_assert_int_eq(uint256_parse_dec("1500000000", &m->fees.max_priority_fee_per_gas), 0);
    m->created_ms = 1700000000123;
}

START_TEST(test_signed_round_trip) {
    msg_signed_t m, back;
    char err[256];
    jbuf_t j;
    jbuf_init(&j);
    sample_signed(&m);
    msg_signed_encode(&m, &j);
    ck_assert_ptr_nonnull(strstr(j.buf, "\"raw\":\"0x02f86c00ff\""));
    ck_assert_ptr_nonnull(
        strstr(j.buf, "\"hash\":\"0xf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
                      "000102030405060708090a0b0c0d0e0f\""));
    ck_assert_ptr_nonnull(strstr(j.buf, "\"kind\":\"topup\""));
    ck_assert_int_eq(msg_signed_decode(j.buf, j.len, &back, err, sizeof(err)), 0);
    ck_assert_int_eq(back.tx_id, 42);
    ck_assert_str_eq(back.request_id, "order-8812");
    ck_assert_int_eq(back.kind, TX_KIND_TOPUP);
    ck_assert_uint_eq(back.lane, 7);
    ck_assert(address_equal(&back.from, &m.from));
    ck_assert_uint_eq(back.nonce, 19);
    ck_assert_uint_eq(back.attempt, 1);
    ck_assert_mem_eq(back.hash, m.hash, 32);
    ck_assert_uint_eq(back.raw_len, 5);
    ck_assert_mem_eq(back.raw, m.raw, 5);
    ck_assert_int_eq(uint256_cmp(&back.fees.max_fee_per_gas, &m.fees.max_fee_per_gas), 0);
    ck_assert_int_eq(
        uint256_cmp(&back.fees.max_priority_fee_per_gas, &m.fees.max_priority_fee_per_gas), 0);
    ck_assert_int_eq(back.created_ms, 1700000000123);
    msg_signed_clear(&back);
    ck_assert_ptr_null(back.raw);
    msg_signed_clear(&back); /* twice is harmless */
    msg_signed_clear(&m);
    jbuf_free(&j);
}
END_TEST

static const bad_case_t signed_bad[] = {
    {"tx_id", NULL},
    {"kind", "\"transfer\""},
    {"lane", "4294967296"},
    {"from", "\"0x00\""},
    {"nonce", "1.0"},
    {"attempt", "-1"},
    {"hash", NULL},
    {"hash", "\"0x0011\""},
    {"hash", "\"0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\""},
    {"hash", "\"0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg\""},
    {"hash", "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""},
    {"raw", NULL},
    {"raw", "\"0x\""},
    {"raw", "\"0x02f\""},
    {"raw", "\"0x02fz\""},
    {"raw", "2"},
    {"max_fee_per_gas", NULL},
    {"max_priority_fee_per_gas", "\"1.5\""},
    {"created_ms", NULL},
};

START_TEST(test_signed_bad_field) {
    const bad_case_t *c = &signed_bad[_i];
    char *text = build(signed_members, N_SIGNED, c->field, c->value);
    msg_signed_t m;
    char err[256];
    int rc = msg_signed_decode(text, strlen(text), &m, err, sizeof(err));
    ck_assert_msg(rc == TXL_EINVAL, "%s=%s accepted", c->field, c->value ? c->value : "-");
    ck_assert_msg(strstr(err, c->field) == err, "%s: errstr '%s' does not name the field",
                  c->field, err);
    msg_signed_clear(&m);
    free(text);
}
END_TEST

START_TEST(test_signed_valid_base) {
    char *text = build(signed_members, N_SIGNED, NULL, NULL);
    msg_signed_t m;
    char err[256];
    ck_assert_int_eq(msg_signed_decode(text, strlen(text), &m, err, sizeof(err)), 0);
    ck_assert_uint_eq(m.raw_len, 3);
    ck_assert_int_eq(m.hash[31], 0xff);
    msg_signed_clear(&m);
    free(text);
}
END_TEST

START_TEST(test_status) {
    jbuf_t j;
    jbuf_init(&j);
    msg_status_t s = {.request_id = "order-\"1\"",
                      .tx_id = 42,
                      .state = "confirmed",
                      .lane = 7,
                      .nonce = 0,
                      .attempt = 1,
                      .tx_hash = "0xabcd",
                      .block_number = 1234,
                      .receipt_status = 1,
                      .reason = "ok",
                      .metadata = "{\"order\":[1,\"x\"]}",
                      .program = "watcher"};
    msg_status_encode(&s, 1700000000999, &j);
    ck_assert_str_eq(j.buf, "{\"request_id\":\"order-\\\"1\\\"\",\"tx_id\":42,"
                            "\"state\":\"confirmed\","
                            "\"lane\":7,\"nonce\":0,\"attempt\":1,\"tx_hash\":\"0xabcd\","
                            "\"block_number\":1234,\"receipt_status\":1,\"reason\":\"ok\","
                            "\"metadata\":{\"order\":[1,\"x\"]},\"program\":\"watcher\","
                            "\"ts_ms\":1700000000999}");
    yajl_tree_free(parse_text(j.buf));

    msg_status_t none = {.request_id = NULL,
                         .tx_id = -1,
                         .state = "rejected",
                         .lane = -1,
                         .nonce = -1,
                         .attempt = -1,
                         .block_number = -1,
                         .receipt_status = -1,
                         .program = "signer"};
    jbuf_reset(&j);
    msg_status_encode(&none, 5, &j);
    ck_assert_str_eq(j.buf, "{\"state\":\"rejected\",\"program\":\"signer\",\"ts_ms\":5}");
    jbuf_free(&j);
}
END_TEST

/* Encodes a DLQ entry of raw[0..n), parses it back and returns the tree. */
static yajl_val dlq(const void *raw, size_t n, jbuf_t *j) {
    jbuf_reset(j);
    msg_dlq_encode("bad_message", "nonce is missing", raw, n, "txlane.allocated", 3, 1234,
                   "signer", 1700000000000, j);
    return parse_text(j->buf);
}

static int is_true(yajl_val v) {
    return v != NULL && YAJL_IS_TRUE(v);
}

START_TEST(test_dlq_short_text) {
    jbuf_t j;
    jbuf_init(&j);
    const char raw[] = "{\"a\":\"q\\\"\n\t\x01 caf\xc3\xa9\"";
    yajl_val v = dlq(raw, sizeof(raw) - 1, &j);
    ck_assert_str_eq(str_member(v, "reason"), "bad_message");
    ck_assert_str_eq(str_member(v, "detail"), "nonce is missing");
    ck_assert_str_eq(str_member(v, "raw"), raw);
    ck_assert_ptr_null(member(v, "raw_hex"));
    ck_assert_int_eq(YAJL_GET_INTEGER(member(v, "raw_len")), (long long)sizeof(raw) - 1);
    ck_assert(YAJL_IS_FALSE(member(v, "truncated")));
    ck_assert_str_eq(str_member(v, "topic"), "txlane.allocated");
    ck_assert_int_eq(YAJL_GET_INTEGER(member(v, "partition")), 3);
    ck_assert_int_eq(YAJL_GET_INTEGER(member(v, "offset")), 1234);
    ck_assert_str_eq(str_member(v, "program"), "signer");
    ck_assert_int_eq(YAJL_GET_INTEGER(member(v, "ts_ms")), 1700000000000);
    yajl_tree_free(v);

    /* empty message; optional members left out */
    jbuf_reset(&j);
    msg_dlq_encode("empty", NULL, "", 0, NULL, -1, -1, NULL, 1, &j);
    ck_assert_str_eq(j.buf, "{\"reason\":\"empty\",\"raw\":\"\",\"raw_len\":0,\"truncated\":false,"
                            "\"ts_ms\":1}");
    /* a NUL byte is text, escaped */
    v = dlq("a\0b", 3, &j);
    ck_assert_ptr_nonnull(strstr(j.buf, "\"raw\":\"a\\u0000b\""));
    yajl_tree_free(v);
    jbuf_free(&j);
}
END_TEST

START_TEST(test_dlq_truncated_ascii) {
    jbuf_t j;
    jbuf_init(&j);
    size_t n = MSG_DLQ_RAW_MAX + 1000;
    char *raw = malloc(n);
    memset(raw, 'x', n);
    raw[MSG_DLQ_RAW_MAX - 1] = '"';
    yajl_val v = dlq(raw, n, &j);
    const char *kept = str_member(v, "raw");
    ck_assert_uint_eq(strlen(kept), MSG_DLQ_RAW_MAX);
    ck_assert_mem_eq(kept, raw, MSG_DLQ_RAW_MAX);
    ck_assert(is_true(member(v, "truncated")));
    ck_assert_int_eq(YAJL_GET_INTEGER(member(v, "raw_len")), (long long)n);
    yajl_tree_free(v);
    /* exactly MSG_DLQ_RAW_MAX bytes: whole, not truncated */
    v = dlq(raw, MSG_DLQ_RAW_MAX, &j);
    ck_assert(YAJL_IS_FALSE(member(v, "truncated")));
    ck_assert_uint_eq(strlen(str_member(v, "raw")), MSG_DLQ_RAW_MAX);
    yajl_tree_free(v);
    free(raw);
    jbuf_free(&j);
}
END_TEST

START_TEST(test_dlq_truncated_on_utf8_boundary) {
    jbuf_t j;
    jbuf_init(&j);
    /* "€" (3 bytes) straddles the limit: cut before it */
    size_t n = MSG_DLQ_RAW_MAX + 10;
    char *raw = malloc(n);
    memset(raw, 'a', n);
    memcpy(raw + MSG_DLQ_RAW_MAX - 1, "\xe2\x82\xac", 3);
    yajl_val v = dlq(raw, n, &j);
    const char *kept = str_member(v, "raw");
    ck_assert_uint_eq(strlen(kept), MSG_DLQ_RAW_MAX - 1);
    ck_assert(is_true(member(v, "truncated")));
    yajl_tree_free(v);
    /* 4-byte characters that end exactly at the limit: all kept */
    free(raw);
    n = MSG_DLQ_RAW_MAX + 4;
    raw = malloc(n);
    for (size_t i = 0; i < n; i += 4)
        memcpy(raw + i, "\xf0\x9f\x92\xb8", 4);
    v = dlq(raw, n, &j);
    kept = str_member(v, "raw");
    ck_assert_uint_eq(strlen(kept), MSG_DLQ_RAW_MAX);
    ck_assert_mem_eq(kept, raw, MSG_DLQ_RAW_MAX);
    ck_assert(is_true(member(v, "truncated")));
    yajl_tree_free(v);
    /* starting with a continuation byte: not UTF-8 */
    v = dlq(raw + 1, n - 1, &j);
    ck_assert_ptr_null(member(v, "raw"));
    ck_assert_ptr_nonnull(member(v, "raw_hex"));
    yajl_tree_free(v);
    raw[0] = 'a';
    for (size_t i = 1; i + 4 <= n; i += 4)
        memcpy(raw + i, "\xf0\x9f\x92\xb8", 4);
    /* 'a' + 4-byte characters, the one crossing the limit dropped whole */
    v = dlq(raw, n - 3, &j);
    kept = str_member(v, "raw");
    ck_assert_uint_eq(strlen(kept), MSG_DLQ_RAW_MAX - 3);
    ck_assert(is_true(member(v, "truncated")));
    yajl_tree_free(v);
    free(raw);
    jbuf_free(&j);
}
END_TEST

START_TEST(test_dlq_not_utf8) {
    jbuf_t j;
    jbuf_init(&j);
    const char *bad[] = {
        "ab\xff",         /* invalid byte */
        "\xc0\xaf",       /* overlong '/' */
        "\xe0\x80\xaf",   /* overlong */
        "\xed\xa0\x80",   /* surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "ok\xe2\x82",     /* ends inside a character */
        "\x80",           /* lone continuation byte */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        yajl_val v = dlq(bad[i], n, &j);
        ck_assert_msg(member(v, "raw") == NULL, "case %zu kept as text", i);
        const char *hx = str_member(v, "raw_hex");
        ck_assert_ptr_nonnull(hx);
        ck_assert_uint_eq(strlen(hx), 2 + 2 * n);
        uint8_t back[8];
        size_t back_len;
        ck_assert_int_eq(hex_decode(hx, strlen(hx), back, sizeof(back), &back_len), 0);
        ck_assert_mem_eq(back, bad[i], n);
        ck_assert(YAJL_IS_FALSE(member(v, "truncated")));
        yajl_tree_free(v);
    }
    /* long binary: hex of the first MSG_DLQ_RAW_MAX bytes */
    size_t n = 3 * MSG_DLQ_RAW_MAX;
    uint8_t *raw = malloc(n);
    for (size_t i = 0; i < n; i++)
        raw[i] = (uint8_t)(i * 7 + 0x80);
    yajl_val v = dlq(raw, n, &j);
    ck_assert_uint_eq(strlen(str_member(v, "raw_hex")), 2 + 2 * MSG_DLQ_RAW_MAX);
    ck_assert(is_true(member(v, "truncated")));
    ck_assert_int_eq(YAJL_GET_INTEGER(member(v, "raw_len")), (long long)n);
    yajl_tree_free(v);
    free(raw);
    jbuf_free(&j);
}
END_TEST

START_TEST(test_now_ms) {
    int64_t t = msg_now_ms();
    ck_assert_int_gt(t, 1600000000000LL);
    ck_assert_int_lt(t, 4102444800000LL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("msg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_kind_names);
    tcase_add_test(tc, test_allocated_text);
    tcase_add_test(tc, test_allocated_round_trip);
    tcase_add_test(tc, test_allocated_valid_base);
    tcase_add_loop_test(tc, test_allocated_bad_field, 0, sizeof(alloc_bad) / sizeof(alloc_bad[0]));
    tcase_add_test(tc, test_allocated_not_a_message);
    tcase_add_test(tc, test_allocated_unknown_fields_ignored);
    tcase_add_test(tc, test_allocated_data_limit);
    tcase_add_test(tc, test_signed_round_trip);
    tcase_add_test(tc, test_signed_valid_base);
    tcase_add_loop_test(tc, test_signed_bad_field, 0, sizeof(signed_bad) / sizeof(signed_bad[0]));
    tcase_add_test(tc, test_status);
    tcase_add_test(tc, test_dlq_short_text);
    tcase_add_test(tc, test_dlq_truncated_ascii);
    tcase_add_test(tc, test_dlq_truncated_on_utf8_boundary);
    tcase_add_test(tc, test_dlq_not_utf8);
    tcase_add_test(tc, test_now_ms);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
