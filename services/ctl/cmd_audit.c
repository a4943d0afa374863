/*
 * cmd_audit.c - `txlane audit`: checks DESIGN section 5's invariants against
 * PostgreSQL and the node and prints a report, each invariant PASS, FAIL
 * (with the number of violations and examples), SKIP or ERROR. Exit 0 only
 * when none failed or could not be checked.
 *
 * PostgreSQL is read in one REPEATABLE READ READ ONLY transaction (one
 * snapshot, a few statements), the node at one block: the head read right
 * after the snapshot began, so whatever PostgreSQL says is mined was mined
 * by then. The checks live in audit_db.c, audit_tx.c and audit_chain.c.
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "ctl.h"
#include "txlane/db.h"

static const char audit_usage[] =
    "usage: txlane audit [--json] [--final] [--strict-recipients] [--db-only] [--examples N]\n"
    "\n"
    "Checks the invariants of DESIGN section 5 against PostgreSQL and the node:\n"
    "  1  one transaction per request_id, every request has one; states counted\n"
    "  2  per lane, txs nonces and recorded external nonces are exactly\n"
    "     [first_nonce, next_nonce): no hole, no repeat\n"
    "  3  every attempt decodes, is signed by the lane for the tx's nonce and chain, and\n"
    "     carries the tx's payout or a no-op (0-value self-transfer)\n"
    "  4  every allocated nonce is mined on chain\n"
    "  5  invalid requests are in the dead-letter topic: cannot be checked from PostgreSQL\n"
    "     (they are never recorded there); reported as SKIP\n"
    "  6  tx_events only move forward (confirmed/cancelled -> submitted on a reorg), each\n"
    "     event continues the previous one, the last one matches the tx's state\n"
    "  7a per lane: mined nonce count - first_nonce = confirmed + cancelled + external\n"
    "     (+ mined txs awaiting confirmation), eth_getTransactionCount in one batch\n"
    "  7b confirmed/cancelled txs: exactly one attempt mined, in the recorded block, with\n"
    "     the recorded status; the payout for confirmed, the no-op for cancelled\n"
    "  7c recipients of plain ETH payouts (no token, no data, not a lane) hold at least\n"
    "     the sum of their confirmed successful payouts (eth_getBalance). A recipient may\n"
    "     have other income, so holding more is only noted - a failure with\n"
    "     --strict-recipients\n"
    "\n"
    "--final: the pipeline is at rest: transactions not in a terminal state (1), nonces\n"
    "  not yet mined (4) and mined txs not yet confirmed (7a) are failures.\n"
    "--db-only: PostgreSQL checks only (4, 7a, 7b, 7c skipped).\n"
    "--examples N: violations shown per check (default 5).\n"
    "Exit status: 0 every invariant holds, 1 a check failed or could not run, 2 usage.\n";

static const cfg_option_t audit_options[] = {
    CTL_OPT_LOG_LEVEL,
    CTL_OPT_PG_DSN,
    CTL_OPT_RPC_URL,
    CFG_END,
};

static int audit_run(audit_t *a, const ctl_env_t *env, int json) {
    char errstr[512];
    a->conn = ctl_db_connect("audit", env);
    if (a->conn == NULL)
        return 1;
    if (db_exec(a->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, errstr,
                sizeof(errstr)) != 0) {
        fprintf(stderr, "txlane audit: %s\n", errstr);
        PQfinish(a->conn);
        return 1;
    }
    /* the first statement takes the snapshot; the chain head is read after it */
    if (audit_load_lanes(a) != 0) {
        /* nothing else can be read in this transaction: say why and stop */
        const audit_check_t *k = &a->checks[AUDIT_C2_NONCES];
        fprintf(stderr, "txlane audit: could not read the lanes (is the schema migrated?): %s\n",
                k->n_notes > 0 ? k->notes[0] : "unknown error");
        PQfinish(a->conn);
        a->conn = NULL;
        return 1;
    }
    static const audit_check_id_t chain_checks[] = {AUDIT_C4_USED, AUDIT_C7A_MINED,
                                                    AUDIT_C7B_RECEIPTS, AUDIT_C7C_RECIPIENTS};
    for (size_t i = 0; a->db_only && i < sizeof(chain_checks) / sizeof(chain_checks[0]); i++)
        audit_skip(a, chain_checks[i], "not checked (--db-only)");
    if (!a->db_only)
        (void)audit_chain_open(a, env->rpc_url, (long)env->rpc_timeout_ms);
    audit_check_requests(a);
    audit_check_nonces(a);
    audit_check_transactions(a);
    audit_check_lane_counts(a);
    audit_check_recipients(a);
    audit_check_forward(a);
    audit_skip(a, AUDIT_C5_DLQ,
               "cannot be checked from PostgreSQL: invalid requests are never recorded there; "
               "they are on the dead-letter topic with their reason");
    db_rollback(a->conn);
    int ok = audit_report_print(a, json);
    rpc_client_free(a->rpc);
    a->rpc = NULL;
    PQfinish(a->conn);
    a->conn = NULL;
    return ok ? 0 : 1;
}

int cmd_audit(int argc, char **argv) {
    enum { OPT_JSON = 1, OPT_FINAL, OPT_STRICT, OPT_DB_ONLY, OPT_EXAMPLES, OPT_HELP };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"final", no_argument, NULL, OPT_FINAL},
        {"strict-recipients", no_argument, NULL, OPT_STRICT},
        {"db-only", no_argument, NULL, OPT_DB_ONLY},
        {"examples", required_argument, NULL, OPT_EXAMPLES},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    audit_t a;
    audit_init(&a);
    int json = 0, c;
    long long examples = 5;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            json = 1;
            break;
        case OPT_FINAL:
            a.final = 1;
            break;
        case OPT_STRICT:
            a.strict_recipients = 1;
            break;
        case OPT_DB_ONLY:
            a.db_only = 1;
            break;
        case OPT_EXAMPLES:
            if (ctl_parse_ll(optarg, 0, 1000, &examples) != 0)
                return ctl_usage_error("audit", "--examples must be a decimal from 0 to 1000");
            break;
        case OPT_HELP:
            return ctl_help(audit_usage, audit_options);
        default:
            return ctl_usage_error("audit", "unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc)
        return ctl_usage_error("audit", "unexpected argument '%s'", argv[optind]);
    a.examples_max = (size_t)examples;

    ctl_env_t env;
    int rc = ctl_env_load("audit", audit_options, &env, 0);
    if (rc < 0)
        rc = audit_run(&a, &env, json);
    ctl_env_free(audit_options, &env);
    audit_free(&a);
    return rc;
}
