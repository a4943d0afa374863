/*
 * match.c - which lane transactions of a processed block range are
 * txlane's, and the receipts of our open ones.
 *
 * The lane transactions of a range are the block receipts (or, with full
 * blocks, the transactions) sent from a lane address (lanes.c). Each one is
 * decided by one of two lookups, each one statement for the whole range:
 *  - by hash (block receipts): a receipt has no nonce, value or input, but
 *    its hash is that of one of our recorded attempts (tx_attempts.tx_hash,
 *    or the txs row's own tx_hash; both indexed) for everything txlane sent
 *    and recorded. The row gives tx id, nonce and state; the transaction is
 *    ours. A row that was ever re-allocated (external.c) goes to the second
 *    lookup instead: its old attempts are at a nonce other than the row's.
 *  - by (lane, nonce): with full blocks every lane transaction; with block
 *    receipts those no hash matched, once eth_getTransactionByHash (batched;
 *    rare) gave their nonce, to, value and input. Ours when the hash is one
 *    of the row's recorded attempts, or - for a row whose attempt was never
 *    recorded, e.g. a broadcaster that crashed between sending and writing -
 *    when it carries exactly the row's payload (to, value, data); that one
 *    is logged as an unrecorded attempt. Anything else used the nonce
 *    outside txlane: logged and counted (foreign), never confirmed.
 * With full blocks the receipts of our open transactions are then fetched
 * (eth_getTransactionReceipt, batched). A block receipt (chain.h checks it),
 * a fetched transaction or a fetched receipt must come from the block that
 * carries the transaction, else the chain moved: the range is read again.
 *
 * Single-threaded, like the rest of the watcher's loop.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/db.h"
#include "txlane/hex.h"
#include "txlane/log.h"
#include "txlane/xmalloc.h"
#include "watcher.h"

/* A row in one of these states still waits for its nonce to be mined (a
 * failed payout until the cancel of its nonce is). */
static int watch_state_open(const char *state) {
    return strcmp(state, "created") == 0 || strcmp(state, "pending") == 0 ||
           strcmp(state, "submitted") == 0 || strcmp(state, "failed") == 0;
}

/* The transaction's own payload equals the row's: to, value and data. */
static int watch_payload_equal(const chain_tx_t *tx, const char *to, const char *value,
                               const char *data_hex) {
    eth_address_t want_to;
    uint256_t want_value;
    if (!tx->has_to || address_parse(to, &want_to) != 0 || !address_equal(&want_to, &tx->to))
        return 0;
    if (uint256_parse_dec(value, &want_value) != 0 || uint256_cmp(&want_value, &tx->value) != 0)
        return 0;
    if (strlen(data_hex) != 2 * tx->input_len)
        return 0;
    char *hex = xmalloc(2 * tx->input_len + 1);
    hex_encode(tx->input, tx->input_len, hex);
    int equal = strcmp(hex, data_hex) == 0;
    free(hex);
    return equal;
}

/* ---- by hash (block receipts) ------------------------------------------ */

/* Rows by attempt hash, else by the row's own hash; on the receipt's lane. */
static const char watch_sql_by_hash[] =
    "SELECT c.i, t.tx_id, t.state, t.nonce,"
    " EXISTS (SELECT 1 FROM reallocations r WHERE r.tx_id = t.tx_id)"
    " FROM unnest($1::int[], $2::text[]) WITH ORDINALITY AS c(lane_id, hash, i)"
    " CROSS JOIN LATERAL ((SELECT x.tx_id FROM tx_attempts x WHERE x.tx_hash = c.hash LIMIT 1)"
    "   UNION ALL (SELECT y.tx_id FROM txs y WHERE y.tx_hash = c.hash LIMIT 1) LIMIT 1) h"
    " JOIN txs t ON t.tx_id = h.tx_id AND t.lane_id = c.lane_id";

