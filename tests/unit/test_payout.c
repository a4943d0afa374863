/*
 * test_payout.c - payout request validation against the corpus in
 * tests/vectors/payout_requests.txt, plus byte-level cases built here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/payout.h"

static const payout_limits_t limits = {.gas_limit_max = 30000000, .lanes = 64};

START_TEST(test_corpus) {
    FILE *f = fopen(TXLANE_VECTORS_DIR "/payout_requests.txt", "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int cases = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = '\0';
        const char *want = line, *msg = tab + 1;
        payout_request_t req;
        char detail[256];
        payout_reject_t r = payout_request_parse(msg, strlen(msg), &limits, &req, detail,
                                                 sizeof(detail));
        ck_assert_msg(strcmp(payout_reject_code(r), want) == 0, "%s: want %s, got %s (%s)", msg,
                      want, payout_reject_code(r), detail);
        if (r != PAYOUT_OK)
            ck_assert_msg(detail[0] != '\0', "rejection without detail: %s", msg);
        payout_request_free(&req);
        cases++;
    }
    fclose(f);
    ck_assert_int_ge(cases, 50);
}
END_TEST

START_TEST(test_fields_parsed) {
    const char *msg = "{\"request_id\":\"order-5\",\"to\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\","
                      "\"value_wei\":\"1000000000000000000\",\"data\":\"0xdeadbeef\","
                      "\"gas_limit\":\"50000\",\"lane\":3,\"metadata\":{\"k\":[1,\"v\"]}}";
    payout_request_t req;
    char detail[256];
    ck_assert_int_eq(payout_request_parse(msg, strlen(msg), &limits, &req, detail, sizeof(detail)),
                     PAYOUT_OK);
    ck_assert_str_eq(req.request_id, "order-5");
    ck_assert_int_eq(req.to.b[0], 0x5a);
    ck_assert_int_eq(req.to.b[19], 0xed);
    char dec[UINT256_DEC_BUF];
    uint256_format_dec(&req.value, dec);
    ck_assert_str_eq(dec, "1000000000000000000");
    ck_assert_uint_eq(req.data_len, 4);
    ck_assert_int_eq(req.data[0], 0xde);
    ck_assert_int_eq(req.data[3], 0xef);
    ck_assert_uint_eq(req.gas_limit, 50000);
    ck_assert_int_eq(req.lane, 3);
    ck_assert_int_eq(req.has_token, 0);
    ck_assert_str_eq(req.metadata, "{\"k\":[1,\"v\"]}");
    payout_request_free(&req);
}
END_TEST

START_TEST(test_defaults) {
    const char *msg = "{\"request_id\":\"o\",\"to\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
                      "\"value_wei\":\"0\"}";
    payout_request_t req;
    char detail[256];
    ck_assert_int_eq(payout_request_parse(msg, strlen(msg), &limits, &req, detail, sizeof(detail)),
                     PAYOUT_OK);
    ck_assert_int_eq(req.lane, -1);
    ck_assert_uint_eq(req.gas_limit, 0);
    ck_assert_ptr_null(req.data);
    ck_assert_ptr_null(req.metadata);
    ck_assert(uint256_is_zero(&req.value));
    payout_request_free(&req);
}
END_TEST

static payout_reject_t parse_bytes(const char *buf, size_t len) {
    payout_request_t req;
    char detail[256];
    payout_reject_t r = payout_request_parse(buf, len, &limits, &req, detail, sizeof(detail));
    payout_request_free(&req);
    return r;
}

START_TEST(test_bom) {
    const char msg[] = "\xEF\xBB\xBF{\"request_id\":\"o\",\"to\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
                       "\"value_wei\":\"0\"}";
    ck_assert_int_eq(parse_bytes(msg, sizeof(msg) - 1), PAYOUT_REJECT_BOM);
}
END_TEST

START_TEST(test_oversized) {
    size_t len = 1024 * 1024;
    char *big = malloc(len);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    ck_assert_int_eq(parse_bytes(big, len), PAYOUT_REJECT_OVERSIZED);
    free(big);
}
END_TEST

START_TEST(test_embedded_nul) {
    const char msg[] = "{\"request_id\":\"o\0x\"}";
    ck_assert_int_eq(parse_bytes(msg, sizeof(msg) - 1), PAYOUT_REJECT_NOT_JSON);
}
END_TEST

START_TEST(test_invalid_utf8) {
    const char msg[] = "{\"request_id\":\"\xC3\x28\",\"to\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
                       "\"value_wei\":\"0\"}";
    ck_assert_int_eq(parse_bytes(msg, sizeof(msg) - 1), PAYOUT_REJECT_NOT_JSON);
}
END_TEST

START_TEST(test_deep_metadata) {
    char msg[2048];
    int n = snprintf(msg, sizeof(msg),
                     "{\"request_id\":\"o\",\"to\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
                     "\"value_wei\":\"0\",\"metadata\":");
    for (int i = 0; i < 40; i++)
        msg[n++] = '[';
    for (int i = 0; i < 40; i++)
        msg[n++] = ']';
    msg[n++] = '}';
    /* an array is not an object: rejected before depth matters */
    ck_assert_int_eq(parse_bytes(msg, (size_t)n), PAYOUT_REJECT_METADATA);
    n = snprintf(msg, sizeof(msg),
                 "{\"request_id\":\"o\",\"to\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\","
                 "\"value_wei\":\"0\",\"metadata\":{\"a\":");
    for (int i = 0; i < 40; i++)
        msg[n++] = '[';
    for (int i = 0; i < 40; i++)
        msg[n++] = ']';
    msg[n++] = '}';
    msg[n++] = '}';
    ck_assert_int_eq(parse_bytes(msg, (size_t)n), PAYOUT_REJECT_METADATA);
}
END_TEST

START_TEST(test_reason_codes_unique) {
    for (int a = 0; a < PAYOUT_REJECT_COUNT_; a++) {
        for (int b = a + 1; b < PAYOUT_REJECT_COUNT_; b++)
            ck_assert_str_ne(payout_reject_code(a), payout_reject_code(b));
    }
    ck_assert_str_eq(payout_reject_code(PAYOUT_REJECT_COUNT_), "unknown");
}
END_TEST

int main(void) {
    Suite *s = suite_create("payout");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_corpus);
    tcase_add_test(tc, test_fields_parsed);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_bom);
    tcase_add_test(tc, test_oversized);
    tcase_add_test(tc, test_embedded_nul);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_deep_metadata);
    tcase_add_test(tc, test_reason_codes_unique);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
