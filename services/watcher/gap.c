/*
 * gap.c - allocated nonces with nothing signed, and the drift gauge.
 *
 * Every TXLANE_GAP_AFTER_MS / 2, per lane, the nonces in [mined count,
 * next_nonce):
 *   - a txs row still 'created' TXLANE_GAP_AFTER_MS after its allocation
 *     (its allocated message was lost, or the signer is far behind): the
 *     allocation is published again, unchanged (the allocator's message:
 *     same attempt and fees; the signer and broadcaster ignore a copy of
 *     what they have already). Again every TXLANE_GAP_AFTER_MS while it
 *     stays created: a payout is never cancelled only because the signer
 *     was slow.
 *   - a nonce without any txs row (nor a recorded external range) seen for
 *     TXLANE_GAP_AFTER_MS: nothing can ever pay with it, so it is filled
 *     with a cancel: a txs row of kind 'cancel' (no request), a 0-value
 *     self-transfer at market fees, published like an allocation. Holes
 *     cannot come from the allocator (txs rows and next_nonce commit
 *     together); they mean rows were lost or next_nonce was moved by hand.
 * Drift: txlane_watcher_lane_drift{lane} = next_nonce - mined count; above
 * TXLANE_DRIFT_ALERT a counter and a warning, once per episode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair.h"
#include "txlane/db.h"
#include "txlane/log.h"
#include "txlane/xmalloc.h"

static const char watch_sql_created[] =
    "SELECT " WATCH_TX_COLUMNS " FROM txs t JOIN lanes l ON l.id = t.lane_id" WATCH_TX_JOIN
    " WHERE t.state = 'created' AND t.nonce >= COALESCE(l.chain_nonce, 0)"
    "   AND t.created_at < now() - $1::bigint * interval '1 millisecond'"
    " ORDER BY t.lane_id, t.nonce LIMIT $2::int";

/* Each lane's window [mined count, next_nonce) probed nonce by nonce (the
 * LEFT JOIN inside the lateral keeps the planner from an anti join over
 * the lane's whole history of txs rows), only for the lanes whose window
 * holds fewer rows than nonces: counting the window's rows in the
 * (lane_id, nonce) index is far cheaper than probing every nonce, and a
 * lane with a row at every nonce (the usual case) has no hole. */
static const char watch_sql_holes[] =
    "WITH win AS MATERIALIZED (SELECT l.id, GREATEST(COALESCE(l.chain_nonce, 0), l.first_nonce)"
    "     AS lo, l.next_nonce AS hi FROM lanes l),"
    " short AS MATERIALIZED (SELECT win.* FROM win WHERE win.hi > win.lo"
    "   AND (SELECT count(*) FROM txs c WHERE c.lane_id = win.id AND c.nonce >= win.lo"
    "        AND c.nonce < win.hi) < win.hi - win.lo)"
    " SELECT s.id, h.nonce FROM short s"
    " CROSS JOIN LATERAL (SELECT n.nonce FROM generate_series(s.lo, s.hi - 1) AS n(nonce)"
    "   LEFT JOIN txs t ON t.lane_id = s.id AND t.nonce = n.nonce WHERE t.tx_id IS NULL) h"
    " WHERE NOT EXISTS (SELECT 1 FROM lane_external_nonces x WHERE x.lane_id = s.id"
    "     AND h.nonce >= x.nonce_from AND h.nonce < x.nonce_to)"
    " ORDER BY s.id, h.nonce LIMIT $1::int";

static const char watch_sql_fill[] =
    "WITH m AS (SELECT * FROM unnest($1::int[], $2::bigint[]) AS m(lane_id, nonce)),"
    " ins AS (INSERT INTO txs (kind, lane_id, nonce, state, from_address, to_address, value_wei,"
    "     gas_limit, max_fee_per_gas, max_priority_fee_per_gas, chain_id)"
    "   SELECT 'cancel', m.lane_id, m.nonce, 'created', l.address, l.address, 0, 21000,"
    "     $3::numeric, $4::numeric, (SELECT chain_id FROM txs ORDER BY tx_id DESC LIMIT 1)"
    "   FROM m JOIN lanes l ON l.id = m.lane_id"
    "   ON CONFLICT (lane_id, nonce) DO NOTHING RETURNING *),"
    " ev AS (INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program, detail)"
    "   SELECT tx_id, NULL, NULL, 'created', 'watcher', jsonb_build_object('reason', 'gap_fill')"
    "   FROM ins)"
    " SELECT " WATCH_TX_COLUMNS " FROM ins t" WATCH_TX_JOIN;