static int watch_match_by_hash(watcher_t *w, watch_match_t *m, size_t n) {
    db_array_t lanes, hashes;
    char hash[CHAIN_HASH_STR_LEN + 1];
    db_array_init(&lanes);
    db_array_init(&hashes);
    for (size_t i = 0; i < n; i++) {
        chain_hash_format(m[i].hash, hash);
        db_array_add_i64(&lanes, m[i].lane_id);
        db_array_add(&hashes, hash);
    }
    const char *params[] = {db_array_text(&lanes), db_array_text(&hashes)};
    PGresult *res = watch_query(w, "match by hash", watch_sql_by_hash, 2, params);
    db_array_free(&lanes);
    db_array_free(&hashes);
    if (res == NULL)
        return TXL_EDB;
    for (int r = 0; r < PQntuples(res); r++) {
        size_t i = strtoull(PQgetvalue(res, r, 0), NULL, 10) - 1;
        if (i >= n || strcmp(PQgetvalue(res, r, 4), "t") == 0)
            continue; /* re-allocated: decided by (lane, nonce) */
        watch_match_t *x = &m[i];
        x->tx_id = strtoll(PQgetvalue(res, r, 1), NULL, 10);
        x->open = watch_state_open(PQgetvalue(res, r, 2));
        x->nonce = strtoull(PQgetvalue(res, r, 3), NULL, 10);
        x->ours = 1;
        x->by_nonce = 0;
    }
    PQclear(res);
    return 0;
}

/* ---- by (lane, nonce) and payload ---------------------------------------- */

static const char watch_sql_by_nonce[] =
    "SELECT c.i, t.tx_id, t.state, COALESCE(t.token, t.to_address),"
    " CASE WHEN t.token IS NULL THEN t.value_wei::text ELSE '0' END, encode(t.data, 'hex'),"
    " a.attempt IS NOT NULL OR t.tx_hash IS NOT DISTINCT FROM c.hash"
    " FROM unnest($1::int[], $2::bigint[], $3::text[])"
    "   WITH ORDINALITY AS c(lane_id, nonce, hash, i)"
    " JOIN txs t ON t.lane_id = c.lane_id AND t.nonce = c.nonce"
    " LEFT JOIN LATERAL (SELECT x.attempt FROM tx_attempts x"
    "   WHERE x.tx_id = t.tx_id AND x.tx_hash = c.hash LIMIT 1) a ON true";

/* Decides the entries still by_nonce (their tx is set). */
static int watch_match_by_nonce(watcher_t *w, watch_match_t *m, size_t n) {
    db_array_t lanes, nonces, hashes;
    char hash[CHAIN_HASH_STR_LEN + 1];
    size_t *who = xcalloc(n > 0 ? n : 1, sizeof(size_t)), k = 0;
    db_array_init(&lanes);
    db_array_init(&nonces);
    db_array_init(&hashes);
    for (size_t i = 0; i < n; i++) {
        if (!m[i].by_nonce)
            continue;
        chain_hash_format(m[i].hash, hash);
        db_array_add_i64(&lanes, m[i].lane_id);
        db_array_add_i64(&nonces, (long long)m[i].nonce);
        db_array_add(&hashes, hash);
        who[k++] = i;
    }
    PGresult *res = NULL;
    if (k > 0) {
        const char *params[] = {db_array_text(&lanes), db_array_text(&nonces),
                                db_array_text(&hashes)};
        res = watch_query(w, "match by nonce", watch_sql_by_nonce, 3, params);
    }
    db_array_free(&lanes);
    db_array_free(&nonces);
    db_array_free(&hashes);
    if (k > 0 && res == NULL) {
        free(who);
        return TXL_EDB;
    }
    for (int r = 0; res != NULL && r < PQntuples(res); r++) {
        size_t j = strtoull(PQgetvalue(res, r, 0), NULL, 10) - 1;
        if (j >= k)
            continue;
        watch_match_t *x = &m[who[j]];
        const char *state = PQgetvalue(res, r, 2);
        int known = strcmp(PQgetvalue(res, r, 6), "t") == 0;
        x->tx_id = strtoll(PQgetvalue(res, r, 1), NULL, 10);
        x->open = watch_state_open(state);
        x->ours = known || watch_payload_equal(x->tx, PQgetvalue(res, r, 3),
                                               PQgetvalue(res, r, 4), PQgetvalue(res, r, 5));
        if (x->ours && !known && x->open) {
            chain_hash_format(x->hash, hash);
            log_warn("mined transaction carries the payout of an unrecorded attempt",
                     LF_I("tx_id", x->tx_id), LF_I("lane", x->lane_id), LF_U("nonce", x->nonce),
                     LF_S("tx_hash", hash), LF_S("state", state));
        }
    }
    PQclear(res);
    free(who);
    return 0;
}

