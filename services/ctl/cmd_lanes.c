/*
 * cmd_lanes.c - `txlane lanes`: the lanes as PostgreSQL has them (index,
 * address, status and why, next nonce, the chain nonce last read, txs in
 * flight, owner and fencing epoch), optionally with the node's live mined
 * count and balance; and `txlane lanes pause|resume INDEX`, the operator's
 * switch (DESIGN section 1: routing skips lanes that are not active).
 *
 * Pause and resume are one guarded UPDATE each, in one round trip that also
 * returns the status before. Lanes have no event ledger, so what changed
 * goes to stderr as a log line (and a human line to stdout).
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "txlane/jbuf.h"
#include "txlane/log.h"
#include "txlane/rpc.h"
#include "txlane/xmalloc.h"

static const char lanes_usage[] =
    "usage: txlane lanes [--json] [--chain]\n"
    "       txlane lanes pause INDEX [--reason TEXT]\n"
    "       txlane lanes resume INDEX\n"
    "\n"
    "Lists every lane: index, address, status (and why), next nonce, the chain's mined\n"
    "count as last read by a worker, transactions in flight (created, pending or\n"
    "submitted), owner and owner epoch. --chain also reads each lane's mined nonce\n"
    "count and balance from the node now (one JSON-RPC batch). --json prints one JSON\n"
    "array.\n"
    "\n"
    "pause: the allocator stops routing new payouts to the lane; what is in flight on it\n"
    "  still completes. Pausing a paused lane changes nothing.\n"
    "resume: a paused or low_funds lane becomes active again (a low_funds lane that is\n"
    "  still short is marked low_funds again by the watcher). Resuming an active lane\n"
    "  changes nothing; a draining lane cannot be resumed (exit 1).\n"
    "Exit status: 0 ok, 1 failure (unknown lane, database or node unreachable), 2 usage.\n";

static const cfg_option_t lanes_options[] = {
    CTL_OPT_LOG_LEVEL,
    CTL_OPT_PG_DSN,
    CTL_OPT_RPC_URL,
    CFG_END,
};

enum lanes_col {
    LC_ID,
    LC_ADDRESS,
    LC_STATUS,
    LC_REASON,
    LC_TREASURY,
    LC_NEXT,
    LC_FIRST,
    LC_CHAIN,
    LC_INFLIGHT,
    LC_OWNER,
    LC_EPOCH,
    LC_BALANCE,
    LC_EXTERNAL,
    LC_UPDATED,
};

static const char lanes_sql[] =
    "SELECT l.id, l.address, l.status, l.status_reason, l.is_treasury, l.next_nonce, "
    "l.first_nonce, l.chain_nonce, coalesce(f.n, 0), l.owner, l.owner_epoch, l.balance_wei, "
    "l.external_use_count, " CTL_SQL_TS("l.updated_at") " FROM lanes l "
    "LEFT JOIN (SELECT lane_id, count(*) AS n FROM txs "
    "WHERE state IN ('created', 'pending', 'submitted') GROUP BY lane_id) f ON f.lane_id = l.id "
    "ORDER BY l.id";

/* Live chain values of every lane, or NULL arrays when not asked for. */
typedef struct {
    uint256_t *mined;
    uint256_t *balance;
} lanes_chain_t;

static int lanes_read_chain(const ctl_env_t *env, PGresult *res, lanes_chain_t *chain) {
    int n = PQntuples(res);
    char errstr[512];
    char **addrs = xcalloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++)
        addrs[i] = PQgetvalue(res, i, LC_ADDRESS);
    chain->mined = xcalloc((size_t)n + 1, sizeof(uint256_t));
    chain->balance = xcalloc((size_t)n + 1, sizeof(uint256_t));
    rpc_client_t *rpc = rpc_client_new(env->rpc_url, (long)env->rpc_timeout_ms);
    int rc = ctl_rpc_address_quantities(rpc, "eth_getTransactionCount", addrs, (size_t)n,
                                        "latest", chain->mined, errstr, sizeof(errstr));
    if (rc == 0)
        rc = ctl_rpc_address_quantities(rpc, "eth_getBalance", addrs, (size_t)n, "latest",
                                        chain->balance, errstr, sizeof(errstr));
    if (rc != 0)
        fprintf(stderr, "txlane lanes: %s\n", errstr);
    rpc_client_free(rpc);
    free(addrs);
    return rc;
}

