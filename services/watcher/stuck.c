/*
 * stuck.c - fee bumps: the stuck / underpriced policy, and the operator's
 * `txlane bump` and `txlane cancel` requests (table repair_requests).
 *
 * Every turn (at most every TXLANE_POLL_MS), per lane the lowest nonce that
 * is not mined yet is a candidate when its latest attempt:
 *   - waited TXLANE_BUMP_AFTER_MS since its last transition or acceptance
 *     by the node (a fee spike, a node that keeps it without mining it), or
 *   - was answered "underpriced" by the node (recorded by the broadcaster in
 *     tx_attempts.result) and was not bumped yet.
 * A later nonce of a lane cannot be mined before that one, so only the
 * lowest is bumped (found per lane with one probe of txs_unmined_idx, not a
 * pass over every open row). The replacement is the same transaction (or the same
 * cancel) with attempt + 1 and fees from watch_fees_bump; it is recorded as
 * a same-state tx_events row (detail: event "bumped", from_attempt,
 * attempt, the new fees) in a guarded statement (the tx must still be at
 * that attempt), then produced to txlane.allocated. When the fee cap leaves
 * no room for +10 %, an "alert" event instead (reason fee_cap_reached) and
 * no replacement; the waiting time starts again from that event.
 *
 * Operator requests: a bump (percent of the request, default
 * TXLANE_BUMP_PERCENT) of a signed, unmined payout; a cancel replaces an
 * unmined payout with a 0-value self-transfer at bumped fees (so that a node
 * takes it in place of the payout). The row gets ok/result; nothing is
 * retried by itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair.h"
#include "txlane/db.h"
#include "txlane/log.h"

/* Operator requests handled per turn. */
#define WATCH_OPERATOR_BATCH 100

static const char watch_sql_stuck[] =
    "SELECT " WATCH_TX_COLUMNS ","
    " a.result LIKE 'underpriced/%' AND t.state <> 'failed' AND NOT EXISTS (SELECT 1 FROM tx_events e"
    "   WHERE e.tx_id = t.tx_id AND e.program = 'watcher'"
    "     AND e.detail->>'from_attempt' = t.attempt::text)"
    " FROM lanes l CROSS JOIN LATERAL (SELECT * FROM txs x WHERE x.lane_id = l.id"
    "   AND x.state IN ('created', 'pending', 'submitted', 'failed') AND x.block_number IS NULL"
    "   ORDER BY x.nonce LIMIT 1) t" WATCH_TX_JOIN
    " WHERE t.nonce >= COALESCE(l.chain_nonce, 0)"
    "   AND (t.state IN ('pending', 'submitted') OR (t.state = 'failed' AND a.is_cancel))"
    "   AND ((a.result LIKE 'underpriced/%' AND t.state <> 'failed' AND NOT EXISTS ("
    "          SELECT 1 FROM tx_events e WHERE e.tx_id = t.tx_id AND e.program = 'watcher'"
    "            AND e.detail->>'from_attempt' = t.attempt::text))"
    "     OR GREATEST((SELECT max(e.at) FROM tx_events e WHERE e.tx_id = t.tx_id), a.sent_at)"
    "        < now() - $1::bigint * interval '1 millisecond')"
    " ORDER BY t.lane_id LIMIT $2::int";

/* Records bumps and alerts ($1 tx_id, $2 attempt bumped, $3 event, $4/$5 the
 * new fees or NULL, $6 reason, $7 operator); returns the tx_ids still at that
 * attempt (the others moved meanwhile: nothing is published for them). The
 * rows locked carry the request's columns on to the event (no join of the
 * two CTEs: each is planned as one row, a nested loop over the batch squared). */
static const char watch_sql_bumped[] =
    "WITH cur AS (SELECT t.tx_id, t.request_id, t.state, m.attempt, m.event, m.max_fee, m.tip,"
    "     m.reason, m.op"
    "   FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
    "     $7::bool[]) AS m(tx_id, attempt, event, max_fee, tip, reason, op)"
    "   JOIN txs t ON t.tx_id = m.tx_id"
    "   WHERE t.attempt = m.attempt AND t.block_number IS NULL"
    "     AND t.state IN ('created', 'pending', 'submitted', 'failed') FOR UPDATE OF t),"
    " ev AS (INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program, detail)"
    "   SELECT tx_id, request_id, state, state, 'watcher',"
    "     jsonb_strip_nulls(jsonb_build_object('event', event, 'from_attempt', attempt,"
    "       'attempt', CASE WHEN event = 'bumped' THEN attempt + 1 ELSE attempt END,"
    "       'max_fee_per_gas', max_fee, 'max_priority_fee_per_gas', tip,"
    "       'reason', reason, 'operator', CASE WHEN op THEN true END))"
    "   FROM cur WHERE state IN ('pending', 'submitted'))"
    " SELECT tx_id FROM cur";