static const char watch_sql_drift[] =
    "SELECT id, next_nonce - GREATEST(COALESCE(chain_nonce, 0), first_nonce) FROM lanes ORDER BY id";

/* Key of a hole in the mark list (negative: never a tx_id). */
static int64_t watch_hole_key(long long lane, long long nonce) {
    return -1 - ((lane << 40) | nonce);
}

static int watch_gap_created(watcher_t *w, long long now) {
    char after[24], limit[24];
    snprintf(after, sizeof(after), "%lld", w->cfg->gap_after_ms);
    snprintf(limit, sizeof(limit), "%lld", w->cfg->repair_batch);
    const char *params[] = {after, limit};
    PGresult *res = watch_query(w, "created transactions", watch_sql_created, 2, params);
    if (res == NULL)
        return TXL_EDB;
    size_t redriven = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        watch_tx_t t;
        if (watch_tx_parse(res, r, 0, &t) != 0)
            continue;
        long long at = watch_marks_get(w->repair->redriven, w->repair->n_redriven, t.m.tx_id);
        if (at < 0 || now - at >= w->cfg->gap_after_ms) {
            if (watch_send_allocated(w, &t.m) == 0) {
                watch_marks_set(&w->repair->redriven, &w->repair->n_redriven, t.m.tx_id, now);
                metric_inc(w->repair->m_gap_redrives);
                redriven++;
            }
        }
        watch_tx_clear(&t);
    }
    if (redriven > 0)
        log_warn("allocations with nothing signed published again", LF_U("txs", redriven),
                 LF_S("first_tx_id", PQgetvalue(res, 0, 0)), LF_S("lane", PQgetvalue(res, 0, 3)),
                 LF_S("nonce", PQgetvalue(res, 0, 4)));
    PQclear(res);
    return 0;
}

static int watch_gap_holes(watcher_t *w, long long now) {
    char limit[24];
    snprintf(limit, sizeof(limit), "%lld", w->cfg->repair_batch);
    const char *params[] = {limit};
    PGresult *res = watch_query(w, "nonce holes", watch_sql_holes, 1, params);
    if (res == NULL)
        return TXL_EDB;
    db_array_t lanes, nonces;
    db_array_init(&lanes);
    db_array_init(&nonces);
    for (int r = 0; r < PQntuples(res); r++) {
        long long lane = atoll(PQgetvalue(res, r, 0)), nonce = atoll(PQgetvalue(res, r, 1));
        int64_t key = watch_hole_key(lane, nonce);
        long long at = watch_marks_get(w->repair->redriven, w->repair->n_redriven, key);
        if (at < 0) {
            watch_marks_set(&w->repair->redriven, &w->repair->n_redriven, key, now);
            log_warn("allocated nonce without a transaction", LF_I("lane", lane), LF_I("nonce", nonce));
        } else if (now - at >= w->cfg->gap_after_ms) {
            db_array_add_i64(&lanes, lane);
            db_array_add_i64(&nonces, nonce);
        }
    }
    PQclear(res);
    msg_fees_t fees;
    int rc = 0;
    if (lanes.n > 0 && watch_fees_market(w, &fees) == 0) {
        char cap[UINT256_DEC_BUF], tip[UINT256_DEC_BUF];
        uint256_format_dec(&fees.max_fee_per_gas, cap);
        uint256_format_dec(&fees.max_priority_fee_per_gas, tip);
        const char *p[] = {db_array_text(&lanes), db_array_text(&nonces), cap, tip};
        res = watch_query(w, "fill nonce holes", watch_sql_fill, 4, p);
        rc = res == NULL ? TXL_EDB : 0;
        for (int r = 0; res != NULL && r < PQntuples(res); r++) {
            watch_tx_t t;
            if (watch_tx_parse(res, r, 0, &t) != 0)
                continue;
            if (watch_send_allocated(w, &t.m) == 0) {
                metric_inc(w->repair->m_gap_cancels);
                metric_inc(w->repair->m_cancels);
                log_warn("nonce hole filled with a cancel", LF_I("tx_id", t.m.tx_id),
                         LF_U("lane", t.m.lane), LF_U("nonce", t.m.nonce));
            }
            watch_marks_set(&w->repair->redriven, &w->repair->n_redriven,
                            watch_hole_key(t.m.lane, (long long)t.m.nonce), -1);
            watch_tx_clear(&t);
        }
        PQclear(res);
    }
    db_array_free(&lanes);
    db_array_free(&nonces);
    return rc;
}

