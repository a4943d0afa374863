/*
 * test_tx.c - unit tests of tx.h: the EIP-155 worked example and EIP-1559
 * transactions cross-checked with an independent implementation
 * (tests/vectors/tx.txt) are signed, encoded, decoded and their senders
 * recovered; then invalid keys, bad fields and malformed raw transactions.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/rlp.h"
#include "txlane/secp.h"
#include "txlane/tx.h"
#include "unit_test.h"

typedef struct {
    char name[64];
    tx_t tx;
    uint8_t key[32];
    uint8_t data[1024];
    uint8_t raw[2048];
    size_t raw_len;
    uint8_t hash[32];
    uint8_t signing_hash[32];
    int has_signing_hash;
    eth_address_t from;
} tx_vector_t;

static void vec_u256(const char *s, uint256_t *out) {
    ck_assert_msg(uint256_parse(s, out) == 0, "bad number %s", s);
}

static void vec_u64(const char *s, uint64_t *out) {
    uint256_t v;
    vec_u256(s, &v);
    ck_assert_int_eq(uint256_to_u64(&v, out), 0);
}

/* Reads the next record; returns 0 at end of file. */
static int tx_vector_next(FILE *f, tx_vector_t *v) {
    static char line[8192];
    int fields = 0;
    memset(v, 0, sizeof(*v));
    while (vec_line(f, line, sizeof(line))) {
        if (line[0] == '\0') {
            if (fields > 0)
                break;
            continue;
        }
        char *val = strchr(line, '=');
        ck_assert_ptr_nonnull(val);
        *val++ = '\0';
        fields++;
        if (strcmp(line, "name") == 0)
            snprintf(v->name, sizeof(v->name), "%s", val);
        else if (strcmp(line, "type") == 0)
            v->tx.type = atoi(val) == 2 ? TX_TYPE_EIP1559 : TX_TYPE_LEGACY;
        else if (strcmp(line, "key") == 0)
            ck_assert_uint_eq(vec_hex(val, v->key, 32), 32);
        else if (strcmp(line, "chain_id") == 0)
            vec_u64(val, &v->tx.chain_id);
        else if (strcmp(line, "nonce") == 0)
            vec_u64(val, &v->tx.nonce);
        else if (strcmp(line, "gas_price") == 0)
            vec_u256(val, &v->tx.gas_price);
        else if (strcmp(line, "max_fee") == 0)
            vec_u256(val, &v->tx.max_fee_per_gas);
        else if (strcmp(line, "max_priority_fee") == 0)
            vec_u256(val, &v->tx.max_priority_fee_per_gas);
        else if (strcmp(line, "gas_limit") == 0)
            vec_u64(val, &v->tx.gas_limit);
        else if (strcmp(line, "to") == 0)
            ck_assert_int_eq(address_parse(val, &v->tx.to), 0);
        else if (strcmp(line, "value") == 0)
            vec_u256(val, &v->tx.value);
        else if (strcmp(line, "data") == 0) {
            ck_assert_int_eq(hex_decode(val, strlen(val), v->data, sizeof(v->data),
                                        &v->tx.data_len),
                             0);
            v->tx.data = v->tx.data_len ? v->data : NULL;
        } else if (strcmp(line, "signing_hash") == 0) {
            ck_assert_uint_eq(vec_hex(val, v->signing_hash, 32), 32);
            v->has_signing_hash = 1;
        } else if (strcmp(line, "raw") == 0)
            v->raw_len = vec_hex(val, v->raw, sizeof(v->raw));
        else if (strcmp(line, "hash") == 0)
            ck_assert_uint_eq(vec_hex(val, v->hash, 32), 32);
        else if (strcmp(line, "from") == 0)
            ck_assert_int_eq(address_parse(val, &v->from), 0);
        else
            ck_abort_msg("unknown vector field %s", line);
    }
    return fields > 0;
}

static void assert_tx_eq(const tx_t *a, const tx_t *b) {
    ck_assert_int_eq(a->type, b->type);
    ck_assert_uint_eq(a->chain_id, b->chain_id);
    ck_assert_uint_eq(a->nonce, b->nonce);
    ck_assert_uint_eq(a->gas_limit, b->gas_limit);
    ck_assert_int_eq(uint256_cmp(&a->value, &b->value), 0);
    ck_assert_int_eq(uint256_cmp(&a->gas_price, &b->gas_price), 0);
    ck_assert_int_eq(uint256_cmp(&a->max_fee_per_gas, &b->max_fee_per_gas), 0);
    ck_assert_int_eq(uint256_cmp(&a->max_priority_fee_per_gas, &b->max_priority_fee_per_gas), 0);
    ck_assert(address_equal(&a->to, &b->to));
    ck_assert_uint_eq(a->data_len, b->data_len);
    if (a->data_len > 0)
        ck_assert_mem_eq(a->data, b->data, a->data_len);
}