typedef struct {
    db_array_t tx_id, attempt, event, max_fee, tip, reason, op;
} watch_bumps_t;

static void watch_bumps_init(watch_bumps_t *b) {
    db_array_t *v[] = {&b->tx_id, &b->attempt, &b->event, &b->max_fee, &b->tip, &b->reason, &b->op};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        db_array_init(v[i]);
}

static void watch_bumps_free(watch_bumps_t *b) {
    db_array_t *v[] = {&b->tx_id, &b->attempt, &b->event, &b->max_fee, &b->tip, &b->reason, &b->op};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        db_array_free(v[i]);
}

static void watch_bumps_add(watch_bumps_t *b, const watch_tx_t *t, const char *event,
                            const msg_fees_t *fees, const char *reason, int op) {
    char dec[UINT256_DEC_BUF];
    db_array_add_i64(&b->tx_id, t->m.tx_id);
    db_array_add_i64(&b->attempt, t->m.attempt);
    db_array_add(&b->event, event);
    uint256_format_dec(&fees->max_fee_per_gas, dec);
    db_array_add(&b->max_fee, dec);
    uint256_format_dec(&fees->max_priority_fee_per_gas, dec);
    db_array_add(&b->tip, dec);
    db_array_add(&b->reason, reason);
    db_array_add(&b->op, op ? "true" : "false");
}

/* Runs watch_sql_bumped; marks kept[i] for the txs still at their attempt. */
static int watch_bumps_record(watcher_t *w, watch_bumps_t *b, const watch_tx_t *txs, size_t n,
                              unsigned char *kept) {
    const char *params[] = {db_array_text(&b->tx_id),  db_array_text(&b->attempt),
                            db_array_text(&b->event),  db_array_text(&b->max_fee),
                            db_array_text(&b->tip),    db_array_text(&b->reason),
                            db_array_text(&b->op)};
    PGresult *res = watch_query(w, "record bumps", watch_sql_bumped, 7, params);
    if (res == NULL)
        return TXL_EDB;
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        for (size_t i = 0; i < n; i++)
            kept[i] |= txs[i].m.tx_id == id;
    }
    PQclear(res);
    return 0;
}

/* Bumps or alerts each parsed candidate: decides, records, then publishes. */
static void watch_stuck_apply(watcher_t *w, watch_tx_t *txs, const unsigned char *underpriced,
                              size_t n) {
    watch_bumps_t b;
    msg_fees_t *fees = calloc(n ? n : 1, sizeof(msg_fees_t));
    unsigned char *bump = calloc(n ? n : 1, 1), *kept = calloc(n ? n : 1, 1);
    watch_bumps_init(&b);
    size_t wanted = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = watch_fees_bump(w, &txs[i].prev, (unsigned)w->cfg->bump_percent, &fees[i]);
        if (rc < 0)
            goto cleanup; /* no market estimate: next turn */
        bump[i] = rc == 0;
        watch_bumps_add(&b, &txs[i], bump[i] ? "bumped" : "alert", bump[i] ? &fees[i] : &txs[i].prev,
                        bump[i] ? (underpriced[i] ? "underpriced" : "stuck") : "fee_cap_reached",
                        0);
        wanted++;
    }
    if (wanted == 0 || watch_bumps_record(w, &b, txs, n, kept) != 0)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        char hash_dec[UINT256_DEC_BUF];
        if (!kept[i])
            continue;
        if (!bump[i]) {
            metric_inc(w->repair->m_bump_alerts);
            uint256_format_dec(&txs[i].prev.max_fee_per_gas, hash_dec);
            log_warn("stuck transaction at the fee cap: not bumped", LF_I("tx_id", txs[i].m.tx_id),
                     LF_U("lane", txs[i].m.lane), LF_U("nonce", txs[i].m.nonce),
                     LF_U("attempt", txs[i].m.attempt), LF_S("max_fee_per_gas", hash_dec));
            continue;
        }
        txs[i].m.attempt++;
        txs[i].m.fees = fees[i];
        if (watch_send_allocated(w, &txs[i].m) != 0)
            continue; /* the attempt never appears: bumped again after the wait */
        metric_inc(w->repair->m_bumps);
        if (underpriced[i])
            metric_inc(w->repair->m_underpriced);
        uint256_format_dec(&fees[i].max_fee_per_gas, hash_dec);
        log_info("replacement published", LF_I("tx_id", txs[i].m.tx_id),
                 LF_U("lane", txs[i].m.lane), LF_U("nonce", txs[i].m.nonce),
                 LF_U("attempt", txs[i].m.attempt), LF_S("max_fee_per_gas", hash_dec),
                 LF_S("why", underpriced[i] ? "underpriced" : "stuck"),
                 LF_S("kind", tx_kind_name(txs[i].m.kind)));
    }
