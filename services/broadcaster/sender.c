/*
 * sender.c - the broadcaster's work between batches (the stream's on_idle):
 *
 *  1. the send round (round.c): the one in flight is driven without waiting
 *     and its answers applied when it ends; then the next starts;
 *  2. every poll_ms, the mined nonce ("latest" transaction count) of every
 *     lane with queued transactions, in one JSON-RPC batch with the head's
 *     number; sooner when a lane's window is full and the head, read every
 *     block_poll_ms meanwhile, has moved (the stream's wait for messages is
 *     cut short to match: a lane waits for a block, not for a timer); entries
 *     the chain has passed leave the queue (one the node never accepted is
 *     first checked against the receipts of all its attempts: mined by us ->
 *     submitted, else an alert, the nonce was used by something else);
 *  3. what the node told us is written to PostgreSQL in batches (notes kept
 *     until written), while the next round is in flight.
 *
 * No nonce is ever skipped: an entry leaves its queue only when the chain's
 * mined nonce passes it, or when its lane is revoked. Main thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcast.h"
#include "txlane/log.h"
#include "txlane/rpc.h"
#include "txlane/service.h"
#include "txlane/stream.h"
#include "txlane/xmalloc.h"

/* Polls with no receipt of ours before a passed nonce counts as used by
 * something else (a node behind a load balancer may lag a poll or two). */
#define BC_MINED_MISSES 3
/* Pause of PostgreSQL work after a failure. */
#define BC_PG_RETRY_MS 1000
/* Interval of the queue gauges. */
#define BC_GAUGES_MS 250

typedef struct {
    bc_lane_t *lane;
    bc_entry_t *e;
} bc_ref_t;

typedef struct {
    bc_ref_t *v;
    size_t n, cap;
} bc_refs_t;

static void bc_refs_add(bc_refs_t *r, bc_lane_t *lane, bc_entry_t *e) {
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
    }
    r->v[r->n].lane = lane;
    r->v[r->n].e = e;
    r->n++;
}

/* Sends n batches concurrently and records their latency. Each batch's rc
 * and each call's answer say what happened (read by the callers). */
static void bc_rpc_send(bc_t *bc, rpc_batch_t **batches, size_t n, metric_t *latency) {
    long long t0 = service_now_ms();
    int rc = rpc_batches_send(bc->w->rpc, batches, n);
    metric_observe(latency, (double)(service_now_ms() - t0) / 1000.0);
    if (rc != 0)
        log_debug("json-rpc batch failed", LF_ERR(rc), LF_S("error", batches[0]->errstr));
}

/* Splits calls into batches of at most rpc_batch_max (all sent at once by
 * the caller); returns the number of batches, *out allocated. */
static size_t bc_batches_alloc(const bc_t *bc, size_t calls, rpc_batch_t ***out) {
    size_t max = (size_t)bc->cfg->rpc_batch_max;
    size_t nb = (calls + max - 1) / max;
    rpc_batch_t **v = xcalloc(nb ? nb : 1, sizeof(*v));
    for (size_t i = 0; i < nb; i++) {
        v[i] = xmalloc(sizeof(rpc_batch_t));
        rpc_batch_init(v[i]);
    }
    *out = v;
    return nb;
}

static void bc_batches_free(rpc_batch_t **v, size_t nb) {
    for (size_t i = 0; i < nb; i++) {
        rpc_batch_free(v[i]);
        free(v[i]);
    }
    free(v);
}

/* ---- 1. mined nonces ---------------------------------------------------- */

/* Checks entries the chain passed before the node accepted them against the
 * receipts of all their attempts; drops the resolved ones. */
