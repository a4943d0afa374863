/*
 * test_jbuf.c - the JSON writer: escaping, nesting and commas, typed values,
 * and that yajl reads back exactly what was written.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "txlane/jbuf.h"
#include "unit_test.h"

/* Parses j's text with yajl (fails the test if it is not JSON). */
static yajl_val parse(const jbuf_t *j) {
    char err[256];
    ck_assert_uint_eq(strlen(j->buf), j->len);
    yajl_val v = yajl_tree_parse(j->buf, err, sizeof(err));
    ck_assert_msg(v != NULL, "not JSON (%s): %s", err, j->buf);
    return v;
}

START_TEST(test_empty_containers) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_obj_begin(&j);
    jbuf_obj_end(&j);
    ck_assert_str_eq(j.buf, "{}");
    jbuf_reset(&j);
    ck_assert_uint_eq(j.len, 0);
    ck_assert_str_eq(j.buf, "");
    jbuf_arr_begin(&j);
    jbuf_arr_end(&j);
    ck_assert_str_eq(j.buf, "[]");
    jbuf_free(&j);
    ck_assert_ptr_null(j.buf);
    jbuf_free(&j); /* a freed jbuf may be freed again */
}
END_TEST

START_TEST(test_nesting_and_commas) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_obj_begin(&j);
    jbuf_key_u64(&j, "a", 1);
    jbuf_key(&j, "b");
    jbuf_arr_begin(&j);
    jbuf_u64(&j, 1);
    jbuf_str(&j, "x");
    jbuf_arr_begin(&j);
    jbuf_arr_end(&j);
    jbuf_obj_begin(&j);
    jbuf_key_str(&j, "k", "");
    jbuf_key(&j, "n");
    jbuf_null(&j);
    jbuf_obj_end(&j);
    jbuf_bool(&j, 1);
    jbuf_bool(&j, 0);
    jbuf_arr_end(&j);
    jbuf_key(&j, "c");
    jbuf_obj_begin(&j);
    jbuf_obj_end(&j);
    jbuf_key_i64(&j, "d", -42);
    jbuf_key(&j, "e");
    jbuf_raw(&j, "{\"m\":[1,2]}", 11);
    jbuf_key(&j, "f");
    jbuf_str(&j, "ends with colon:");
    jbuf_key_u64(&j, "g", 7);
    jbuf_obj_end(&j);
    ck_assert_str_eq(j.buf, "{\"a\":1,\"b\":[1,\"x\",[],{\"k\":\"\",\"n\":null},true,false],"
                            "\"c\":{},\"d\":-42,\"e\":{\"m\":[1,2]},\"f\":\"ends with colon:\","
                            "\"g\":7}");
    ck_assert_int_eq(j.depth, 0);
    yajl_tree_free(parse(&j));
    jbuf_free(&j);
}
END_TEST

START_TEST(test_max_depth) {
    jbuf_t j;
    jbuf_init(&j);
    for (int i = 0; i < JBUF_DEPTH; i++)
        jbuf_arr_begin(&j);
    for (int i = 0; i < JBUF_DEPTH; i++)
        jbuf_arr_end(&j);
    ck_assert_str_eq(j.buf, "[[[[[[[[]]]]]]]]");
    jbuf_free(&j);
}
END_TEST

START_TEST(test_escaping) {
    jbuf_t j;
    jbuf_init(&j);
    const char s[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f end";
    jbuf_arr_begin(&j);
    jbuf_str(&j, s);
    jbuf_arr_end(&j);
    ck_assert_str_eq(j.buf, "[\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f end\"]");
    yajl_val v = parse(&j);
    ck_assert_str_eq(YAJL_GET_STRING(v->u.array.values[0]), s);
    yajl_tree_free(v);
    jbuf_free(&j);
}
END_TEST

START_TEST(test_utf8_passthrough) {
    jbuf_t j;
    jbuf_init(&j);
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xb8"; /* é € 💸 */
    jbuf_obj_begin(&j);
    jbuf_key_str(&j, "k\xc3\xa9y", s);
    jbuf_obj_end(&j);
    ck_assert_ptr_nonnull(strstr(j.buf, s));
    yajl_val v = parse(&j);
    ck_assert_str_eq(v->u.object.keys[0], "k\xc3\xa9y");
    ck_assert_str_eq(YAJL_GET_STRING(v->u.object.values[0]), s);
    yajl_tree_free(v);
    jbuf_free(&j);
}
END_TEST

START_TEST(test_strn_embedded_nul) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_strn(&j, "a\0b", 3);
    ck_assert_str_eq(j.buf, "\"a\\u0000b\"");
    ck_assert_uint_eq(j.len, 10);
    jbuf_free(&j);
}
END_TEST

