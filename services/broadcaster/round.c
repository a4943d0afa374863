/*
 * round.c - the broadcaster's send rounds: due transactions go out as
 * concurrent eth_sendRawTransaction batches on a connection set of their own
 * (bc->send_rpc), without waiting for the node. While a round is in flight
 * the loop goes on: the next txlane.signed batch is recorded in PostgreSQL,
 * the previous round's answers are written, mined nonces are read (on the
 * worker's other client). Answers are applied when the round ends.
 *
 *  - start: per lane, the queued entries with nonce < mined + max_inflight
 *    that are due, in nonce order, up to rpc_concurrency x rpc_batch_max;
 *    each is marked SENDING (it is neither sent again nor dropped meanwhile);
 *    a lane held for insufficient funds only probes its lowest nonce every
 *    funds_retry_ms.
 *  - end: every answer is classified by node_answer.h and acted on. The round
 *    keeps no pointer into the queues: an answer finds its entry again by
 *    (lane, nonce, tx_id, attempt). An entry gone meanwhile (revoked lane,
 *    replaced attempt) is not touched; an acceptance is still written.
 *
 * Retries back off per entry from retry_min_ms to retry_max_ms, forever; a
 * transport failure pauses all node traffic with the same capped backoff.
 * A round in flight is ended (waiting for it) before lanes are revoked and at
 * exit. Main thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bcast.h"
#include "txlane/log.h"
#include "txlane/rpc.h"
#include "txlane/service.h"
#include "txlane/xmalloc.h"

long long bc_backoff(const bc_t *bc, unsigned failures) {
    long long d = bc->cfg->retry_min_ms;
    for (unsigned i = 1; i < failures && d < bc->cfg->retry_max_ms; i++)
        d *= 2;
    return d < bc->cfg->retry_max_ms ? d : bc->cfg->retry_max_ms;
}

void bc_node_failed(bc_t *bc, const rpc_batch_t *b, long long now) {
    bc->node_failures++;
    bc->node_retry_ms = now + bc_backoff(bc, bc->node_failures);
    if (bc->node_failures == 1 || bc->node_failures % 20 == 0)
        log_warn("could not reach node, backing off", LF_S("error", b->errstr),
                 LF_U("failures", bc->node_failures),
                 LF_I("backoff_ms", bc->node_retry_ms - now));
}

void bc_node_ok(bc_t *bc) {
    if (bc->node_failures > 0)
        log_info("node reachable again", LF_U("after_failures", bc->node_failures));
    bc->node_failures = 0;
    bc->node_retry_ms = 0;
}

/* ---- answers ------------------------------------------------------------ */

static void bc_retry(bc_t *bc, bc_entry_t *e, long long now) {
    e->failures++;
    e->next_ms = now + bc_backoff(bc, e->failures);
    metric_inc(bc->m.retries);
}

/* Writes the answer to the attempt (and an alert) once per outcome. */
static void bc_report(bc_t *bc, bc_lane_t *lane, bc_entry_t *e, node_answer_t a,
                      const char *result) {
    if (e->reported == (int)a.outcome)
        return;
    e->reported = (int)a.outcome;
    char hash[67];
    bc_hash_hex(e->hash, hash);
    log_warn("node did not accept transaction", LF_U("lane", lane->index),
             LF_U("nonce", e->nonce), LF_I("tx_id", e->tx_id), LF_U("attempt", e->attempt),
             LF_S("tx_hash", hash), LF_S("outcome", node_outcome_name(a.outcome)),
             LF_S("action", node_action_name(node_outcome_action(a.outcome))),
             LF_S("answer", result));
    bc_notes_add(&bc->to_result, e->tx_id, e->attempt, (int32_t)lane->index, result);
}

/* "<outcome>/<reason>" and, for a node error, ": <message>" (tx_attempts.result). */
static void bc_answer_text(const rpc_call_t *call, node_answer_t a, char *out, size_t size) {
    if (call->error_message != NULL)
        snprintf(out, size, "%s/%s: %s", node_outcome_name(a.outcome), a.reason,
                 call->error_message);
    else
        snprintf(out, size, "%s/%s", node_outcome_name(a.outcome), a.reason);
}

