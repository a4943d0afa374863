/*
 * audit_db.c - the audit's checks that need only PostgreSQL: requests and
 * their transactions (invariant 1), gapless lane nonces (2) and the event
 * ledger (6); and the lanes every chain check starts from. Each check is one
 * statement that counts violations and returns the first examples as a JSON
 * array of sentences, so a large database costs a few round trips.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "txlane/xmalloc.h"

PGresult *audit_query(audit_t *a, audit_check_id_t c, const char *sql, int nparams,
                      const char *const *params) {
    PGresult *res = PQexecParams(a->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char *msg = xstrdup(PQerrorMessage(a->conn));
        msg[strcspn(msg, "\n")] = '\0';
        audit_error(a, c, "query failed: %s", msg);
        free(msg);
        PQclear(res);
        return NULL;
    }
    return res;
}

/* audit_query with $1 = examples_max and up to two more text parameters. */
static PGresult *audit_query_examples(audit_t *a, audit_check_id_t c, const char *sql,
                                      const char *p2, const char *p3) {
    char limit[24];
    snprintf(limit, sizeof(limit), "%zu", a->examples_max);
    const char *params[3] = {limit, p2, p3};
    return audit_query(a, c, sql, p3 != NULL ? 3 : p2 != NULL ? 2 : 1, params);
}

/* Takes the violation count and the JSON array of examples from row 0, and
 * notes how many lanes/txs (col_affected) they touch. */
static void audit_take_violations(audit_t *a, audit_check_id_t c, PGresult *res, int col_count,
                                  int col_examples, int col_affected, const char *what) {
    audit_count(a, c, strtoull(PQgetvalue(res, 0, col_count), NULL, 10));
    audit_examples_json(a, c, PQgetvalue(res, 0, col_examples));
    if (strcmp(PQgetvalue(res, 0, col_affected), "0") != 0)
        audit_note(a, c, "%s %s affected", PQgetvalue(res, 0, col_affected), what);
}

