/*
 * report.c - what the broadcaster tells others: status events on
 * txlane.status, DLQ entries, its metrics, and the notes (facts learnt from
 * the node) waiting to be written to PostgreSQL. Main thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcast.h"
#include "txlane/hex.h"
#include "txlane/log.h"
#include "txlane/msg.h"
#include "txlane/xmalloc.h"

void bc_metrics_init(bc_metrics_t *m) {
    m->sent = metric_counter("txlane_broadcaster_sent_total", NULL,
                             "eth_sendRawTransaction calls made");
    m->retries = metric_counter("txlane_broadcaster_retries_total", NULL,
                                "sends scheduled again after an answer that was not an acceptance");
    m->recorded = metric_counter("txlane_broadcaster_recorded_total", NULL,
                                 "signed attempts recorded in PostgreSQL (created -> pending, "
                                 "or a replacement)");
    m->submitted = metric_counter("txlane_broadcaster_submitted_total", NULL,
                                  "transactions moved to submitted");
    m->dlq = metric_counter("txlane_broadcaster_dlq_total", NULL,
                            "signed messages rejected to the DLQ");
    m->alerts = metric_counter("txlane_broadcaster_alerts_total", NULL,
                               "alert status events (invalid, underpriced, low funds, nonce "
                               "used elsewhere, unknown answers)");
    m->mined_checks = metric_counter("txlane_broadcaster_mined_checks_total", NULL,
                                     "nonces passed by the chain before the node accepted our "
                                     "attempt, checked against our attempts' receipts");
    for (int o = 0; o < NODE_ANSWER_COUNT; o++) {
        char labels[48];
        snprintf(labels, sizeof(labels), "outcome=\"%s\"", node_outcome_name((node_outcome_t)o));
        m->answers[o] = metric_counter("txlane_broadcaster_answers_total", labels,
                                       "node answers to eth_sendRawTransaction by outcome");
    }
    m->rpc_send_seconds = metric_histogram(
        "txlane_broadcaster_rpc_batch_seconds", "call=\"send\"",
        "JSON-RPC batch round trips (all batches sent concurrently)", metrics_latency_bounds,
        metrics_latency_nbounds);
    m->rpc_poll_seconds = metric_histogram(
        "txlane_broadcaster_rpc_batch_seconds", "call=\"nonces\"",
        "JSON-RPC batch round trips (all batches sent concurrently)", metrics_latency_bounds,
        metrics_latency_nbounds);
    m->queue_depth = metric_gauge("txlane_broadcaster_queue_depth", NULL,
                                  "transactions queued in owned lanes (not yet mined)");
    m->lanes_owned = metric_gauge("txlane_broadcaster_lanes_owned", NULL,
                                  "lanes whose partition this instance holds");
    m->lanes_held = metric_gauge("txlane_broadcaster_lanes_held", NULL,
                                 "lanes held for insufficient funds");
}

void bc_notes_add(bc_notes_t *notes, int64_t tx_id, uint32_t attempt, int32_t lane,
                  const char *text) {
    if (notes->n == notes->cap) {
        notes->cap = notes->cap ? notes->cap * 2 : 64;
        notes->v = xrealloc(notes->v, notes->cap * sizeof(*notes->v));
    }
    bc_note_t *note = &notes->v[notes->n++];
    note->tx_id = tx_id;
    note->attempt = attempt;
    note->lane = lane;
    note->seq = notes->n;
    note->text = xstrdup(text != NULL ? text : "");
}

static int bc_note_cmp(const void *pa, const void *pb) {
    const bc_note_t *a = pa, *b = pb;
    if (a->tx_id != b->tx_id)
        return a->tx_id < b->tx_id ? -1 : 1;
    if (a->lane != b->lane)
        return a->lane < b->lane ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void bc_notes_dedupe(bc_notes_t *notes) {
    qsort(notes->v, notes->n, sizeof(*notes->v), bc_note_cmp);
    size_t out = 0;
    for (size_t i = 0; i < notes->n; i++) {
        if (i + 1 < notes->n && notes->v[i + 1].tx_id == notes->v[i].tx_id &&
            notes->v[i + 1].lane == notes->v[i].lane) {
            free(notes->v[i].text);
            continue;
        }
        notes->v[out++] = notes->v[i];
    }
    notes->n = out;
}

void bc_notes_clear(bc_notes_t *notes) {
    for (size_t i = 0; i < notes->n; i++)
        free(notes->v[i].text);
    notes->n = 0;
}

void bc_notes_free(bc_notes_t *notes) {
    bc_notes_clear(notes);
    free(notes->v);
    memset(notes, 0, sizeof(*notes));
}

void bc_hash_hex(const uint8_t hash[32], char out[67]) {
    out[0] = '0';
    out[1] = 'x';
    hex_encode(hash, 32, out + 2);
}

void bc_status(bc_t *bc, const char *request_id, int64_t tx_id, const char *state, int64_t lane,
               int64_t nonce, int64_t attempt, const char *tx_hash, const char *reason,
               const char *metadata) {
    msg_status_t st = {.request_id = request_id,
                       .tx_id = tx_id,
                       .state = state,
                       .lane = lane,
                       .nonce = nonce,
                       .attempt = attempt,
                       .tx_hash = tx_hash,
                       .block_number = -1,
                       .receipt_status = -1,
                       .reason = reason,
                       .metadata = metadata,
                       .program = BC_PROGRAM};
    jbuf_reset(&bc->j);
    msg_status_encode(&st, msg_now_ms(), &bc->j);
    if (producer_send(bc->producer, bc->cfg->common.topic_status, request_id,
                      request_id != NULL ? strlen(request_id) : 0, bc->j.buf, bc->j.len,
                      RD_KAFKA_PARTITION_UA) != 0)
        log_error("could not queue a status event", LF_I("tx_id", tx_id), LF_S("state", state));
}

void bc_dlq(bc_t *bc, const rd_kafka_message_t *m, const char *reason, const char *detail,
            const char *request_id, int64_t tx_id) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    log_warn("signed message rejected", LF_S("reason", reason), LF_S("detail", detail),
             LF_I("tx_id", tx_id), LF_S("topic", topic), LF_I("partition", m->partition),
             LF_I("offset", m->offset));
    jbuf_reset(&bc->j);
    msg_dlq_encode(reason, detail, m->payload, m->len, topic, m->partition, m->offset, BC_PROGRAM,
                   msg_now_ms(), &bc->j);
    if (producer_send(bc->producer, bc->cfg->common.topic_dlq, m->key, m->key_len, bc->j.buf,
                      bc->j.len, RD_KAFKA_PARTITION_UA) != 0)
        log_error("could not queue a DLQ entry", LF_S("reason", reason));
    metric_inc(bc->m.dlq);
    if (tx_id >= 0) {
        char why[160];
        snprintf(why, sizeof(why), "signed message rejected: %s", reason);
        metric_inc(bc->m.alerts);
        bc_status(bc, request_id, tx_id, "alert", -1, -1, -1, NULL, why, NULL);
    }
}