static void bc_apply_answer(bc_t *bc, bc_lane_t *lane, bc_entry_t *e, const rpc_batch_t *b,
                            size_t i, long long now) {
    node_answer_t a = node_answer_of_call(b, i);
    const rpc_call_t *call = &b->calls[i];
    char result[400];
    bc_answer_text(call, a, result, sizeof(result));
    e->state = BC_ENTRY_QUEUED;
    switch (node_outcome_action(a.outcome)) {
    case NODE_ACTION_SUBMITTED:
        if (a.outcome == NODE_ANSWER_ACCEPTED) {
            char hash[67];
            bc_hash_hex(e->hash, hash);
            if (strcasecmp(rpc_result_str(call->result), hash) != 0)
                log_warn("node answered another hash than the transaction's",
                         LF_U("lane", lane->index), LF_U("nonce", e->nonce),
                         LF_I("tx_id", e->tx_id), LF_S("tx_hash", hash),
                         LF_S("answer", rpc_result_str(call->result)));
        }
        e->state = BC_ENTRY_ACCEPTED;
        e->failures = 0;
        bc_notes_add(&bc->to_submit, e->tx_id, e->attempt, (int32_t)lane->index, result);
        if (lane->held) {
            lane->held = 0;
            log_info("lane can pay again, sending resumes", LF_U("lane", lane->index));
        }
        break;
    case NODE_ACTION_CHECK_MINED:
        /* Resolved when the mined nonce passes it (sender.c): poll now. */
        bc->next_poll_ms = now;
        bc_retry(bc, e, now);
        break;
    case NODE_ACTION_BUMP:
        bc_retry(bc, e, now);
        bc_report(bc, lane, e, a, result);
        break;
    case NODE_ACTION_HOLD_LANE:
        if (!lane->held) {
            lane->held = 1;
            lane->probe_ms = now + bc->cfg->funds_retry_ms;
            bc_notes_add(&bc->to_low, -1, 0, (int32_t)lane->index, result);
            log_warn("lane cannot pay for its transactions, holding it",
                     LF_U("lane", lane->index), LF_S("address", lane->address_str),
                     LF_U("nonce", e->nonce), LF_S("answer", result));
        }
        e->next_ms = 0;
        metric_inc(bc->m.retries);
        bc_report(bc, lane, e, a, result);
        break;
    case NODE_ACTION_RETRY:
        if (a.outcome == NODE_ANSWER_TRANSPORT) {
            e->next_ms = bc->node_retry_ms;
            metric_inc(bc->m.retries);
        } else {
            bc_retry(bc, e, now);
        }
        if (a.outcome == NODE_ANSWER_UNKNOWN)
            bc_report(bc, lane, e, a, result);
        break;
    case NODE_ACTION_CANCEL:
        e->state = BC_ENTRY_INVALID;
        bc_report(bc, lane, e, a, result);
        break;
    }
}

/* ---- the round ------------------------------------------------------------ */

/* The entry a sent call was for, if it is still in its queue, unchanged. */
static bc_entry_t *bc_round_entry(bc_t *bc, const bc_sent_t *s, bc_lane_t **lane_out) {
    bc_lane_t *lane = s->lane < bc->nlanes ? bc->lanes[s->lane] : NULL;
    *lane_out = lane;
    if (lane == NULL || !lane->owned)
        return NULL;
    size_t i = bc_lane_find(lane, s->nonce);
    if (i == lane->n)
        return NULL;
    bc_entry_t *e = lane->q[i];
    if (e->tx_id != s->tx_id || e->attempt != s->attempt || e->state != BC_ENTRY_SENDING)
        return NULL;
    return e;
}

/* Applies the answers of the round that ended with rc, and frees it. */
static void bc_round_end(bc_t *bc, int rc) {
    bc_round_t *r = &bc->round;
    long long now = service_now_ms();
    metric_observe(bc->m.rpc_send_seconds, (double)(now - r->started_ms) / 1000.0);
    if (rc != 0) {
        for (size_t i = 0; i < r->nb; i++) {
            if (r->batches[i]->rc != 0) {
                bc_node_failed(bc, r->batches[i], now);
                break;
            }
        }
    } else {
        bc_node_ok(bc);
    }
    for (size_t i = 0; i < r->n; i++) {
        const bc_sent_t *s = &r->sent[i];
        const rpc_batch_t *b = r->batches[i / r->per];
        bc_lane_t *lane;
        bc_entry_t *e = bc_round_entry(bc, s, &lane);
        if (e != NULL) {
            metric_inc(bc->m.answers[node_answer_of_call(b, i % r->per).outcome]);
            bc_apply_answer(bc, lane, e, b, i % r->per, now);
            continue;
        }
        /* Its entry is gone (lane revoked, attempt replaced, nonce passed):
         * an acceptance is still a fact worth recording. */
        node_answer_t a = node_answer_of_call(b, i % r->per);
        metric_inc(bc->m.answers[a.outcome]);
        if (node_outcome_action(a.outcome) == NODE_ACTION_SUBMITTED) {
            char result[400];
            bc_answer_text(&b->calls[i % r->per], a, result, sizeof(result));
            bc_notes_add(&bc->to_submit, s->tx_id, s->attempt, (int32_t)s->lane, result);
        }
    }
    for (size_t i = 0; i < r->nb; i++) {
        rpc_batch_free(r->batches[i]);
        free(r->batches[i]);
    }
    free(r->batches);
    free(r->sent);
    memset(r, 0, sizeof(*r));
}