static const char *lanes_cell(PGresult *res, int row, int col) {
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static void lanes_key_num(jbuf_t *j, const char *key, PGresult *res, int row, int col) {
    jbuf_key(j, key);
    if (PQgetisnull(res, row, col))
        jbuf_null(j);
    else
        jbuf_raw(j, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

static void lanes_key_text(jbuf_t *j, const char *key, PGresult *res, int row, int col) {
    jbuf_key(j, key);
    if (PQgetisnull(res, row, col))
        jbuf_null(j);
    else
        jbuf_str(j, PQgetvalue(res, row, col));
}

static void lanes_print_json(PGresult *res, const lanes_chain_t *chain) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_arr_begin(&j);
    for (int i = 0; i < PQntuples(res); i++) {
        jbuf_obj_begin(&j);
        lanes_key_num(&j, "lane", res, i, LC_ID);
        lanes_key_text(&j, "address", res, i, LC_ADDRESS);
        lanes_key_text(&j, "status", res, i, LC_STATUS);
        lanes_key_text(&j, "status_reason", res, i, LC_REASON);
        jbuf_key(&j, "treasury");
        jbuf_bool(&j, strcmp(PQgetvalue(res, i, LC_TREASURY), "t") == 0);
        lanes_key_num(&j, "next_nonce", res, i, LC_NEXT);
        lanes_key_num(&j, "first_nonce", res, i, LC_FIRST);
        lanes_key_num(&j, "chain_nonce", res, i, LC_CHAIN);
        lanes_key_num(&j, "in_flight", res, i, LC_INFLIGHT);
        lanes_key_text(&j, "owner", res, i, LC_OWNER);
        lanes_key_num(&j, "owner_epoch", res, i, LC_EPOCH);
        lanes_key_text(&j, "balance_wei", res, i, LC_BALANCE);
        lanes_key_num(&j, "external_use_count", res, i, LC_EXTERNAL);
        lanes_key_text(&j, "updated_at", res, i, LC_UPDATED);
        if (chain->mined != NULL) {
            jbuf_key_u256(&j, "chain_mined_now", &chain->mined[i]);
            jbuf_key_u256(&j, "chain_balance_wei_now", &chain->balance[i]);
        }
        jbuf_obj_end(&j);
    }
    jbuf_arr_end(&j);
    puts(j.buf);
    jbuf_free(&j);
}

static void lanes_print_text(PGresult *res, const lanes_chain_t *chain) {
    long long inflight = 0;
    int counts[4] = {0};
    static const char *const statuses[4] = {"active", "paused", "low_funds", "draining"};
    printf("%-5s %-42s %-9s %10s %10s %8s %6s %-20s", "LANE", "ADDRESS", "STATUS", "NEXT",
           "CHAIN", "INFLIGHT", "EPOCH", "OWNER");
    if (chain->mined != NULL)
        printf(" %10s %24s", "MINED_NOW", "BALANCE_WEI_NOW");
    printf(" NOTE\n");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *status = PQgetvalue(res, i, LC_STATUS);
        const char *chain_nonce = lanes_cell(res, i, LC_CHAIN);
        const char *owner = lanes_cell(res, i, LC_OWNER);
        const char *reason = lanes_cell(res, i, LC_REASON);
        int treasury = strcmp(PQgetvalue(res, i, LC_TREASURY), "t") == 0;
        long long external = atoll(PQgetvalue(res, i, LC_EXTERNAL));
        inflight += atoll(PQgetvalue(res, i, LC_INFLIGHT));
        for (int k = 0; k < 4; k++)
            counts[k] += strcmp(status, statuses[k]) == 0;
        printf("%-5s %-42s %-9s %10s %10s %8s %6s %-20s", PQgetvalue(res, i, LC_ID),
               PQgetvalue(res, i, LC_ADDRESS), status, PQgetvalue(res, i, LC_NEXT),
               chain_nonce != NULL ? chain_nonce : "-", PQgetvalue(res, i, LC_INFLIGHT),
               PQgetvalue(res, i, LC_EPOCH), owner != NULL && owner[0] ? owner : "-");
        if (chain->mined != NULL) {
            char mined[UINT256_DEC_BUF], balance[UINT256_DEC_BUF];
            uint256_format_dec(&chain->mined[i], mined);
            uint256_format_dec(&chain->balance[i], balance);
            printf(" %10s %24s", mined, balance);
        }
        const char *sep = " ";
        if (treasury) {
            printf("%streasury", sep);
            sep = "; ";
        }
        if (reason != NULL && reason[0] != '\0') {
            printf("%s%s", sep, reason);
            sep = "; ";
        }
        if (external > 0)
            printf("%sused outside txlane %lld time(s)", sep, external);
        putchar('\n');
    }
    printf("%d lane(s): %d active, %d paused, %d low_funds, %d draining; %lld tx(s) in flight\n",
           PQntuples(res), counts[0], counts[1], counts[2], counts[3], inflight);
}

static int lanes_list(const ctl_env_t *env, int json, int with_chain) {
    PGconn *conn = ctl_db_connect("lanes", env);
    if (conn == NULL)
        return 1;
    int rc = 1;
    lanes_chain_t chain = {NULL, NULL};
    PGresult *res = PQexecParams(conn, lanes_sql, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "txlane lanes: could not read lanes: %s", PQerrorMessage(conn));
    } else if (with_chain && lanes_read_chain(env, res, &chain) != 0) {
        rc = 1;
    } else {
        if (json)
            lanes_print_json(res, &chain);
        else
            lanes_print_text(res, &chain);
        rc = fflush(stdout) == 0 ? 0 : 1;
    }
    free(chain.mined);
    free(chain.balance);
    PQclear(res);
    PQfinish(conn);
    return rc;
}

