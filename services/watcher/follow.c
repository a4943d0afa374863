/*
 * follow.c - following the chain: the node's head, new blocks in JSON-RPC
 * batches, and the check that every block links to the last processed one
 * (the watcher's cursor, persisted in chain_blocks).
 *
 * A block is read as its header (eth_getBlockByNumber(n, false): hashes
 * only) and its receipts (eth_getBlockReceipts(n)), both in the same batch:
 * the receipts name each transaction's sender, hash, gas used and status,
 * which is what confirming needs, and cost the node far less than full
 * transaction objects. The receipts must be the block's complete list (one
 * per transaction of the header, every index once, all of that block; see
 * chain.h), else the block is malformed or the chain moved: the range is
 * read again, the error logged. A node that answers that it does not know
 * eth_getBlockReceipts (chain_method_unsupported) makes the watcher switch,
 * once and for good, to full blocks (eth_getBlockByNumber(n, true)), whose
 * receipts match.c fetches per transaction of ours; TXLANE_BLOCK_RECEIPTS=
 * false starts there. The gauge txlane_watcher_block_receipts says which.
 *
 * A range is at most WATCH_FETCH_BATCHES x TXLANE_BLOCKS_PER_BATCH blocks,
 * fetched as that many concurrent batches (rpc_batches_send). A range the
 * node fails to serve in time (blocks of thousands of transactions on a busy
 * node) is halved, down to one block, and grows back as ranges succeed; a
 * single block that still times out gets twice the time on each try, up to
 * WATCH_SLOW_TIMEOUT_MAX_MS, until a range is read in full again. A range is
 * processed only when it is whole and linked: its first block's parent is
 * the cursor's hash, and each block's parent is the block before it. A first
 * block that does not link to the cursor is a reorganisation of blocks the
 * watcher already processed: the policies' on_reorg hooks get it, and until
 * one repairs the stored chain nothing is followed or confirmed. A break
 * inside a freshly fetched range only means the chain moved while it was
 * being read: the range is fetched again on the next turn.
 *
 * When a leadership term begins, the cursor is reloaded and, before anything
 * is confirmed, checked against the node's block at the same height.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/log.h"
#include "txlane/xmalloc.h"
#include "watcher.h"

/* Processing more ranges in one turn than fits this budget yields to the
 * loop (heartbeat, leadership check) before going on. */
#define WATCH_TURN_BUDGET_MS 1000

/* Logs a node failure once per episode (then at debug level). */
static void watch_rpc_failed(watcher_t *w, const char *what, const char *err) {
    metric_inc(w->m_errors);
    if (!w->rpc_failing)
        log_warn("node request failed", LF_S("call", what), LF_S("error", err));
    else
        log_debug("node request failed", LF_S("call", what), LF_S("error", err));
    w->rpc_failing = 1;
}

static void watch_rpc_ok(watcher_t *w) {
    if (w->rpc_failing)
        log_info("node answers again");
    w->rpc_failing = 0;
}

int watch_follow_start(watcher_t *w, int announce) {
    PGresult *res = watch_query(w, "processed block",
                                "SELECT number, hash FROM chain_blocks ORDER BY number DESC LIMIT 1",
                                0, NULL);
    if (res == NULL)
        return TXL_EDB;
    w->have_cursor = PQntuples(res) == 1;
    w->verified = 0;
    if (w->have_cursor) {
        w->cursor = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        if (chain_hash_parse(PQgetvalue(res, 0, 1), w->cursor_hash) != 0) {
            log_error("chain_blocks holds a malformed hash", LF_U("block", w->cursor));
            PQclear(res);
            return TXL_EINVAL;
        }
        metric_set(w->m_processed, (double)w->cursor);
        if (announce)
            log_info("resuming from the persisted block", LF_U("processed_block", w->cursor),
                     LF_U("next_block", w->cursor + 1), LF_S("hash", PQgetvalue(res, 0, 1)));
    } else if (announce) {
        log_info("no processed block yet: a first start");
    }
    PQclear(res);
    return 0;
}

