/*
 * test_rlp.c - unit tests of rlp.h: the examples of the RLP specification
 * (tests/vectors/rlp.txt, values written as a small expression language),
 * fixed and growable encoders, the two-pass length functions, and the
 * strict decoder against non-canonical and truncated input
 * (tests/vectors/rlp_invalid.txt).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/rlp.h"
#include "unit_test.h"

/* Encodes one value of the vector expression language at *s into enc:
 * "text", #decimal, 0xhex, [ value... ]. Advances *s. */
static void expr_encode(const char **s, rlp_enc_t *enc) {
    while (**s == ' ')
        (*s)++;
    const char *p = *s;
    if (*p == '"') {
        const char *end = strchr(p + 1, '"');
        ck_assert_ptr_nonnull(end);
        rlp_enc_bytes(enc, (const uint8_t *)p + 1, (size_t)(end - p - 1));
        *s = end + 1;
    } else if (*p == '#') {
        char *end;
        unsigned long long v = strtoull(p + 1, &end, 10);
        rlp_enc_u64(enc, v);
        uint256_t w;
        uint256_from_u64(v, &w);
        ck_assert_uint_eq(rlp_u64_len(v), rlp_uint256_len(&w));
        *s = end;
    } else if (p[0] == '0' && p[1] == 'x') {
        size_t len = strcspn(p, " ]");
        uint8_t buf[64];
        size_t n = 0;
        ck_assert_int_eq(hex_decode(p, len, buf, sizeof(buf), &n), 0);
        rlp_enc_bytes(enc, buf, n);
        *s = p + len;
    } else if (*p == '[') {
        *s = p + 1;
        rlp_enc_list_begin(enc);
        for (;;) {
            while (**s == ' ')
                (*s)++;
            if (**s == ']')
                break;
            expr_encode(s, enc);
        }
        rlp_enc_list_end(enc);
        (*s)++;
    } else {
        ck_abort_msg("bad vector expression: %s", p);
    }
}

/* Re-encodes a decoded item recursively; fails the test on malformed input. */
static int item_reencode(const rlp_item_t *item, rlp_enc_t *enc) {
    if (!item->is_list) {
        rlp_enc_bytes(enc, item->p, item->len);
        return 0;
    }
    rlp_iter_t it;
    rlp_item_t sub;
    int rc;
    rlp_enc_list_begin(enc);
    rlp_iter_init(&it, item);
    while ((rc = rlp_iter_next(&it, &sub)) == 1) {
        if (item_reencode(&sub, enc) != 0)
            return TXL_EINVAL;
    }
    rlp_enc_list_end(enc);
    return rc;
}

START_TEST(test_spec_vectors) {
    FILE *f = vec_open("rlp.txt");
    char line[1024], want_hex[512];
    uint8_t want[256], fixed[256];
    int count = 0;
    while (vec_line(f, line, sizeof(line))) {
        if (line[0] == '\0')
            continue;
        ck_assert_int_eq(sscanf(line, "%511s", want_hex), 1);
        size_t want_len = vec_hex(want_hex, want, sizeof(want));
        const char *expr = line + strlen(want_hex) + 1;

        rlp_enc_t enc;
        const uint8_t *out;
        size_t out_len;
        rlp_enc_init(&enc);
        const char *s = expr;
        expr_encode(&s, &enc);
        ck_assert_int_eq(rlp_enc_finish(&enc, &out, &out_len), 0);
        ck_assert_msg(out_len == want_len && memcmp(out, want, want_len) == 0, "encoding %s",
                      expr);
        rlp_enc_free(&enc);

        /* a fixed buffer of exactly the right size works, one byte less does not */
        rlp_enc_init_fixed(&enc, fixed, want_len);
        s = expr;
        expr_encode(&s, &enc);
        ck_assert_int_eq(rlp_enc_finish(&enc, &out, &out_len), 0);
        ck_assert_ptr_eq(out, fixed);
        ck_assert_mem_eq(out, want, want_len);
        rlp_enc_init_fixed(&enc, fixed, want_len - 1);
        s = expr;
        expr_encode(&s, &enc);
        ck_assert_int_eq(rlp_enc_finish(&enc, &out, &out_len), TXL_ENOSPACE);

        /* decoding and re-encoding gives the same bytes */
        rlp_item_t item;
        ck_assert_int_eq(rlp_decode_one(want, want_len, &item), 0);
        rlp_enc_init(&enc);
        ck_assert_int_eq(item_reencode(&item, &enc), 0);
        ck_assert_int_eq(rlp_enc_finish(&enc, &out, &out_len), 0);
        ck_assert_mem_eq(out, want, want_len);
        rlp_enc_free(&enc);
        count++;
    }
    fclose(f);
    ck_assert_int_ge(count, 12);
}
END_TEST

