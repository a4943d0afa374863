/*
 * invalid.c - transactions the node refused for good, and failed payouts'
 * nonces.
 *
 * A payout that no node ever accepted (state pending) whose latest attempt
 * the broadcaster recorded as "invalid/<reason>: <node message>" (intrinsic
 * gas too low, over the block gas limit, ...) can never be mined as it is,
 * and its nonce blocks every later one of its lane. In one guarded
 * statement it moves pending -> failed with fail_reason = that answer (a
 * tx_events row with the reason: the status event "failed"); then a cancel
 * for its nonce is published: same tx_id, attempt + 1, a 0-value
 * self-transfer of 21000 gas at market fees. The broadcaster records and
 * sends it (a cancel of a failed payout keeps the state failed), and once it
 * is mined the watcher moves the payout failed -> cancelled (confirm.c): the
 * recipient gets nothing and the lane goes on.
 *
 * A failed payout whose nonce has no cancel attempt recorded
 * TXLANE_GAP_AFTER_MS after its last event (the cancel was lost on its way:
 * a crash between the commit and the delivery) gets the cancel published
 * again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair.h"
#include "txlane/db.h"
#include "txlane/log.h"
#include "txlane/xmalloc.h"

/* Candidates through their own indexes (schemas/sql/009_repair_indexes.sql):
 * pending rows whose latest attempt the node refused for good, and failed
 * rows not in a block (txs_failed_open_idx); never a read of every row in
 * flight. */
static const char watch_sql_invalid[] =
    "SELECT " WATCH_TX_COLUMNS ", t.state = 'pending', a.result"
    " FROM (SELECT t.* FROM tx_attempts x JOIN txs t ON t.tx_id = x.tx_id AND t.attempt = x.attempt"
    "       WHERE x.result LIKE 'invalid/%' AND t.state = 'pending' AND t.block_number IS NULL"
    "       UNION ALL"
    "       SELECT t.* FROM txs t WHERE t.state = 'failed' AND t.block_number IS NULL) t"
    WATCH_TX_JOIN
    " WHERE NOT COALESCE(a.is_cancel, false)"
    "   AND (t.state = 'pending'"
    "     OR (SELECT max(e.at) FROM tx_events e WHERE e.tx_id = t.tx_id)"
    "         < now() - $1::bigint * interval '1 millisecond')"
    " ORDER BY t.lane_id, t.nonce LIMIT $2::int";

static const char watch_sql_fail[] =
    "WITH m AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[])"
    "   AS m(tx_id, attempt, reason)),"
    " upd AS (UPDATE txs t SET state = 'failed', fail_reason = m.reason FROM m"
    "   WHERE t.tx_id = m.tx_id AND t.attempt = m.attempt AND t.state = 'pending'"
    "     AND t.block_number IS NULL"
    "   RETURNING t.tx_id, t.request_id, m.attempt, m.reason),"
    " ev AS (INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program, detail)"
    "   SELECT tx_id, request_id, 'pending', 'failed', 'watcher',"
    "     jsonb_build_object('attempt', attempt, 'reason', reason, 'cancel_attempt', attempt + 1)"
    "   FROM upd)"
    " SELECT tx_id FROM upd";

static int watch_invalid_start(watcher_t *w) {
    w->repair->next_invalid_ms = 0;
    return 0;
}

/* Fails the pending rows of txs marked in to_fail; clears the mark of
 * those that moved meanwhile. */