/* The node's hash for the processed block w->cursor (or the parent hash of
 * the block after it) is node_hash, not the stored one: a reorganisation.
 * Asks every policy to repair it; until one does, nothing is followed. */
static int watch_reorg(watcher_t *w, const uint8_t node_hash[CHAIN_HASH_LEN]) {
    char stored[CHAIN_HASH_STR_LEN + 1], node[CHAIN_HASH_STR_LEN + 1];
    uint64_t number = w->cursor;
    chain_hash_format(w->cursor_hash, stored);
    chain_hash_format(node_hash, node);
    for (const watch_policy_t *const *p = w->policies; *p != NULL; p++) {
        if ((*p)->on_reorg != NULL && (*p)->on_reorg(w, number) == 0) {
            log_warn("chain reorganisation repaired", LF_S("policy", (*p)->name),
                     LF_U("block", number));
            metric_inc(w->m_reorgs);
            return watch_follow_start(w, 1);
        }
    }
    if (w->chain_ok) {
        metric_inc(w->m_reorgs);
        log_error("chain reorganisation detected: following and confirming stopped",
                  LF_U("block", number), LF_S("stored_hash", stored), LF_S("node_hash", node));
    }
    w->chain_ok = 0;
    metric_set(w->m_consistent, 0);
    w->need_start = 1; /* read the stored chain again next turn: it may be repaired */
    return TXL_EINVAL;
}

static void watch_chain_consistent(watcher_t *w) {
    if (!w->chain_ok)
        log_info("node agrees with the processed chain again", LF_U("processed_block", w->cursor));
    w->chain_ok = 1;
    metric_set(w->m_consistent, 1);
}

static uint64_t watch_first_block(const watcher_t *w);

/* Reads the node's head into w->head. */
static int watch_head(watcher_t *w) {
    rpc_batch_t b;
    unsigned long long head = 0;
    int rc;
    rpc_batch_init(&b);
    rpc_batch_add(&b, "eth_blockNumber", "[]");
    rc = rpc_batch_send(w->rpc, &b);
    if (rc != 0) {
        watch_rpc_failed(w, "eth_blockNumber", b.errstr);
    } else if (b.calls[0].error_message != NULL ||
               rpc_result_u64(b.calls[0].result, &head) != 0) {
        watch_rpc_failed(w, "eth_blockNumber",
                         b.calls[0].error_message ? b.calls[0].error_message : "malformed answer");
        rc = TXL_ERPC;
    } else {
        w->head = head;
        metric_set(w->m_head, (double)head);
        /* the blocks still to read (at a first start, from the first one on) */
        uint64_t next = w->have_cursor ? w->cursor + 1 : watch_first_block(w);
        metric_set(w->m_lag, head + 1 > next ? (double)(head + 1 - next) : 0);
    }
    rpc_batch_free(&b);
    return rc;
}

/*
 * Checks the stored cursor against the node's block at the same height, then
 * confirms what is deep enough already. Returns 0 when verified, 1 when the
 * node does not have that block yet, or an error.
 */
