/*
 * cmd_repair.c - `txlane bump` and `txlane cancel`: the operator's repair
 * requests (DESIGN section 8). The CLI checks that the payout is in a state
 * where the action makes sense, inserts a repair_requests row, and waits for
 * the watcher's leader to carry it out (stuck.c writes ok and result); the
 * replacement then takes the normal path (signer, broadcaster).
 *
 * The check and the insert are one statement: the row is inserted only when
 * the payout is replaceable and no other request for it is still open, so two
 * operators cannot queue two replacements of one attempt. The watcher checks
 * again when it picks the row up (the payout may be mined meanwhile).
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "txlane/log.h"

/* How often the row is read while waiting for the watcher. */
#define REPAIR_POLL_NS 200000000L

static const char bump_usage[] =
    "usage: txlane bump REQUEST_ID [--percent P] [--wait SECONDS]\n"
    "\n"
    "Asks the watcher to replace a signed, unmined payout (pending or submitted) with\n"
    "the same transaction at higher fees: fee cap and tip each raised by P percent\n"
    "(10 to 1000; default the watcher's TXLANE_BUMP_PERCENT), at least +10 % (the\n"
    "node's replacement rule) and at least the market, capped at TXLANE_MAX_FEE_WEI.\n"
    "Waits up to SECONDS (default 30; 0: do not wait) for the watcher's answer and\n"
    "prints it.\n"
    "Exit status: 0 the replacement was published (or queued, with --wait 0); 1 refused\n"
    "(unknown request, already mined, not signed yet, another request open, fee cap\n"
    "reached) or no answer in time (the request then stays queued); 2 usage.\n";

static const char cancel_usage[] =
    "usage: txlane cancel REQUEST_ID [--wait SECONDS]\n"
    "\n"
    "Asks the watcher to replace a payout that is not mined yet (created, pending or\n"
    "submitted) with a 0-value transfer from its lane to itself at the same nonce, with\n"
    "bumped fees, so that the node takes it in place of the payout. Best effort: when\n"
    "the payout is mined first it stays confirmed (see `txlane status REQUEST_ID`);\n"
    "when the cancel is mined the payout ends 'cancelled'.\n"
    "Waits up to SECONDS (default 30; 0: do not wait) for the watcher's answer and\n"
    "prints it.\n"
    "Exit status: 0 the cancel was published (or queued, with --wait 0); 1 refused\n"
    "(unknown request, already mined or final, a cancel already, another request open)\n"
    "or no answer in time (the request then stays queued); 2 usage.\n";

static const cfg_option_t repair_options[] = {
    CTL_OPT_LOG_LEVEL,
    CTL_OPT_PG_DSN,
    CFG_END,
};

/*
 * $1 request_id, $2 action, $3 percent or NULL, $4 requested_by. Columns:
 * request known, tx_id, state, block_number, lane, nonce, attempt, latest
 * attempt is a cancel, open request id, inserted request id.
 */
static const char repair_sql_queue[] =
    "WITH q AS (SELECT EXISTS (SELECT 1 FROM requests WHERE request_id = $1) AS known),"
    " t AS (SELECT t.tx_id, t.state, t.block_number, t.lane_id, t.nonce, t.attempt,"
    "   COALESCE(a.is_cancel, false) AS is_cancel FROM txs t"
    "   LEFT JOIN tx_attempts a ON a.tx_id = t.tx_id AND a.attempt = t.attempt"
    "   WHERE t.request_id = $1 FOR UPDATE OF t),"
    " o AS (SELECT min(id) AS id FROM repair_requests WHERE request_id = $1 AND done_at IS NULL),"
    " ins AS (INSERT INTO repair_requests (request_id, action, percent, requested_by)"
    "   SELECT $1, $2, $3::int, $4 FROM t, o"
    "   WHERE o.id IS NULL AND t.block_number IS NULL"
    "     AND (($2 = 'bump' AND t.state IN ('pending', 'submitted'))"
    "       OR ($2 = 'cancel' AND t.state IN ('created', 'pending', 'submitted')"
    "           AND NOT t.is_cancel))"
    "   RETURNING id)"
    " SELECT q.known, t.tx_id, t.state, t.block_number, t.lane_id, t.nonce, t.attempt,"
    "  t.is_cancel, o.id, (SELECT id FROM ins)"
    " FROM q CROSS JOIN o LEFT JOIN t ON true";

