/*
 * funds.c - the funds policy (DESIGN section 8): every TXLANE_FUNDS_INTERVAL_MS
 * the balances of all lanes (one eth_getBalance batch) are compared with what
 * each lane's open, not yet included transactions need (value of ether
 * payouts + gas_limit x max_fee_per_gas).
 *
 *   - active lane below its need or TXLANE_LANE_MIN_BALANCE -> status
 *     low_funds (the allocator routes around it; its queued txs wait in the
 *     broadcaster, which holds the lane on "insufficient funds") and a top-up
 *     from TXLANE_TREASURY_LANE of max(TXLANE_LANE_TOPUP_WEI, need + minimum -
 *     balance), request id topup-<lane>-<episode>;
 *   - low_funds lane whose top-up is final and that is still short -> the
 *     next episode and another top-up;
 *   - low_funds lane covering its need and the minimum -> active;
 *   - active lane above TXLANE_LANE_MAX_BALANCE with no sweep open -> a sweep
 *     of balance - max(maximum, need) to TXLANE_COLD_ADDRESS, request id
 *     sweep-<lane>-<episode>.
 *
 * Top-ups and sweeps are ordinary payouts: recorded in funds_requests first
 * (the allocator accepts the kind and the treasury pin only for those), then
 * produced to txlane.requests on the paying lane's partition, and produced
 * again each turn until the allocator has a txs row for them. Lanes paused
 * or draining by an operator are left as they are.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/db.h"
#include "txlane/log.h"
#include "txlane/service.h"
#include "txlane/uint256.h"
#include "txlane/xmalloc.h"
#include "watcher.h"

#define FUNDS_MAX_LABELLED 1024 /* lanes with their own balance gauge */

static struct {
    long long next_ms;
    uint256_t min, max, topup;
    int sweeps; /* max > 0 and a cold address */
    char cold[ADDRESS_STR_LEN + 1];
    metric_t *m_low, *m_topups, *m_sweeps, *m_resumed, *m_lanes_low, *m_checks;
    metric_t **m_balance;
} funds;

static const char funds_sql_read[] =
    "WITH b AS (SELECT * FROM unnest($1::int[], $2::numeric[], $3::bigint[]) AS b(id, bal, mined)),"
    /* What is still to pay: open txs at nonces the chain has not used yet when the
     * balance was read (a tx mined but not yet recorded is already in the balance). */
    " need AS (SELECT t.lane_id, sum(CASE WHEN t.token IS NULL THEN t.value_wei ELSE 0 END"
    "     + t.gas_limit * t.max_fee_per_gas) AS need FROM txs t JOIN b ON b.id = t.lane_id"
    "   WHERE t.state IN ('created', 'pending', 'submitted')"
    "     AND t.block_number IS NULL AND t.nonce >= b.mined GROUP BY t.lane_id),"
    " st AS (UPDATE lanes l SET balance_wei = b.bal, balance_at = now(),"
    "     funds_needed_wei = COALESCE(n.need, 0)"
    "   FROM b LEFT JOIN need n ON n.lane_id = b.id WHERE l.id = b.id"
    "   RETURNING l.id, l.status, l.is_treasury, b.bal, COALESCE(n.need, 0) AS need)"
    " SELECT st.id, st.status, st.is_treasury, st.bal, st.need,"
    "  EXISTS (SELECT 1 FROM funds_requests f LEFT JOIN txs t ON t.request_id = f.request_id"
    "    WHERE f.lane_id = st.id AND f.kind = 'topup'"
    "      AND (t.tx_id IS NULL OR t.state IN ('created', 'pending', 'submitted'))),"
    "  EXISTS (SELECT 1 FROM funds_requests f LEFT JOIN txs t ON t.request_id = f.request_id"
    "    WHERE f.lane_id = st.id AND f.kind = 'sweep'"
    "      AND (t.tx_id IS NULL OR t.state IN ('created', 'pending', 'submitted')))"
    " FROM st ORDER BY st.id";