static void bc_check_mined(bc_t *bc, bc_refs_t *passed) {
    size_t calls = 0;
    for (size_t i = 0; i < passed->n; i++)
        calls += passed->v[i].e->nhashes;
    rpc_batch_t **batches;
    size_t nb = bc_batches_alloc(bc, calls, &batches);
    size_t k = 0;
    for (size_t i = 0; i < passed->n; i++) {
        const bc_entry_t *e = passed->v[i].e;
        for (size_t h = 0; h < e->nhashes; h++, k++) {
            char params[80];
            char hash[67];
            bc_hash_hex(e->hashes[h].hash, hash);
            snprintf(params, sizeof(params), "[\"%s\"]", hash);
            rpc_batch_add(batches[k / (size_t)bc->cfg->rpc_batch_max],
                          "eth_getTransactionReceipt", params);
        }
    }
    bc_rpc_send(bc, batches, nb, bc->m.rpc_poll_seconds);
    k = 0;
    for (size_t i = 0; i < passed->n; i++) {
        bc_lane_t *lane = passed->v[i].lane;
        bc_entry_t *e = passed->v[i].e;
        int answered = 1;
        long mined_attempt = -1;
        for (size_t h = 0; h < e->nhashes; h++, k++) {
            const rpc_batch_t *b = batches[k / (size_t)bc->cfg->rpc_batch_max];
            const rpc_call_t *call = &b->calls[k % (size_t)bc->cfg->rpc_batch_max];
            if (call->result == NULL)
                answered = 0;
            else if (YAJL_IS_OBJECT(call->result))
                mined_attempt = (long)e->hashes[h].attempt;
        }
        if (!answered)
            continue; /* ask again at the next poll */
        metric_inc(bc->m.mined_checks);
        size_t at = 0;
        while (at < lane->n && lane->q[at] != e)
            at++;
        if (mined_attempt >= 0) {
            log_info("nonce mined with our attempt before the node confirmed it",
                     LF_U("lane", lane->index), LF_U("nonce", e->nonce), LF_I("tx_id", e->tx_id),
                     LF_I("attempt", mined_attempt));
            bc_notes_add(&bc->to_submit, e->tx_id, (uint32_t)mined_attempt, (int32_t)lane->index,
                         "mined");
        } else if (++e->mined_misses < BC_MINED_MISSES) {
            continue;
        } else {
            log_error("nonce used by a transaction txlane did not send", LF_U("lane", lane->index),
                      LF_S("address", lane->address_str), LF_U("nonce", e->nonce),
                      LF_I("tx_id", e->tx_id), LF_U("mined", lane->mined));
            bc_notes_add(&bc->to_result, e->tx_id, e->attempt, (int32_t)lane->index,
                         "nonce_too_low/nonce_used_elsewhere: no attempt of this transaction "
                         "is mined and the chain has passed its nonce");
        }
        if (at < lane->n)
            bc_entry_free(bc_lane_take(lane, at));
    }
    bc_batches_free(batches, nb);
}

/* Drops the entries below the lane's mined nonce: those a node accepted at
 * once (the watcher confirms them), the others after the receipt check
 * (added to passed). */
static void bc_lane_advance(bc_lane_t *lane, bc_refs_t *passed) {
    size_t i = 0;
    while (i < lane->n && lane->q[i]->nonce < lane->mined) {
        bc_entry_t *e = lane->q[i];
        if (e->state == BC_ENTRY_SENDING) {
            i++; /* its answer comes first (round.c) */
            continue;
        }
        if (e->state == BC_ENTRY_ACCEPTED || e->submitted) {
            bc_entry_free(bc_lane_take(lane, i));
            continue;
        }
        bc_refs_add(passed, lane, e);
        i++;
    }
}

static void bc_poll_nonces(bc_t *bc, long long now) {
    bc_lane_t **polled = xcalloc(bc->nlanes + 1, sizeof(*polled));
    size_t n = 0;
    for (size_t i = 0; i < bc->nlanes; i++) {
        if (bc->lanes[i] != NULL && bc->lanes[i]->n > 0)
            polled[n++] = bc->lanes[i];
    }
    if (n == 0) {
        free(polled);
        return;
    }
    /* The head goes last: the nonces read are at least as new as it. */
    rpc_batch_t **batches;
    size_t nb = bc_batches_alloc(bc, n + 1, &batches);
    size_t per = (size_t)bc->cfg->rpc_batch_max;
    for (size_t i = 0; i < n; i++) {
        char params[80];
        snprintf(params, sizeof(params), "[\"%s\",\"latest\"]", polled[i]->address_str);
        rpc_batch_add(batches[i / per], "eth_getTransactionCount", params);
    }
    rpc_batch_add(batches[n / per], "eth_blockNumber", "[]");
    bc_rpc_send(bc, batches, nb, bc->m.rpc_poll_seconds);
    const rpc_call_t *head_call = &batches[n / per]->calls[n % per];
    unsigned long long head;
    bc->head_known = head_call->result != NULL && rpc_result_u64(head_call->result, &head) == 0;
    if (bc->head_known)
        bc->head = head;
    bc_refs_t passed = {0};
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        const rpc_batch_t *b = batches[i / per];
        const rpc_call_t *call = &b->calls[i % per];
        unsigned long long mined;
        if (call->error_message != NULL)
            log_warn("could not read a lane's mined nonce", LF_U("lane", polled[i]->index),
                     LF_S("error", call->error_message));
        if (call->result == NULL || rpc_result_u64(call->result, &mined) != 0) {
            if (b->rc != 0 && !failed)
                bc_node_failed(bc, b, now);
            failed |= b->rc != 0;
            continue;
        }
        bc_lane_t *lane = polled[i];
        if (lane->mined_known && mined < lane->mined)
            log_warn("lane's mined nonce went down (reorg?)", LF_U("lane", lane->index),
                     LF_U("mined", mined), LF_U("was", lane->mined));
        lane->mined = mined;
        lane->mined_known = 1;
        bc_lane_advance(lane, &passed);
    }
    if (!failed)
        bc_node_ok(bc);
    bc_batches_free(batches, nb);
    if (passed.n > 0)
        bc_check_mined(bc, &passed);
    free(passed.v);
    free(polled);
}