static int watch_verify_cursor(watcher_t *w) {
    char params[40];
    rpc_batch_t b;
    uint8_t hash[CHAIN_HASH_LEN];
    int rc;
    chain_block_params(w->cursor, 0, params);
    rpc_batch_init(&b);
    rpc_batch_add(&b, "eth_getBlockByNumber", params);
    rc = rpc_batch_send(w->rpc, &b);
    if (rc != 0 || b.calls[0].error_message != NULL) {
        watch_rpc_failed(w, "eth_getBlockByNumber",
                         rc != 0 ? b.errstr : b.calls[0].error_message);
        rpc_batch_free(&b);
        return rc != 0 ? rc : TXL_ERPC;
    }
    yajl_val v = b.calls[0].result;
    if (v == NULL || YAJL_IS_NULL(v)) {
        rpc_batch_free(&b);
        return 1;
    }
    const char *path[] = {"hash", NULL};
    const char *s = rpc_result_str(yajl_tree_get(v, path, yajl_t_string));
    rc = s != NULL ? chain_hash_parse(s, hash) : TXL_EINVAL;
    rpc_batch_free(&b);
    if (rc != 0) {
        watch_rpc_failed(w, "eth_getBlockByNumber", "block without a valid hash");
        return TXL_ERPC;
    }
    watch_rpc_ok(w);
    if (memcmp(hash, w->cursor_hash, CHAIN_HASH_LEN) != 0)
        return watch_reorg(w, hash);
    watch_chain_consistent(w);
    w->verified = 1;
    return watch_confirm_due(w);
}

/* The node said it does not know eth_getBlockReceipts: full blocks from now on. */
static void watch_block_receipts_off(watcher_t *w, const rpc_call_t *call) {
    log_info("node lacks eth_getBlockReceipts: following full blocks and a receipt per "
             "transaction of ours from now on",
             LF_I("error_code", call->error_code), LF_S("error", call->error_message));
    w->block_receipts = 0;
    metric_set(w->m_block_receipts, 0);
}

/* What watch_fetch_parse and watch_fetch_once return besides 0 and errors. */
enum {
    WATCH_BLOCK_MISSING = 1, /* the node does not have the block yet */
    WATCH_NO_BLOCK_RECEIPTS, /* the node does not know eth_getBlockReceipts */
};

/* Parses block number of a range from its call(s): the header and receipts,
 * or the full block. Returns 0, WATCH_BLOCK_MISSING, WATCH_NO_BLOCK_RECEIPTS
 * (w->block_receipts is 0 now), or an error (logged). */
static int watch_fetch_parse(watcher_t *w, uint64_t number, const rpc_call_t *call,
                             chain_block_t *b) {
    char err[256];
    const char *method = "eth_getBlockByNumber";
    int rc;
    if (call->error_message != NULL) {
        watch_rpc_failed(w, method, call->error_message);
        return TXL_ERPC;
    }
    if (call->result == NULL || YAJL_IS_NULL(call->result))
        return WATCH_BLOCK_MISSING; /* not there yet (a node behind its own head) */
    if (w->block_receipts)
        rc = chain_header_parse(call->result, b, err, sizeof(err));
    else
        rc = chain_block_parse(call->result, watch_lane_filter, w, b, err, sizeof(err));
    if (rc == 0 && b->number != number) {
        snprintf(err, sizeof(err), "asked for block %" PRIu64 ", got %" PRIu64, number, b->number);
        rc = TXL_ERPC;
    }
    if (rc == 0 && w->block_receipts) {
        const rpc_call_t *rcall = call + 1;
        method = "eth_getBlockReceipts";
        if (rcall->error_message != NULL && chain_method_unsupported(rcall->error_code,
                                                                     rcall->error_message)) {
            watch_block_receipts_off(w, rcall);
            return WATCH_NO_BLOCK_RECEIPTS;
        }
        if (rcall->error_message != NULL) {
            snprintf(err, sizeof(err), "%s", rcall->error_message);
            rc = TXL_ERPC;
        } else if (rcall->result == NULL || YAJL_IS_NULL(rcall->result)) {
            snprintf(err, sizeof(err), "no receipts for block %" PRIu64, number);
            rc = TXL_ERPC;
        } else {
            rc = chain_block_receipts_parse(rcall->result, watch_lane_filter, w, b, err,
                                            sizeof(err));
        }
    }
    if (rc != 0) {
        watch_rpc_failed(w, method, err);
        return TXL_ERPC;
    }
    return 0;
}