/* $1 lane, $2 reason, $3 top-up amount or NULL (no treasury). */
static const char funds_sql_low[] =
    "WITH l AS (UPDATE lanes SET status = 'low_funds', funds_episode = funds_episode + 1,"
    "   status_reason = $2, updated_at = now()"
    "  WHERE id = $1::int AND status IN ('active', 'low_funds') RETURNING id, funds_episode)"
    " INSERT INTO funds_requests (request_id, kind, lane_id, episode, amount_wei)"
    " SELECT 'topup-' || id || '-' || funds_episode, 'topup', id, funds_episode, $3::numeric"
    " FROM l WHERE $3::numeric IS NOT NULL ON CONFLICT DO NOTHING";

static const char funds_sql_active[] =
    "UPDATE lanes SET status = 'active', status_reason = NULL, updated_at = now()"
    " WHERE id = $1::int AND status = 'low_funds'";

static const char funds_sql_sweep[] =
    "WITH l AS (UPDATE lanes SET sweep_episode = sweep_episode + 1, updated_at = now()"
    "  WHERE id = $1::int AND status = 'active' RETURNING id, sweep_episode)"
    " INSERT INTO funds_requests (request_id, kind, lane_id, episode, amount_wei)"
    " SELECT 'sweep-' || id || '-' || sweep_episode, 'sweep', id, sweep_episode, $2::numeric"
    " FROM l ON CONFLICT DO NOTHING";

/* Recorded top-ups and sweeps the allocator has no txs row for yet. */
static const char funds_sql_unallocated[] =
    "SELECT f.request_id, f.kind, f.lane_id, f.amount_wei::text, l.address FROM funds_requests f"
    " JOIN lanes l ON l.id = f.lane_id"
    " WHERE NOT EXISTS (SELECT 1 FROM txs t WHERE t.request_id = f.request_id)"
    " ORDER BY f.created_at LIMIT 1000";

static int funds_start(watcher_t *w) {
    const watcher_config_t *c = w->cfg;
    funds.next_ms = 0;
    if (uint256_parse_dec(c->lane_min_balance, &funds.min) != 0 ||
        uint256_parse_dec(c->lane_max_balance, &funds.max) != 0 ||
        uint256_parse_dec(c->lane_topup_wei, &funds.topup) != 0)
        return TXL_ECONFIG; /* CFG_WEI validated them */
    funds.sweeps = 0;
    if (c->cold_address[0] != '\0') {
        eth_address_t cold;
        if (address_parse(c->cold_address, &cold) != 0) {
            log_error("TXLANE_COLD_ADDRESS is not an address (or its checksum is wrong): no sweeps",
                      LF_S("cold_address", c->cold_address));
        } else {
            address_format(&cold, funds.cold);
            funds.sweeps = !uint256_is_zero(&funds.max);
        }
    }
    if (funds.m_low == NULL) {
        funds.m_low = metric_counter("txlane_watcher_low_funds_total", NULL,
                                     "low-funds episodes: a lane short of what its open txs need (alert)");
        funds.m_topups = metric_counter("txlane_watcher_topups_total", NULL,
                                        "top-ups requested from the treasury lane");
        funds.m_sweeps = metric_counter("txlane_watcher_sweeps_total", NULL,
                                        "sweeps requested to the cold address");
        funds.m_resumed = metric_counter("txlane_watcher_funds_resumed_total", NULL,
                                         "low_funds lanes back to active");
        funds.m_lanes_low =
            metric_gauge("txlane_watcher_lanes_low_funds", NULL, "lanes in status low_funds");
        funds.m_checks = metric_counter("txlane_watcher_funds_checks_total", NULL,
                                        "balance checks of all lanes");
        funds.m_balance = xcalloc(FUNDS_MAX_LABELLED, sizeof(metric_t *));
    }
    return 0;
}

static void funds_gauge(int lane, const uint256_t *bal) {
    if (lane < 0 || lane >= FUNDS_MAX_LABELLED)
        return;
    if (funds.m_balance[lane] == NULL) {
        char labels[32];
        snprintf(labels, sizeof labels, "lane=\"%d\"", lane);
        funds.m_balance[lane] =
            metric_gauge("txlane_watcher_lane_balance_wei", labels, "lane balance (approximate)");
    }
    char dec[UINT256_DEC_BUF];
    uint256_format_dec(bal, dec);
    metric_set(funds.m_balance[lane], strtod(dec, NULL));
}

