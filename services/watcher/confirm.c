/*
 * confirm.c - what a processed block range means for txlane's transactions,
 * once match.c has decided which of its lane transactions are ours (and got
 * the receipts of our open ones).
 *
 * One PostgreSQL transaction per range: the blocks into chain_blocks
 * (pruned to the last TXLANE_REORG_DEPTH), the inclusions recorded on the
 * txs rows (block number and hash, gas used, receipt status, the mined
 * attempt's hash), then every included transaction whose block is
 * TXLANE_CONFIRMATIONS deep in the processed chain (and whose block hash is
 * still the stored one) moves to confirmed - or cancelled when the mined
 * attempt is a cancel - with a tx_events row each. Reverted payouts (receipt status 0) are confirmed with
 * receipt_status 0; their event carries reason "reverted", which the
 * publisher turns into a "failed" status event. After it commits,
 * lanes.chain_nonce is raised to the mined count seen (the highest nonce + 1
 * of every lane transaction, ours or not), in a statement of its own.
 *
 * A failed payout (invalid.c) is matched too: once the cancel of its nonce
 * is mined and deep enough it moves failed -> cancelled.
 *
 * Transitions are guarded (state IN ('created', 'pending', 'submitted',
 * 'failed')), so a range processed twice, or a row another program moved
 * meanwhile, changes nothing twice. A deadlock or serialization failure
 * rolls back; the range is processed again on the next turn.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/log.h"
#include "txlane/db.h"
#include "txlane/xmalloc.h"
#include "watcher.h"

int watch_kind_index(const char *kind) {
    static const char *const names[WATCH_NKINDS] = {"payout", "cancel", "topup", "sweep"};
    for (int i = 0; i < WATCH_NKINDS; i++) {
        if (strcmp(kind, names[i]) == 0)
            return i;
    }
    return WATCH_KIND_PAYOUT;
}

PGresult *watch_query(watcher_t *w, const char *what, const char *sql, int nparams,
                      const char *const *params) {
    char err[512];
    PGresult *res = db_query(w->db, sql, nparams, params, err, sizeof(err));
    if (res != NULL)
        return res;
    /* a deadlock or a lost connection included: the next turn does it again */
    log_warn("database statement failed", LF_S("statement", what), LF_S("error", err));
    metric_inc(w->m_errors);
    db_rollback(w->db);
    leader_check(w->leader);
    return NULL;
}

static const char watch_sql_record[] =
    "WITH blk AS ("
    "  INSERT INTO chain_blocks (number, hash, parent_hash)"
    "  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])"
    "), inc AS ("
    "  UPDATE txs t SET block_number = i.block_number, block_hash = i.block_hash,"
    "    gas_used = i.gas_used, receipt_status = i.status, tx_hash = i.tx_hash"
    "  FROM unnest($4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::smallint[],"
    "              $9::text[]) AS i(tx_id, block_number, block_hash, gas_used, status, tx_hash)"
    "  WHERE t.tx_id = i.tx_id AND t.state IN ('created', 'pending', 'submitted', 'failed')"
    "  RETURNING t.tx_id"
    ") SELECT count(*) FROM inc";

/* lanes.chain_nonce raised to the mined count seen ($1 lane, $2 count), on
 * its own after the range's transaction: the lanes rows are the ones the
 * allocator advances in every batch, and holding their locks for the whole
 * range's transaction made allocations wait for it. The count is a hint
 * (the lower end of the windows the policies look at); a range that fails
 * to write it leaves it to the next one. */
static const char watch_sql_mined[] =
    "UPDATE lanes l SET chain_nonce = m.mined"
    " FROM (SELECT lane_id, max(mined) AS mined"
    "       FROM unnest($1::int[], $2::bigint[]) AS u(lane_id, mined) GROUP BY lane_id) m"
    " WHERE l.id = m.lane_id AND (l.chain_nonce IS NULL OR l.chain_nonce < m.mined)";

/* Confirms (or cancels, when the mined attempt is a cancel) every open
 * transaction included in a stored block at or below $1; $2 is the depth
 * asked for and $4 the processed tip it was reached on, both kept in the
 * event. Then forgets the blocks below $3 (the last
 * TXLANE_REORG_DEPTH are kept): in the same statement, so a block is never
 * pruned before what it includes was confirmed (the statement's parts share
 * one snapshot). */
