/*
 * reorg.c - repairing a reorganisation of processed blocks.
 *
 * The follower found that the node's chain no longer contains the last
 * processed block. The stored block hashes (chain_blocks, the last
 * TXLANE_REORG_DEPTH) are compared with the node's blocks at the same
 * heights, in one JSON-RPC batch; the highest equal one is the common
 * ancestor. In one PostgreSQL statement, for every transaction included
 * above it: a confirmed (or cancelled) one moves back to submitted (a
 * tx_events row with reason "reorg", the block it was in and the ancestor),
 * and every included one forgets its inclusion (block, hash, receipt); the
 * lanes' mined counts go down to the lowest such nonce; the blocks above the
 * ancestor are deleted. The follower then resumes from the ancestor and
 * confirms again what the new chain includes; what it does not include is
 * sent again by the dropped policy (the node forgot it) and bumped or
 * cancelled like any other open transaction. A reorganisation deeper than
 * the stored hashes is not repaired here: following stays stopped and the
 * error is logged (raise TXLANE_REORG_DEPTH).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "repair.h"
#include "txlane/log.h"
#include "txlane/xmalloc.h"

static const char watch_sql_unwind[] =
    "WITH hit AS (SELECT tx_id, request_id, state, lane_id, nonce, attempt, block_number,"
    "   block_hash FROM txs WHERE block_number > $1::bigint ORDER BY tx_id FOR UPDATE),"
    " upd AS (UPDATE txs t SET"
    "   state = CASE WHEN h.state IN ('confirmed', 'cancelled') THEN 'submitted' ELSE t.state END,"
    "   confirmed_at = NULL, block_number = NULL, block_hash = NULL, gas_used = NULL,"
    "   receipt_status = NULL"
    "   FROM hit h WHERE t.tx_id = h.tx_id RETURNING t.tx_id),"
    " ev AS (INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program, detail)"
    "   SELECT tx_id, request_id, state, 'submitted', 'watcher',"
    "     jsonb_build_object('reason', 'reorg', 'attempt', attempt, 'block_number', block_number,"
    "       'block_hash', block_hash, 'common_ancestor', $1::bigint)"
    "   FROM hit WHERE state IN ('confirmed', 'cancelled') ORDER BY tx_id),"
    " ln AS (UPDATE lanes l SET chain_nonce = m.n"
    "   FROM (SELECT lane_id, min(nonce) AS n FROM hit GROUP BY lane_id) m"
    "   WHERE l.id = m.lane_id AND l.chain_nonce > m.n),"
    " blk AS (DELETE FROM chain_blocks WHERE number > $1::bigint)"
    " SELECT count(*) FILTER (WHERE state IN ('confirmed', 'cancelled')), count(*),"
    "   (SELECT count(*) FROM upd) FROM hit";

/* The highest stored block the node still has; -1 when none is (deeper
 * than the stored hashes) or on an error (*rc set). */
static long long watch_common_ancestor(watcher_t *w, int *rc) {
    PGresult *res = watch_query(w, "stored blocks",
                                "SELECT number, hash FROM chain_blocks ORDER BY number DESC", 0,
                                NULL);
    *rc = 0;
    if (res == NULL) {
        *rc = TXL_EDB;
        return -1;
    }
    size_t n = (size_t)PQntuples(res);
    long long found = -1;
    rpc_batch_t b;
    rpc_batch_init(&b);
    for (size_t i = 0; i < n; i++) {
        char params[48];
        snprintf(params, sizeof(params), "[\"0x%llx\",false]",
                 strtoull(PQgetvalue(res, (int)i, 0), NULL, 10));
        rpc_batch_add(&b, "eth_getBlockByNumber", params);
    }
    if (n > 0 && rpc_batch_send(w->rpc, &b) != 0) {
        metric_inc(w->m_errors);
        log_warn("could not read blocks to find the common ancestor", LF_S("error", b.errstr));
        *rc = TXL_ERPC;
    }
    for (size_t i = 0; *rc == 0 && i < n && found < 0; i++) {
        const char *path[] = {"hash", NULL};
        yajl_val v = b.calls[i].result;
        if (v == NULL || YAJL_IS_NULL(v))
            continue; /* the node's chain is shorter there */
        const char *hash = rpc_result_str(yajl_tree_get(v, path, yajl_t_string));
        if (hash != NULL && strcasecmp(hash, PQgetvalue(res, (int)i, 1)) == 0)
            found = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
    }
    rpc_batch_free(&b);
    PQclear(res);
    return found;
}

static int watch_reorg_repair(watcher_t *w, uint64_t number) {
    int rc;
    long long ancestor = watch_common_ancestor(w, &rc);
    if (rc != 0)
        return rc;
    if (ancestor < 0) {
        log_error("reorganisation deeper than the stored blocks: not repaired (TXLANE_REORG_DEPTH)",
                  LF_U("block", number), LF_I("reorg_depth", w->cfg->reorg_depth));
        return TXL_EINVAL;
    }
    char anc[24];
    snprintf(anc, sizeof(anc), "%lld", ancestor);
    const char *params[] = {anc};
    PGresult *res = watch_query(w, "unwind reorganised blocks", watch_sql_unwind, 1, params);
    if (res == NULL)
        return TXL_EDB;
    long long reverted = atoll(PQgetvalue(res, 0, 0)), included = atoll(PQgetvalue(res, 0, 1));
    PQclear(res);
    metric_set(w->repair->m_reorg_depth, (double)(number - (uint64_t)ancestor));
    metric_add(w->repair->m_reorg_reverted, (double)reverted);
    log_warn("chain reorganisation: back to the common ancestor", LF_I("common_ancestor", ancestor),
             LF_U("processed_block", number), LF_U("depth", number - (uint64_t)ancestor),
             LF_I("txs_back_to_submitted", reverted), LF_I("inclusions_forgotten", included));
    w->repair->next_dropped_ms = 0; /* look for what the new chain left out soon */
    return 0;
}

const watch_policy_t watch_policy_reorg = {
    .name = "reorg",
    .start = NULL,
    .tick = NULL,
    .on_reorg = watch_reorg_repair,
};