static int watch_drift(watcher_t *w) {
    watch_repair_t *rp = w->repair;
    PGresult *res = watch_query(w, "lane drift", watch_sql_drift, 0, NULL);
    if (res == NULL)
        return TXL_EDB;
    for (int r = 0; r < PQntuples(res); r++) {
        long long lane = atoll(PQgetvalue(res, r, 0)), drift = atoll(PQgetvalue(res, r, 1));
        if (lane < 0 || lane > 1000000)
            continue;
        if ((size_t)lane >= rp->n_drift) {
            size_t n = (size_t)lane + 1;
            rp->drift = xrealloc(rp->drift, n * sizeof(*rp->drift));
            rp->drift_alerting = xrealloc(rp->drift_alerting, n);
            for (size_t i = rp->n_drift; i < n; i++) {
                rp->drift[i] = NULL;
                rp->drift_alerting[i] = 0;
            }
            rp->n_drift = n;
        }
        if (rp->drift[lane] == NULL) {
            char labels[32];
            snprintf(labels, sizeof(labels), "lane=\"%lld\"", lane);
            rp->drift[lane] = metric_gauge("txlane_watcher_lane_drift", labels,
                                           "next_nonce minus the chain's mined count of the lane");
        }
        metric_set(rp->drift[lane], (double)drift);
        int over = drift > w->cfg->drift_alert;
        if (over && !rp->drift_alerting[lane]) {
            metric_inc(rp->m_drift_alerts);
            log_warn("lane drift above TXLANE_DRIFT_ALERT", LF_I("lane", lane),
                     LF_I("drift", drift), LF_I("alert_above", w->cfg->drift_alert));
        } else if (!over && rp->drift_alerting[lane]) {
            log_info("lane drift back under TXLANE_DRIFT_ALERT", LF_I("lane", lane),
                     LF_I("drift", drift));
        }
        rp->drift_alerting[lane] = (unsigned char)over;
    }
    PQclear(res);
    return 0;
}

/* Forgets marks far older than any period that reads them. */
static void watch_marks_prune(watcher_t *w, long long now) {
    watch_repair_t *rp = w->repair;
    for (size_t i = 0; i < rp->n_redriven;) {
        if (now - rp->redriven[i].at_ms > 10 * w->cfg->gap_after_ms)
            rp->redriven[i] = rp->redriven[--rp->n_redriven];
        else
            i++;
    }
}

static int watch_gap_start(watcher_t *w) {
    w->repair->next_gap_ms = 0;
    w->repair->n_redriven = 0;
    return 0;
}

static int watch_gap_tick(watcher_t *w) {
    long long now = service_now_ms();
    if (now < w->repair->next_gap_ms)
        return 0;
    long long period = w->cfg->gap_after_ms / 2 < 1000 ? w->cfg->gap_after_ms / 2 : 1000;
    w->repair->next_gap_ms = now + (period > 0 ? period : 1);
    watch_marks_prune(w, now);
    int rc = watch_drift(w);
    if (rc == 0)
        rc = watch_gap_created(w, now);
    if (rc == 0)
        rc = watch_gap_holes(w, now);
    return rc;
}

const watch_policy_t watch_policy_gap = {
    .name = "gap",
    .start = watch_gap_start,
    .tick = watch_gap_tick,
    .on_reorg = NULL,
};