/* ---- look-ups by hash on the node ----------------------------------------- */

/* Takes the node's answer about x (not null); 0, or an error with err set. */
typedef int (*watch_take_fn)(watch_match_t *x, yajl_val result, char *err, size_t err_size);

/*
 * Calls method (["<hash>"]) for each entry of who[0..want), in batches of
 * WATCH_RECEIPTS_PER_BATCH sent at once, and hands each answer to take. Any
 * failure (transport, an error answer, null, take) is logged under what and
 * fails the whole look-up: the range is read again.
 */
static int watch_lookup(watcher_t *w, const char *method, const char *what, watch_match_t **who,
                        size_t want, watch_take_fn take) {
    if (want == 0)
        return 0;
    size_t nb = (want + WATCH_RECEIPTS_PER_BATCH - 1) / WATCH_RECEIPTS_PER_BATCH;
    rpc_batch_set_t set;
    char params[CHAIN_HASH_STR_LEN + 8], hash[CHAIN_HASH_STR_LEN + 1], err[256] = "";
    int rc;
    rpc_batch_set_init(&set, nb);
    for (size_t k = 0; k < want; k++) {
        chain_hash_format(who[k]->hash, hash);
        snprintf(params, sizeof(params), "[\"%s\"]", hash);
        rpc_batch_add(&set.b[k / WATCH_RECEIPTS_PER_BATCH], method, params);
    }
    rc = rpc_batch_set_send(w->rpc, &set);
    if (rc != 0) {
        metric_inc(w->m_errors);
        log_warn("node look-up failed", LF_S("call", method),
                 LF_S("error", rpc_batch_set_error(&set)));
        goto cleanup;
    }
    for (size_t k = 0; k < want; k++) {
        const rpc_call_t *call =
            &set.b[k / WATCH_RECEIPTS_PER_BATCH].calls[k % WATCH_RECEIPTS_PER_BATCH];
        watch_match_t *x = who[k];
        if (call->error_message != NULL) {
            snprintf(err, sizeof(err), "%s", call->error_message);
            rc = TXL_ERPC;
        } else if (call->result == NULL || YAJL_IS_NULL(call->result)) {
            snprintf(err, sizeof(err), "unknown to the node (chain moving?)");
            rc = TXL_ERPC;
        } else {
            rc = take(x, call->result, err, sizeof(err));
        }
        if (rc != 0) {
            chain_hash_format(x->hash, hash);
            metric_inc(w->m_errors);
            log_warn("unusable answer; reading the range again", LF_S("call", method),
                     LF_S("what", what), LF_S("tx_hash", hash), LF_U("block", x->block->number),
                     LF_S("error", err));
            goto cleanup;
        }
    }
cleanup:
    rpc_batch_set_free(&set);
    return rc;
}

/* eth_getTransactionByHash of a block receipt no hash matched: its nonce,
 * to, value and input, from the receipt's block and sender. */
static int watch_take_tx(watch_match_t *x, yajl_val v, char *err, size_t err_size) {
    uint8_t block_hash[CHAIN_HASH_LEN];
    uint64_t block_number = 0;
    int rc = chain_tx_parse(v, &x->fetched, block_hash, &block_number, err, err_size);
    if (rc == 0 && (memcmp(x->fetched.hash, x->hash, CHAIN_HASH_LEN) != 0 ||
                    !address_equal(&x->fetched.from, &x->from))) {
        snprintf(err, err_size, "the node answered another transaction");
        rc = TXL_ERPC;
    } else if (rc == TXL_ENOTFOUND ||
               (rc == 0 && (memcmp(block_hash, x->block->hash, CHAIN_HASH_LEN) != 0 ||
                            block_number != x->block->number ||
                            x->fetched.index != x->receipt.index))) {
        snprintf(err, err_size, "transaction not in the block of its receipt (chain moving?)");
        rc = TXL_ERPC;
    }
    if (rc != 0)
        return rc;
    x->tx = &x->fetched;
    x->nonce = x->fetched.nonce;
    return 0;
}