/* While a lane's window is full it waits for the chain: the head is read
 * every block_poll_ms, and 1 is returned when it moved since the last
 * mined-nonce read (or is unknown), so the nonces are read at once. */
static int bc_head_moved(bc_t *bc, long long now) {
    if (!bc->blocked || now < bc->next_head_ms || now < bc->node_retry_ms)
        return 0;
    bc->next_head_ms = now + bc->cfg->block_poll_ms;
    if (!bc->head_known)
        return 1;
    rpc_batch_t b;
    rpc_batch_t *bp = &b;
    rpc_batch_init(&b);
    rpc_batch_add(&b, "eth_blockNumber", "[]");
    bc_rpc_send(bc, &bp, 1, bc->m.rpc_poll_seconds);
    unsigned long long head;
    int moved = 0;
    if (b.calls[0].result != NULL && rpc_result_u64(b.calls[0].result, &head) == 0)
        moved = head != bc->head;
    else if (b.rc != 0)
        bc_node_failed(bc, &b, now);
    rpc_batch_free(&b);
    return moved;
}

/* ---- PostgreSQL ----------------------------------------------------------- */

static int bc_flush_submitted(bc_t *bc) {
    char errstr[512];
    bc_notes_dedupe(&bc->to_submit);
    PGresult *res = bc_store_submitted(bc->w->db, &bc->to_submit, errstr, sizeof(errstr));
    if (res == NULL) {
        log_warn("could not mark transactions submitted, will retry", LF_S("error", errstr),
                 LF_U("txs", bc->to_submit.n));
        return TXL_EDB;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        const char *request_id = PQgetisnull(res, r, 1) ? NULL : PQgetvalue(res, r, 1);
        log_debug("transaction submitted", LF_S("lane", PQgetvalue(res, r, 2)),
                  LF_S("nonce", PQgetvalue(res, r, 3)), LF_S("tx_id", PQgetvalue(res, r, 0)),
                  LF_S("tx_hash", PQgetvalue(res, r, 5)));
        bc_status(bc, request_id, strtoll(PQgetvalue(res, r, 0), NULL, 10), "submitted",
                  strtoll(PQgetvalue(res, r, 2), NULL, 10), strtoll(PQgetvalue(res, r, 3), NULL, 10),
                  strtoll(PQgetvalue(res, r, 4), NULL, 10), PQgetvalue(res, r, 5), NULL,
                  PQgetisnull(res, r, 6) ? NULL : PQgetvalue(res, r, 6));
    }
    metric_add(bc->m.submitted, PQntuples(res));
    PQclear(res);
    bc_notes_clear(&bc->to_submit);
    return 0;
}

static int bc_flush_results(bc_t *bc) {
    char errstr[512];
    bc_notes_dedupe(&bc->to_result);
    PGresult *res = bc_store_results(bc->w->db, &bc->to_result, errstr, sizeof(errstr));
    if (res == NULL) {
        log_warn("could not record node answers, will retry", LF_S("error", errstr),
                 LF_U("txs", bc->to_result.n));
        return TXL_EDB;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        const char *request_id = PQgetisnull(res, r, 1) ? NULL : PQgetvalue(res, r, 1);
        bc_status(bc, request_id, strtoll(PQgetvalue(res, r, 0), NULL, 10), "alert",
                  strtoll(PQgetvalue(res, r, 2), NULL, 10), strtoll(PQgetvalue(res, r, 3), NULL, 10),
                  strtoll(PQgetvalue(res, r, 4), NULL, 10), PQgetvalue(res, r, 5),
                  PQgetvalue(res, r, 6), PQgetisnull(res, r, 7) ? NULL : PQgetvalue(res, r, 7));
    }
    metric_add(bc->m.alerts, PQntuples(res));
    PQclear(res);
    bc_notes_clear(&bc->to_result);
    return 0;
}

static int bc_flush_low_funds(bc_t *bc) {
    char errstr[512];
    bc_notes_dedupe(&bc->to_low);
    PGresult *res = bc_store_low_funds(bc->w->db, &bc->to_low, errstr, sizeof(errstr));
    if (res == NULL) {
        log_warn("could not mark lanes low_funds, will retry", LF_S("error", errstr));
        return TXL_EDB;
    }
    for (int r = 0; r < PQntuples(res); r++)
        log_warn("lane marked low_funds", LF_S("lane", PQgetvalue(res, r, 0)));
    PQclear(res);
    bc_notes_clear(&bc->to_low);
    return 0;
}

