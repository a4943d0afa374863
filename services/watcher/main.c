/*
 * main.c - txlane-watcher: follows the chain and confirms transactions; one
 * active leader (PostgreSQL advisory lock), any number of standbys. The
 * loop and the wiring; watcher.h describes the pieces.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "txlane/config.h"
#include "txlane/health.h"
#include "txlane/log.h"
#include "txlane/service.h"
#include "repair.h"
#include "watcher.h"

static const cfg_option_t watcher_options[] = {
    CFG_COMMON_OPTIONS(watcher_config_t, "9104"),
    {"pg_dsn", "TXLANE_PG_DSN", CFG_STR, NULL, 0, 0, offsetof(watcher_config_t, pg_dsn),
     CFG_REQUIRED | CFG_SECRET, "PostgreSQL connection string"},
    {"rpc_url", "TXLANE_RPC_URL", CFG_STR, "http://127.0.0.1:8545", 0, 0,
     offsetof(watcher_config_t, rpc_url), 0, "JSON-RPC URL of the EVM node"},
    {"confirmations", "TXLANE_CONFIRMATIONS", CFG_INT, "1", 1, 10000,
     offsetof(watcher_config_t, confirmations), 0,
     "blocks a transaction's block must have on top, itself included, to be confirmed"},
    {"poll_ms", "TXLANE_POLL_MS", CFG_INT, "500", 10, 60000, offsetof(watcher_config_t, poll_ms),
     0, "how often the node's head is read, in milliseconds"},
    {"reorg_depth", "TXLANE_REORG_DEPTH", CFG_INT, "64", 1, 100000,
     offsetof(watcher_config_t, reorg_depth), 0,
     "recent block hashes kept to detect reorganisations (at least TXLANE_CONFIRMATIONS)"},
    {"blocks_per_batch", "TXLANE_BLOCKS_PER_BATCH", CFG_INT, "20", 1, 1000,
     offsetof(watcher_config_t, blocks_per_batch), 0,
     "blocks asked for in one JSON-RPC batch (4 batches are sent at once)"},
    {"block_receipts", "TXLANE_BLOCK_RECEIPTS", CFG_BOOL, "true", 0, 0,
     offsetof(watcher_config_t, block_receipts), 0,
     "read blocks as header + eth_getBlockReceipts; false: full blocks and a receipt per "
     "transaction of ours (chosen by itself when the node lacks eth_getBlockReceipts)"},
    {"start_block", "TXLANE_START_BLOCK", CFG_INT, "-1", -1, LLONG_MAX,
     offsetof(watcher_config_t, start_block), 0,
     "first block of a first start (no processed block yet); -1: head minus the lookback"},
    {"start_lookback", "TXLANE_START_LOOKBACK", CFG_INT, "128", 0, 100000000,
     offsetof(watcher_config_t, start_lookback), 0,
     "blocks below the head a first start begins at, when TXLANE_START_BLOCK is -1"},
    {"rpc_timeout_ms", "TXLANE_RPC_TIMEOUT_MS", CFG_INT, "10000", 100, 600000,
     offsetof(watcher_config_t, rpc_timeout_ms), 0, "timeout of one JSON-RPC batch"},
    {"leader_retry_ms", "TXLANE_LEADER_RETRY_MS", CFG_INT, "1000", 100, 60000,
     offsetof(watcher_config_t, leader_retry_ms), 0,
     "how often a standby tries to become the leader"},
    {"funds_interval_ms", "TXLANE_FUNDS_INTERVAL_MS", CFG_INT, "10000", 0, 3600000,
     offsetof(watcher_config_t, funds_interval_ms), 0,
     "how often lane balances are read (funds policy); 0: off"},
    {"lane_min_balance", "TXLANE_LANE_MIN_BALANCE", CFG_WEI, "0", 0, 0,
     offsetof(watcher_config_t, lane_min_balance), 0,
     "a lane below this (or below what its open txs need) is low_funds and topped up"},
    {"lane_max_balance", "TXLANE_LANE_MAX_BALANCE", CFG_WEI, "0", 0, 0,
     offsetof(watcher_config_t, lane_max_balance), 0,
     "a lane above this is swept down to it, to TXLANE_COLD_ADDRESS; 0: never"},
    {"lane_topup_wei", "TXLANE_LANE_TOPUP_WEI", CFG_WEI, "1000000000000000000", 0, 0,
     offsetof(watcher_config_t, lane_topup_wei), 0,
     "least amount of a top-up (more when the lane needs more to cover its open txs)"},
    {"treasury_lane", "TXLANE_TREASURY_LANE", CFG_INT, "-1", -1, 99999,
     offsetof(watcher_config_t, treasury_lane), 0,
     "lane index of the treasury that tops the others up; -1: none (no top-ups)"},
    {"cold_address", "TXLANE_COLD_ADDRESS", CFG_STR, "", 0, 0,
     offsetof(watcher_config_t, cold_address), 0, "where sweeps go; empty: no sweeps"},
    {"external_check_ms", "TXLANE_EXTERNAL_CHECK_MS", CFG_INT, "2000", 0, 3600000,
     offsetof(watcher_config_t, external_check_ms), 0,
     "how often payouts passed by their lane's mined count are checked; 0: off"},
    {"bump_after_ms", "TXLANE_BUMP_AFTER_MS", CFG_INT, "60000", 100, 86400000,
     offsetof(watcher_config_t, bump_after_ms), 0,
     "a lane's lowest unmined nonce waiting this long since its last attempt gets a fee bump"},
    {"bump_percent", "TXLANE_BUMP_PERCENT", CFG_INT, "20", 10, 1000,
     offsetof(watcher_config_t, bump_percent), 0,
     "fee raise of a replacement, percent (at least 10, the nodes' replacement rule)"},
    {"max_fee_wei", "TXLANE_MAX_FEE_WEI", CFG_WEI, "500000000000", 0, 0,
     offsetof(watcher_config_t, max_fee_wei), 0,
     "cap on max_fee_per_gas of replacements; a stuck tx at the cap raises an alert"},
    {"min_priority_fee_wei", "TXLANE_MIN_PRIORITY_FEE_WEI", CFG_WEI, "1000000", 0, 0,
     offsetof(watcher_config_t, min_priority_fee_wei), 0,
     "floor of max_priority_fee_per_gas of market fees"},
    {"fee_refresh_ms", "TXLANE_FEE_REFRESH_MS", CFG_INT, "2000", 100, 600000,
     offsetof(watcher_config_t, fee_refresh_ms), 0, "age at which the fee estimate is renewed"},
    {"dropped_after_ms", "TXLANE_DROPPED_AFTER_MS", CFG_INT, "30000", 200, 86400000,
     offsetof(watcher_config_t, dropped_after_ms), 0,
     "a submitted tx the node no longer knows this long after submission is sent again"},
    {"gap_after_ms", "TXLANE_GAP_AFTER_MS", CFG_INT, "60000", 200, 86400000,
     offsetof(watcher_config_t, gap_after_ms), 0,
     "an allocated nonce with nothing signed this long is published again (a nonce without a "
     "transaction is filled with a cancel)"},
    {"drift_alert", "TXLANE_DRIFT_ALERT", CFG_INT, "50", 1, 100000000,
     offsetof(watcher_config_t, drift_alert), 0,
     "alert when a lane's next_nonce minus its mined count is above this"},
    {"repair_batch", "TXLANE_REPAIR_BATCH", CFG_INT, "2000", 10, 100000,
     offsetof(watcher_config_t, repair_batch), 0, "transactions a repair policy handles per turn"},
    CFG_END,
};

/* The policies, in the order their hooks run. Repair policies go here. */
static const watch_policy_t *const watcher_policies[] = {
    &watch_policy_publish, &watch_policy_reorg,    &watch_policy_invalid,  &watch_policy_stuck,
    &watch_policy_dropped, &watch_policy_gap,      &watch_policy_external, &watch_policy_funds,
    NULL,
};

