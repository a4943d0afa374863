/*
 * bench_sign.c - throughput of the signing path on one core: Keccak-256 in
 * MB/s, raw libsecp256k1 recoverable signatures per second, and complete
 * EIP-1559 signatures (RLP + Keccak + secp256k1 + raw encoding + tx hash)
 * per second, with their ratio. Figures only; nothing here passes or fails.
 * Usage: txlane-bench-crypto [seconds per measurement, default 2]
 */
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txlane/keccak.h"
#include "txlane/secp.h"
#include "txlane/tx.h"

static double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint8_t bench_sink; /* keeps results alive */

static double bench_keccak(double seconds) {
    static uint8_t buf[1 << 16];
    uint8_t out[32];
    memset(buf, 0x5c, sizeof(buf));
    size_t bytes = 0;
    double start = bench_now(), elapsed;
    do {
        for (int i = 0; i < 16; i++) {
            keccak256(buf, sizeof(buf), out);
            bench_sink ^= out[0];
            bytes += sizeof(buf);
        }
        elapsed = bench_now() - start;
    } while (elapsed < seconds);
    return (double)bytes / elapsed / 1e6;
}

static double bench_raw_sign(double seconds, const uint8_t key[32]) {
    const secp256k1_context *ctx = secp_context();
    uint8_t msg[32], rs[64];
    int recid;
    memset(msg, 0x33, sizeof(msg));
    long count = 0;
    double start = bench_now(), elapsed;
    do {
        for (int i = 0; i < 100; i++) {
            secp256k1_ecdsa_recoverable_signature sig;
            msg[0] = (uint8_t)count;
            if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, msg, key, NULL, NULL))
                abort();
            secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, &recid, &sig);
            bench_sink ^= rs[0];
            count++;
        }
        elapsed = bench_now() - start;
    } while (elapsed < seconds);
    return (double)count / elapsed;
}

static double bench_tx_sign(double seconds, const uint8_t key[32]) {
    tx_t tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = TX_TYPE_EIP1559;
    tx.chain_id = 1;
    uint256_from_u64(1500000000ULL, &tx.max_priority_fee_per_gas);
    uint256_from_u64(42000000000ULL, &tx.max_fee_per_gas);
    tx.gas_limit = 21000;
    memset(tx.to.b, 0x35, sizeof(tx.to.b));
    uint256_from_u64(1000000000000000000ULL, &tx.value);
    uint8_t raw[TX_RAW_OVERHEAD], hash[32];
    size_t raw_len;
    long count = 0;
    double start = bench_now(), elapsed;
    do {
        for (int i = 0; i < 100; i++) {
            tx.nonce = (uint64_t)count;
            if (tx_sign(&tx, key, raw, sizeof(raw), &raw_len, hash) != 0)
                abort();
            bench_sink ^= hash[0];
            count++;
        }
        elapsed = bench_now() - start;
    } while (elapsed < seconds);
    return (double)count / elapsed;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0)
        seconds = 2.0;
    uint8_t key[32];
    memset(key, 0x46, sizeof(key));
    (void)secp_context(); /* context creation is not measured */

    double mbs = bench_keccak(seconds);
    double raw = bench_raw_sign(seconds, key);
    double full = bench_tx_sign(seconds, key);
    printf("keccak256 (64 KiB blocks):           %10.1f MB/s\n", mbs);
    printf("secp256k1 recoverable sign (raw):    %10.0f signs/s\n", raw);
    printf("EIP-1559 tx sign (rlp+keccak+sign):  %10.0f signs/s\n", full);
    printf("full / raw:                          %10.1f %%\n", 100.0 * full / raw);
    return 0;
}