static int bc_flush_notes(bc_t *bc) {
    if (bc->to_low.n > 0 && bc_flush_low_funds(bc) != 0)
        return TXL_EDB;
    if (bc->to_submit.n > 0 && bc_flush_submitted(bc) != 0)
        return TXL_EDB;
    if (bc->to_result.n > 0 && bc_flush_results(bc) != 0)
        return TXL_EDB;
    return 0;
}

int bc_flush(bc_t *bc) {
    return bc_flush_notes(bc);
}

/* Held lanes whose probe is due: resume those PostgreSQL says are no
 * longer low_funds (the watcher tops lanes up and marks them active). */
static void bc_check_held(bc_t *bc, long long now) {
    int32_t *ids = xcalloc(bc->nlanes + 1, sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; i < bc->nlanes; i++) {
        if (bc->lanes[i] != NULL && bc->lanes[i]->held && now >= bc->lanes[i]->probe_ms)
            ids[n++] = (int32_t)i;
    }
    char errstr[512];
    PGresult *res = n > 0 ? bc_store_lane_status(bc->w->db, ids, n, errstr, sizeof(errstr)) : NULL;
    for (int r = 0; res != NULL && r < PQntuples(res); r++) {
        bc_lane_t *lane = bc->lanes[strtol(PQgetvalue(res, r, 0), NULL, 10)];
        if (strcmp(PQgetvalue(res, r, 1), "low_funds") != 0) {
            lane->held = 0;
            log_info("lane no longer low_funds, sending resumes", LF_U("lane", lane->index),
                     LF_S("status", PQgetvalue(res, r, 1)));
        }
    }
    PQclear(res);
    free(ids);
}

/* The queue gauges (every BC_GAUGES_MS: they walk every queue). */
static void bc_gauges(bc_t *bc, long long now) {
    if (now < bc->next_gauges_ms)
        return;
    bc->next_gauges_ms = now + BC_GAUGES_MS;
    size_t depth = 0, held = 0;
    for (size_t i = 0; i < bc->nlanes; i++) {
        bc_lane_t *lane = bc->lanes[i];
        if (lane == NULL)
            continue;
        size_t inflight = 0;
        for (size_t k = 0; k < lane->n; k++)
            inflight += lane->q[k]->state == BC_ENTRY_ACCEPTED ||
                        lane->q[k]->state == BC_ENTRY_SENDING;
        metric_set(lane->m_inflight, (double)inflight);
        depth += lane->n;
        held += lane->held != 0;
    }
    metric_set(bc->m.queue_depth, (double)depth);
    metric_set(bc->m.lanes_held, (double)held);
}

int bc_on_idle(void *ctx) {
    bc_t *bc = ctx;
    worker_tick(bc->w, 0);
    rd_kafka_poll(producer_handle(bc->producer), 0);
    (void)bc_round_poll(bc, 0); /* the answers of the round in flight, if it ended */
    long long now = service_now_ms();
    /* PostgreSQL work waits a second after a failure; sending goes on. */
    int pg = now >= bc->pg_retry_ms;
    if (pg && bc_load_owned(bc) != 0) {
        bc->pg_retry_ms = now + BC_PG_RETRY_MS;
        pg = 0;
    }
    int unknown = 0;
    for (size_t i = 0; i < bc->nlanes && !unknown; i++)
        unknown = bc->lanes[i] != NULL && bc->lanes[i]->n > 0 && !bc->lanes[i]->mined_known;
    if (((now >= bc->next_poll_ms || unknown) && now >= bc->node_retry_ms) ||
        bc_head_moved(bc, now)) {
        bc->next_poll_ms = now + bc->cfg->poll_ms;
        bc_poll_nonces(bc, now);
    }
    if (pg)
        bc_check_held(bc, now);
    bc_round_start(bc, service_now_ms());
    /* written while the round is in flight */
    if (pg && bc_flush_notes(bc) != 0)
        bc->pg_retry_ms = service_now_ms() + BC_PG_RETRY_MS;
    now = service_now_ms();
    bc_gauges(bc, now);
    if (bc->round.n > 0)
        return BC_ROUND_WAIT_MS; /* back soon for its answers */
    if (!bc->blocked)
        return STREAM_WAIT_MAX_MS;
    long long due = bc->next_head_ms > bc->node_retry_ms ? bc->next_head_ms : bc->node_retry_ms;
    return due <= now ? 0 : due - now < STREAM_WAIT_MAX_MS ? (int)(due - now) : STREAM_WAIT_MAX_MS;
}