static void watcher_metrics(watcher_t *w) {
    static const char *const kinds[WATCH_NKINDS] = {"payout", "cancel", "topup", "sweep"};
    char labels[32];
    w->m_leader = metric_gauge("txlane_watcher_leader", NULL,
                               "1 while this instance is the active watcher, 0 on standby");
    w->m_head = metric_gauge("txlane_watcher_head_block", NULL, "the node's latest block number");
    w->m_processed =
        metric_gauge("txlane_watcher_processed_block", NULL, "last block processed and stored");
    w->m_lag = metric_gauge("txlane_watcher_lag_blocks", NULL, "head block minus processed block");
    w->m_consistent =
        metric_gauge("txlane_watcher_chain_consistent", NULL,
                     "0 while the node's chain disagrees with the processed blocks (reorg)");
    w->m_block_receipts = metric_gauge(
        "txlane_watcher_block_receipts", NULL,
        "1 while blocks are read as header + eth_getBlockReceipts, 0 as full blocks with a "
        "receipt per transaction (TXLANE_BLOCK_RECEIPTS=false, or the node lacks the method)");
    for (int k = 0; k < WATCH_NKINDS; k++) {
        snprintf(labels, sizeof(labels), "kind=\"%s\"", kinds[k]);
        w->m_confirmed[k] = metric_counter("txlane_watcher_confirmed_total", labels,
                                           "transactions confirmed (reverted ones included)");
        w->m_reverted[k] = metric_counter("txlane_watcher_reverted_total", labels,
                                          "confirmed transactions whose receipt status is 0");
        w->m_cancelled[k] = metric_counter("txlane_watcher_cancelled_total", labels,
                                           "nonces taken by a mined cancel");
    }
    w->m_blocks = metric_counter("txlane_watcher_blocks_total", NULL, "blocks processed");
    w->m_reorgs = metric_counter("txlane_watcher_reorgs_total", NULL,
                                 "reorganisations of processed blocks detected");
    w->m_foreign = metric_counter("txlane_watcher_foreign_txs_total", NULL,
                                  "lane nonces used by transactions txlane did not send");
    w->m_range_seconds =
        metric_histogram("txlane_watcher_range_seconds", NULL,
                         "time to fetch and process one block range", metrics_latency_bounds,
                         metrics_latency_nbounds);
    w->m_errors = metric_counter("txlane_watcher_errors_total", NULL,
                                 "failed node requests and database statements (retried)");
    w->m_status_events =
        metric_counter("txlane_watcher_status_events_total", NULL, "status events produced");
}