int audit_scan(audit_t *a, audit_check_id_t c, const char *sql, int nparams,
               const char *const *params, void (*on_row)(void *ctx, PGresult *row), void *ctx) {
    int rc = 0;
    if (!PQsendQueryParams(a->conn, sql, nparams, NULL, params, NULL, NULL, 0) ||
        !PQsetSingleRowMode(a->conn)) {
        audit_error(a, c, "query failed: %s", PQerrorMessage(a->conn));
        return -1;
    }
    PGresult *res;
    while ((res = PQgetResult(a->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE) {
            on_row(ctx, res);
        } else if (st != PGRES_TUPLES_OK && rc == 0) {
            char *msg = xstrdup(PQerrorMessage(a->conn));
            msg[strcspn(msg, "\n")] = '\0';
            audit_error(a, c, "query failed: %s", msg);
            free(msg);
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}

audit_lane_t *audit_lane_find(audit_t *a, long long id) {
    size_t lo = 0, hi = a->n_lanes;
    while (lo < hi) { /* lanes are sorted by id */
        size_t mid = lo + (hi - lo) / 2;
        if (a->lanes[mid].id == id)
            return &a->lanes[mid];
        if (a->lanes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const char audit_lanes_sql[] =
    "SELECT l.id, l.address, l.first_nonce, l.next_nonce, coalesce(t.n, 0), coalesce(t.done, 0),"
    " coalesce(x.n, 0)"
    " FROM lanes l"
    " LEFT JOIN (SELECT lane_id, count(*) AS n,"
    "   count(*) FILTER (WHERE state IN ('confirmed', 'cancelled')) AS done"
    "   FROM txs GROUP BY lane_id) t ON t.lane_id = l.id"
    " LEFT JOIN (SELECT lane_id, sum(nonce_to - nonce_from) AS n FROM lane_external_nonces"
    "   GROUP BY lane_id) x ON x.lane_id = l.id"
    " ORDER BY l.id";

int audit_load_lanes(audit_t *a) {
    PGresult *res = audit_query(a, AUDIT_C2_NONCES, audit_lanes_sql, 0, NULL);
    if (res == NULL)
        return -1;
    a->n_lanes = (size_t)PQntuples(res);
    a->lanes = xcalloc(a->n_lanes + 1, sizeof(audit_lane_t));
    for (size_t i = 0; i < a->n_lanes; i++) {
        audit_lane_t *l = &a->lanes[i];
        int r = (int)i;
        l->id = atoll(PQgetvalue(res, r, 0));
        snprintf(l->address, sizeof(l->address), "%s", PQgetvalue(res, r, 1));
        if (address_parse(l->address, &l->addr) != 0)
            audit_fail(a, AUDIT_C2_NONCES, "lane %lld: address '%.64s' is not an address", l->id,
                       PQgetvalue(res, r, 1));
        l->first = atoll(PQgetvalue(res, r, 2));
        l->next = atoll(PQgetvalue(res, r, 3));
        l->n_txs = atoll(PQgetvalue(res, r, 4));
        l->done = atoll(PQgetvalue(res, r, 5));
        l->external = atoll(PQgetvalue(res, r, 6));
        l->mined = -1;
    }
    PQclear(res);
    return 0;
}

/* Counts, per state, and the requests without a transaction (invariant 1). */
static const char audit_requests_sql[] =
    "WITH orphan AS (SELECT r.request_id FROM requests r"
    "   WHERE NOT EXISTS (SELECT 1 FROM txs t WHERE t.request_id = r.request_id)),"
    " dup AS (SELECT request_id FROM txs WHERE request_id IS NOT NULL GROUP BY request_id"
    "   HAVING count(*) > 1),"
    " open AS (SELECT tx_id, request_id, state FROM txs"
    "   WHERE state IN ('created', 'pending', 'submitted'))"
    " SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM txs),"
    " (SELECT count(*) FROM orphan),"
    " (SELECT json_agg(format('request %s has no transaction', request_id))"
    "   FROM (SELECT request_id FROM orphan ORDER BY request_id LIMIT $1::int) e),"
    " (SELECT count(*) FROM dup),"
    " (SELECT json_agg(format('request %s has several transactions', request_id))"
    "   FROM (SELECT request_id FROM dup ORDER BY request_id LIMIT $1::int) e),"
    " (SELECT count(*) FROM open),"
    " (SELECT json_agg(format('tx %s (request %s) is still %s', tx_id,"
    "   coalesce(request_id, '-'), state))"
    "   FROM (SELECT * FROM open ORDER BY tx_id LIMIT $1::int) e),"
    " (SELECT string_agg(format('%s %s', state, n), ', ' ORDER BY state)"
    "   FROM (SELECT state, count(*) AS n FROM txs GROUP BY state) s),"
    " (SELECT count(*) FROM txs WHERE state = 'confirmed' AND receipt_status = 0),"
    " (SELECT count(*) FROM txs WHERE request_id IS NULL)";

void audit_check_requests(audit_t *a) {
    PGresult *res = audit_query_examples(a, AUDIT_C1_REQUESTS, audit_requests_sql, NULL, NULL);
    if (res == NULL)
        return;
    unsigned long long orphans = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    unsigned long long dups = strtoull(PQgetvalue(res, 0, 4), NULL, 10);
    unsigned long long open = strtoull(PQgetvalue(res, 0, 6), NULL, 10);
    audit_summary(a, AUDIT_C1_REQUESTS, "%s request(s), %s transaction(s): %s",
                  PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                  PQgetisnull(res, 0, 8) ? "none" : PQgetvalue(res, 0, 8));
    audit_count(a, AUDIT_C1_REQUESTS, orphans + dups);
    audit_examples_json(a, AUDIT_C1_REQUESTS, PQgetvalue(res, 0, 3));
    audit_examples_json(a, AUDIT_C1_REQUESTS, PQgetvalue(res, 0, 5));
    if (open > 0 && a->final) {
        audit_count(a, AUDIT_C1_REQUESTS, open);
        audit_examples_json(a, AUDIT_C1_REQUESTS, PQgetvalue(res, 0, 7));
    } else if (open > 0) {
        audit_note(a, AUDIT_C1_REQUESTS,
                   "%llu transaction(s) not in a terminal state yet (a failure with --final)",
                   open);
    }
    if (strcmp(PQgetvalue(res, 0, 9), "0") != 0)
        audit_note(a, AUDIT_C1_REQUESTS, "%s confirmed payout(s) reverted (receipt status 0)",
                   PQgetvalue(res, 0, 9));
    if (strcmp(PQgetvalue(res, 0, 10), "0") != 0)
        audit_note(a, AUDIT_C1_REQUESTS, "%s transaction(s) without a request (cancels, "
                                         "top-ups, sweeps)",
                   PQgetvalue(res, 0, 10));
    PQclear(res);
}

/* "nonce A" or "nonces A..B" of two SQL expressions. */
#define AUDIT_SQL_NONCES(lo, hi)                                                                   \
    "CASE WHEN (" lo ") = (" hi ") THEN format('nonce %s', " lo ") "                               \
    "ELSE format('nonces %s..%s', " lo ", " hi ") END"

/*
 * Invariant 2: per lane, the txs nonces and the recorded external ranges
 * tile [first_nonce, next_nonce) exactly. Intervals [lo, hi) sorted per lane;
 * a gap between neighbours is a hole, an overlap a repeat; then the ends.
 */
static const char audit_nonces_sql[] =
    "WITH iv AS (SELECT lane_id, nonce AS lo, nonce + 1 AS hi FROM txs"
    "   UNION ALL SELECT lane_id, nonce_from, nonce_to FROM lane_external_nonces),"
    " o AS (SELECT lane_id, lo, hi,"
    "   max(hi) OVER (PARTITION BY lane_id ORDER BY lo, hi"
    "     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_hi FROM iv),"
    " m AS (SELECT lane_id, min(lo) AS lo, max(hi) AS hi FROM iv GROUP BY lane_id),"
    " p AS ("
    "   SELECT o.lane_id, o.lo AS at, format('lane %s: %s without a transaction', o.lane_id, "
    AUDIT_SQL_NONCES("o.prev_hi", "o.lo - 1") ") AS msg FROM o WHERE o.lo > o.prev_hi"
    "   UNION ALL SELECT o.lane_id, o.lo, format('lane %s: %s allocated more than once',"
    "     o.lane_id, " AUDIT_SQL_NONCES("o.lo", "least(o.hi, o.prev_hi) - 1") ")"
    "     FROM o WHERE o.lo < o.prev_hi"
    "   UNION ALL SELECT l.id, l.first_nonce, format('lane %s: %s without a transaction', l.id, "
    AUDIT_SQL_NONCES("l.first_nonce", "least(m.lo, l.next_nonce) - 1") ")"
    "     FROM lanes l LEFT JOIN m ON m.lane_id = l.id"
    "     WHERE least(m.lo, l.next_nonce) > l.first_nonce"
    "   UNION ALL SELECT l.id, m.hi, format('lane %s: %s without a transaction', l.id, "
    AUDIT_SQL_NONCES("greatest(m.hi, l.first_nonce)", "l.next_nonce - 1") ")"
    "     FROM lanes l JOIN m ON m.lane_id = l.id WHERE m.hi < l.next_nonce"
    "   UNION ALL SELECT l.id, m.lo, format('lane %s: %s below first_nonce %s', l.id, "
    AUDIT_SQL_NONCES("m.lo", "least(m.hi, l.first_nonce) - 1") ", l.first_nonce)"
    "     FROM lanes l JOIN m ON m.lane_id = l.id WHERE m.lo < l.first_nonce"
    "   UNION ALL SELECT l.id, l.next_nonce, format('lane %s: %s at or above next_nonce %s', "
    "     l.id, " AUDIT_SQL_NONCES("greatest(m.lo, l.next_nonce)", "m.hi - 1") ", l.next_nonce)"
    "     FROM lanes l JOIN m ON m.lane_id = l.id WHERE m.hi > l.next_nonce)"
    " SELECT count(*), count(DISTINCT lane_id),"
    " (SELECT json_agg(msg) FROM (SELECT msg FROM p ORDER BY lane_id, at LIMIT $1::int) e),"
    " (SELECT count(*) FROM lanes), (SELECT coalesce(sum(next_nonce - first_nonce), 0) FROM lanes),"
    " (SELECT count(*) FROM lane_external_nonces)"
    " FROM p";

void audit_check_nonces(audit_t *a) {
    PGresult *res = audit_query_examples(a, AUDIT_C2_NONCES, audit_nonces_sql, NULL, NULL);
    if (res == NULL)
        return;
    audit_summary(a, AUDIT_C2_NONCES, "%s lane(s), %s nonce(s) allocated; %s external range(s)",
                  PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
    audit_take_violations(a, AUDIT_C2_NONCES, res, 0, 2, 1, "lane(s)");
    PQclear(res);
}

/*
 * Invariant 6. The transitions an event may record, as (from, to) pairs;
 * "" stands for none (the first event of a tx). Forward along created ->
 * pending -> submitted -> confirmed | cancelled | failed; the same state
 * again is a new attempt (re-sign, bump); a mined state may go back to
 * submitted on a reorg; a failed payout's nonce may end cancelled.
 */
static const char *const audit_transitions[][2] = {
    {"", "created"},
    {"created", "pending"},       {"created", "submitted"},   {"created", "confirmed"},
    {"created", "cancelled"},     {"created", "failed"},      {"pending", "pending"},
    {"pending", "submitted"},     {"pending", "confirmed"},   {"pending", "cancelled"},
    {"pending", "failed"},        {"submitted", "submitted"}, {"submitted", "confirmed"},
    {"submitted", "cancelled"},   {"submitted", "failed"},    {"confirmed", "submitted"},
    {"cancelled", "submitted"},   {"failed", "cancelled"},
};

/*
 * Per tx, events in event_id order: each transition must be allowed, each
 * must start where the previous one ended (a missing event is a hole in the
 * ledger), and the last must end in the tx's current state.
 */
static const char audit_forward_sql[] =
    "WITH allowed AS (SELECT nullif(f, '') AS f, t FROM unnest($2::text[], $3::text[]) AS u(f, t)),"
    " e AS (SELECT tx_id, event_id, from_state, to_state,"
    /* a payout moved off a nonce used outside txlane goes back to created */
    "   (program = 'allocator' AND detail->>'reason' = 'reallocated' AND to_state = 'created'"
    "    AND from_state IN ('created', 'pending', 'submitted') AND EXISTS (SELECT 1"
    "     FROM reallocations r WHERE r.tx_id = tx_events.tx_id"
    "      AND r.old_nonce = (tx_events.detail->>'old_nonce')::bigint)) AS moved,"
    "   lag(to_state) OVER (PARTITION BY tx_id ORDER BY event_id) AS prev_to,"
    "   row_number() OVER (PARTITION BY tx_id ORDER BY event_id DESC) AS from_end"
    "   FROM tx_events WHERE tx_id IS NOT NULL),"
    " p AS ("
    "   SELECT tx_id, event_id, format('tx %s: event %s moves %s -> %s', tx_id, event_id,"
    "     coalesce(from_state, '(none)'), to_state) AS msg FROM e"
    "     WHERE NOT e.moved AND NOT EXISTS (SELECT 1 FROM allowed a"
    "       WHERE a.f IS NOT DISTINCT FROM e.from_state AND a.t = e.to_state)"
    "   UNION ALL SELECT tx_id, event_id,"
    "     format('tx %s: event %s starts from %s but the previous event ended in %s',"
    "     tx_id, event_id, coalesce(from_state, '(none)'), coalesce(prev_to, '(none)'))"
    "     FROM e WHERE from_state IS DISTINCT FROM prev_to"
    "   UNION ALL SELECT t.tx_id, coalesce(e.event_id, 0),"
    "     format('tx %s is %s but its last event says %s',"
    "     t.tx_id, t.state, coalesce(e.to_state, '(no event)'))"
    "     FROM txs t LEFT JOIN e ON e.tx_id = t.tx_id AND e.from_end = 1"
    "     WHERE e.to_state IS DISTINCT FROM t.state)"
    " SELECT count(*), count(DISTINCT tx_id),"
    " (SELECT json_agg(msg) FROM (SELECT msg FROM p ORDER BY tx_id, event_id LIMIT $1::int) x),"
    " (SELECT count(*) FROM tx_events WHERE tx_id IS NOT NULL)"
    " FROM p";

void audit_check_forward(audit_t *a) {
    char *from, *to;
    size_t n = sizeof(audit_transitions) / sizeof(audit_transitions[0]);
    size_t cap = 16;
    for (size_t i = 0; i < n; i++)
        cap += strlen(audit_transitions[i][0]) + strlen(audit_transitions[i][1]) + 8;
    from = xmalloc(cap);
    to = xmalloc(cap);
    size_t fl = 0, tl = 0;
    from[fl++] = '{';
    to[tl++] = '{';
    for (size_t i = 0; i < n; i++) {
        fl += (size_t)snprintf(from + fl, cap - fl, "%s\"%s\"", i ? "," : "",
                               audit_transitions[i][0]);
        tl += (size_t)snprintf(to + tl, cap - tl, "%s\"%s\"", i ? "," : "",
                               audit_transitions[i][1]);
    }
    snprintf(from + fl, cap - fl, "}");
    snprintf(to + tl, cap - tl, "}");
    PGresult *res = audit_query_examples(a, AUDIT_C6_FORWARD, audit_forward_sql, from, to);
    free(from);
    free(to);
    if (res == NULL)
        return;
    audit_summary(a, AUDIT_C6_FORWARD, "%s event(s) of transactions read",
                  PQgetvalue(res, 0, 3));
    audit_take_violations(a, AUDIT_C6_FORWARD, res, 0, 2, 1, "transaction(s)");
    PQclear(res);
}