static const char watch_sql_promote[] =
    "WITH pruned AS ("
    "  DELETE FROM chain_blocks WHERE number < $3::bigint"
    "), due AS ("
    "  SELECT t.tx_id, t.state AS from_state FROM txs t"
    "  JOIN chain_blocks b ON b.number = t.block_number AND b.hash = t.block_hash"
    "  WHERE t.block_number <= $1::bigint"
    "    AND t.state IN ('created', 'pending', 'submitted', 'failed')"
    "  ORDER BY t.tx_id FOR UPDATE OF t"
    "), mined AS ("
    "  SELECT d.tx_id, d.from_state, a.attempt, COALESCE(a.is_cancel, false) AS is_cancel"
    "  FROM due d JOIN txs t ON t.tx_id = d.tx_id"
    "  LEFT JOIN LATERAL (SELECT x.attempt, x.is_cancel FROM tx_attempts x"
    "    WHERE x.tx_id = t.tx_id AND x.tx_hash = t.tx_hash ORDER BY x.attempt DESC LIMIT 1) a"
    "  ON true"
    "  WHERE d.from_state <> 'failed' OR COALESCE(a.is_cancel, false)"
    "), done AS ("
    "  UPDATE txs t SET confirmed_at = now(),"
    "    state = CASE WHEN m.is_cancel OR t.kind = 'cancel' THEN 'cancelled' ELSE 'confirmed' END"
    "  FROM mined m WHERE t.tx_id = m.tx_id"
    "  RETURNING t.tx_id, t.request_id, t.kind, t.state, m.from_state, m.attempt, t.tx_hash,"
    "    t.block_number, t.block_hash, t.gas_used, t.receipt_status, t.lane_id, t.nonce"
    "), ev AS ("
    "  INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program, detail)"
    "  SELECT tx_id, request_id, from_state, state, 'watcher',"
    "    jsonb_strip_nulls(jsonb_build_object("
    "    'attempt', attempt, 'tx_hash', tx_hash, 'block_number', block_number,"
    "    'block_hash', block_hash, 'gas_used', gas_used, 'receipt_status', receipt_status,"
    "    'confirmations', $2::int, 'tip_block', $4::bigint,"
    "    'reason', CASE WHEN receipt_status = 0 THEN 'reverted' END))"
    "  FROM done ORDER BY tx_id"
    ") SELECT kind, state, receipt_status, tx_id, request_id, lane_id, nonce, tx_hash,"
    "  block_number FROM done ORDER BY tx_id";

/* Runs the promotion for the processed tip, and the pruning of chain_blocks;
 * adds to *confirmed. */
static int watch_promote(watcher_t *w, uint64_t tip, size_t *confirmed) {
    uint64_t depth = (uint64_t)w->cfg->confirmations, keep = (uint64_t)w->cfg->reorg_depth;
    char due_max[24], conf[24], keep_from[24], tip_text[24];
    /* on a chain shorter than the depth nothing is due: -1 matches no block */
    snprintf(due_max, sizeof(due_max), "%lld",
             tip + 1 >= depth ? (long long)(tip + 1 - depth) : -1LL);
    snprintf(conf, sizeof(conf), "%" PRIu64, depth);
    snprintf(keep_from, sizeof(keep_from), "%" PRIu64, tip + 1 > keep ? tip + 1 - keep : 0);
    snprintf(tip_text, sizeof(tip_text), "%" PRIu64, tip);
    const char *params[] = {due_max, conf, keep_from, tip_text};
    PGresult *res = watch_query(w, "confirm", watch_sql_promote, 4, params);
    if (res == NULL)
        return TXL_EDB;
    for (int r = 0; r < PQntuples(res); r++) {
        int kind = watch_kind_index(PQgetvalue(res, r, 0));
        const char *state = PQgetvalue(res, r, 1);
        int reverted = strcmp(PQgetvalue(res, r, 2), "0") == 0;
        if (strcmp(state, "cancelled") == 0)
            metric_inc(w->m_cancelled[kind]);
        else
            metric_inc(w->m_confirmed[kind]);
        if (reverted)
            metric_inc(w->m_reverted[kind]);
        log_debug("transaction final", LF_S("state", state), LF_S("tx_id", PQgetvalue(res, r, 3)),
                  LF_S("request_id", PQgetvalue(res, r, 4)), LF_S("lane", PQgetvalue(res, r, 5)),
                  LF_S("nonce", PQgetvalue(res, r, 6)), LF_S("tx_hash", PQgetvalue(res, r, 7)),
                  LF_S("block", PQgetvalue(res, r, 8)), LF_I("reverted", reverted));
    }
    *confirmed += (size_t)PQntuples(res);
    PQclear(res);
    return 0;
}