/* A leadership term begins: the cursor, then every policy's state. */
static int watcher_term_start(watcher_t *w) {
    w->lanes_count = -1; /* reload the lanes */
    w->chain_ok = 1;
    metric_set(w->m_consistent, 1);
    int rc = watch_follow_start(w, 1);
    for (const watch_policy_t *const *p = w->policies; rc == 0 && *p != NULL; p++) {
        if ((*p)->start != NULL)
            rc = (*p)->start(w);
    }
    return rc;
}

/* A term whose start failed (e.g. the schema is not migrated) is started
 * again after this long; the error is logged each time. */
#define WATCHER_START_RETRY_MS 5000

/* One turn as leader. Returns 1 when more blocks are waiting (no pause). */
static int watcher_lead(watcher_t *w, uint64_t *term, long long *retry_at) {
    if (leader_term(w->leader) != *term) {
        if (service_now_ms() < *retry_at)
            return 0;
        if (watcher_term_start(w) != 0) {
            *retry_at = service_now_ms() + WATCHER_START_RETRY_MS;
            return 0;
        }
        *term = leader_term(w->leader);
        w->need_start = 0;
    }
    if (w->need_start) {
        if (watch_follow_start(w, 0) != 0)
            return 0;
        w->need_start = 0;
    }
    int more = watch_follow(w) == 1;
    for (const watch_policy_t *const *p = w->policies; *p != NULL; p++) {
        if (!leader_is_leader(w->leader))
            break;
        if ((*p)->tick != NULL)
            (*p)->tick(w);
    }
    return more && leader_is_leader(w->leader);
}

static int watcher_run(watcher_t *w) {
    uint64_t term = 0;
    long long retry_at = 0;
    rd_kafka_t *rk = producer_handle(w->producer);
    while (service_running()) {
        long long next = service_now_ms() + w->cfg->poll_ms;
        service_deps_check(&w->deps, 2000);
        health_heartbeat();
        int more = 0;
        if (leader_poll(w->leader)) {
            w->db = leader_db(w->leader);
            more = watcher_lead(w, &term, &retry_at);
        }
        if (!leader_is_leader(w->leader)) {
            w->db = NULL;
            metric_set(w->m_lag, 0);
        }
        /* wait out the poll interval serving delivery reports, 100 ms at a time */
        while (!more && service_running()) {
            long long left = next - service_now_ms();
            if (left <= 0)
                break;
            rd_kafka_poll(rk, (int)(left < 100 ? left : 100));
            health_heartbeat();
        }
    }
    if (leader_is_leader(w->leader))
        watch_publish_drain(w);
    return 0;
}

