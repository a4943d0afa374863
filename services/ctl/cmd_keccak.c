/*
 * cmd_keccak.c - `txlane keccak 0x<hex>`: prints 0x + the Keccak-256 of the
 * given bytes ("0x" alone hashes the empty string).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "txlane/hex.h"
#include "txlane/keccak.h"

static const char keccak_usage[] = "usage: txlane keccak 0x<hex>\n";

int cmd_keccak(int argc, char **argv) {
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(keccak_usage, stdout);
            return 0;
        }
        return ctl_usage_error("keccak", "unknown option '%s'", argv[optind - 1]);
    }
    if (argc - optind != 1)
        return ctl_usage_error("keccak", "expected exactly one argument 0x<hex>");
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (hex_decode_0x_alloc(argv[optind], &bytes, &n) != 0)
        return ctl_usage_error("keccak", "argument must be 0x + an even number of hex digits");
    uint8_t digest[32];
    char out[65];
    keccak256(bytes, n, digest);
    free(bytes);
    hex_encode(digest, sizeof(digest), out);
    printf("0x%s\n", out);
    return 0;
}