cleanup:
    watch_bumps_free(&b);
    free(fees);
    free(bump);
    free(kept);
}

static int watch_stuck_scan(watcher_t *w) {
    char after[24], limit[24];
    snprintf(after, sizeof(after), "%lld", w->cfg->bump_after_ms);
    snprintf(limit, sizeof(limit), "%lld", w->cfg->repair_batch);
    const char *params[] = {after, limit};
    PGresult *res = watch_query(w, "stuck transactions", watch_sql_stuck, 2, params);
    if (res == NULL)
        return TXL_EDB;
    size_t n = 0, rows = (size_t)PQntuples(res);
    watch_tx_t *txs = calloc(rows ? rows : 1, sizeof(watch_tx_t));
    unsigned char *underpriced = calloc(rows ? rows : 1, 1);
    for (size_t r = 0; r < rows; r++) {
        if (watch_tx_parse(res, (int)r, 0, &txs[n]) != 0)
            continue;
        underpriced[n] = strcmp(PQgetvalue(res, (int)r, WATCH_TX_NCOLS), "t") == 0;
        n++;
    }
    PQclear(res);
    if (n > 0)
        watch_stuck_apply(w, txs, underpriced, n);
    for (size_t i = 0; i < n; i++)
        watch_tx_clear(&txs[i]);
    free(txs);
    free(underpriced);
    return 0;
}

/* ---- operator requests --------------------------------------------------- */

static const char watch_sql_operator[] =
    "SELECT r.id, r.action, COALESCE(r.percent, 0), t.tx_id IS NOT NULL,"
    " t.block_number IS NOT NULL, " WATCH_TX_COLUMNS
    " FROM repair_requests r"
    " LEFT JOIN txs t ON t.request_id = r.request_id" WATCH_TX_JOIN
    " WHERE r.done_at IS NULL ORDER BY r.id LIMIT $1::int";

static const char watch_sql_operator_done[] =
    "UPDATE repair_requests r SET done_at = now(), ok = m.ok, result = m.result"
    " FROM unnest($1::bigint[], $2::bool[], $3::text[]) AS m(id, ok, result)"
    " WHERE r.id = m.id AND r.done_at IS NULL";

/* Decides one operator request; fills why, and returns 1 when t is to be
 * replaced (t->m then holds the replacement and *ev its event). */
static int watch_operator_decide(watcher_t *w, const char *action, unsigned percent, int mined,
                                 watch_tx_t *t, const char **ev, char *why, size_t why_size) {
    int cancel = strcmp(action, "cancel") == 0;
    msg_fees_t fees;
    if (mined || (strcmp(t->state, "created") != 0 && strcmp(t->state, "pending") != 0 &&
                  strcmp(t->state, "submitted") != 0)) {
        snprintf(why, why_size, "not replaced: the transaction is %s%s", t->state,
                 mined ? " and already in a block" : "");
        return 0;
    }
    if (!cancel && strcmp(t->state, "created") == 0) {
        snprintf(why, why_size, "not bumped: not signed yet (nothing was sent to bump)");
        return 0;
    }
    if (cancel && t->is_cancel) {
        snprintf(why, why_size, "not replaced: attempt %u is a cancel already", t->m.attempt);
        return 0;
    }
    int rc = watch_fees_bump(w, &t->prev, percent, &fees);
    if (rc < 0) {
        snprintf(why, why_size, "not replaced: no fee estimate from the node");
        return 0;
    }
    if (rc == 1) {
        snprintf(why, why_size, "not replaced: TXLANE_MAX_FEE_WEI leaves no room for +10 %% fees");
        return 0;
    }
    if (cancel)
        watch_tx_make_cancel(&t->m);
    t->m.attempt++;
    t->m.fees = fees;
    *ev = cancel ? "cancel_requested" : "bumped";
    char cap[UINT256_DEC_BUF];
    uint256_format_dec(&fees.max_fee_per_gas, cap);
    snprintf(why, why_size, "%s published as attempt %u (max_fee_per_gas %s)",
             cancel ? "cancel" : "replacement", t->m.attempt, cap);
    return 1;
}

