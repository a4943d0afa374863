/*
 * cmd_status.c - `txlane status`: everything PostgreSQL knows about one
 * payout: its transaction row (state, lane, nonce, fees, hash, block,
 * receipt, timestamps), every attempt (tx_attempts) and the event ledger
 * (tx_events). Looked up by request id, by a transaction hash (of any
 * attempt) or by lane and nonce (for txs without a request, e.g. cancels).
 *
 * The fields are one table (SQL expression, JSON key, type) that drives the
 * SELECT list, the text output and the JSON output alike.
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "txlane/jbuf.h"
#include "txlane/xmalloc.h"

static const char status_usage[] =
    "usage: txlane status REQUEST_ID [--json]\n"
    "       txlane status --hash 0x<tx hash> [--json]\n"
    "       txlane status --lane I --nonce N [--json]\n"
    "\n"
    "Prints the payout's transaction as PostgreSQL records it: state, kind, lane, sender,\n"
    "nonce, recipient, value, token, fees, attempt, hash, block, receipt status, gas used,\n"
    "failure reason and timestamps, then its attempts and its events. --hash finds the\n"
    "transaction any of whose attempts has that hash. Rejected requests are not recorded\n"
    "in PostgreSQL (they are in the dead-letter topic): they are 'not found'.\n"
    "Exit status: 0 found, 1 not found (or the database is unreachable), 2 usage.\n";

static const cfg_option_t status_options[] = {
    CTL_OPT_LOG_LEVEL,
    CTL_OPT_PG_DSN,
    CFG_END,
};

typedef enum { SF_NUM, SF_STR, SF_JSON, SF_BOOL } status_type_t;

typedef struct {
    const char *sql;
    const char *key;
    status_type_t type;
} status_field_t;

static const status_field_t status_tx_fields[] = {
    {"t.request_id", "request_id", SF_STR},
    {"t.state", "state", SF_STR},
    {"t.kind", "kind", SF_STR},
    {"t.tx_id", "tx_id", SF_NUM},
    {"t.lane_id", "lane", SF_NUM},
    {"t.from_address", "from", SF_STR},
    {"t.nonce", "nonce", SF_NUM},
    {"t.to_address", "to", SF_STR},
    {"t.value_wei::text", "value_wei", SF_STR},
    {"t.token", "token", SF_STR},
    {"'0x' || encode(t.data, 'hex')", "data", SF_STR},
    {"t.gas_limit", "gas_limit", SF_NUM},
    {"t.max_fee_per_gas::text", "max_fee_per_gas", SF_STR},
    {"t.max_priority_fee_per_gas::text", "max_priority_fee_per_gas", SF_STR},
    {"t.chain_id", "chain_id", SF_NUM},
    {"t.attempt", "attempt", SF_NUM},
    {"t.tx_hash", "tx_hash", SF_STR},
    {"t.block_number", "block_number", SF_NUM},
    {"t.block_hash", "block_hash", SF_STR},
    {"t.receipt_status", "receipt_status", SF_NUM},
    {"t.gas_used", "gas_used", SF_NUM},
    {"t.fail_reason", "fail_reason", SF_STR},
    {CTL_SQL_TS("r.received_at"), "received_at", SF_STR},
    {CTL_SQL_TS("t.created_at"), "created_at", SF_STR},
    {CTL_SQL_TS("t.pending_at"), "pending_at", SF_STR},
    {CTL_SQL_TS("t.submitted_at"), "submitted_at", SF_STR},
    {CTL_SQL_TS("t.confirmed_at"), "confirmed_at", SF_STR},
    {"r.source_partition", "source_partition", SF_NUM},
    {"r.source_offset", "source_offset", SF_NUM},
    {"(r.payload -> 'metadata')::text", "metadata", SF_JSON},
    {NULL, NULL, SF_STR},
};

static const status_field_t status_attempt_fields[] = {
    {"a.attempt", "attempt", SF_NUM},
    {"a.tx_hash", "tx_hash", SF_STR},
    {"a.max_fee_per_gas::text", "max_fee_per_gas", SF_STR},
    {"a.max_priority_fee_per_gas::text", "max_priority_fee_per_gas", SF_STR},
    {"a.is_cancel", "is_cancel", SF_BOOL},
    {CTL_SQL_TS("a.sent_at"), "sent_at", SF_STR},
    {"a.result", "result", SF_STR},
    {NULL, NULL, SF_STR},
};

static const status_field_t status_event_fields[] = {
    {"e.event_id", "event_id", SF_NUM},
    {CTL_SQL_TS("e.at"), "at", SF_STR},
    {"e.from_state", "from_state", SF_STR},
    {"e.to_state", "to_state", SF_STR},
    {"e.program", "program", SF_STR},
    {"e.detail::text", "detail", SF_JSON},
    {NULL, NULL, SF_STR},
};

/* "SELECT <fields> <rest>"; the caller frees. */
static char *status_sql(const status_field_t *fields, const char *rest) {
    size_t cap = strlen(rest) + 16;
    for (const status_field_t *f = fields; f->sql != NULL; f++)
        cap += strlen(f->sql) + 2;
    char *sql = xmalloc(cap);
    size_t len = (size_t)snprintf(sql, cap, "SELECT ");
    for (const status_field_t *f = fields; f->sql != NULL; f++)
        len += (size_t)snprintf(sql + len, cap - len, "%s%s", f == fields ? "" : ", ", f->sql);
    snprintf(sql + len, cap - len, " %s", rest);
    return sql;
}

