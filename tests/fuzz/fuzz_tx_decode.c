/*
 * fuzz_tx_decode.c - libFuzzer target for the raw transaction decoder.
 * Whatever decodes must re-encode to exactly the input, and recovering the
 * sender must not crash. Seeds: the raw transactions of tests/vectors/tx.txt.
 */
#include <stdlib.h>
#include <string.h>

#include "txlane/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tx_decoded_t dec;
    if (tx_decode(data, size, &dec) != 0)
        return 0;
    eth_address_t from;
    (void)tx_recover_sender(&dec, &from);
    uint8_t *raw = malloc(tx_raw_cap(&dec.tx));
    size_t raw_len = 0;
    if (raw == NULL)
        return 0;
    if (tx_encode_signed(&dec.tx, &dec.sig, raw, tx_raw_cap(&dec.tx), &raw_len) != 0 ||
        raw_len != size || memcmp(raw, data, size) != 0)
        abort();
    free(raw);
    return 0;
}