/*
 * One round trip: lock the row, read its status, update it when the status
 * before is one of from_states. Columns: status before, reason before,
 * address, updated (1/0).
 */
static const char lanes_set_sql[] =
    "WITH old AS (SELECT id, address, status, status_reason FROM lanes WHERE id = $1 FOR UPDATE), "
    "upd AS (UPDATE lanes l SET status = $2, status_reason = $3, updated_at = now() FROM old "
    "WHERE l.id = old.id AND old.status = ANY ($4::text[]) RETURNING l.id) "
    "SELECT old.status, old.status_reason, old.address, (SELECT count(*) FROM upd) FROM old";

static int lanes_set_status(const ctl_env_t *env, const char *verb, const char *index,
                            const char *reason) {
    int pause = strcmp(verb, "pause") == 0;
    const char *to = pause ? "paused" : "active";
    const char *from_states = pause ? "{active,low_funds,draining}" : "{paused,low_funds}";
    const char *params[4] = {index, to, reason, from_states};
    PGconn *conn = ctl_db_connect("lanes", env);
    if (conn == NULL)
        return 1;
    int rc = 1;
    PGresult *res = PQexecParams(conn, lanes_set_sql, 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "txlane lanes: could not %s lane %s: %s", verb, index,
                PQerrorMessage(conn));
    } else if (PQntuples(res) == 0) {
        fprintf(stderr, "txlane lanes: no lane %s in the database\n", index);
    } else {
        const char *before = PQgetvalue(res, 0, 0);
        const char *address = PQgetvalue(res, 0, 2);
        int updated = strcmp(PQgetvalue(res, 0, 3), "1") == 0;
        if (updated) {
            log_info("lane status changed", LF_S("lane", index), LF_S("address", address),
                     LF_S("from", before), LF_S("to", to),
                     LF_S("old_reason", PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1)),
                     LF_S("reason", reason != NULL ? reason : ""),
                     LF_S("user", getenv("USER") != NULL ? getenv("USER") : ""));
            printf("lane %s %s: %s -> %s\n", index, address, before, to);
            rc = 0;
        } else if (strcmp(before, to) == 0) {
            printf("lane %s %s: already %s, nothing changed\n", index, address, to);
            rc = 0;
        } else {
            fprintf(stderr,
                    "txlane lanes: lane %s is %s: resume applies to paused or low_funds lanes\n",
                    index, before);
        }
    }
    PQclear(res);
    PQfinish(conn);
    return rc;
}

int cmd_lanes(int argc, char **argv) {
    enum { OPT_JSON = 1, OPT_CHAIN, OPT_REASON, OPT_HELP };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},       {"chain", no_argument, NULL, OPT_CHAIN},
        {"reason", required_argument, NULL, OPT_REASON}, {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int json = 0, with_chain = 0, c;
    const char *reason = NULL;
    optind = 1;
    opterr = 0;
    /* permute: "lanes pause 3 --reason x" and "lanes --json" both parse */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            json = 1;
            break;
        case OPT_CHAIN:
            with_chain = 1;
            break;
        case OPT_REASON:
            reason = optarg;
            break;
        case OPT_HELP:
            return ctl_help(lanes_usage, lanes_options);
        default:
            return ctl_usage_error("lanes", "unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        }
    }
    const char *verb = optind < argc ? argv[optind] : NULL;
    long long index = 0;
    if (verb != NULL) {
        if (strcmp(verb, "pause") != 0 && strcmp(verb, "resume") != 0)
            return ctl_usage_error("lanes", "unknown action '%s' (pause or resume)", verb);
        if (argc - optind != 2)
            return ctl_usage_error("lanes", "%s takes exactly one lane INDEX", verb);
        if (ctl_parse_ll(argv[optind + 1], 0, 2147483647, &index) != 0)
            return ctl_usage_error("lanes", "INDEX must be a decimal from 0 to 2147483647");
        if (json || with_chain)
            return ctl_usage_error("lanes", "--json and --chain go with the listing");
        if (reason != NULL && strcmp(verb, "pause") != 0)
            return ctl_usage_error("lanes", "--reason goes with pause");
        if (reason != NULL && (reason[0] == '\0' || strlen(reason) > 200))
            return ctl_usage_error("lanes", "--reason must have 1 to 200 characters");
    } else if (reason != NULL) {
        return ctl_usage_error("lanes", "--reason goes with pause");
    }

    ctl_env_t env;
    int rc = ctl_env_load("lanes", lanes_options, &env, 0);
    if (rc < 0) {
        if (verb == NULL) {
            rc = lanes_list(&env, json, with_chain);
        } else {
            char text[24];
            snprintf(text, sizeof(text), "%lld", index);
            rc = lanes_set_status(&env, verb, text,
                                  strcmp(verb, "pause") == 0 ? (reason ? reason : "operator")
                                                             : NULL);
        }
    }
    ctl_env_free(lanes_options, &env);
    return rc;
}