/* eth_getTransactionReceipt of an open transaction of ours (full blocks). */
static int watch_take_receipt(watch_match_t *x, yajl_val v, char *err, size_t err_size) {
    int rc = chain_receipt_parse(v, &x->receipt, err, err_size);
    if (rc == 0 && (memcmp(x->receipt.tx_hash, x->hash, CHAIN_HASH_LEN) != 0 ||
                    memcmp(x->receipt.block_hash, x->block->hash, CHAIN_HASH_LEN) != 0 ||
                    x->receipt.block_number != x->block->number)) {
        snprintf(err, err_size, "receipt from another block (chain moving?)");
        rc = TXL_ERPC;
    }
    return rc;
}

/* ---- the range ----------------------------------------------------------- */

static void watch_match_init(watcher_t *w, watch_match_t *x, const chain_block_t *b) {
    x->block = b;
    x->lane_id = watch_lane_find(w, &x->from);
    x->tx_id = -1;
    x->by_nonce = 1;
}

int watch_match_range(watcher_t *w, const chain_block_t *bs, size_t nb, watch_match_t **out,
                      size_t *out_n) {
    size_t n = 0, k = 0, want = 0;
    int rc = 0;
    for (size_t i = 0; i < nb; i++)
        n += w->block_receipts ? bs[i].n_receipts : bs[i].n_txs;
    watch_match_t *m = xcalloc(n > 0 ? n : 1, sizeof(watch_match_t));
    watch_match_t **who = xcalloc(n > 0 ? n : 1, sizeof(watch_match_t *));
    *out = m;
    *out_n = n;
    for (size_t i = 0; i < nb; i++) {
        for (size_t j = 0; w->block_receipts && j < bs[i].n_receipts; j++, k++) {
            m[k].receipt = bs[i].receipts[j];
            memcpy(m[k].hash, m[k].receipt.tx_hash, CHAIN_HASH_LEN);
            m[k].from = m[k].receipt.from;
            watch_match_init(w, &m[k], &bs[i]);
        }
        for (size_t j = 0; !w->block_receipts && j < bs[i].n_txs; j++, k++) {
            m[k].tx = &bs[i].txs[j];
            memcpy(m[k].hash, m[k].tx->hash, CHAIN_HASH_LEN);
            m[k].from = m[k].tx->from;
            m[k].nonce = m[k].tx->nonce;
            watch_match_init(w, &m[k], &bs[i]);
        }
    }
    if (n == 0)
        goto cleanup;
    if (w->block_receipts) {
        rc = watch_match_by_hash(w, m, n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (m[i].by_nonce)
                who[want++] = &m[i];
        }
        if (rc == 0)
            rc = watch_lookup(w, "eth_getTransactionByHash", "lane transaction of no attempt",
                              who, want, watch_take_tx);
    }
    if (rc == 0)
        rc = watch_match_by_nonce(w, m, n);
    if (rc == 0 && !w->block_receipts) {
        want = 0;
        for (size_t i = 0; i < n; i++) {
            if (m[i].ours && m[i].open)
                who[want++] = &m[i];
        }
        rc = watch_lookup(w, "eth_getTransactionReceipt", "receipt", who, want,
                          watch_take_receipt);
    }
cleanup:
    free(who);
    return rc;
}

void watch_matches_free(watch_match_t *m, size_t n) {
    for (size_t i = 0; m != NULL && i < n; i++)
        chain_tx_clear(&m[i].fetched);
    free(m);
}

void watch_report_foreign(watcher_t *w, const watch_match_t *m, size_t n) {
    char hash[CHAIN_HASH_STR_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        if (m[i].ours)
            continue;
        chain_hash_format(m[i].hash, hash);
        metric_inc(w->m_foreign);
        log_warn("lane nonce used by a transaction txlane did not send", LF_I("lane", m[i].lane_id),
                 LF_U("nonce", m[i].nonce), LF_S("tx_hash", hash),
                 LF_U("block", m[i].block->number), LF_I("tx_id", m[i].tx_id));
    }
}
