/*
 * bench_presign.c - writes pre-signed transfers as JSON-RPC batch files, for
 * measuring a node's own ingest limit (tests/bench/pipeline_bench.sh).
 *
 *   txlane-bench-presign MNEMONIC_FILE PASSPHRASE_FILE CHAIN_ID LANES PER_LANE BATCH STREAMS
 *                        OUT_DIR SALT
 *
 * Lanes 0..LANES-1 of the wallet (m/44'/60'/0'/0/i) each sign nonces
 * 0..PER_LANE-1, each an EIP-1559 transfer of 10^12 wei to a recipient of
 * its own (the last 20 bytes of keccak256("txlane-bench:SALT:lane:nonce"),
 * so the node creates an account per transfer, as with payouts to fresh
 * recipients), gas 21000, fee cap 100 gwei, tip 1 gwei.
 *
 * Lane i goes to stream i mod STREAMS; each stream's calls go out
 * nonce-major (its lanes' nonce 0, then nonce 1, ...), BATCH calls per file
 * OUT_DIR/batch.SS.NNNNN.json. Sending each stream's files in order, the
 * streams side by side, never hands the node a nonce before the one under
 * it. Prints the lanes' addresses, one per line. Keys stay in the keyring
 * (wiped on exit); nothing secret is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/hex.h"
#include "txlane/keccak.h"
#include "txlane/keyring.h"
#include "txlane/tx.h"

static int presign_parse(const char *s, unsigned long long max, unsigned long long *out) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Closes a batch file; 0 or 1 (reported). */
static int presign_close(FILE *f) {
    if (f != NULL && (fputs("]\n", f) == EOF || fclose(f) != 0)) {
        fprintf(stderr, "txlane-bench-presign: could not write a batch file\n");
        return 1;
    }
    return 0;
}

/* Writes the batch files of one stream; 0 or 1 (reported). */
static int presign_stream(const keyring_t *kr, tx_t *tx, unsigned long long lanes,
                          unsigned long long per_lane, unsigned long long batch,
                          unsigned long long streams, unsigned long long stream, const char *dir,
                          const char *salt) {
    uint8_t raw[TX_RAW_OVERHEAD], hash[32];
    char raw_hex[2 * TX_RAW_OVERHEAD + 1];
    FILE *f = NULL;
    unsigned long long call = 0;
    for (unsigned long long nonce = 0; nonce < per_lane; nonce++) {
        for (unsigned long long lane = stream; lane < lanes; lane += streams, call++) {
            char seed[256];
            uint8_t digest[32];
            size_t raw_len;
            int len = snprintf(seed, sizeof(seed), "txlane-bench:%s:%llu:%llu", salt, lane, nonce);
            keccak256((const uint8_t *)seed,
                      (size_t)len < sizeof(seed) ? (size_t)len : sizeof(seed) - 1, digest);
            memcpy(tx->to.b, digest + 12, sizeof(tx->to.b));
            tx->nonce = nonce;
            if (keyring_sign(kr, (uint32_t)lane, tx, raw, sizeof(raw), &raw_len, hash) != 0) {
                fprintf(stderr, "txlane-bench-presign: could not sign lane %llu nonce %llu\n",
                        lane, nonce);
                presign_close(f);
                return 1;
            }
            hex_encode(raw, raw_len, raw_hex);
            if (call % batch == 0) {
                char path[4096];
                if (presign_close(f) != 0)
                    return 1;
                snprintf(path, sizeof(path), "%s/batch.%02llu.%05llu.json", dir, stream,
                         call / batch);
                if ((f = fopen(path, "w")) == NULL) {
                    perror(path);
                    return 1;
                }
                fputc('[', f);
            } else {
                fputc(',', f);
            }
            fprintf(f, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"eth_sendRawTransaction\","
                       "\"params\":[\"0x%s\"]}",
                    call % batch, raw_hex);
        }
    }
    return presign_close(f);
}

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: txlane-bench-presign MNEMONIC_FILE PASSPHRASE_FILE CHAIN_ID LANES "
                        "PER_LANE BATCH STREAMS OUT_DIR SALT\n");
        return 2;
    }
    unsigned long long chain_id, lanes, per_lane, batch, streams;
    if (presign_parse(argv[3], UINT32_MAX, &chain_id) != 0 ||
        presign_parse(argv[4], KEYRING_LANES_MAX, &lanes) != 0 ||
        presign_parse(argv[5], 1000000, &per_lane) != 0 ||
        presign_parse(argv[6], 100000, &batch) != 0 ||
        presign_parse(argv[7], 99, &streams) != 0 || streams > lanes) {
        fprintf(stderr, "txlane-bench-presign: CHAIN_ID, LANES, PER_LANE, BATCH and STREAMS "
                        "(at most LANES) must be positive integers in range\n");
        return 2;
    }
    char errstr[256];
    keyring_t *kr = NULL;
    if (keyring_load(argv[1], argv[2], (uint32_t)lanes, &kr, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "txlane-bench-presign: %s\n", errstr);
        return 1;
    }
    int rc = 0;
    for (uint32_t lane = 0; lane < lanes; lane++) {
        char addr[ADDRESS_STR_LEN + 1];
        address_format(keyring_address(kr, lane), addr);
        printf("%s\n", addr);
    }
    tx_t tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_TYPE_EIP1559;
    tx.chain_id = chain_id;
    uint256_from_u64(1000000000ULL, &tx.max_priority_fee_per_gas);
    uint256_from_u64(100000000000ULL, &tx.max_fee_per_gas);
    tx.gas_limit = 21000;
    uint256_from_u64(1000000000000ULL, &tx.value);
    for (unsigned long long stream = 0; stream < streams && rc == 0; stream++)
        rc = presign_stream(kr, &tx, lanes, per_lane, batch, streams, stream, argv[8], argv[9]);
    keyring_free(kr);
    return rc;
}
