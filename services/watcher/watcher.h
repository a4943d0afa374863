/*
 * watcher.h - txlane-watcher's shared state and the pieces of its loop.
 *
 * One loop turn (main.c), every TXLANE_POLL_MS:
 *   1. leadership (leader.h): standbys stop here; a new term reloads state;
 *   2. follow (follow.c): read the head, fetch new blocks in JSON-RPC batches
 *      (header + block receipts, or full blocks for a node without
 *      eth_getBlockReceipts), check that each block links to the last
 *      processed one;
 *   3. match (match.c): decide which lane transactions of the range are ours
 *      (by hash, or by (lane, nonce) and payload) and get the receipts of
 *      our open ones;
 *      confirm (confirm.c): in one PostgreSQL transaction per block range
 *      record inclusions, confirm what is deep enough, remember the block
 *      hashes and lanes' mined counts;
 *   4. policies (watch_policy_t): each one's tick; the status publisher
 *      (publish.c) turns the watcher's tx_events rows into txlane.status
 *      events (a transactional outbox: nothing is lost when the leader dies
 *      between the commit and the delivery).
 *
 * Repair policies (stuck, dropped, gap, drift, funds, reorg) are further
 * watch_policy_t values in their own files, listed in main.c. A policy
 * records every transition as a guarded UPDATE plus a tx_events row with
 * program 'watcher' (see publish.c for the detail keys the status event is
 * built from); the publisher emits it.
 *
 * Single-threaded: everything here belongs to the main loop.
 */
#ifndef TXLANE_WATCHER_H
#define TXLANE_WATCHER_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/chain.h"
#include "txlane/config.h"
#include "txlane/fee_oracle.h"
#include "txlane/leader.h"
#include "txlane/metrics.h"
#include "txlane/producer.h"
#include "txlane/rpc.h"
#include "txlane/service.h"

/* The advisory lock key of the watcher's leadership ("txlane watcher"). */
#define WATCH_LEADER_KEY INT64_C(7478160504)
/* Block batches fetched concurrently per range (each TXLANE_BLOCKS_PER_BATCH blocks). */
#define WATCH_FETCH_BATCHES 4
/* The longest a single block's read may take before it counts as failed
 * (follow.c doubles TXLANE_RPC_TIMEOUT_MS up to this for a slow block). */
#define WATCH_SLOW_TIMEOUT_MAX_MS 300000
/* Receipts (or transactions) looked up by hash in one JSON-RPC batch. */
#define WATCH_RECEIPTS_PER_BATCH 200

typedef struct {
    cfg_common_t common;
    char *pg_dsn;
    char *rpc_url;
    long long confirmations;
    long long poll_ms;
    long long reorg_depth;
    long long blocks_per_batch;
    int block_receipts; /* follow by header + eth_getBlockReceipts (else full blocks) */
    long long start_block; /* -1: head minus start_lookback */
    long long start_lookback;
    long long rpc_timeout_ms;
    long long leader_retry_ms;
    /* funds.c */
    long long funds_interval_ms; /* 0: off */
    char *lane_min_balance;      /* wei */
    char *lane_max_balance;      /* wei; 0: no sweeps */
    char *lane_topup_wei;
    long long treasury_lane;     /* -1: none (no top-ups) */
    char *cold_address;          /* "": no sweeps */
    /* external.c */
    long long external_check_ms; /* 0: off */
    /* repair policies (repair.h) */
    long long bump_after_ms;
    long long bump_percent;
    char *max_fee_wei;
    char *min_priority_fee_wei;
    long long fee_refresh_ms;
    long long dropped_after_ms;
    long long gap_after_ms;
    long long drift_alert;
    long long repair_batch;
} watcher_config_t;

typedef struct {
    eth_address_t address;
    int32_t lane_id;
} watch_lane_t;

/* The transaction kinds of txs.kind, for per-kind counters. */
enum { WATCH_KIND_PAYOUT = 0, WATCH_KIND_CANCEL, WATCH_KIND_TOPUP, WATCH_KIND_SWEEP, WATCH_NKINDS };

/*
 * A transaction of a processed range sent from a lane (match.c), from the
 * block's receipts or (full blocks) its transactions.
 */
typedef struct {
    const chain_block_t *block;
    uint8_t hash[CHAIN_HASH_LEN];
    eth_address_t from;
    int32_t lane_id;
    /* its transaction fields: the block's (full blocks) or &fetched; NULL
     * while only the receipt is known */
    const chain_tx_t *tx;
    chain_tx_t fetched; /* eth_getTransactionByHash; owned, watch_matches_free */
    uint64_t nonce;     /* once matched by hash or tx is set */
    int by_nonce;       /* still to be decided by (lane, nonce) and payload */
    int64_t tx_id;      /* -1: no txs row of ours */
    int ours;           /* this transaction is the row's payout (or its cancel) */
    int open;           /* the row is created, pending, submitted or failed */
    chain_receipt_t receipt; /* the block's; with full blocks, fetched when ours and open */
} watch_match_t;

typedef struct watcher watcher_t;

typedef struct {
    const char *name;
    /* A leadership term begins: reload what the policy keeps in memory. */
    int (*start)(watcher_t *w);
    /* Once per loop turn while leader, after the blocks were followed. */
    int (*tick)(watcher_t *w);
    /* The node's chain no longer contains the processed block `number`
     * (w->cursor, the highest one in chain_blocks): a reorganisation.
     * Return 0 once the stored chain and the transactions were repaired
     * (the follower reloads its cursor from chain_blocks and goes on), else
     * an error: the watcher stops following and confirming until a policy
     * repairs it, and asks again every turn. */
    int (*on_reorg)(watcher_t *w, uint64_t number);
} watch_policy_t;