/* Fetches blocks [first, last] into bs, read as w->block_receipts says; *n
 * receives how many consecutive blocks the node had from first on. Returns
 * 0, WATCH_NO_BLOCK_RECEIPTS (fetch again: with full blocks now), or an
 * error. */
static int watch_fetch_once(watcher_t *w, uint64_t first, uint64_t last, chain_block_t *bs,
                            size_t *n) {
    size_t count = (size_t)(last - first + 1), per = (size_t)w->cfg->blocks_per_batch;
    /* spread a short range over the concurrent batches too */
    if (per * WATCH_FETCH_BATCHES > count)
        per = (count + WATCH_FETCH_BATCHES - 1) / WATCH_FETCH_BATCHES;
    size_t nbatches = (count + per - 1) / per, calls = w->block_receipts ? 2 : 1;
    rpc_batch_set_t set;
    char params[40];
    int rc;
    *n = 0;
    rpc_batch_set_init(&set, nbatches);
    for (size_t i = 0; i < count; i++) {
        chain_block_params(first + i, !w->block_receipts, params);
        rpc_batch_add(&set.b[i / per], "eth_getBlockByNumber", params);
        if (w->block_receipts) {
            chain_block_receipts_params(first + i, params);
            rpc_batch_add(&set.b[i / per], "eth_getBlockReceipts", params);
        }
    }
    rc = rpc_batch_set_send(w->rpc, &set);
    if (rc != 0) {
        watch_rpc_failed(w, "eth_getBlockByNumber", rpc_batch_set_error(&set));
        goto cleanup;
    }
    /* lanes are refreshed after the blocks exist (see lanes.c) */
    rc = watch_lanes_refresh(w);
    if (rc != 0)
        goto cleanup;
    for (size_t i = 0; i < count; i++) {
        rc = watch_fetch_parse(w, first + i, &set.b[i / per].calls[(i % per) * calls], &bs[i]);
        if (rc != 0) {
            chain_block_clear(&bs[i]);
            if (rc == WATCH_BLOCK_MISSING)
                rc = 0;
            break;
        }
        (*n)++;
    }
    if (rc == 0)
        watch_rpc_ok(w);
cleanup:
    rpc_batch_set_free(&set);
    return rc;
}

/* watch_fetch_once, again with full blocks when the node turned out not to
 * know eth_getBlockReceipts. */
static int watch_fetch(watcher_t *w, uint64_t first, uint64_t last, chain_block_t *bs,
                       size_t *n) {
    int rc = watch_fetch_once(w, first, last, bs, n);
    if (rc != WATCH_NO_BLOCK_RECEIPTS)
        return rc;
    for (size_t i = 0; i < *n; i++)
        chain_block_clear(&bs[i]);
    return watch_fetch_once(w, first, last, bs, n);
}

/* Where the first start begins: TXLANE_START_BLOCK, or the head minus the lookback. */
static uint64_t watch_first_block(const watcher_t *w) {
    if (w->cfg->start_block >= 0)
        return (uint64_t)w->cfg->start_block;
    uint64_t back = (uint64_t)w->cfg->start_lookback;
    return w->head > back ? w->head - back : 0;
}

/* Fetches and processes the next range. Returns 1 when more blocks wait, 0
 * when caught up, or an error. */
