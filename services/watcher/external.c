/*
 * external.c - the external-use policy (DESIGN section 8): a lane's key was
 * used outside txlane, so the lane's mined nonce count passed nonces whose
 * payouts were never mined. Those payouts are moved to fresh nonces by the
 * allocator that owns the lane (only it advances next_nonce, fenced by
 * owner_epoch); this policy finds them, proves it, records them and asks.
 *
 * Every TXLANE_EXTERNAL_CHECK_MS:
 *   1. candidates: open payouts (created, pending, submitted; not cancels)
 *      with no recorded inclusion whose nonce is below lanes.chain_nonce;
 *   2. evidence, from the node: the lane's transaction count at the last
 *      processed block that is TXLANE_CONFIRMATIONS deep is above the nonce
 *      (the nonce was used in a block this watcher has processed, where
 *      confirm.c would have recorded our attempt - any recorded attempt, or
 *      an unrecorded one by its payload - had it been ours), and no attempt
 *      of the payout (tx_attempts) has a receipt. A payout that was in fact
 *      mined is never re-allocated;
 *   3. the payout goes into reallocations, the lane is flagged
 *      (external_use_count, status_reason), an alert metric counts it;
 *   4. each recorded, not yet moved re-allocation is produced to
 *      txlane.requests on the lane's partition: the stored request with key
 *      "txlane-reallocate:<tx_id>" (allocator.h). The allocator moves the
 *      txs row (same tx_id and request_id) to its lane's next nonce in its
 *      batch transaction, records the old nonce in lane_external_nonces and
 *      publishes the new allocation. Produced again each check until moved.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/db.h"
#include "txlane/log.h"
#include "txlane/service.h"
#include "txlane/xmalloc.h"
#include "watcher.h"


static struct {
    long long next_ms;
    metric_t *m_detected, *m_requested, *m_unproven;
} ext;

static const char ext_sql_candidates[] =
    "SELECT t.tx_id, t.lane_id, t.nonce, l.address,"
    "  COALESCE((SELECT string_agg(a.tx_hash, ',') FROM tx_attempts a WHERE a.tx_id = t.tx_id),"
    "           '')"
    " FROM lanes l JOIN txs t ON t.lane_id = l.id"
    " WHERE l.chain_nonce IS NOT NULL AND t.nonce < l.chain_nonce"
    "   AND t.state IN ('created', 'pending', 'submitted') AND t.block_number IS NULL"
    "   AND t.kind <> 'cancel' AND t.request_id IS NOT NULL"
    "   AND NOT EXISTS (SELECT 1 FROM reallocations r"
    "                   WHERE r.tx_id = t.tx_id AND r.old_nonce = t.nonce)"
    " ORDER BY t.lane_id, t.nonce LIMIT 500";

/* Records the proven ones ($1 tx ids, $2 nonces, $3 evidence) and flags their lanes. */
static const char ext_sql_record[] =
    "WITH c AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS c(tx_id, nonce, ev)),"
    " ins AS (INSERT INTO reallocations (tx_id, old_nonce, lane_id, request_id, evidence)"
    "  SELECT t.tx_id, t.nonce, t.lane_id, t.request_id, c.ev FROM c"
    "  JOIN txs t ON t.tx_id = c.tx_id AND t.nonce = c.nonce AND t.block_number IS NULL"
    "   AND t.state IN ('created', 'pending', 'submitted')"
    "  ON CONFLICT DO NOTHING RETURNING lane_id, old_nonce)"
    " UPDATE lanes l SET external_use_count = l.external_use_count + i.n,"
    "  status_reason = 'nonces ' || i.nonces || ' used outside txlane; payouts re-allocated',"
    "  updated_at = now()"
    " FROM (SELECT lane_id, count(*) AS n, string_agg(old_nonce::text, ',' ORDER BY old_nonce)"
    "   AS nonces FROM ins GROUP BY lane_id) i WHERE l.id = i.lane_id"
    " RETURNING l.id, i.n, i.nonces";

static const char ext_sql_open[] =
    "SELECT r.tx_id, r.lane_id, q.payload::text FROM reallocations r"
    " JOIN requests q ON q.request_id = r.request_id"
    " WHERE r.new_nonce IS NULL ORDER BY r.lane_id, r.old_nonce LIMIT 1000";

static int ext_start(watcher_t *w) {
    (void)w;
    ext.next_ms = 0;
    if (ext.m_detected == NULL) {
        ext.m_detected = metric_counter("txlane_watcher_external_use_total", NULL,
                                        "payouts whose nonce was used outside txlane (alert)");
        ext.m_requested = metric_counter("txlane_watcher_reallocations_sent_total", NULL,
                                         "re-allocation requests produced to the allocator");
        ext.m_unproven = metric_counter(
            "txlane_watcher_external_unproven_total", NULL,
            "payouts passed by their lane's mined count not re-allocated (an attempt was mined "
            "or the nonce is not yet confirmed-deep)");
    }
    return 0;
}

/* Produces the re-allocations not yet moved. */
static void ext_publish(watcher_t *w) {
    PGresult *res = watch_query(w, "open reallocations", ext_sql_open, 0, NULL);
    if (res == NULL)
        return;
    for (int r = 0; r < PQntuples(res); r++) {
        char key[64];
        snprintf(key, sizeof key, "txlane-reallocate:%s", PQgetvalue(res, r, 0));
        if (watch_request_send(w, key, PQgetvalue(res, r, 2), atoi(PQgetvalue(res, r, 1))) != 0)
            break;
        metric_inc(ext.m_requested);
    }
    PQclear(res);
}

