/*
 * dropped.c - transactions the node forgot: a submitted transaction (or the
 * cancel of a failed payout) that is in no block and that the node no longer
 * knows (eth_getTransactionByHash answers null: evicted from its pool, lost
 * in a restart, or taken out of the chain by a reorganisation) gets its
 * latest attempt's raw transaction sent again, as it was signed.
 *
 * Every TXLANE_DROPPED_AFTER_MS / 2 the transactions submitted at least
 * TXLANE_DROPPED_AFTER_MS ago and not yet included, at or above their
 * lane's mined count, are looked up in JSON-RPC batches (up to
 * TXLANE_REPAIR_BATCH per round, lowest nonces first); the unknown ones are
 * sent again in batches. A node that answers "nonce too low" (the nonce was
 * mined meanwhile) or anything else is left to the other policies: this one
 * never changes a transaction's state, it only counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair.h"
#include "txlane/log.h"
#include "txlane/xmalloc.h"

#define WATCH_LOOKUPS_PER_BATCH 200

static const char watch_sql_dropped[] =
    "SELECT t.tx_id, t.tx_hash, encode(t.raw, 'hex') FROM txs t"
    " JOIN lanes l ON l.id = t.lane_id"
    " WHERE t.block_number IS NULL AND t.raw IS NOT NULL AND t.tx_hash IS NOT NULL"
    "   AND t.nonce >= COALESCE(l.chain_nonce, 0)"
    "   AND ((t.state = 'submitted'"
    "         AND t.submitted_at < now() - $1::bigint * interval '1 millisecond')"
    "     OR (t.state = 'failed' AND EXISTS (SELECT 1 FROM tx_attempts a WHERE a.tx_id = t.tx_id"
    "         AND a.attempt = t.attempt AND a.is_cancel"
    "         AND a.sent_at < now() - $1::bigint * interval '1 millisecond')))"
    " ORDER BY t.lane_id, t.nonce LIMIT $2::int";

/* Looks the hashes up; unknown[i] = 1 for those the node does not know. */
static int watch_dropped_lookup(watcher_t *w, PGresult *res, size_t n, unsigned char *unknown) {
    size_t nb = (n + WATCH_LOOKUPS_PER_BATCH - 1) / WATCH_LOOKUPS_PER_BATCH;
    rpc_batch_set_t set;
    char params[96];
    int rc;
    rpc_batch_set_init(&set, nb);
    for (size_t i = 0; i < n; i++) {
        snprintf(params, sizeof(params), "[\"%s\"]", PQgetvalue(res, (int)i, 1));
        rpc_batch_add(&set.b[i / WATCH_LOOKUPS_PER_BATCH], "eth_getTransactionByHash", params);
    }
    rc = rpc_batch_set_send(w->rpc, &set);
    if (rc != 0) {
        metric_inc(w->m_errors);
        log_warn("could not look transactions up", LF_S("error", rpc_batch_set_error(&set)));
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const rpc_call_t *call = &set.b[i / WATCH_LOOKUPS_PER_BATCH].calls[i % WATCH_LOOKUPS_PER_BATCH];
        unknown[i] = call->error_message == NULL && (call->result == NULL || YAJL_IS_NULL(call->result));
    }
    rpc_batch_set_free(&set);
    return rc;
}

static int watch_dropped_start(watcher_t *w) {
    w->repair->next_dropped_ms = 0;
    return 0;
}

static int watch_dropped_tick(watcher_t *w) {
    long long now = service_now_ms();
    if (now < w->repair->next_dropped_ms)
        return 0;
    w->repair->next_dropped_ms = now + w->cfg->dropped_after_ms / 2;
    char after[24], limit[24];
    snprintf(after, sizeof(after), "%lld", w->cfg->dropped_after_ms);
    snprintf(limit, sizeof(limit), "%lld", w->cfg->repair_batch);
    const char *params[] = {after, limit};
    PGresult *res = watch_query(w, "submitted transactions", watch_sql_dropped, 2, params);
    if (res == NULL)
        return TXL_EDB;
    size_t n = (size_t)PQntuples(res), k = 0;
    unsigned char *unknown = xcalloc(n ? n : 1, 1);
    char **raws = xcalloc(n ? n : 1, sizeof(char *));
    int rc = n > 0 ? watch_dropped_lookup(w, res, n, unknown) : 0;
    metric_add(w->repair->m_dropped_checked, (double)n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!unknown[i])
            continue;
        const char *raw = PQgetvalue(res, (int)i, 2);
        raws[k] = xmalloc(strlen(raw) + 8);
        snprintf(raws[k], strlen(raw) + 8, "[\"0x%s\"]", raw);
        k++;
    }
    if (k > 0) {
        size_t taken = watch_send_raw(w, raws, k);
        metric_add(w->repair->m_resent, (double)taken);
        log_warn("transactions unknown to the node sent again", LF_U("unknown", k),
                 LF_U("accepted", taken), LF_S("first_tx_id", PQgetvalue(res, 0, 0)));
    }
    for (size_t i = 0; i < k; i++)
        free(raws[i]);
    free(raws);
    free(unknown);
    PQclear(res);
    return rc;
}

const watch_policy_t watch_policy_dropped = {
    .name = "dropped",
    .start = watch_dropped_start,
    .tick = watch_dropped_tick,
    .on_reorg = NULL,
};