struct watcher {
    const watcher_config_t *cfg;
    const watch_policy_t *const *policies; /* NULL-terminated */
    leader_t *leader;
    PGconn *db; /* the leader's session, set while leader */
    rpc_client_t *rpc;
    producer_t *producer;
    service_deps_t deps;

    /* lanes by address, sorted (lanes.c) */
    watch_lane_t *lanes;
    size_t n_lanes;
    long long lanes_count; /* rows in lanes when loaded; -1: never */

    /* chain position; valid while leader (reloaded on each term) */
    int have_cursor;
    uint64_t cursor; /* last processed block */
    uint8_t cursor_hash[CHAIN_HASH_LEN];
    uint64_t head;   /* the node's latest block number */
    int chain_ok;    /* 0 after an unrepaired reorganisation */
    int verified;    /* the cursor was checked against the node this term */
    int need_start;  /* reload the term's state (after a failed range) */
    int rpc_failing; /* a node failure was logged; logged again once it answers */
    int node_behind; /* "node head below the processed block" was logged */
    /* how blocks are read (follow.c): 1 header + eth_getBlockReceipts, 0 full
     * blocks + a receipt per transaction; starts as configured, goes to 0 for
     * good when the node says it lacks eth_getBlockReceipts */
    int block_receipts;
    uint64_t span; /* blocks per range now: halved on a node timeout, regrown on success */

    /* status outbox (publish.c): events up to published_id are delivered,
     * up to sent_id produced */
    int64_t published_id, sent_id;

    /* repair policies (repair.h): state of each, reloaded on a new term */
    fee_oracle_t *fees;
    uint256_t max_fee;
    struct watch_repair *repair;

    /* metrics */
    metric_t *m_leader, *m_head, *m_processed, *m_lag, *m_consistent, *m_block_receipts;
    metric_t *m_confirmed[WATCH_NKINDS], *m_reverted[WATCH_NKINDS], *m_cancelled[WATCH_NKINDS];
    metric_t *m_blocks, *m_reorgs, *m_foreign, *m_range_seconds, *m_errors, *m_status_events;
};

/* kind text of txs.kind -> WATCH_KIND_*, WATCH_KIND_PAYOUT when unknown. */
int watch_kind_index(const char *kind);

/* follow.c: one turn of block following; processes what the node has, in
 * ranges, and returns 0, or an error after which the next turn retries. */
int watch_follow(watcher_t *w);
/* follow.c: loads the cursor from chain_blocks (a new term begins, or the
 * stored chain may have changed); announce logs where following resumes. */
int watch_follow_start(watcher_t *w, int announce);

/* match.c: lists the lane transactions of fetched, linked blocks[0..nb)
 * (read as w->block_receipts says) into *m, n of them (an array the caller
 * frees with watch_matches_free in every case), and decides each: tx_id,
 * ours, open, nonce, and the receipt of every open one of ours. 0, or an
 * error (logged) after which the range is read again. */
int watch_match_range(watcher_t *w, const chain_block_t *blocks, size_t nb, watch_match_t **m,
                      size_t *n);
void watch_matches_free(watch_match_t *m, size_t n);
/* match.c: logs and counts the lane transactions that are not ours (once
 * their range is committed, so a range read again does not count them twice). */
void watch_report_foreign(watcher_t *w, const watch_match_t *m, size_t n);

/* confirm.c: processes fetched, linked blocks[0..n) in one transaction:
 * inclusions, confirmations, block hashes, lanes' mined counts. 0 or an
 * error (nothing committed). */
int watch_confirm_range(watcher_t *w, const chain_block_t *blocks, size_t n);
/* confirm.c: confirms included transactions that are deep enough now (used
 * when a term begins, e.g. after TXLANE_CONFIRMATIONS was lowered). */
int watch_confirm_due(watcher_t *w);

/* lanes.c: refreshes the lane set when lanes gained rows. */
int watch_lanes_refresh(watcher_t *w);
/* lanes.c: the lane id of address, or -1. */
int32_t watch_lane_find(const watcher_t *w, const eth_address_t *address);
/* lanes.c: chain_tx_filter_fn keeping the transactions (or receipts) sent by
 * a lane (ctx: the watcher). */
int watch_lane_filter(const eth_address_t *from, void *ctx);
void watch_lanes_free(watcher_t *w);

/* funds.c: lane balances, low_funds, top-ups from the treasury, sweeps. */
extern const watch_policy_t watch_policy_funds;
/* external.c: payouts whose nonce was used outside txlane -> re-allocation. */
extern const watch_policy_t watch_policy_external;
/* reqout.c: produces a request the allocator acts on (allocator.h: key
 * markers) to txlane.requests, on the partition of lane (lane mod P). */
int watch_request_send(watcher_t *w, const char *key, const char *payload, int lane);

/* publish.c: the status publisher (outbox of tx_events -> txlane.status). */
extern const watch_policy_t watch_policy_publish;
/* publish.c: before exit, waits (bounded) for in-flight events and records
 * them as published. */
void watch_publish_drain(watcher_t *w);

/* confirm.c: runs sql on the leader's session (db_query). On failure: logs
 * it under the name what, rolls back an open transaction, lets the
 * leadership module see a lost connection, and returns NULL. The caller
 * PQclears a result. */
PGresult *watch_query(watcher_t *w, const char *what, const char *sql, int nparams,
                      const char *const *params);

#endif
