/*
 * fuzz_rlp.c - libFuzzer target for the strict RLP decoder. Besides memory
 * safety it checks canonicality: whatever the decoder accepts must re-encode
 * to exactly the input bytes, and integer items must round-trip.
 */
#include <stdlib.h>
#include <string.h>

#include "txlane/rlp.h"

static void fuzz_rlp_walk(const rlp_item_t *item, rlp_enc_t *enc, int *ok) {
    if (!item->is_list) {
        rlp_enc_bytes(enc, item->p, item->len);
        uint64_t u;
        uint256_t w;
        uint8_t buf[RLP_U256_MAX_LEN];
        if (rlp_item_to_u64(item, &u) == 0) {
            size_t n = rlp_put_u64(buf, u);
            if (n != rlp_u64_len(u) || rlp_bytes_len(item->p, item->len) != n)
                abort();
        }
        if (rlp_item_to_uint256(item, &w) == 0) {
            size_t n = rlp_put_uint256(buf, &w);
            if (n != rlp_uint256_len(&w) || rlp_bytes_len(item->p, item->len) != n)
                abort();
        }
        return;
    }
    rlp_iter_t it;
    rlp_item_t sub;
    int rc;
    rlp_enc_list_begin(enc);
    rlp_iter_init(&it, item);
    while ((rc = rlp_iter_next(&it, &sub)) == 1)
        fuzz_rlp_walk(&sub, enc, ok);
    if (rc < 0)
        *ok = 0;
    rlp_enc_list_end(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rlp_item_t item;
    if (rlp_decode_one(data, size, &item) != 0)
        return 0;
    if (item.p < data || item.p + item.len > data + size)
        abort();
    rlp_enc_t enc;
    int ok = 1;
    rlp_enc_init(&enc);
    fuzz_rlp_walk(&item, &enc, &ok);
    const uint8_t *out;
    size_t out_len;
    int rc = rlp_enc_finish(&enc, &out, &out_len);
    /* nesting deeper than the encoder supports is fine to give up on */
    if (ok && rc == 0 && (out_len != size || memcmp(out, data, size) != 0))
        abort();
    rlp_enc_free(&enc);
    return 0;
}