START_TEST(test_numbers) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_arr_begin(&j);
    jbuf_u64(&j, 0);
    jbuf_u64(&j, UINT64_MAX);
    jbuf_i64(&j, INT64_MIN);
    jbuf_i64(&j, INT64_MAX);
    jbuf_arr_end(&j);
    ck_assert_str_eq(j.buf, "[0,18446744073709551615,-9223372036854775808,9223372036854775807]");
    yajl_tree_free(parse(&j));
    jbuf_free(&j);
}
END_TEST

START_TEST(test_u256_addr_hex) {
    jbuf_t j;
    jbuf_init(&j);
    uint256_t max, zero;
    ck_assert_int_eq(uint256_parse_hex("0x" "ffffffffffffffffffffffffffffffff"
                                       "ffffffffffffffffffffffffffffffff", &max), 0);
    uint256_from_u64(0, &zero);
    eth_address_t a;
    ck_assert_int_eq(address_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", &a), 0);
    const uint8_t bytes[] = {0x00, 0xab, 0xff};
    jbuf_obj_begin(&j);
    jbuf_key_u256(&j, "max", &max);
    jbuf_key_u256(&j, "zero", &zero);
    jbuf_key_addr(&j, "addr", &a);
    jbuf_key_hex(&j, "hex", bytes, sizeof(bytes));
    jbuf_key_hex(&j, "empty", NULL, 0);
    jbuf_obj_end(&j);
    ck_assert_str_eq(j.buf, "{\"max\":\"115792089237316195423570985008687907853269984665640564039"
                            "457584007913129639935\",\"zero\":\"0\","
                            "\"addr\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\","
                            "\"hex\":\"0x00abff\",\"empty\":\"0x\"}");
    yajl_tree_free(parse(&j));
    jbuf_free(&j);
}
END_TEST

START_TEST(test_growth) {
    jbuf_t j;
    jbuf_init(&j);
    size_t n = 100000;
    char *s = malloc(n + 1);
    memset(s, '"', n);
    s[n] = '\0';
    jbuf_arr_begin(&j);
    for (int i = 0; i < 3; i++)
        jbuf_str(&j, s);
    jbuf_arr_end(&j);
    ck_assert_uint_eq(j.len, 2 + 3 * (2 * n + 2) + 2);
    yajl_val v = parse(&j);
    ck_assert_uint_eq(v->u.array.len, 3);
    ck_assert_str_eq(YAJL_GET_STRING(v->u.array.values[2]), s);
    yajl_tree_free(v);
    /* reset keeps the allocation */
    char *buf = j.buf;
    jbuf_reset(&j);
    jbuf_str(&j, "x");
    ck_assert_ptr_eq(j.buf, buf);
    ck_assert_str_eq(j.buf, "\"x\"");
    free(s);
    jbuf_free(&j);
}
END_TEST

START_TEST(test_zeroed_jbuf_usable) {
    jbuf_t j;
    memset(&j, 0, sizeof(j));
    jbuf_u64(&j, 5);
    ck_assert_str_eq(j.buf, "5");
    jbuf_free(&j);
    memset(&j, 0, sizeof(j));
    jbuf_reset(&j);
    ck_assert_str_eq(j.buf, "");
    jbuf_free(&j);
}
END_TEST

START_TEST(test_too_deep_aborts) {
    jbuf_t j;
    jbuf_init(&j);
    for (int i = 0; i <= JBUF_DEPTH; i++)
        jbuf_arr_begin(&j);
}
END_TEST

START_TEST(test_close_unopened_aborts) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_obj_end(&j);
}
END_TEST

START_TEST(test_key_outside_object_aborts) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_key(&j, "k");
}
END_TEST

int main(void) {
    Suite *s = suite_create("jbuf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_empty_containers);
    tcase_add_test(tc, test_nesting_and_commas);
    tcase_add_test(tc, test_max_depth);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_utf8_passthrough);
    tcase_add_test(tc, test_strn_embedded_nul);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_u256_addr_hex);
    tcase_add_test(tc, test_growth);
    tcase_add_test(tc, test_zeroed_jbuf_usable);
    suite_add_tcase(s, tc);
    TCase *misuse = tcase_create("misuse");
    tcase_add_test_raise_signal(misuse, test_too_deep_aborts, SIGABRT);
    tcase_add_test_raise_signal(misuse, test_close_unopened_aborts, SIGABRT);
    tcase_add_test_raise_signal(misuse, test_key_outside_object_aborts, SIGABRT);
    suite_add_tcase(s, misuse);
    return unit_run(s);
}