static PGresult *status_query(PGconn *conn, const status_field_t *fields, const char *rest,
                              int nparams, const char *const *params) {
    char *sql = status_sql(fields, rest);
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    free(sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "txlane status: query failed: %s", PQerrorMessage(conn));
        PQclear(res);
        return NULL;
    }
    return res;
}

static void status_json_row(jbuf_t *j, const status_field_t *fields, PGresult *res, int row) {
    jbuf_obj_begin(j);
    for (int col = 0; fields[col].sql != NULL; col++) {
        jbuf_key(j, fields[col].key);
        const char *v = PQgetvalue(res, row, col);
        if (PQgetisnull(res, row, col))
            jbuf_null(j);
        else if (fields[col].type == SF_BOOL)
            jbuf_bool(j, v[0] == 't');
        else if (fields[col].type == SF_STR)
            jbuf_str(j, v);
        else
            jbuf_raw(j, v, (size_t)PQgetlength(res, row, col));
    }
    jbuf_obj_end(j);
}

static void status_json_rows(jbuf_t *j, const char *key, const status_field_t *fields,
                             PGresult *res) {
    jbuf_key(j, key);
    jbuf_arr_begin(j);
    for (int i = 0; i < PQntuples(res); i++)
        status_json_row(j, fields, res, i);
    jbuf_arr_end(j);
}

static void status_print_json(PGresult *tx, PGresult *attempts, PGresult *events) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_obj_begin(&j);
    jbuf_key(&j, "transaction");
    status_json_row(&j, status_tx_fields, tx, 0);
    status_json_rows(&j, "attempts", status_attempt_fields, attempts);
    status_json_rows(&j, "events", status_event_fields, events);
    jbuf_obj_end(&j);
    puts(j.buf);
    jbuf_free(&j);
}

static void status_print_text(PGresult *tx, PGresult *attempts, PGresult *events) {
    for (int col = 0; status_tx_fields[col].sql != NULL; col++) {
        if (PQgetisnull(tx, 0, col))
            continue;
        const char *v = PQgetvalue(tx, 0, col);
        const char *note = "";
        if (strcmp(status_tx_fields[col].key, "receipt_status") == 0)
            note = strcmp(v, "1") == 0 ? " (success)" : " (reverted)";
        if (strcmp(status_tx_fields[col].key, "data") == 0 && strcmp(v, "0x") == 0)
            continue;
        printf("%-26s %s%s\n", status_tx_fields[col].key, v, note);
    }
    printf("\nattempts (%d):\n", PQntuples(attempts));
    for (int i = 0; i < PQntuples(attempts); i++) {
        printf("  #%s %s max_fee %s tip %s%s", PQgetvalue(attempts, i, 0),
               PQgetvalue(attempts, i, 1), PQgetvalue(attempts, i, 2), PQgetvalue(attempts, i, 3),
               PQgetvalue(attempts, i, 4)[0] == 't' ? " cancel" : "");
        if (!PQgetisnull(attempts, i, 5))
            printf(" sent %s", PQgetvalue(attempts, i, 5));
        if (!PQgetisnull(attempts, i, 6))
            printf(" result %s", PQgetvalue(attempts, i, 6));
        putchar('\n');
    }
    printf("\nevents (%d):\n", PQntuples(events));
    for (int i = 0; i < PQntuples(events); i++) {
        printf("  %s %-9s -> %-9s %s", PQgetvalue(events, i, 1),
               PQgetisnull(events, i, 2) ? "-" : PQgetvalue(events, i, 2),
               PQgetvalue(events, i, 3), PQgetvalue(events, i, 4));
        if (!PQgetisnull(events, i, 5))
            printf(" %s", PQgetvalue(events, i, 5));
        putchar('\n');
    }
}

typedef struct {
    const char *request_id, *hash;
    long long lane, nonce; /* -1: not given */
    int json;
} status_args_t;