static const char repair_sql_poll[] =
    "SELECT done_at IS NOT NULL, ok, result FROM repair_requests WHERE id = $1";

enum { RQ_KNOWN, RQ_TX, RQ_STATE, RQ_BLOCK, RQ_LANE, RQ_NONCE, RQ_ATTEMPT, RQ_CANCEL, RQ_OPEN, RQ_ID };

/* Prints why the row was not inserted (one line on stderr). */
static void repair_refusal(const char *action, const char *request_id, PGresult *res) {
    const char *state = PQgetvalue(res, 0, RQ_STATE);
    if (strcmp(PQgetvalue(res, 0, RQ_KNOWN), "t") != 0) {
        fprintf(stderr, "txlane %s: no payout request '%s' in the database\n", action,
                request_id);
    } else if (PQgetisnull(res, 0, RQ_TX)) {
        fprintf(stderr, "txlane %s: request '%s' has no transaction (rejected, or not allocated)\n",
                action, request_id);
    } else if (!PQgetisnull(res, 0, RQ_OPEN)) {
        fprintf(stderr,
                "txlane %s: repair request #%s for '%s' is still open; wait for the watcher's "
                "answer first\n",
                action, PQgetvalue(res, 0, RQ_OPEN), request_id);
    } else if (!PQgetisnull(res, 0, RQ_BLOCK)) {
        fprintf(stderr, "txlane %s: '%s' is already %s in block %s (lane %s nonce %s): nothing to %s\n",
                action, request_id, state, PQgetvalue(res, 0, RQ_BLOCK),
                PQgetvalue(res, 0, RQ_LANE), PQgetvalue(res, 0, RQ_NONCE), action);
    } else if (strcmp(state, "created") == 0) {
        fprintf(stderr, "txlane bump: '%s' is not signed yet: there is nothing sent to bump\n",
                request_id);
    } else if (strcmp(PQgetvalue(res, 0, RQ_CANCEL), "t") == 0 &&
               strcmp(action, "cancel") == 0) {
        fprintf(stderr, "txlane cancel: attempt %s of '%s' is a cancel already\n",
                PQgetvalue(res, 0, RQ_ATTEMPT), request_id);
    } else {
        fprintf(stderr, "txlane %s: '%s' is %s: nothing to %s\n", action, request_id, state,
                action);
    }
}

/* Waits up to wait_s for the watcher's answer to request id; exit status. */
static int repair_wait(PGconn *conn, const char *action, const char *request_id, const char *id,
                       long long wait_s) {
    const char *params[] = {id};
    struct timespec start, now, pause = {0, REPAIR_POLL_NS};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        PGresult *res = PQexecParams(conn, repair_sql_poll, 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            fprintf(stderr, "txlane %s: could not read repair request #%s: %s", action, id,
                    PQerrorMessage(conn));
            PQclear(res);
            return 1;
        }
        if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
            int ok = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
            const char *result = PQgetisnull(res, 0, 2) ? "" : PQgetvalue(res, 0, 2);
            if (ok)
                printf("%s of '%s' (repair request #%s): %s\n", action, request_id, id, result);
            else
                fprintf(stderr, "txlane %s: the watcher refused repair request #%s: %s\n", action,
                        id, result);
            PQclear(res);
            return ok ? 0 : 1;
        }
        PQclear(res);
        clock_gettime(CLOCK_MONOTONIC, &now);
        double waited = (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
        if (waited >= (double)wait_s) {
            fprintf(stderr,
                    "txlane %s: no answer from the watcher after %lld s (is a watcher leader "
                    "running?); repair request #%s stays queued and is carried out when one "
                    "picks it up\n",
                    action, wait_s, id);
            return 1;
        }
        nanosleep(&pause, NULL);
    }
}