int main(int argc, char **argv) {
    watcher_config_t cfg;
    service_t svc;
    watcher_t w;
    char errstr[512];
    memset(&cfg, 0, sizeof(cfg));
    memset(&w, 0, sizeof(w));
    /* before service_start opens /readyz: not ready until all three answered */
    health_require(HEALTH_KAFKA);
    health_require(HEALTH_POSTGRES);
    health_require(HEALTH_NODE);
    int rc = service_start(&svc, "watcher",
                           "txlane-watcher: follows the chain and confirms transactions",
                           watcher_options, &cfg, &cfg.common, argc, argv);
    if (rc >= 0)
        return rc;
    if (cfg.reorg_depth < cfg.confirmations) {
        fprintf(stderr,
                "txlane-watcher: invalid configuration: TXLANE_REORG_DEPTH: must be at least "
                "TXLANE_CONFIRMATIONS (%lld), got %lld\n",
                cfg.confirmations, cfg.reorg_depth);
        return service_finish(&svc, watcher_options, &cfg, 2);
    }
    w.producer = producer_new("txlane-watcher", errstr, sizeof(errstr));
    if (w.producer == NULL) {
        fprintf(stderr, "txlane-watcher: invalid configuration: %s\n", errstr);
        return service_finish(&svc, watcher_options, &cfg, 2);
    }
    uint256_t min_tip;
    if (uint256_parse_dec(cfg.max_fee_wei, &w.max_fee) != 0 ||
        uint256_parse_dec(cfg.min_priority_fee_wei, &min_tip) != 0) {
        fprintf(stderr, "txlane-watcher: invalid configuration: fee settings out of range\n");
        producer_free(w.producer);
        return service_finish(&svc, watcher_options, &cfg, 2);
    }
    w.cfg = &cfg;
    w.policies = watcher_policies;
    w.lanes_count = -1;
    w.block_receipts = cfg.block_receipts;
    w.span = (uint64_t)(cfg.blocks_per_batch * WATCH_FETCH_BATCHES);
    watcher_metrics(&w);
    metric_set(w.m_block_receipts, w.block_receipts);
    watch_repair_init(&w);
    w.rpc = rpc_client_new(cfg.rpc_url, (long)cfg.rpc_timeout_ms);
    w.fees = fee_oracle_new(w.rpc, &w.max_fee, &min_tip, cfg.fee_refresh_ms);
    w.leader = leader_new(cfg.pg_dsn, "txlane-watcher", WATCH_LEADER_KEY, (int)cfg.leader_retry_ms,
                          w.m_leader);
    /* the leadership module owns the database session and its health: it
     * must never be reset behind its back, so deps.db stays NULL */
    w.deps.rk = producer_handle(w.producer);
    w.deps.rpc = w.rpc;
    log_info("watcher configured", LF_I("confirmations", cfg.confirmations),
             LF_I("poll_ms", cfg.poll_ms), LF_I("reorg_depth", cfg.reorg_depth),
             LF_I("blocks_per_batch", cfg.blocks_per_batch),
             LF_I("block_receipts", cfg.block_receipts), LF_I("start_block", cfg.start_block),
             LF_I("bump_after_ms", cfg.bump_after_ms), LF_I("bump_percent", cfg.bump_percent),
             LF_S("max_fee_wei", cfg.max_fee_wei), LF_I("dropped_after_ms", cfg.dropped_after_ms),
             LF_I("gap_after_ms", cfg.gap_after_ms), LF_I("drift_alert", cfg.drift_alert));
    rc = watcher_run(&w);
    leader_free(w.leader);
    producer_free(w.producer);
    fee_oracle_free(w.fees);
    rpc_client_free(w.rpc);
    watch_lanes_free(&w);
    watch_repair_free(&w);
    return service_finish(&svc, watcher_options, &cfg, rc);
}