/* Adds e to the round being built (its call goes in batch n / per). */
static void bc_round_add(bc_t *bc, bc_lane_t *lane, bc_entry_t *e) {
    bc_round_t *r = &bc->round;
    rpc_batch_add(r->batches[r->n / r->per], "eth_sendRawTransaction", e->params);
    r->sent[r->n++] = (bc_sent_t){.lane = lane->index, .nonce = e->nonce, .tx_id = e->tx_id,
                                  .attempt = e->attempt};
    e->state = BC_ENTRY_SENDING;
}

/* The number of due entries, at most max (and sets bc->blocked when a lane
 * has queued entries beyond its window); with add, puts them in the round. */
static size_t bc_round_collect(bc_t *bc, long long now, size_t max, int add) {
    size_t n = 0;
    bc->blocked = 0;
    for (size_t i = 0; i < bc->nlanes; i++) {
        bc_lane_t *lane = bc->lanes[i];
        if (lane == NULL || lane->n == 0 || !lane->mined_known)
            continue;
        uint64_t limit = lane->mined + (uint64_t)bc->cfg->max_inflight;
        size_t k = 0;
        if (lane->held) {
            /* held for insufficient funds: only probes its lowest queued nonce */
            if (now < lane->probe_ms)
                continue;
            for (; k < lane->n && lane->q[k]->nonce < limit && n < max; k++) {
                bc_entry_t *e = lane->q[k];
                if (e->state != BC_ENTRY_QUEUED || e->next_ms > now || e->nonce < lane->mined)
                    continue;
                if (add) {
                    bc_round_add(bc, lane, e);
                    lane->probe_ms = now + bc->cfg->funds_retry_ms;
                }
                n++;
                break;
            }
            continue;
        }
        for (; k < lane->n && lane->q[k]->nonce < limit && n < max; k++) {
            bc_entry_t *e = lane->q[k];
            if (e->state != BC_ENTRY_QUEUED || e->next_ms > now || e->nonce < lane->mined)
                continue; /* below mined: waits for the receipt check */
            if (add)
                bc_round_add(bc, lane, e);
            n++;
        }
        for (; k < lane->n && !bc->blocked; k++)
            bc->blocked = lane->q[k]->state == BC_ENTRY_QUEUED && lane->q[k]->nonce >= limit;
    }
    return n;
}

void bc_round_start(bc_t *bc, long long now) {
    if (bc->round.n > 0 || rpc_batches_busy(bc->send_rpc) || now < bc->node_retry_ms)
        return;
    size_t conc = (size_t)bc->cfg->rpc_concurrency, max_batch = (size_t)bc->cfg->rpc_batch_max;
    size_t count = bc_round_collect(bc, now, conc * max_batch, 0);
    if (count == 0)
        return;
    bc_round_t *r = &bc->round;
    /* spread the round over every connection, at most rpc_batch_max calls each */
    r->nb = count < conc ? count : conc;
    r->per = (count + r->nb - 1) / r->nb;
    r->nb = (count + r->per - 1) / r->per;
    r->batches = xcalloc(r->nb, sizeof(*r->batches));
    for (size_t i = 0; i < r->nb; i++) {
        r->batches[i] = xmalloc(sizeof(rpc_batch_t));
        rpc_batch_init(r->batches[i]);
    }
    r->sent = xcalloc(count, sizeof(*r->sent));
    (void)bc_round_collect(bc, now, count, 1);
    r->started_ms = service_now_ms();
    metric_add(bc->m.sent, (double)r->n);
    if (rpc_batches_start(bc->send_rpc, r->batches, r->nb) != 0)
        bc_round_end(bc, TXL_EIO);
}

int bc_round_poll(bc_t *bc, int wait_ms) {
    if (bc->round.n == 0)
        return 0;
    int rc = 0;
    if (!rpc_batches_poll(bc->send_rpc, wait_ms, &rc))
        return 1;
    bc_round_end(bc, rc);
    return 0;
}

void bc_round_drain(bc_t *bc) {
    if (bc->round.n == 0)
        return;
    bc_round_end(bc, rpc_batches_finish(bc->send_rpc));
}
