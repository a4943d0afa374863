/*
 * cmd_derive.c - `txlane derive`: prints lane addresses, one "<index> <EIP-55
 * address>" line per lane m/44'/60'/0'/0/<index>, either from a BIP-39
 * mnemonic file (and optional passphrase file) or from the account xpub
 * m/44'/60'/0' (public derivation). Secrets are read from files only, never
 * from the command line; a mnemonic file that group or others may read gets
 * a warning (the signer refuses it). Every argument is validated before any
 * file is read; the seed and derived nodes are wiped before returning.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "txlane/address.h"
#include "txlane/bip39.h"
#include "txlane/hd.h"
#include "txlane/secure.h"

static const char derive_usage[] =
    "usage: txlane derive --mnemonic-file F [--passphrase-file P] --index I [--count N]\n"
    "       txlane derive --xpub XPUB --index I [--count N]\n"
    "prints '<index> <address>' for lanes I..I+N-1 (m/44'/60'/0'/0/<index>); N defaults to 1.\n"
    "XPUB is the account key m/44'/60'/0' that 'txlane xpub' prints.\n";

enum derive_opt {
    DERIVE_MNEMONIC_FILE = 1,
    DERIVE_PASSPHRASE_FILE,
    DERIVE_XPUB,
    DERIVE_INDEX,
    DERIVE_COUNT,
    DERIVE_HELP,
    DERIVE_OPT_COUNT,
};

static const struct option derive_opts[] = {
    {"mnemonic-file", required_argument, NULL, DERIVE_MNEMONIC_FILE},
    {"passphrase-file", required_argument, NULL, DERIVE_PASSPHRASE_FILE},
    {"xpub", required_argument, NULL, DERIVE_XPUB},
    {"index", required_argument, NULL, DERIVE_INDEX},
    {"count", required_argument, NULL, DERIVE_COUNT},
    {"help", no_argument, NULL, DERIVE_HELP},
    {NULL, 0, NULL, 0},
};

/* Parses a decimal below 2^31 (digits only, no sign, no leading zero); 0 or -1. */
static int derive_parse_index(const char *s, uint32_t *out) {
    uint64_t v = 0;
    if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v >= HD_HARDENED)
            return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* Prints lanes first..first+count-1 of the chain node. Returns the exit status. */
static int derive_print_lanes(const hd_node_t *chain, uint32_t first, uint32_t count) {
    for (uint32_t i = first; i - first < count; i++) {
        eth_address_t addr;
        char text[ADDRESS_STR_LEN + 1];
        int rc = hd_lane_address(chain, i, &addr);
        if (rc == TXL_ECRYPTO) {
            fprintf(stderr, "txlane derive: lane %u: invalid child key (bip-32: skip this index)\n",
                    i);
            return 1;
        }
        if (rc != 0) {
            fprintf(stderr, "txlane derive: lane %u: %s\n", i, txl_strerror(rc));
            return 1;
        }
        address_format(&addr, text);
        printf("%u %s\n", i, text);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

/* Derives the private chain node m/44'/60'/0'/0 from the mnemonic files. */
static int derive_chain_from_files(const char *mnemonic_path, const char *passphrase_path,
                                   hd_node_t *chain) {
    uint8_t seed[BIP39_SEED_LEN];
    char err[512];
    int exposed = 0, rc;

    rc = bip39_seed_from_files(mnemonic_path, passphrase_path, 0, seed, &exposed, err,
                               sizeof err);
    if (exposed)
        fprintf(stderr,
                "txlane derive: warning: %s is accessible to group or others; the signer "
                "refuses such a file (chmod 600 it)\n",
                mnemonic_path);
    if (rc != 0) {
        secure_wipe(seed, sizeof seed);
        return ctl_usage_error("derive", "%s", err);
    }
    rc = hd_lane_chain_from_seed(seed, sizeof seed, chain);
    secure_wipe(seed, sizeof seed);
    if (rc != 0) {
        fprintf(stderr, "txlane derive: could not derive %s: %s\n", HD_LANE_CHAIN_PATH,
                txl_strerror(rc));
        return 1;
    }
    return 0;
}

int cmd_derive(int argc, char **argv) {
    const char *arg[DERIVE_OPT_COUNT] = {0};
    uint32_t index = 0, count = 1;
    hd_node_t account, chain;
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", derive_opts, NULL)) != -1) {
        if (c == DERIVE_HELP) {
            fputs(derive_usage, stdout);
            return 0;
        }
        if (c == '?' || c == ':' || c <= 0 || c >= DERIVE_OPT_COUNT)
            return ctl_usage_error("derive", "unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        if (arg[c] != NULL)
            return ctl_usage_error("derive", "option '%s' given twice", argv[optind - 1]);
        arg[c] = optarg;
    }
    if (optind != argc)
        return ctl_usage_error("derive", "unexpected argument '%s'", argv[optind]);
    if ((arg[DERIVE_MNEMONIC_FILE] == NULL) == (arg[DERIVE_XPUB] == NULL))
        return ctl_usage_error("derive", "give exactly one of --mnemonic-file and --xpub");
    if (arg[DERIVE_PASSPHRASE_FILE] != NULL && arg[DERIVE_XPUB] != NULL)
        return ctl_usage_error("derive", "--passphrase-file goes with --mnemonic-file, not --xpub");
    if (arg[DERIVE_INDEX] == NULL)
        return ctl_usage_error("derive", "--index is required");
    if (derive_parse_index(arg[DERIVE_INDEX], &index) != 0)
        return ctl_usage_error("derive", "--index must be a decimal from 0 to 2147483647");
    if (arg[DERIVE_COUNT] != NULL &&
        (derive_parse_index(arg[DERIVE_COUNT], &count) != 0 || count == 0))
        return ctl_usage_error("derive", "--count must be a decimal from 1 to 2147483647");
    if (count > HD_HARDENED - index)
        return ctl_usage_error("derive", "--index + --count must not exceed 2147483648");

    if (arg[DERIVE_XPUB] != NULL) {
        rc = hd_lane_account_parse(arg[DERIVE_XPUB], &account);
        if (rc != 0)
            return ctl_usage_error("derive", "--xpub must be the xpub of the account %s: %s",
                                   HD_LANE_ACCOUNT_PATH, txl_strerror(rc));
        rc = hd_lane_chain_from_account(&account, &chain);
        if (rc != 0) {
            fprintf(stderr, "txlane derive: could not derive the chain /0: %s\n",
                    txl_strerror(rc));
            return 1;
        }
    } else {
        rc = derive_chain_from_files(arg[DERIVE_MNEMONIC_FILE], arg[DERIVE_PASSPHRASE_FILE],
                                     &chain);
        if (rc != 0)
            return rc;
    }
    rc = derive_print_lanes(&chain, index, count);
    hd_node_wipe(&chain);
    return rc;
}
