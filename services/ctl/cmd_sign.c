/*
 * cmd_sign.c - `txlane sign`: signs one EIP-1559 transaction (or, with
 * --legacy, an EIP-155 legacy one) and prints the raw transaction and its
 * hash, one per line. The private key is read from --key-file ("0x" + 64
 * hex, a trailing newline allowed), or derived for lane I from a BIP-39
 * mnemonic file (and passphrase file) - never from the command line - and
 * wiped before exit. Every argument is validated before the key is read.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "txlane/address.h"
#include "txlane/bip39.h"
#include "txlane/hd.h"
#include "txlane/hex.h"
#include "txlane/secret_file.h"
#include "txlane/secure.h"
#include "txlane/tx.h"
#include "txlane/uint256.h"
#include "txlane/xmalloc.h"

static const char sign_usage[] =
    "usage: txlane sign (--key-file F | --mnemonic-file F [--passphrase-file P] --lane I)\n"
    "                   --chain-id C --nonce N --to ADDR --value WEI\n"
    "                   --gas-limit G (--max-fee WEI --priority-fee WEI | --legacy --gas-price "
    "WEI)\n"
    "                   [--data 0x...]\n"
    "prints the raw transaction (0x...) and its hash on two lines; with --mnemonic-file\n"
    "the key is lane I's, m/44'/60'/0'/0/I\n";

enum sign_opt {
    SIGN_KEY_FILE = 1,
    SIGN_CHAIN_ID,
    SIGN_NONCE,
    SIGN_TO,
    SIGN_VALUE,
    SIGN_GAS_LIMIT,
    SIGN_MAX_FEE,
    SIGN_PRIORITY_FEE,
    SIGN_GAS_PRICE,
    SIGN_DATA,
    SIGN_LEGACY,
    SIGN_MNEMONIC_FILE,
    SIGN_PASSPHRASE_FILE,
    SIGN_LANE,
    SIGN_HELP,
    SIGN_OPT_COUNT,
};

static const struct option sign_opts[] = {
    {"key-file", required_argument, NULL, SIGN_KEY_FILE},
    {"chain-id", required_argument, NULL, SIGN_CHAIN_ID},
    {"nonce", required_argument, NULL, SIGN_NONCE},
    {"to", required_argument, NULL, SIGN_TO},
    {"value", required_argument, NULL, SIGN_VALUE},
    {"gas-limit", required_argument, NULL, SIGN_GAS_LIMIT},
    {"max-fee", required_argument, NULL, SIGN_MAX_FEE},
    {"priority-fee", required_argument, NULL, SIGN_PRIORITY_FEE},
    {"gas-price", required_argument, NULL, SIGN_GAS_PRICE},
    {"data", required_argument, NULL, SIGN_DATA},
    {"legacy", no_argument, NULL, SIGN_LEGACY},
    {"mnemonic-file", required_argument, NULL, SIGN_MNEMONIC_FILE},
    {"passphrase-file", required_argument, NULL, SIGN_PASSPHRASE_FILE},
    {"lane", required_argument, NULL, SIGN_LANE},
    {"help", no_argument, NULL, SIGN_HELP},
    {NULL, 0, NULL, 0},
};

/* Parses a 64-bit quantity (decimal or 0x hex); 0 or -1. */
static int sign_parse_u64(const char *s, uint64_t *out) {
    uint256_t v;
    if (uint256_parse(s, &v) != 0 || uint256_to_u64(&v, out) != 0)
        return -1;
    return 0;
}

/* Reads the key file into key[32]; returns 0 or writes a reason to err. */
static int sign_read_key(const char *path, uint8_t key[32], char *err, size_t err_size) {
    secret_file_t sf = {0};
    size_t n = 0;
    int rc = secret_file_read(path, &sf, err, err_size);
    if (rc == 0) {
        if (secret_file_is_exposed(&sf))
            fprintf(stderr, "txlane sign: warning: key file %s is readable by group or others\n",
                    path);
        if (sf.len != 66 || sf.data[0] != '0' || sf.data[1] != 'x' ||
            hex_decode(sf.data, sf.len, key, 32, &n) != 0 || n != 32) {
            snprintf(err, err_size, "key file %s must hold 0x + 64 hex digits", path);
            rc = -1;
        }
    }
    secret_file_release(&sf);
    return rc;
}