static int funds_exec(watcher_t *w, const char *what, const char *sql, int n,
                      const char *const *params) {
    PGresult *res = watch_query(w, what, sql, n, params);
    if (res == NULL)
        return TXL_EDB;
    PQclear(res);
    return 0;
}

/* Produces every recorded top-up and sweep not yet allocated. */
static void funds_publish(watcher_t *w) {
    PGresult *res = watch_query(w, "unallocated funds requests", funds_sql_unallocated, 0, NULL);
    if (res == NULL)
        return;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *rid = PQgetvalue(res, r, 0), *amount = PQgetvalue(res, r, 3);
        int topup = strcmp(PQgetvalue(res, r, 1), "topup") == 0;
        int lane = atoi(PQgetvalue(res, r, 2));
        int payer = topup ? (int)w->cfg->treasury_lane : lane;
        const char *to = topup ? PQgetvalue(res, r, 4) : funds.cold;
        if (payer < 0 || to[0] == '\0')
            continue; /* treasury or cold address unset since it was recorded */
        char key[200], payload[600];
        snprintf(key, sizeof key, "txlane-funds:%s", rid);
        snprintf(payload, sizeof payload,
                 "{\"request_id\":\"%s\",\"to\":\"%s\",\"value_wei\":\"%s\",\"lane\":%d,"
                 "\"metadata\":{\"kind\":\"%s\",\"lane\":%d}}",
                 rid, to, amount, payer, topup ? "topup" : "sweep", lane);
        if (watch_request_send(w, key, payload, payer) != 0)
            break;
        log_info(topup ? "top-up requested" : "sweep requested", LF_S("request_id", rid),
                 LF_I("lane", lane), LF_I("from_lane", payer), LF_S("to", to),
                 LF_S("value_wei", amount));
    }
    PQclear(res);
}

/* One lane's decision. */
static void funds_lane(watcher_t *w, PGresult *res, int r, long long *low_count) {
    const char *sid = PQgetvalue(res, r, 0), *status = PQgetvalue(res, r, 1);
    int lane = atoi(sid);
    int treasury = strcmp(PQgetvalue(res, r, 2), "t") == 0;
    int topup_open = strcmp(PQgetvalue(res, r, 5), "t") == 0;
    int sweep_open = strcmp(PQgetvalue(res, r, 6), "t") == 0;
    uint256_t bal, need, want, gap;
    if (uint256_parse_dec(PQgetvalue(res, r, 3), &bal) != 0 ||
        uint256_parse_dec(PQgetvalue(res, r, 4), &need) != 0)
        return;
    funds_gauge(lane, &bal);
    int active = strcmp(status, "active") == 0, low_funds = strcmp(status, "low_funds") == 0;
    *low_count += low_funds;
    if (treasury || !(active || low_funds))
        return;
    /* want = need + minimum: what the lane must hold */
    if (uint256_add(&need, &funds.min, &want) != 0)
        return;
    int short_ = uint256_cmp(&bal, &want) < 0;
    char dec_bal[UINT256_DEC_BUF], dec_want[UINT256_DEC_BUF];
    uint256_format_dec(&bal, dec_bal);
    uint256_format_dec(&want, dec_want);
    if (short_ && (active || !topup_open)) {
        /* top-up: max(configured amount, what is missing) */
        char reason[240], amount[UINT256_DEC_BUF];
        if (uint256_sub(&want, &bal, &gap) != 0)
            return;
        uint256_max(&gap, &funds.topup, &gap);
        uint256_format_dec(&gap, amount);
        snprintf(reason, sizeof reason, "balance %s wei below the %s wei its open txs and the "
                 "minimum need", dec_bal, dec_want);
        int have_treasury = w->cfg->treasury_lane >= 0;
        const char *params[] = {sid, reason, have_treasury ? amount : NULL};
        if (funds_exec(w, "lane low funds", funds_sql_low, 3, params) != 0)
            return;
        /* A new episode: the lane went low here, or the broadcaster marked it
         * on "insufficient funds" before this check, or its top-up is final
         * and it is still short. */
        metric_inc(funds.m_low);
        if (active)
            (*low_count)++;
        if (have_treasury)
            metric_inc(funds.m_topups);
        log_warn("lane low on funds", LF_I("lane", lane), LF_S("balance_wei", dec_bal),
                 LF_S("needed_wei", dec_want), LF_S("topup_wei", have_treasury ? amount : "none"));
        return;
    }
    if (!short_ && low_funds) {
        const char *params[] = {sid};
        if (funds_exec(w, "lane funds back", funds_sql_active, 1, params) == 0) {
            metric_inc(funds.m_resumed);
            (*low_count)--;
            log_info("lane funded again: active", LF_I("lane", lane), LF_S("balance_wei", dec_bal),
                     LF_S("needed_wei", dec_want));
        }
        return;
    }
    if (active && funds.sweeps && !sweep_open && uint256_cmp(&bal, &funds.max) > 0) {
        uint256_t keep, excess;
        char amount[UINT256_DEC_BUF];
        uint256_max(&funds.max, &need, &keep);
        if (uint256_cmp(&bal, &keep) <= 0 || uint256_sub(&bal, &keep, &excess) != 0)
            return;
        uint256_format_dec(&excess, amount);
        const char *params[] = {sid, amount};
        if (funds_exec(w, "lane sweep", funds_sql_sweep, 2, params) == 0) {
            metric_inc(funds.m_sweeps);
            log_warn("lane above its maximum balance: sweep", LF_I("lane", lane),
                     LF_S("balance_wei", dec_bal), LF_S("sweep_wei", amount),
                     LF_S("to", funds.cold));
        }
    }
}