START_TEST(test_invalid_vectors) {
    FILE *f = vec_open("rlp_invalid.txt");
    char line[1024];
    uint8_t buf[256];
    int count = 0;
    while (vec_line(f, line, sizeof(line))) {
        if (line[0] == '\0')
            continue;
        size_t n = vec_hex(line, buf, sizeof(buf));
        rlp_item_t item;
        rlp_enc_t enc;
        rlp_enc_init(&enc);
        int rc = rlp_decode_one(n ? buf : (const uint8_t *)"", n, &item);
        if (rc == 0)
            rc = item_reencode(&item, &enc);
        rlp_enc_free(&enc);
        ck_assert_msg(rc < 0, "accepted %s", line);
        count++;
    }
    fclose(f);
    ck_assert_int_ge(count, 10);
}
END_TEST

START_TEST(test_long_items) {
    static uint8_t big[70000];
    size_t sizes[] = {55, 56, 255, 256, 65535, 65536, 70000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];
        memset(big, 0xab, n);
        rlp_enc_t enc;
        const uint8_t *out;
        size_t out_len;
        rlp_enc_init(&enc);
        rlp_enc_list_begin(&enc);
        rlp_enc_bytes(&enc, big, n);
        rlp_enc_list_begin(&enc);
        rlp_enc_list_end(&enc);
        rlp_enc_list_end(&enc);
        ck_assert_int_eq(rlp_enc_finish(&enc, &out, &out_len), 0);
        size_t str_len = rlp_bytes_len(big, n);
        ck_assert_uint_eq(str_len, rlp_header_len(n) + n);
        ck_assert_uint_eq(out_len, rlp_header_len(str_len + 1) + str_len + 1);

        rlp_item_t list, items[2];
        ck_assert_int_eq(rlp_decode_one(out, out_len, &list), 0);
        ck_assert_int_eq(rlp_list_items(&list, items, 2), 0);
        ck_assert(!items[0].is_list);
        ck_assert_uint_eq(items[0].len, n);
        ck_assert(items[1].is_list);
        ck_assert_uint_eq(items[1].len, 0);
        ck_assert_int_eq(rlp_list_items(&list, items, 1), TXL_EINVAL);
        /* every truncation is rejected */
        ck_assert_int_eq(rlp_decode_one(out, out_len - 1, &list), TXL_EINVAL);
        rlp_enc_free(&enc);
    }
}
END_TEST