START_TEST(test_vectors) {
    FILE *f = vec_open("tx.txt");
    tx_vector_t *v = malloc(sizeof(*v));
    int count = 0;
    while (tx_vector_next(f, v)) {
        uint8_t raw[2048], hash[32], sh[32];
        size_t raw_len = 0;
        ck_assert_int_eq(tx_signing_hash(&v->tx, sh), 0);
        if (v->has_signing_hash)
            ck_assert_mem_eq(sh, v->signing_hash, 32);
        ck_assert_uint_le(v->raw_len, tx_raw_cap(&v->tx));
        ck_assert_int_eq(tx_sign(&v->tx, v->key, raw, tx_raw_cap(&v->tx), &raw_len, hash), 0);
        ck_assert_msg(raw_len == v->raw_len && memcmp(raw, v->raw, raw_len) == 0, "raw of %s",
                      v->name);
        ck_assert_mem_eq(hash, v->hash, 32);

        tx_decoded_t dec;
        eth_address_t from;
        ck_assert_int_eq(tx_decode(v->raw, v->raw_len, &dec), 0);
        assert_tx_eq(&dec.tx, &v->tx);
        ck_assert_mem_eq(dec.hash, v->hash, 32);
        ck_assert_mem_eq(dec.signing_hash, sh, 32);
        ck_assert_int_eq(tx_recover_sender(&dec, &from), 0);
        ck_assert(address_equal(&from, &v->from));

        uint8_t again[2048];
        size_t again_len = 0;
        ck_assert_int_eq(tx_encode_signed(&dec.tx, &dec.sig, again, sizeof(again), &again_len), 0);
        ck_assert_uint_eq(again_len, v->raw_len);
        ck_assert_mem_eq(again, v->raw, again_len);
        ck_assert_int_eq(tx_encode_signed(&dec.tx, &dec.sig, again, again_len - 1, &again_len),
                         TXL_ENOSPACE);
        /* every truncation and one appended byte are rejected */
        for (size_t n = 0; n < v->raw_len; n++)
            ck_assert_int_eq(tx_decode(v->raw, n, &dec), TXL_EINVAL);
        v->raw[v->raw_len] = 0x80;
        ck_assert_int_eq(tx_decode(v->raw, v->raw_len + 1, &dec), TXL_EINVAL);
        count++;
    }
    free(v);
    fclose(f);
    ck_assert_int_ge(count, 5);
}
END_TEST

static void example_tx(tx_t *tx) {
    memset(tx, 0, sizeof(*tx));
    tx->type = TX_TYPE_EIP1559;
    tx->chain_id = 1;
    tx->nonce = 3;
    uint256_from_u64(1000000000, &tx->max_priority_fee_per_gas);
    uint256_from_u64(20000000000ULL, &tx->max_fee_per_gas);
    tx->gas_limit = 21000;
    memset(tx->to.b, 0x35, 20);
    uint256_from_u64(12345, &tx->value);
}

START_TEST(test_invalid_keys) {
    tx_t tx;
    example_tx(&tx);
    uint8_t raw[512], hash[32], key[32];
    size_t raw_len = 0;
    /* secp256k1 group order n */
    static const uint8_t order[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                      0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                      0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    memset(key, 0, sizeof(key));
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), TXL_ECRYPTO);
    ck_assert_int_eq(tx_sign(&tx, order, raw, sizeof(raw), &raw_len, hash), TXL_ECRYPTO);
    memset(key, 0xff, sizeof(key));
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), TXL_ECRYPTO);
    memcpy(key, order, 32);
    key[31] -= 1; /* n - 1 is the largest valid key */
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), 0);
    memset(key, 0, sizeof(key));
    key[31] = 1;
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), 0);
    tx_decoded_t dec;
    eth_address_t from;
    ck_assert_int_eq(tx_decode(raw, raw_len, &dec), 0);
    ck_assert_int_eq(tx_recover_sender(&dec, &from), 0);
    char addr[43];
    address_format(&from, addr); /* the address of the generator point G */
    ck_assert_str_eq(addr, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
}
END_TEST