typedef struct {
    long long tx_id, lane, nonce;
    size_t count_call;       /* index of the lane's count call */
    size_t first_receipt, n_receipts;
} ext_cand_t;

static int ext_tick(watcher_t *w) {
    long long now = service_now_ms();
    if (w->cfg->external_check_ms <= 0 || now < ext.next_ms || !w->have_cursor)
        return 0;
    ext.next_ms = now + w->cfg->external_check_ms;
    uint64_t depth = (uint64_t)w->cfg->confirmations;
    if (w->cursor + 1 < depth)
        return 0;
    uint64_t at = w->cursor + 1 - depth; /* deepest block that counts as confirmed */
    PGresult *res = watch_query(w, "external candidates", ext_sql_candidates, 0, NULL);
    if (res == NULL)
        return TXL_EDB;
    int n = PQntuples(res), rc = 0;
    ext_cand_t *c = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*c));
    rpc_batch_t batch;
    rpc_batch_init(&batch);
    db_array_t ids, nonces, evs;
    db_array_init(&ids);
    db_array_init(&nonces);
    db_array_init(&evs);
    long long last_lane = -1;
    size_t last_call = 0;
    for (int r = 0; r < n; r++) {
        char params[200];
        c[r].tx_id = atoll(PQgetvalue(res, r, 0));
        c[r].lane = atoll(PQgetvalue(res, r, 1));
        c[r].nonce = atoll(PQgetvalue(res, r, 2));
        if (c[r].lane != last_lane) {
            snprintf(params, sizeof params, "[\"%s\",\"0x%" PRIx64 "\"]", PQgetvalue(res, r, 3),
                     at);
            last_call = batch.n;
            rpc_batch_add(&batch, "eth_getTransactionCount", params);
            last_lane = c[r].lane;
        }
        c[r].count_call = last_call;
        c[r].first_receipt = batch.n;
        char *hashes = xstrdup(PQgetvalue(res, r, 4)), *save = NULL;
        for (char *h = strtok_r(hashes, ",", &save); h != NULL; h = strtok_r(NULL, ",", &save)) {
            snprintf(params, sizeof params, "[\"%s\"]", h);
            rpc_batch_add(&batch, "eth_getTransactionReceipt", params);
            c[r].n_receipts++;
        }
        free(hashes);
    }
    if (n > 0 && (rc = rpc_batch_send(w->rpc, &batch)) != 0) {
        metric_inc(w->m_errors);
        log_warn("could not check payouts passed by their lane's nonce",
                 LF_S("error", batch.errstr));
        goto cleanup;
    }
    for (int r = 0; r < n; r++) {
        unsigned long long count;
        rpc_call_t *cc = &batch.calls[c[r].count_call];
        if (cc->error_message != NULL || rpc_result_u64(cc->result, &count) != 0)
            continue; /* e.g. the node no longer has that block's state: next time */
        int mined = 0, unknown = 0;
        for (size_t k = 0; k < c[r].n_receipts; k++) {
            rpc_call_t *rc_ = &batch.calls[c[r].first_receipt + k];
            if (rc_->error_message != NULL)
                unknown = 1;
            else if (rc_->result != NULL && !YAJL_IS_NULL(rc_->result))
                mined = 1;
        }
        if (count <= (unsigned long long)c[r].nonce || mined || unknown) {
            if (mined || count <= (unsigned long long)c[r].nonce)
                metric_inc(ext.m_unproven);
            continue;
        }
        char ev[160];
        snprintf(ev, sizeof ev,
                 "mined count %llu at block %" PRIu64 " passed nonce %lld; no receipt for any "
                 "of %zu attempt(s)",
                 count, at, c[r].nonce, c[r].n_receipts);
        db_array_add_i64(&ids, c[r].tx_id);
        db_array_add_i64(&nonces, c[r].nonce);
        db_array_add(&evs, ev);
    }
    if (ids.n > 0) {
        const char *params[] = {db_array_text(&ids), db_array_text(&nonces), db_array_text(&evs)};
        PGresult *rec = watch_query(w, "record reallocations", ext_sql_record, 3, params);
        if (rec == NULL) {
            rc = TXL_EDB;
            goto cleanup;
        }
        for (int r = 0; r < PQntuples(rec); r++) {
            metric_add(ext.m_detected, atof(PQgetvalue(rec, r, 1)));
            log_error("lane used outside txlane: its payouts at these nonces are re-allocated",
                      LF_S("lane", PQgetvalue(rec, r, 0)), LF_S("nonces", PQgetvalue(rec, r, 2)));
        }
        PQclear(rec);
    }
    ext_publish(w);
cleanup:
    PQclear(res);
    free(c);
    rpc_batch_free(&batch);
    db_array_free(&ids);
    db_array_free(&nonces);
    db_array_free(&evs);
    return rc;
}

const watch_policy_t watch_policy_external = {
    .name = "external",
    .start = ext_start,
    .tick = ext_tick,
    .on_reorg = NULL,
};
