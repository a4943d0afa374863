/*
 * cmd_decode.c - `txlane decode 0x<raw>`: decodes a signed raw transaction
 * (type 2 or legacy EIP-155), recovers its sender and prints one JSON
 * object. Amounts and fees are decimal strings (they overflow doubles).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "txlane/address.h"
#include "txlane/hex.h"
#include "txlane/tx.h"
#include "txlane/uint256.h"
#include "txlane/xmalloc.h"

static const char decode_usage[] = "usage: txlane decode 0x<raw transaction>\n"
                                   "prints the fields, hash and recovered sender as JSON\n";

static void decode_print_u256(const char *key, const uint256_t *v) {
    char dec[UINT256_DEC_BUF];
    uint256_format_dec(v, dec);
    printf(",\"%s\":\"%s\"", key, dec);
}

static void decode_print_hex(const char *key, const uint8_t *p, size_t n) {
    char *hex = xmalloc(2 * n + 1);
    hex_encode(p, n, hex);
    printf(",\"%s\":\"0x%s\"", key, hex);
    free(hex);
}

static void decode_print(const tx_decoded_t *dec, const eth_address_t *from) {
    const tx_t *tx = &dec->tx;
    char addr[43];
    printf("{\"type\":%d,\"chain_id\":%" PRIu64 ",\"nonce\":%" PRIu64, (int)tx->type,
           tx->chain_id, tx->nonce);
    if (tx->type == TX_TYPE_EIP1559) {
        decode_print_u256("max_fee_per_gas", &tx->max_fee_per_gas);
        decode_print_u256("max_priority_fee_per_gas", &tx->max_priority_fee_per_gas);
    } else {
        decode_print_u256("gas_price", &tx->gas_price);
    }
    printf(",\"gas_limit\":%" PRIu64, tx->gas_limit);
    address_format(&tx->to, addr);
    printf(",\"to\":\"%s\"", addr);
    decode_print_u256("value", &tx->value);
    decode_print_hex("data", tx->data, tx->data_len);
    printf(",\"y_parity\":%d", dec->sig.y_parity);
    decode_print_hex("r", dec->sig.r, 32);
    decode_print_hex("s", dec->sig.s, 32);
    decode_print_hex("hash", dec->hash, 32);
    address_format(from, addr);
    printf(",\"from\":\"%s\"}\n", addr);
}

int cmd_decode(int argc, char **argv) {
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(decode_usage, stdout);
            return 0;
        }
        return ctl_usage_error("decode", "unknown option '%s'", argv[optind - 1]);
    }
    if (argc - optind != 1)
        return ctl_usage_error("decode", "expected exactly one argument 0x<raw transaction>");
    uint8_t *raw = NULL;
    size_t n = 0;
    tx_decoded_t dec;
    eth_address_t from;
    int status = 0;
    if (hex_decode_0x_alloc(argv[optind], &raw, &n) != 0) {
        status = ctl_usage_error("decode", "argument must be 0x + an even number of hex digits");
    } else if (tx_decode(raw, n, &dec) != 0) {
        status = ctl_usage_error("decode", "not a valid signed type-2 or EIP-155 transaction");
    } else if (tx_recover_sender(&dec, &from) != 0) {
        fprintf(stderr, "txlane decode: could not recover the sender\n");
        status = 1;
    } else {
        decode_print(&dec, &from);
    }
    free(raw);
    return status;
}
