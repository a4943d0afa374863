/*
 * repair.h - the watcher's repair policies (DESIGN section 8) and what they
 * share (repair.c).
 *
 *   stuck.c    a lane's lowest open nonce waited TXLANE_BUMP_AFTER_MS, or the
 *              node called its attempt underpriced -> a replacement with
 *              raised fees (attempt + 1) on txlane.allocated; at the fee cap
 *              an alert instead; operator bumps and cancels (repair_requests)
 *   dropped.c  submitted transactions the node no longer knows -> their latest
 *              raw transaction sent again
 *   invalid.c  an attempt the node refused for good -> the payout 'failed'
 *              with the reason, its nonce filled by a cancel
 *   gap.c      allocated nonces with nothing signed for TXLANE_GAP_AFTER_MS
 *              -> the allocation published again, then a cancel; drift gauge
 *   reorg.c    on a reorganisation: back to the common ancestor, mined
 *              transactions above it back to submitted
 *
 * Every replacement goes out as a msg_allocated_t on txlane.allocated (key:
 * the lane address) and follows the normal path: the signer signs it, the
 * broadcaster records it in tx_attempts and sends it. A transition is a
 * guarded UPDATE plus a tx_events row (program 'watcher'), published by the
 * status outbox (publish.c); detail key "event" overrides the status event's
 * state ("bumped", "alert").
 *
 * Main thread only, like the rest of the watcher.
 */
#ifndef TXLANE_WATCHER_REPAIR_H
#define TXLANE_WATCHER_REPAIR_H

#include "txlane/msg.h"
#include "watcher.h"

extern const watch_policy_t watch_policy_stuck;
extern const watch_policy_t watch_policy_dropped;
extern const watch_policy_t watch_policy_invalid;
extern const watch_policy_t watch_policy_gap;
extern const watch_policy_t watch_policy_reorg;

/* A tx that is remembered for a while (gap re-drives). */
typedef struct {
    int64_t tx_id;
    long long at_ms;
} watch_mark_t;

typedef struct watch_repair {
    long long next_stuck_ms, next_dropped_ms, next_invalid_ms, next_gap_ms;
    watch_mark_t *redriven; /* gap: allocations published again, and when */
    size_t n_redriven;
    metric_t **drift; /* gauge per lane id, created on first use */
    unsigned char *drift_alerting;
    size_t n_drift;
    metric_t *m_bumps, *m_bump_alerts, *m_underpriced, *m_resent, *m_dropped_checked;
    metric_t *m_invalid, *m_cancels, *m_gap_redrives, *m_gap_cancels, *m_drift_alerts;
    metric_t *m_reorg_depth, *m_reorg_reverted, *m_operator;
} watch_repair_t;

/* Creates the repair state and the policies' metrics (once, at start-up). */
void watch_repair_init(watcher_t *w);
void watch_repair_free(watcher_t *w);

/*
 * The columns every policy reads for a transaction it may replace, from
 * "txs t" joined with its latest attempt "a" (WATCH_TX_JOIN); parsed by
 * watch_tx_parse starting at column col0.
 */
#define WATCH_TX_COLUMNS                                                                           \
    "t.tx_id, t.request_id, t.kind, t.lane_id, t.nonce, t.from_address, t.to_address,"             \
    " t.value_wei::text, t.token, encode(t.data, 'hex'), t.gas_limit, t.chain_id, t.attempt,"      \
    " (extract(epoch FROM t.created_at) * 1000)::bigint,"                                          \
    " COALESCE(a.max_fee_per_gas, t.max_fee_per_gas)::text,"                                       \
    " COALESCE(a.max_priority_fee_per_gas, t.max_priority_fee_per_gas)::text, t.state,"            \
    " COALESCE(a.is_cancel, false)"
#define WATCH_TX_NCOLS 18
#define WATCH_TX_JOIN " LEFT JOIN tx_attempts a ON a.tx_id = t.tx_id AND a.attempt = t.attempt"

typedef struct {
    msg_allocated_t m; /* the latest attempt's transaction (a cancel when is_cancel) */
    msg_fees_t prev;   /* the latest attempt's fees */
    char state[16];
    int is_cancel;
} watch_tx_t;

/* Parses a row of WATCH_TX_COLUMNS into t (free with watch_tx_clear); 0, or
 * TXL_EINVAL (logged) for a row that does not parse. */
int watch_tx_parse(const PGresult *res, int r, int col0, watch_tx_t *t) TXL_WUR;
void watch_tx_clear(watch_tx_t *t);
/* Turns m into a cancel of its nonce: a 0-value self-transfer, 21000 gas,
 * no data, kind cancel (tx_id and request_id kept). */
void watch_tx_make_cancel(msg_allocated_t *m);

/* The market's fees for a new transaction (fee oracle, capped at
 * TXLANE_MAX_FEE_WEI). 0, or TXL_EIO without any estimate. */
int watch_fees_market(watcher_t *w, msg_fees_t *out) TXL_WUR;
/*
 * Fees replacing prev: each of fee cap and tip is the largest of prev raised
 * by percent, prev raised by 10 % (the node's replacement rule) and the
 * market; the fee cap is then capped at TXLANE_MAX_FEE_WEI and the tip at
 * the fee cap. Returns 0, 1 when the cap does not leave room for +10 % on
 * both (no replacement possible: alert), or TXL_EIO without a market
 * estimate.
 */
int watch_fees_bump(watcher_t *w, const msg_fees_t *prev, unsigned percent, msg_fees_t *out)
    TXL_WUR;

/* Produces m on txlane.allocated, keyed by its lane address. 0 or an error. */
int watch_send_allocated(watcher_t *w, const msg_allocated_t *m) TXL_WUR;

/* Remembers (or forgets, at_ms < 0) tx_id in a mark list; the time of a
 * remembered one, or -1. */
void watch_marks_set(watch_mark_t **v, size_t *n, int64_t tx_id, long long at_ms);
long long watch_marks_get(const watch_mark_t *v, size_t n, int64_t tx_id);

/* Re-sends raw transactions (params: ["0x<raw>"] each) in batches; returns
 * how many the node accepted or already knew. */
size_t watch_send_raw(watcher_t *w, char *const *params, size_t n);

#endif