static int funds_tick(watcher_t *w) {
    long long now = service_now_ms();
    if (w->cfg->funds_interval_ms <= 0 || now < funds.next_ms || w->n_lanes == 0)
        return 0;
    funds.next_ms = now + w->cfg->funds_interval_ms;
    rpc_batch_t batch;
    db_array_t ids, bals, mined;
    rpc_batch_init(&batch);
    db_array_init(&ids);
    db_array_init(&bals);
    db_array_init(&mined);
    for (size_t i = 0; i < w->n_lanes; i++) {
        char addr[ADDRESS_STR_LEN + 1], params[80];
        address_format(&w->lanes[i].address, addr);
        snprintf(params, sizeof params, "[\"%s\",\"latest\"]", addr);
        rpc_batch_add(&batch, "eth_getBalance", params);
        rpc_batch_add(&batch, "eth_getTransactionCount", params);
    }
    int rc = rpc_batch_send(w->rpc, &batch);
    if (rc != 0) {
        metric_inc(w->m_errors);
        log_warn("could not read lane balances", LF_S("error", batch.errstr));
        goto cleanup;
    }
    for (size_t i = 0; i < w->n_lanes; i++) {
        const char *hex = rpc_result_str(batch.calls[2 * i].result);
        uint256_t bal;
        unsigned long long count;
        char dec[UINT256_DEC_BUF];
        if (hex == NULL || uint256_parse_hex(hex, &bal) != 0 ||
            rpc_result_u64(batch.calls[2 * i + 1].result, &count) != 0) {
            log_warn("node gave no balance for a lane", LF_I("lane", w->lanes[i].lane_id));
            continue;
        }
        uint256_format_dec(&bal, dec);
        db_array_add_i64(&ids, w->lanes[i].lane_id);
        db_array_add(&bals, dec);
        db_array_add_i64(&mined, (long long)count);
    }
    const char *params[] = {db_array_text(&ids), db_array_text(&bals), db_array_text(&mined)};
    PGresult *res = watch_query(w, "lane balances", funds_sql_read, 3, params);
    if (res == NULL) {
        rc = TXL_EDB;
        goto cleanup;
    }
    metric_inc(funds.m_checks);
    long long low = 0;
    for (int r = 0; r < PQntuples(res) && leader_is_leader(w->leader); r++)
        funds_lane(w, res, r, &low);
    PQclear(res);
    metric_set(funds.m_lanes_low, (double)low);
    funds_publish(w);
cleanup:
    rpc_batch_free(&batch);
    db_array_free(&ids);
    db_array_free(&bals);
    db_array_free(&mined);
    return rc;
}

const watch_policy_t watch_policy_funds = {
    .name = "funds",
    .start = funds_start,
    .tick = funds_tick,
    .on_reorg = NULL,
};
