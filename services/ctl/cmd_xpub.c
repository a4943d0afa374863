/*
 * cmd_xpub.c - `txlane xpub`: prints the account xpub m/44'/60'/0' of a BIP-39
 * mnemonic file (and optional passphrase file). Every program but the signer
 * is configured with this xpub and derives lane addresses from it. A mnemonic
 * file that group or others may read gets a warning (the signer refuses it);
 * the seed and the private account node are wiped before returning.
 */
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"
#include "txlane/bip39.h"
#include "txlane/hd.h"
#include "txlane/secure.h"

static const char xpub_usage[] =
    "usage: txlane xpub --mnemonic-file F [--passphrase-file P]\n"
    "prints the account xpub m/44'/60'/0' that the other programs derive lanes from\n";

static const struct option xpub_opts[] = {
    {"mnemonic-file", required_argument, NULL, 'm'},
    {"passphrase-file", required_argument, NULL, 'p'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_xpub(int argc, char **argv) {
    const char *mnemonic_path = NULL, *passphrase_path = NULL;
    uint8_t seed[BIP39_SEED_LEN];
    char err[512], xpub[HD_XKEY_BUF];
    hd_node_t account;
    int exposed = 0, c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", xpub_opts, NULL)) != -1) {
        const char **slot = c == 'm' ? &mnemonic_path : c == 'p' ? &passphrase_path : NULL;
        if (c == 'h') {
            fputs(xpub_usage, stdout);
            return 0;
        }
        if (slot == NULL)
            return ctl_usage_error("xpub", "unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        if (*slot != NULL)
            return ctl_usage_error("xpub", "option '%s' given twice", argv[optind - 1]);
        *slot = optarg;
    }
    if (optind != argc)
        return ctl_usage_error("xpub", "unexpected argument '%s'", argv[optind]);
    if (mnemonic_path == NULL)
        return ctl_usage_error("xpub", "--mnemonic-file is required");

    rc = bip39_seed_from_files(mnemonic_path, passphrase_path, 0, seed, &exposed, err,
                               sizeof err);
    if (exposed)
        fprintf(stderr,
                "txlane xpub: warning: %s is accessible to group or others; the signer "
                "refuses such a file (chmod 600 it)\n",
                mnemonic_path);
    if (rc != 0) {
        secure_wipe(seed, sizeof seed);
        return ctl_usage_error("xpub", "%s", err);
    }
    rc = hd_lane_account_from_seed(seed, sizeof seed, &account);
    secure_wipe(seed, sizeof seed);
    if (rc == 0) {
        hd_node_neuter(&account, &account);
        rc = hd_node_xpub_format(&account, xpub);
    }
    hd_node_wipe(&account);
    if (rc != 0) {
        fprintf(stderr, "txlane xpub: could not derive %s: %s\n", HD_LANE_ACCOUNT_PATH,
                txl_strerror(rc));
        return 1;
    }
    printf("%s\n", xpub);
    return fflush(stdout) == 0 ? 0 : 1;
}