static int watch_invalid_fail(watcher_t *w, watch_tx_t *txs, char **reasons, unsigned char *to_fail,
                              size_t n) {
    db_array_t ids, attempts, texts;
    db_array_init(&ids);
    db_array_init(&attempts);
    db_array_init(&texts);
    for (size_t i = 0; i < n; i++) {
        if (!to_fail[i])
            continue;
        db_array_add_i64(&ids, txs[i].m.tx_id);
        db_array_add_i64(&attempts, txs[i].m.attempt);
        db_array_add(&texts, reasons[i]);
    }
    const char *params[] = {db_array_text(&ids), db_array_text(&attempts), db_array_text(&texts)};
    PGresult *res = ids.n > 0 ? watch_query(w, "fail invalid", watch_sql_fail, 3, params) : NULL;
    int rc = ids.n > 0 && res == NULL ? TXL_EDB : 0;
    db_array_free(&ids);
    db_array_free(&attempts);
    db_array_free(&texts);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!to_fail[i])
            continue;
        int failed = 0;
        for (int r = 0; res != NULL && r < PQntuples(res) && !failed; r++)
            failed = strtoll(PQgetvalue(res, r, 0), NULL, 10) == txs[i].m.tx_id;
        if (!failed) {
            to_fail[i] = 2; /* moved meanwhile: no cancel */
            continue;
        }
        metric_inc(w->repair->m_invalid);
        log_warn("payout refused by the node for good: failed, its nonce gets a cancel",
                 LF_I("tx_id", txs[i].m.tx_id), LF_S("request_id", txs[i].m.request_id),
                 LF_U("lane", txs[i].m.lane), LF_U("nonce", txs[i].m.nonce),
                 LF_S("reason", reasons[i]));
    }
    PQclear(res);
    return 0;
}

static int watch_invalid_tick(watcher_t *w) {
    long long now = service_now_ms();
    if (now < w->repair->next_invalid_ms)
        return 0;
    w->repair->next_invalid_ms = now + w->cfg->poll_ms;
    char after[24], limit[24];
    snprintf(after, sizeof(after), "%lld", w->cfg->gap_after_ms);
    snprintf(limit, sizeof(limit), "%lld", w->cfg->repair_batch);
    const char *params[] = {after, limit};
    PGresult *res = watch_query(w, "invalid transactions", watch_sql_invalid, 2, params);
    if (res == NULL)
        return TXL_EDB;
    size_t rows = (size_t)PQntuples(res), n = 0;
    watch_tx_t *txs = xcalloc(rows ? rows : 1, sizeof(watch_tx_t));
    char **reasons = xcalloc(rows ? rows : 1, sizeof(char *));
    unsigned char *to_fail = xcalloc(rows ? rows : 1, 1);
    for (size_t r = 0; r < rows; r++) {
        if (watch_tx_parse(res, (int)r, 0, &txs[n]) != 0)
            continue;
        to_fail[n] = strcmp(PQgetvalue(res, (int)r, WATCH_TX_NCOLS), "t") == 0;
        reasons[n] = xstrdup(PQgetvalue(res, (int)r, WATCH_TX_NCOLS + 1));
        n++;
    }
    PQclear(res);
    msg_fees_t fees;
    int rc = n > 0 ? watch_invalid_fail(w, txs, reasons, to_fail, n) : 0;
    if (rc == 0 && n > 0 && watch_fees_market(w, &fees) != 0)
        rc = TXL_EIO;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (to_fail[i] == 2)
            continue;
        long long at = watch_marks_get(w->repair->redriven, w->repair->n_redriven, txs[i].m.tx_id);
        if (!to_fail[i] && at >= 0 && now - at < w->cfg->gap_after_ms)
            continue; /* published again recently: the signer may be behind */
        watch_marks_set(&w->repair->redriven, &w->repair->n_redriven, txs[i].m.tx_id, now);
        watch_tx_make_cancel(&txs[i].m);
        txs[i].m.attempt++;
        txs[i].m.fees = fees;
        if (watch_send_allocated(w, &txs[i].m) != 0)
            break;
        metric_inc(w->repair->m_cancels);
        log_info("cancel published for a failed payout's nonce", LF_I("tx_id", txs[i].m.tx_id),
                 LF_U("lane", txs[i].m.lane), LF_U("nonce", txs[i].m.nonce),
                 LF_U("attempt", txs[i].m.attempt), LF_I("again", !to_fail[i]));
    }
    for (size_t i = 0; i < n; i++) {
        watch_tx_clear(&txs[i]);
        free(reasons[i]);
    }
    free(txs);
    free(reasons);
    free(to_fail);
    return rc;
}

const watch_policy_t watch_policy_invalid = {
    .name = "invalid",
    .start = watch_invalid_start,
    .tick = watch_invalid_tick,
    .on_reorg = NULL,
};