/* Derives lane's private key from the mnemonic (and passphrase) files into
 * key[32]; returns 0 or writes a reason to err. */
static int sign_derive_key(const char *mnemonic_path, const char *passphrase_path, uint32_t lane,
                           uint8_t key[32], char *err, size_t err_size) {
    uint8_t seed[BIP39_SEED_LEN];
    hd_node_t chain;
    eth_address_t addr;
    int exposed = 0;
    int rc = bip39_seed_from_files(mnemonic_path, passphrase_path, 0, seed, &exposed, err,
                                   err_size);
    if (exposed)
        fprintf(stderr, "txlane sign: warning: %s is readable by group or others\n",
                mnemonic_path);
    if (rc == 0) {
        rc = hd_lane_chain_from_seed(seed, sizeof(seed), &chain);
        if (rc == 0)
            rc = hd_lane_key(&chain, lane, key, &addr);
        if (rc != 0)
            snprintf(err, err_size, "could not derive the key of lane %u: %s", lane,
                     txl_strerror(rc));
        hd_node_wipe(&chain);
    }
    secure_wipe(seed, sizeof(seed));
    return rc;
}

static int sign_run(const tx_t *tx, const char *const *arg, uint32_t lane) {
    uint8_t key[32];
    char err[512];
    int rc = arg[SIGN_KEY_FILE] != NULL
                 ? sign_read_key(arg[SIGN_KEY_FILE], key, err, sizeof(err))
                 : sign_derive_key(arg[SIGN_MNEMONIC_FILE], arg[SIGN_PASSPHRASE_FILE], lane, key,
                                   err, sizeof(err));
    if (rc != 0) {
        secure_wipe(key, sizeof(key));
        return ctl_usage_error("sign", "%s", err);
    }
    size_t cap = tx_raw_cap(tx), raw_len = 0;
    uint8_t *raw = xmalloc(cap);
    uint8_t hash[32];
    rc = tx_sign(tx, key, raw, cap, &raw_len, hash);
    secure_wipe(key, sizeof(key));
    if (rc == TXL_ECRYPTO) {
        free(raw);
        return ctl_usage_error("sign", "the key is not a valid secp256k1 key");
    }
    if (rc != 0) {
        free(raw);
        fprintf(stderr, "txlane sign: could not sign: %s\n", txl_strerror(rc));
        return 1;
    }
    char *hex = xmalloc(2 * raw_len + 1);
    char hash_hex[65];
    hex_encode(raw, raw_len, hex);
    hex_encode(hash, sizeof(hash), hash_hex);
    printf("0x%s\n0x%s\n", hex, hash_hex);
    free(hex);
    free(raw);
    return 0;
}

