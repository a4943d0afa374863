/*
 * main.c - the txlane operator CLI: dispatches to one cmd_<name>() per
 * subcommand (see ctl.h). Exit status: 0 ok, 1 operation failed, 2 bad usage.
 */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct ctl_command {
    const char *name;
    ctl_cmd_fn fn;
    const char *help;
};

static const struct ctl_command ctl_commands[] = {
    {"migrate", cmd_migrate, "apply schemas/sql migrations to PostgreSQL (idempotent)"},
    {"topics", cmd_topics, "create the Kafka topics (idempotent)"},
    {"submit", cmd_submit, "produce payout requests (flags, a JSON-lines file, or generated load)"},
    {"status", cmd_status, "show a request's transaction, attempts and events"},
    {"lanes", cmd_lanes, "list the lanes; pause or resume one"},
    {"audit", cmd_audit, "check the invariants against PostgreSQL and the node"},
    {"keccak", cmd_keccak, "keccak 0x<hex>: print the Keccak-256 of the bytes"},
    {"derive", cmd_derive, "derive lane addresses from a mnemonic file or an xpub"},
    {"xpub", cmd_xpub, "print the account xpub m/44'/60'/0' of a mnemonic file"},
    {"sign", cmd_sign, "sign an EIP-1559 (or --legacy EIP-155) transaction"},
    {"decode", cmd_decode, "decode a raw transaction and recover its sender"},
    {NULL, NULL, NULL},
};

int ctl_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "txlane %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static void ctl_print_help(FILE *out) {
    fprintf(out, "usage: txlane <command> [options]\n\ncommands:\n");
    for (const struct ctl_command *c = ctl_commands; c->name != NULL; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->help);
    fprintf(out, "\nrun 'txlane <command> --help' for a command's options\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        ctl_print_help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ctl_print_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("txlane %s\n", TXLANE_VERSION);
        return 0;
    }
    for (const struct ctl_command *c = ctl_commands; c->name != NULL; c++) {
        if (strcmp(argv[1], c->name) == 0)
            return c->fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "txlane: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
}