START_TEST(test_put_layer) {
    uint8_t buf[64];
    uint256_t v;
    ck_assert_int_eq(uint256_parse("0x0102030405060708090a", &v), 0);
    ck_assert_uint_eq(rlp_put_uint256(buf, &v), 11);
    ck_assert_uint_eq(rlp_uint256_len(&v), 11);
    ck_assert_mem_eq(buf, "\x8a\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 11);
    uint256_from_u64(0, &v);
    ck_assert_uint_eq(rlp_put_uint256(buf, &v), 1);
    ck_assert_uint_eq(buf[0], 0x80);
    ck_assert_uint_eq(rlp_put_u64(buf, 0x7f), 1);
    ck_assert_uint_eq(rlp_put_u64(buf, 0x80), 2);
    ck_assert_uint_eq(rlp_put_u64(buf, UINT64_MAX), 9);
    ck_assert_uint_eq(rlp_u64_len(UINT64_MAX), 9);
    ck_assert_uint_eq(rlp_put_list_header(buf, 1024), 3);
    ck_assert_mem_eq(buf, "\xf9\x04\x00", 3);
    ck_assert_uint_eq(rlp_put_string_header(buf, 55), 1);
    ck_assert_uint_eq(buf[0], 0xb7);
    ck_assert_uint_eq(rlp_put_bytes(buf, (const uint8_t *)"", 0), 1);
    ck_assert_uint_eq(buf[0], 0x80);
}
END_TEST

START_TEST(test_integers) {
    rlp_item_t item;
    uint64_t u = 42;
    uint256_t w;
    const uint8_t lead_zero[] = {0x82, 0x00, 0x01};
    ck_assert_int_eq(rlp_decode_one(lead_zero, sizeof(lead_zero), &item), 0);
    ck_assert_int_eq(rlp_item_to_u64(&item, &u), TXL_EINVAL);
    ck_assert_int_eq(rlp_item_to_uint256(&item, &w), TXL_EINVAL);
    const uint8_t zero_byte[] = {0x00}; /* the byte 0, not the integer 0 (0x80) */
    ck_assert_int_eq(rlp_decode_one(zero_byte, 1, &item), 0);
    ck_assert_int_eq(rlp_item_to_u64(&item, &u), TXL_EINVAL);
    const uint8_t empty[] = {0x80};
    ck_assert_int_eq(rlp_decode_one(empty, 1, &item), 0);
    ck_assert_int_eq(rlp_item_to_u64(&item, &u), 0);
    ck_assert_uint_eq(u, 0);
    const uint8_t nine[] = {0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(rlp_decode_one(nine, sizeof(nine), &item), 0);
    ck_assert_int_eq(rlp_item_to_u64(&item, &u), TXL_ERANGE);
    ck_assert_int_eq(rlp_item_to_uint256(&item, &w), 0);
    ck_assert_uint_eq(w.w[1], 1);
    uint8_t wide[34] = {0xa1, 1};
    ck_assert_int_eq(rlp_decode_one(wide, sizeof(wide), &item), 0);
    ck_assert_int_eq(rlp_item_to_uint256(&item, &w), TXL_ERANGE);
    const uint8_t list[] = {0xc0};
    ck_assert_int_eq(rlp_decode_one(list, 1, &item), 0);
    ck_assert_int_eq(rlp_item_to_u64(&item, &u), TXL_EINVAL);
    ck_assert_int_eq(rlp_item_to_uint256(&item, &w), TXL_EINVAL);
    ck_assert_int_eq(rlp_list_items(&(rlp_item_t){empty, 1, 0}, &item, 0), TXL_EINVAL);
}
END_TEST

START_TEST(test_encoder_misuse) {
    rlp_enc_t enc;
    const uint8_t *out;
    size_t len;
    rlp_enc_init(&enc);
    rlp_enc_list_end(&enc);
    ck_assert_int_eq(rlp_enc_finish(&enc, &out, &len), TXL_EINVAL);
    rlp_enc_free(&enc);
    rlp_enc_init(&enc);
    rlp_enc_list_begin(&enc);
    ck_assert_int_eq(rlp_enc_finish(&enc, &out, &len), TXL_EINVAL);
    rlp_enc_free(&enc);
    rlp_enc_init(&enc);
    for (int i = 0; i <= RLP_MAX_DEPTH; i++)
        rlp_enc_list_begin(&enc);
    ck_assert_int_eq(rlp_enc_finish(&enc, &out, &len), TXL_EINVAL);
    rlp_enc_free(&enc);
    rlp_enc_free(NULL);
    /* nesting to the maximum depth works */
    rlp_enc_init(&enc);
    for (int i = 0; i < RLP_MAX_DEPTH; i++)
        rlp_enc_list_begin(&enc);
    for (int i = 0; i < RLP_MAX_DEPTH; i++)
        rlp_enc_list_end(&enc);
    ck_assert_int_eq(rlp_enc_finish(&enc, &out, &len), 0);
    ck_assert_uint_eq(len, RLP_MAX_DEPTH);
    ck_assert_uint_eq(out[0], 0xc0 + RLP_MAX_DEPTH - 1);
    rlp_enc_free(&enc);
    /* raw items are appended verbatim */
    uint8_t fixed[4];
    rlp_enc_init_fixed(&enc, fixed, sizeof(fixed));
    rlp_enc_list_begin(&enc);
    rlp_enc_raw(&enc, (const uint8_t *)"\x83\x61\x62", 3);
    rlp_enc_list_end(&enc);
    ck_assert_int_eq(rlp_enc_finish(&enc, &out, &len), 0);
    ck_assert_mem_eq(out, "\xc3\x83\x61\x62", 4);
    rlp_enc_free(&enc);
}
END_TEST

int main(void) {
    Suite *s = suite_create("rlp");
    TCase *tc = tcase_create("rlp");
    tcase_add_test(tc, test_spec_vectors);
    tcase_add_test(tc, test_invalid_vectors);
    tcase_add_test(tc, test_long_items);
    tcase_add_test(tc, test_put_layer);
    tcase_add_test(tc, test_integers);
    tcase_add_test(tc, test_encoder_misuse);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
