/*
 * test_keccak.c - unit tests of keccak.h: known answers from
 * tests/vectors/keccak256.txt and incremental hashing split at every offset.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/keccak.h"
#include "unit_test.h"

START_TEST(test_vectors) {
    FILE *f = vec_open("keccak256.txt");
    char line[4096], in_hex[4096], out_hex[128];
    uint8_t in[2048], want[32], got[32];
    int count = 0;
    while (vec_line(f, line, sizeof(line))) {
        if (line[0] == '\0')
            continue;
        ck_assert_int_eq(sscanf(line, "%4095s %127s", in_hex, out_hex), 2);
        size_t n = vec_hex(in_hex, in, sizeof(in));
        ck_assert_uint_eq(vec_hex(out_hex, want, sizeof(want)), 32);
        keccak256(n ? in : NULL, n, got);
        ck_assert_mem_eq(got, want, 32);
        count++;
    }
    fclose(f);
    ck_assert_int_ge(count, 10);
}
END_TEST

START_TEST(test_incremental_splits) {
    uint8_t data[500], want[32], got[32];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    keccak256(data, sizeof(data), want);
    for (size_t split = 0; split <= sizeof(data); split++) {
        keccak256_ctx_t ctx;
        keccak256_init(&ctx);
        keccak256_update(&ctx, data, split);
        keccak256_update(&ctx, data + split, 0);
        keccak256_update(&ctx, data + split, sizeof(data) - split);
        keccak256_final(&ctx, got);
        ck_assert_mem_eq(got, want, 32);
    }
    /* byte by byte, and the context is reusable after init */
    keccak256_ctx_t ctx;
    for (int round = 0; round < 2; round++) {
        keccak256_init(&ctx);
        for (size_t i = 0; i < sizeof(data); i++)
            keccak256_update(&ctx, data + i, 1);
        keccak256_final(&ctx, got);
        ck_assert_mem_eq(got, want, 32);
    }
}
END_TEST

START_TEST(test_not_sha3) {
    /* SHA3-256("") differs: a7ffc6f8... The 0x01 padding must be in use. */
    uint8_t got[32];
    keccak256(NULL, 0, got);
    ck_assert_uint_eq(got[0], 0xc5);
    ck_assert_uint_eq(got[31], 0x70);
}
END_TEST

int main(void) {
    Suite *s = suite_create("keccak");
    TCase *tc = tcase_create("keccak");
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_incremental_splits);
    tcase_add_test(tc, test_not_sha3);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