int cmd_sign(int argc, char **argv) {
    const char *arg[SIGN_OPT_COUNT] = {0};
    int legacy = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", sign_opts, NULL)) != -1) {
        if (c == SIGN_HELP) {
            fputs(sign_usage, stdout);
            return 0;
        }
        if (c == SIGN_LEGACY) {
            legacy = 1;
            continue;
        }
        if (c == '?' || c == ':' || c <= 0 || c >= SIGN_OPT_COUNT)
            return ctl_usage_error("sign", "unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        if (arg[c] != NULL)
            return ctl_usage_error("sign", "option '%s' given twice", argv[optind - 1]);
        arg[c] = optarg;
    }
    if (optind != argc)
        return ctl_usage_error("sign", "unexpected argument '%s'", argv[optind]);

    static const struct {
        enum sign_opt opt;
        const char *name;
    } required[] = {{SIGN_CHAIN_ID, "--chain-id"}, {SIGN_NONCE, "--nonce"},
                    {SIGN_TO, "--to"},             {SIGN_VALUE, "--value"},
                    {SIGN_GAS_LIMIT, "--gas-limit"}};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (arg[required[i].opt] == NULL)
            return ctl_usage_error("sign", "missing %s", required[i].name);
    }
    long long lane = 0;
    if ((arg[SIGN_KEY_FILE] == NULL) == (arg[SIGN_MNEMONIC_FILE] == NULL))
        return ctl_usage_error("sign", "give exactly one of --key-file and --mnemonic-file");
    if (arg[SIGN_MNEMONIC_FILE] != NULL) {
        if (arg[SIGN_LANE] == NULL)
            return ctl_usage_error("sign", "--mnemonic-file needs --lane");
        if (ctl_parse_ll(arg[SIGN_LANE], 0, 2147483647, &lane) != 0)
            return ctl_usage_error("sign", "--lane must be a decimal from 0 to 2147483647");
    } else if (arg[SIGN_LANE] != NULL || arg[SIGN_PASSPHRASE_FILE] != NULL) {
        return ctl_usage_error("sign", "--lane and --passphrase-file go with --mnemonic-file");
    }

    tx_t tx;
    memset(&tx, 0, sizeof(tx));
    if (sign_parse_u64(arg[SIGN_CHAIN_ID], &tx.chain_id) != 0 || tx.chain_id == 0)
        return ctl_usage_error("sign", "--chain-id must be an integer in [1, 2^64)");
    if (sign_parse_u64(arg[SIGN_NONCE], &tx.nonce) != 0)
        return ctl_usage_error("sign", "--nonce must be an integer in [0, 2^64)");
    if (sign_parse_u64(arg[SIGN_GAS_LIMIT], &tx.gas_limit) != 0)
        return ctl_usage_error("sign", "--gas-limit must be an integer in [0, 2^64)");
    int rc = address_parse(arg[SIGN_TO], &tx.to);
    if (rc != 0)
        return ctl_usage_error("sign", "--to: %s",
                               rc == TXL_ECHECKSUM ? "EIP-55 checksum mismatch"
                                                   : "expected 0x + 40 hex digits");
    if (uint256_parse(arg[SIGN_VALUE], &tx.value) != 0)
        return ctl_usage_error("sign", "--value must be an integer in [0, 2^256)");

    if (legacy) {
        tx.type = TX_TYPE_LEGACY;
        if (arg[SIGN_MAX_FEE] != NULL || arg[SIGN_PRIORITY_FEE] != NULL)
            return ctl_usage_error("sign",
                                   "--legacy takes --gas-price, not --max-fee/--priority-fee");
        if (arg[SIGN_GAS_PRICE] == NULL)
            return ctl_usage_error("sign", "missing --gas-price (required with --legacy)");
        if (uint256_parse(arg[SIGN_GAS_PRICE], &tx.gas_price) != 0)
            return ctl_usage_error("sign", "--gas-price must be an integer in [0, 2^256)");
        if (tx.chain_id > (UINT64_MAX - 36) / 2)
            return ctl_usage_error("sign", "--chain-id too large for an EIP-155 signature");
    } else {
        tx.type = TX_TYPE_EIP1559;
        if (arg[SIGN_GAS_PRICE] != NULL)
            return ctl_usage_error("sign", "--gas-price needs --legacy");
        if (arg[SIGN_MAX_FEE] == NULL || arg[SIGN_PRIORITY_FEE] == NULL)
            return ctl_usage_error("sign", "missing --max-fee or --priority-fee");
        if (uint256_parse(arg[SIGN_MAX_FEE], &tx.max_fee_per_gas) != 0)
            return ctl_usage_error("sign", "--max-fee must be an integer in [0, 2^256)");
        if (uint256_parse(arg[SIGN_PRIORITY_FEE], &tx.max_priority_fee_per_gas) != 0)
            return ctl_usage_error("sign", "--priority-fee must be an integer in [0, 2^256)");
        if (uint256_cmp(&tx.max_priority_fee_per_gas, &tx.max_fee_per_gas) > 0)
            return ctl_usage_error("sign", "--priority-fee exceeds --max-fee");
    }

    uint8_t *data = NULL;
    if (arg[SIGN_DATA] != NULL) {
        size_t n = 0;
        if (hex_decode_0x_alloc(arg[SIGN_DATA], &data, &n) != 0)
            return ctl_usage_error("sign", "--data must be 0x + an even number of hex digits");
        if (n > TX_DATA_MAX) {
            free(data);
            return ctl_usage_error("sign", "--data longer than %u bytes", TX_DATA_MAX);
        }
        tx.data = n > 0 ? data : NULL;
        tx.data_len = n;
    }

    rc = sign_run(&tx, arg, (uint32_t)lane);
    free(data);
    return rc;
}