/* Tells a request that exists without a transaction from one that does not. */
static void status_not_found(PGconn *conn, const status_args_t *a) {
    if (a->request_id == NULL) {
        if (a->hash != NULL)
            fprintf(stderr, "txlane status: no transaction with hash %s\n", a->hash);
        else
            fprintf(stderr, "txlane status: no transaction at lane %lld nonce %lld\n", a->lane,
                    a->nonce);
        return;
    }
    const char *params[1] = {a->request_id};
    PGresult *res = PQexecParams(conn,
                                 "SELECT " CTL_SQL_TS("received_at") " FROM requests "
                                 "WHERE request_id = $1",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        fprintf(stderr,
                "txlane status: request %s was received at %s but has no transaction "
                "(see 'txlane audit')\n",
                a->request_id, PQgetvalue(res, 0, 0));
    else
        fprintf(stderr, "txlane status: request %s not found (rejected requests are in the "
                        "dead-letter topic, not in PostgreSQL)\n",
                a->request_id);
    PQclear(res);
}

static int status_run(const ctl_env_t *env, const status_args_t *a) {
    PGconn *conn = ctl_db_connect("status", env);
    if (conn == NULL)
        return 1;
    char lane[24], nonce[24];
    snprintf(lane, sizeof(lane), "%lld", a->lane);
    snprintf(nonce, sizeof(nonce), "%lld", a->nonce);
    const char *from = "FROM txs t LEFT JOIN requests r ON r.request_id = t.request_id ";
    char *where;
    const char *params[2] = {NULL, NULL};
    int nparams = 1;
    if (a->request_id != NULL) {
        where = xasprintf("%s WHERE t.request_id = $1", from);
        params[0] = a->request_id;
    } else if (a->hash != NULL) {
        where = xasprintf("%s WHERE t.tx_hash = lower($1) OR t.tx_id IN "
                          "(SELECT tx_id FROM tx_attempts WHERE tx_hash = lower($1)) LIMIT 1",
                          from);
        params[0] = a->hash;
    } else {
        where = xasprintf("%s WHERE t.lane_id = $1::integer AND t.nonce = $2::bigint", from);
        params[0] = lane;
        params[1] = nonce;
        nparams = 2;
    }
    int rc = 1;
    PGresult *tx = status_query(conn, status_tx_fields, where, nparams, params), *att = NULL,
             *ev = NULL;
    free(where);
    if (tx != NULL && PQntuples(tx) == 0) {
        status_not_found(conn, a);
    } else if (tx != NULL) {
        const char *ids[2] = {PQgetvalue(tx, 0, 3), PQgetvalue(tx, 0, 0)};
        att = status_query(conn, status_attempt_fields,
                           "FROM tx_attempts a WHERE a.tx_id = $1::bigint ORDER BY a.attempt", 1,
                           ids);
        ev = status_query(conn, status_event_fields,
                          "FROM tx_events e WHERE e.tx_id = $1::bigint OR "
                          "(e.tx_id IS NULL AND e.request_id = $2) ORDER BY e.event_id",
                          2, ids);
        if (att != NULL && ev != NULL) {
            if (a->json)
                status_print_json(tx, att, ev);
            else
                status_print_text(tx, att, ev);
            rc = fflush(stdout) == 0 ? 0 : 1;
        }
    }
    PQclear(ev);
    PQclear(att);
    PQclear(tx);
    PQfinish(conn);
    return rc;
}

int cmd_status(int argc, char **argv) {
    enum { OPT_JSON = 1, OPT_HASH, OPT_LANE, OPT_NONCE, OPT_HELP };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},         {"hash", required_argument, NULL, OPT_HASH},
        {"lane", required_argument, NULL, OPT_LANE},   {"nonce", required_argument, NULL, OPT_NONCE},
        {"help", no_argument, NULL, OPT_HELP},         {NULL, 0, NULL, 0},
    };
    status_args_t a = {NULL, NULL, -1, -1, 0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            a.json = 1;
            break;
        case OPT_HASH:
            a.hash = optarg;
            break;
        case OPT_LANE:
            if (ctl_parse_ll(optarg, 0, 2147483647, &a.lane) != 0)
                return ctl_usage_error("status", "--lane must be a decimal from 0 to 2147483647");
            break;
        case OPT_NONCE:
            if (ctl_parse_ll(optarg, 0, 9223372036854775807LL, &a.nonce) != 0)
                return ctl_usage_error("status", "--nonce must be a non-negative decimal");
            break;
        case OPT_HELP:
            return ctl_help(status_usage, status_options);
        default:
            return ctl_usage_error("status", "unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return ctl_usage_error("status", "unexpected argument '%s'", argv[optind + 1]);
    if (argc - optind == 1)
        a.request_id = argv[optind];
    int ways = (a.request_id != NULL) + (a.hash != NULL) + (a.lane >= 0 || a.nonce >= 0);
    if (ways != 1)
        return ctl_usage_error("status", "give one of REQUEST_ID, --hash, or --lane with --nonce");
    if ((a.lane >= 0) != (a.nonce >= 0))
        return ctl_usage_error("status", "--lane and --nonce go together");
    if (a.hash != NULL) {
        size_t n = strlen(a.hash);
        int ok = n == 66 && a.hash[0] == '0' && (a.hash[1] == 'x' || a.hash[1] == 'X');
        for (size_t i = 2; ok && i < n; i++)
            ok = strchr("0123456789abcdefABCDEF", a.hash[i]) != NULL;
        if (!ok)
            return ctl_usage_error("status", "--hash must be 0x + 64 hex digits");
    }
    if (a.request_id != NULL && (a.request_id[0] == '\0' || strlen(a.request_id) > 128))
        return ctl_usage_error("status", "REQUEST_ID must have 1 to 128 characters");

    ctl_env_t env;
    int rc = ctl_env_load("status", status_options, &env, 0);
    if (rc < 0)
        rc = status_run(&env, &a);
    ctl_env_free(status_options, &env);
    return rc;
}