int watch_confirm_due(watcher_t *w) {
    size_t confirmed = 0;
    if (!w->have_cursor)
        return 0;
    int rc = watch_promote(w, w->cursor, &confirmed);
    if (rc == 0 && confirmed > 0)
        log_info("confirmed transactions already deep enough", LF_U("confirmed", confirmed),
                 LF_U("processed_block", w->cursor));
    return rc;
}

/* Step 3: the range's transaction. */
static int watch_record(watcher_t *w, const chain_block_t *bs, size_t nb, const watch_match_t *m,
                        size_t n, size_t *included, size_t *confirmed) {
    db_array_t a[11];
    char hash[CHAIN_HASH_STR_LEN + 1];
    uint64_t tip = bs[nb - 1].number;
    int rc = TXL_EDB;
    for (size_t i = 0; i < 11; i++)
        db_array_init(&a[i]);
    for (size_t i = 0; i < nb; i++) {
        db_array_add_i64(&a[0], (long long)bs[i].number);
        chain_hash_format(bs[i].hash, hash);
        db_array_add(&a[1], hash);
        chain_hash_format(bs[i].parent_hash, hash);
        db_array_add(&a[2], hash);
    }
    for (size_t i = 0; i < n; i++) {
        db_array_add_i64(&a[3], m[i].lane_id);
        db_array_add_i64(&a[4], (long long)m[i].nonce + 1);
        if (!(m[i].ours && m[i].open))
            continue;
        db_array_add_i64(&a[5], m[i].tx_id);
        db_array_add_i64(&a[6], (long long)m[i].block->number);
        chain_hash_format(m[i].block->hash, hash);
        db_array_add(&a[7], hash);
        db_array_add_i64(&a[8], (long long)m[i].receipt.gas_used);
        db_array_add_i64(&a[9], m[i].receipt.status);
        chain_hash_format(m[i].hash, hash);
        db_array_add(&a[10], hash);
    }
    const char *params[11];
    for (size_t i = 0; i < 11; i++)
        params[i] = db_array_text(&a[i]);
    const char *record_params[] = {params[0], params[1], params[2], params[5], params[6],
                                   params[7], params[8],  params[9], params[10]};
    const char *mined_params[] = {params[3], params[4]};

    PGresult *res = watch_query(w, "begin", "BEGIN", 0, NULL);
    if (res == NULL)
        goto cleanup;
    PQclear(res);
    res = watch_query(w, "record range", watch_sql_record, 9, record_params);
    if (res == NULL)
        goto cleanup;
    *included = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (watch_promote(w, tip, confirmed) != 0)
        goto cleanup;
    res = watch_query(w, "commit", "COMMIT", 0, NULL);
    if (res == NULL)
        goto cleanup;
    PQclear(res);
    rc = 0;
    if (a[3].n > 0 && (res = watch_query(w, "mined counts", watch_sql_mined, 2, mined_params)) != NULL)
        PQclear(res);
cleanup:
    for (size_t i = 0; i < 11; i++)
        db_array_free(&a[i]);
    return rc;
}

int watch_confirm_range(watcher_t *w, const chain_block_t *bs, size_t nb) {
    watch_match_t *m = NULL;
    size_t n = 0, included = 0, confirmed = 0, ours = 0;
    int rc = watch_match_range(w, bs, nb, &m, &n);
    if (rc == 0)
        rc = watch_record(w, bs, nb, m, n, &included, &confirmed);
    if (rc != 0) {
        w->need_start = 1; /* reload the cursor before the next range */
        watch_matches_free(m, n);
        return rc;
    }
    watch_report_foreign(w, m, n);
    for (size_t i = 0; i < n; i++)
        ours += m[i].ours;
    if (n > 0 || confirmed > 0)
        log_info("blocks processed", LF_U("first_block", bs[0].number),
                 LF_U("last_block", bs[nb - 1].number), LF_U("lane_txs", n), LF_U("ours", ours),
                 LF_U("included", included), LF_U("confirmed", confirmed));
    else
        log_debug("blocks processed", LF_U("first_block", bs[0].number),
                  LF_U("last_block", bs[nb - 1].number));
    watch_matches_free(m, n);
    return 0;
}