static int watch_operator(watcher_t *w) {
    char limit[24];
    snprintf(limit, sizeof(limit), "%d", WATCH_OPERATOR_BATCH);
    const char *params[] = {limit};
    PGresult *res = watch_query(w, "operator requests", watch_sql_operator, 1, params);
    if (res == NULL)
        return TXL_EDB;
    db_array_t ids, oks, results;
    db_array_init(&ids);
    db_array_init(&oks);
    db_array_init(&results);
    for (int r = 0; r < PQntuples(res); r++) {
        const char *action = PQgetvalue(res, r, 1);
        unsigned percent = (unsigned)strtoul(PQgetvalue(res, r, 2), NULL, 10);
        char why[200];
        int ok = 0;
        watch_tx_t t;
        const char *ev = NULL;
        if (percent == 0)
            percent = (unsigned)w->cfg->bump_percent;
        if (strcmp(PQgetvalue(res, r, 3), "t") != 0) {
            snprintf(why, sizeof(why), "no transaction for this request_id (not allocated yet?)");
        } else if (watch_tx_parse(res, r, 5, &t) != 0) {
            snprintf(why, sizeof(why), "the stored transaction does not parse");
        } else {
            int mined = strcmp(PQgetvalue(res, r, 4), "t") == 0;
            uint32_t from_attempt = t.m.attempt;
            ok = watch_operator_decide(w, action, percent, mined, &t, &ev, why, sizeof(why));
            if (ok && strcmp(t.state, "created") != 0) {
                watch_bumps_t b;
                unsigned char kept = 0;
                watch_bumps_init(&b);
                t.m.attempt = from_attempt; /* the statement checks the current attempt */
                watch_bumps_add(&b, &t, ev, &t.m.fees, "operator", 1);
                t.m.attempt = from_attempt + 1;
                if (watch_bumps_record(w, &b, &t, 1, &kept) != 0) {
                    watch_bumps_free(&b);
                    watch_tx_clear(&t);
                    break; /* database trouble: the request stays open */
                }
                watch_bumps_free(&b);
                if (!kept) {
                    ok = 0;
                    snprintf(why, sizeof(why), "not replaced: the transaction moved meanwhile");
                }
            }
            if (ok && watch_send_allocated(w, &t.m) != 0) {
                ok = 0;
                snprintf(why, sizeof(why), "could not produce the replacement");
            }
            if (ok) {
                metric_inc(w->repair->m_operator);
                if (strcmp(action, "cancel") == 0)
                    metric_inc(w->repair->m_cancels);
                else
                    metric_inc(w->repair->m_bumps);
            }
            log_info("operator request", LF_S("action", action), LF_I("tx_id", t.m.tx_id),
                     LF_S("request_id", t.m.request_id), LF_I("ok", ok), LF_S("result", why));
            watch_tx_clear(&t);
        }
        db_array_add(&ids, PQgetvalue(res, r, 0));
        db_array_add(&oks, ok ? "true" : "false");
        db_array_add(&results, why);
    }
    PQclear(res);
    int rc = 0;
    if (ids.n > 0) {
        const char *p[] = {db_array_text(&ids), db_array_text(&oks), db_array_text(&results)};
        PGresult *done = watch_query(w, "operator requests done", watch_sql_operator_done, 3, p);
        rc = done != NULL ? 0 : TXL_EDB;
        PQclear(done);
    }
    db_array_free(&ids);
    db_array_free(&oks);
    db_array_free(&results);
    return rc;
}

static int watch_stuck_start(watcher_t *w) {
    w->repair->next_stuck_ms = 0;
    return 0;
}

static int watch_stuck_tick(watcher_t *w) {
    long long now = service_now_ms();
    if (now < w->repair->next_stuck_ms)
        return 0;
    w->repair->next_stuck_ms = now + w->cfg->poll_ms;
    int rc = watch_operator(w);
    if (rc == 0)
        rc = watch_stuck_scan(w);
    return rc;
}

const watch_policy_t watch_policy_stuck = {
    .name = "stuck",
    .start = watch_stuck_start,
    .tick = watch_stuck_tick,
    .on_reorg = NULL,
};