static int watch_follow_range(watcher_t *w) {
    uint64_t first = w->have_cursor ? w->cursor + 1 : watch_first_block(w);
    if (w->head < first) {
        if (w->have_cursor && w->head < w->cursor && !w->node_behind) {
            log_warn("node head is below the processed block", LF_U("head", w->head),
                     LF_U("processed_block", w->cursor));
            w->node_behind = 1;
        }
        return 0;
    }
    w->node_behind = 0;
    uint64_t span_max = (uint64_t)(w->cfg->blocks_per_batch * WATCH_FETCH_BATCHES);
    uint64_t span = w->span >= 1 && w->span <= span_max ? w->span : span_max;
    uint64_t last = w->head - first + 1 > span ? first + span - 1 : w->head;
    size_t cap = (size_t)(last - first + 1), n = 0;
    chain_block_t *bs = xcalloc(cap, sizeof(chain_block_t));
    long long t0 = service_now_ms();
    int rc = watch_fetch(w, first, last, bs, &n);
    long timeout = rpc_client_timeout(w->rpc);
    if (rc == TXL_ETIMEOUT && span > 1) {
        /* big blocks can take a busy node longer to serve than the timeout
         * (anvil's receipts cost grows with the square of a block's size):
         * read fewer at a time until they fit */
        w->span = span / 2;
        log_warn("node too slow for the block range: reading fewer blocks at a time",
                 LF_U("blocks", span), LF_U("now", w->span));
    } else if (rc == TXL_ETIMEOUT && timeout < WATCH_SLOW_TIMEOUT_MAX_MS) {
        /* one block and still too slow: give that block more time */
        timeout = timeout * 2 < WATCH_SLOW_TIMEOUT_MAX_MS ? timeout * 2 : WATCH_SLOW_TIMEOUT_MAX_MS;
        rpc_client_set_timeout(w->rpc, timeout);
        log_warn("node too slow for one block: waiting longer for it", LF_U("block", first),
                 LF_I("timeout_ms", timeout));
    } else if (rc == 0 && n == cap) {
        if (timeout != w->cfg->rpc_timeout_ms)
            rpc_client_set_timeout(w->rpc, (long)w->cfg->rpc_timeout_ms);
        if (span < span_max && cap == span)
            w->span = span * 2 < span_max ? span * 2 : span_max;
    }
    if (rc != 0 || n == 0)
        goto cleanup;
    if (w->have_cursor && memcmp(bs[0].parent_hash, w->cursor_hash, CHAIN_HASH_LEN) != 0) {
        rc = watch_reorg(w, bs[0].parent_hash);
        goto cleanup;
    }
    for (size_t i = 1; i < n; i++) {
        if (memcmp(bs[i].parent_hash, bs[i - 1].hash, CHAIN_HASH_LEN) != 0) {
            log_debug("chain moved while blocks were read; fetching again",
                      LF_U("block", bs[i].number));
            rc = TXL_ERPC;
            goto cleanup;
        }
    }
    watch_chain_consistent(w);
    if (!w->have_cursor)
        log_info("first start: following the chain", LF_U("first_block", first),
                 LF_U("head", w->head),
                 LF_S("from", w->cfg->start_block >= 0 ? "TXLANE_START_BLOCK"
                                                       : "head minus TXLANE_START_LOOKBACK"));
    rc = watch_confirm_range(w, bs, n);
    if (rc != 0)
        goto cleanup;
    w->have_cursor = 1;
    w->verified = 1;
    w->cursor = bs[n - 1].number;
    memcpy(w->cursor_hash, bs[n - 1].hash, CHAIN_HASH_LEN);
    metric_set(w->m_processed, (double)w->cursor);
    metric_set(w->m_lag, w->head > w->cursor ? (double)(w->head - w->cursor) : 0);
    metric_add(w->m_blocks, (double)n);
    metric_observe(w->m_range_seconds, (double)(service_now_ms() - t0) / 1000.0);
    rc = w->cursor < w->head ? 1 : 0;
cleanup:
    for (size_t i = 0; i < cap; i++)
        chain_block_clear(&bs[i]);
    free(bs);
    return rc;
}

int watch_follow(watcher_t *w) {
    int rc = watch_head(w);
    if (rc != 0)
        return rc;
    if (w->have_cursor && !w->verified) {
        rc = watch_verify_cursor(w);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    long long deadline = service_now_ms() + WATCH_TURN_BUDGET_MS;
    do {
        rc = watch_follow_range(w);
    } while (rc == 1 && service_running() && leader_is_leader(w->leader) &&
             service_now_ms() < deadline);
    return rc;
}