START_TEST(test_invalid_fields) {
    tx_t tx;
    uint8_t raw[512], hash[32], key[32];
    size_t raw_len = 0;
    memset(key, 0x46, sizeof(key));
    example_tx(&tx);
    ck_assert_int_eq(tx_sign(&tx, key, raw, 50, &raw_len, hash), TXL_ENOSPACE);
    tx.chain_id = 0;
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), TXL_EINVAL);
    ck_assert_int_eq(tx_signing_hash(&tx, hash), TXL_EINVAL);
    example_tx(&tx);
    uint256_from_u64(20000000001ULL, &tx.max_priority_fee_per_gas);
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), TXL_EINVAL);
    example_tx(&tx);
    tx.type = (tx_type_t)1;
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), TXL_EINVAL);
    example_tx(&tx);
    tx.type = TX_TYPE_LEGACY;
    tx.chain_id = UINT64_MAX / 2;
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), TXL_ERANGE);
    tx.chain_id = (UINT64_MAX - 36) / 2; /* the largest chain id whose v fits */
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), 0);
    tx_decoded_t dec;
    ck_assert_int_eq(tx_decode(raw, raw_len, &dec), 0);
    ck_assert_uint_eq(dec.tx.chain_id, (UINT64_MAX - 36) / 2);
    tx_sig_t sig = dec.sig;
    sig.y_parity = 2;
    ck_assert_int_eq(tx_encode_signed(&tx, &sig, raw, sizeof(raw), &raw_len), TXL_EINVAL);
}
END_TEST

/* Encodes a type-2 list from items given as pre-encoded RLP. */
static size_t build_type2(uint8_t *out, const char *const *items, size_t count) {
    rlp_enc_t enc;
    const uint8_t *p;
    size_t len;
    rlp_enc_init(&enc);
    rlp_enc_list_begin(&enc);
    for (size_t i = 0; i < count; i++) {
        uint8_t buf[128];
        size_t n = 0;
        ck_assert_int_eq(hex_decode(items[i], strlen(items[i]), buf, sizeof(buf), &n), 0);
        rlp_enc_raw(&enc, buf, n);
    }
    rlp_enc_list_end(&enc);
    ck_assert_int_eq(rlp_enc_finish(&enc, &p, &len), 0);
    out[0] = 0x02;
    memcpy(out + 1, p, len);
    rlp_enc_free(&enc);
    return len + 1;
}

#define SIG_R_VALID "a02b03b67e070f45175ce9d07c4512720168bd468a0a3ab8c8e4a0cd2ee60a4b85"
#define S_LOW "a07fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0" /* n/2 */
#define S_HALF_UP "a07fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1"
#define S_HIGH "a0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364100"
#define S_ORDER "a0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