static int repair_run(const ctl_env_t *env, const char *action, const char *request_id,
                      const char *percent, long long wait_s) {
    PGconn *conn = ctl_db_connect(action, env);
    if (conn == NULL)
        return 1;
    const char *user = getenv("USER");
    const char *params[] = {request_id, action, percent, user != NULL && user[0] ? user : "txlane"};
    int rc = 1;
    PGresult *res = PQexecParams(conn, repair_sql_queue, 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        fprintf(stderr, "txlane %s: could not queue the request: %s", action,
                PQerrorMessage(conn));
    } else if (PQgetisnull(res, 0, RQ_ID)) {
        repair_refusal(action, request_id, res);
    } else {
        char id[24];
        snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, RQ_ID));
        log_info("repair request queued", LF_S("action", action), LF_S("request_id", request_id),
                 LF_S("repair_request", id), LF_S("tx_id", PQgetvalue(res, 0, RQ_TX)),
                 LF_S("state", PQgetvalue(res, 0, RQ_STATE)),
                 LF_S("attempt", PQgetvalue(res, 0, RQ_ATTEMPT)),
                 LF_S("user", params[3]));
        if (wait_s == 0) {
            printf("%s of '%s' queued as repair request #%s (lane %s nonce %s, attempt %s)\n",
                   action, request_id, id, PQgetvalue(res, 0, RQ_LANE),
                   PQgetvalue(res, 0, RQ_NONCE), PQgetvalue(res, 0, RQ_ATTEMPT));
            rc = 0;
        } else {
            PQclear(res);
            res = NULL;
            rc = repair_wait(conn, action, request_id, id, wait_s);
        }
    }
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static int repair_cmd(int argc, char **argv, const char *action, const char *usage) {
    enum { OPT_PERCENT = 1, OPT_WAIT, OPT_HELP };
    int bump = strcmp(action, "bump") == 0;
    static const struct option bump_opts[] = {
        {"percent", required_argument, NULL, OPT_PERCENT},
        {"wait", required_argument, NULL, OPT_WAIT},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const struct option *opts = bump ? bump_opts : bump_opts + 1; /* cancel: no --percent */
    long long percent = 0, wait_s = 30;
    const char *percent_text = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_PERCENT:
            if (ctl_parse_ll(optarg, 10, 1000, &percent) != 0)
                return ctl_usage_error(action, "--percent must be a whole number from 10 to 1000");
            percent_text = optarg;
            break;
        case OPT_WAIT:
            if (ctl_parse_ll(optarg, 0, 3600, &wait_s) != 0)
                return ctl_usage_error(action, "--wait must be whole seconds from 0 to 3600");
            break;
        case OPT_HELP:
            return ctl_help(usage, repair_options);
        default:
            return ctl_usage_error(action, "unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error(action, "expected exactly one REQUEST_ID");
    const char *request_id = argv[optind];
    size_t len = strlen(request_id);
    if (len == 0 || len > 128)
        return ctl_usage_error(action, "REQUEST_ID must have 1 to 128 characters");
    ctl_env_t env;
    int rc = ctl_env_load(action, repair_options, &env, 0);
    if (rc < 0)
        rc = repair_run(&env, action, request_id, percent_text, wait_s);
    ctl_env_free(repair_options, &env);
    return rc;
}

int cmd_bump(int argc, char **argv) {
    return repair_cmd(argc, argv, "bump", bump_usage);
}

int cmd_cancel(int argc, char **argv) {
    return repair_cmd(argc, argv, "cancel", cancel_usage);
}