START_TEST(test_decode_strict) {
    uint8_t raw[1024];
    tx_decoded_t dec;
    const char *good[] = {"01", "09", "8477359400", "8506fc23ac00", "825208",
                          "943535353535353535353535353535353535353535",
                          "880de0b6b3a7640000", "80", "c0", "80", SIG_R_VALID, S_LOW};
    const char *items[12];
    size_t n;
    memcpy(items, good, sizeof(good));
    n = build_type2(raw, items, 12);
    ck_assert_int_eq(tx_decode(raw, n, &dec), 0);

    struct {
        size_t idx;
        const char *item;
    } bad[] = {
        {1, "8209"},                                       /* 0x09 as 0x8209: leading zero */
        {1, "820009"},                                     /* integer with a leading zero */
        {5, "80"},                                         /* contract creation */
        {5, "9335353535353535353535353535353535353535"},   /* 19-byte address */
        {5, "c0"},                                         /* list as address */
        {7, "c0"},                                         /* list as data */
        {8, "c2c0c0"},                                     /* non-empty access list */
        {8, "80"},                                         /* access list not a list */
        {9, "02"},                                         /* y_parity 2 */
        {9, "00"},                                         /* y_parity as byte 0x00 */
        {10, "80"},                                        /* r = 0 */
        {11, "80"},                                        /* s = 0 */
        {11, S_HIGH},                                      /* s > n/2 */
        {11, S_HALF_UP},                                   /* s = n/2 + 1 */
        {11, S_ORDER},                                     /* s = n */
        {10, S_ORDER},                                     /* r = n */
        {0, "80"},                                         /* chain id 0 */
        {0, "89010000000000000000"},                       /* chain id >= 2^64 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(items, good, sizeof(good));
        items[bad[i].idx] = bad[i].item;
        n = build_type2(raw, items, 12);
        ck_assert_msg(tx_decode(raw, n, &dec) < 0, "accepted case %zu", i);
    }
    /* 11 or 13 items */
    n = build_type2(raw, good, 11);
    ck_assert_int_eq(tx_decode(raw, n, &dec), TXL_EINVAL);
    memcpy(items, good, sizeof(good));
    const char *thirteen[13];
    memcpy(thirteen, good, sizeof(good));
    thirteen[12] = "80";
    n = build_type2(raw, thirteen, 13);
    ck_assert_int_eq(tx_decode(raw, n, &dec), TXL_EINVAL);
    /* unknown types and junk */
    n = build_type2(raw, good, 12);
    for (int type = 0; type < 0x80; type++) {
        if (type == 2)
            continue;
        raw[0] = (uint8_t)type;
        ck_assert_int_eq(tx_decode(raw, n, &dec), TXL_EINVAL);
    }
    raw[0] = 0x80;
    ck_assert_int_eq(tx_decode(raw, n, &dec), TXL_EINVAL);
    ck_assert_int_eq(tx_decode(raw, 0, &dec), TXL_EINVAL);
    /* a type-2 payload that is a string, not a list */
    const uint8_t str[] = {0x02, 0x82, 0x01, 0x02};
    ck_assert_int_eq(tx_decode(str, sizeof(str), &dec), TXL_EINVAL);
}
END_TEST

START_TEST(test_decode_legacy_v) {
    /* the EIP-155 example with other values of v */
    uint8_t raw[256];
    size_t n = 0;
    const char *hex = "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6"
                      "b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa"
                      "636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83";
    ck_assert_int_eq(hex_decode(hex, strlen(hex), raw, sizeof(raw), &n), 0);
    tx_decoded_t dec;
    ck_assert_int_eq(tx_decode(raw, n, &dec), 0);
    ck_assert_uint_eq(dec.tx.chain_id, 1);
    ck_assert_int_eq(dec.sig.y_parity, 0);
    const size_t v_at = 43; /* offset of v (0x25) in the raw bytes */
    ck_assert_uint_eq(raw[v_at], 0x25);
    const uint8_t bad_v[] = {0x1b, 0x1c, 0x23, 0x24, 0x00, 0x80};
    for (size_t i = 0; i < sizeof(bad_v); i++) {
        raw[v_at] = bad_v[i];
        ck_assert_int_eq(tx_decode(raw, n, &dec), TXL_EINVAL);
    }
    raw[v_at] = 0x26; /* parity 1 for chain 1: decodes, recovers some other key */
    ck_assert_int_eq(tx_decode(raw, n, &dec), 0);
    ck_assert_int_eq(dec.sig.y_parity, 1);
    raw[v_at] = 0x27; /* chain 2: decodes; the recovered sender then differs */
    ck_assert_int_eq(tx_decode(raw, n, &dec), 0);
    ck_assert_uint_eq(dec.tx.chain_id, 2);
}
END_TEST

START_TEST(test_byte_flips) {
    tx_t tx;
    example_tx(&tx);
    uint8_t data[3] = {1, 2, 3};
    tx.data = data;
    tx.data_len = sizeof(data);
    uint8_t raw[512], hash[32], key[32];
    size_t raw_len = 0;
    memset(key, 0x46, sizeof(key));
    ck_assert_int_eq(tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash), 0);
    tx_decoded_t dec;
    eth_address_t from, want;
    ck_assert_int_eq(tx_decode(raw, raw_len, &dec), 0);
    ck_assert_int_eq(tx_recover_sender(&dec, &want), 0);
    /* any single flipped bit either fails to decode or changes the sender or the tx */
    for (size_t i = 0; i < raw_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            raw[i] ^= (uint8_t)(1 << bit);
            if (tx_decode(raw, raw_len, &dec) == 0 && tx_recover_sender(&dec, &from) == 0)
                ck_assert(!address_equal(&from, &want) || memcmp(dec.hash, hash, 32) != 0);
            raw[i] ^= (uint8_t)(1 << bit);
        }
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("tx");
    TCase *tc = tcase_create("tx");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_invalid_keys);
    tcase_add_test(tc, test_invalid_fields);
    tcase_add_test(tc, test_decode_strict);
    tcase_add_test(tc, test_decode_legacy_v);
    tcase_add_test(tc, test_byte_flips);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
