/*
 * signer.c - one batch of txlane.allocated messages (see signer.h).
 *
 * Per message, in this order: decode strictly (bad_message); the "from"
 * address must be a lane of this wallet (unknown_lane) and the lane the
 * message names (lane_mismatch); the chain id must be TXLANE_CHAIN_ID when
 * that is set (wrong_chain); the fields must make a valid transaction
 * (invalid_tx). A good message is signed with its lane key and produced to
 * txlane.signed keyed by the lane address; a bad one goes to txlane.dlq with
 * its reason (and a "rejected" status event when it has a request id), and
 * the signer moves on. Signatures are deterministic (RFC 6979), so a batch
 * that is redelivered after a crash produces the very same signed messages.
 *
 * Logs carry tx_id, request_id, lane, nonce and the tx hash; never a key.
 */
#include "signer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txlane/hex.h"
#include "txlane/log.h"
#include "txlane/msg.h"
#include "txlane/service.h"
#include "txlane/stream.h"
#include "txlane/xmalloc.h"

#define SIGNER_PROGRAM "signer"

static const char *const signer_codes[SIGNER_REJECT_COUNT_] = {
    [SIGNER_REJECT_BAD_MESSAGE] = "bad_message",
    [SIGNER_REJECT_UNKNOWN_LANE] = "unknown_lane",
    [SIGNER_REJECT_LANE_MISMATCH] = "lane_mismatch",
    [SIGNER_REJECT_WRONG_CHAIN] = "wrong_chain",
    [SIGNER_REJECT_INVALID_TX] = "invalid_tx",
    [SIGNER_REJECT_OVERSIZED] = "oversized",
};

/* Bytes librdkafka adds to key and value in its size check (record framing). */
#define SIGNER_RECORD_OVERHEAD 512

const char *signer_reject_code(signer_reject_t reason) {
    if ((unsigned)reason >= SIGNER_REJECT_COUNT_)
        return "unknown";
    return signer_codes[reason];
}

void signer_init(signer_t *sg, producer_t *producer) {
    char value[32];
    size_t size = sizeof(value);
    sg->producer = producer;
    sg->message_max = 1000000; /* librdkafka's default */
    if (rd_kafka_conf_get(rd_kafka_conf(producer_handle(producer)), "message.max.bytes", value,
                          &size) == RD_KAFKA_CONF_OK)
        sg->message_max = (size_t)strtoull(value, NULL, 10);
    jbuf_init(&sg->j);
    sg->raw_cap = 1024;
    sg->raw = xmalloc(sg->raw_cap);
    sg->m_signed = metric_counter("txlane_signer_signed_total", NULL,
                                  "transactions signed and delivered to the signed topic");
    for (int r = 0; r < SIGNER_REJECT_COUNT_; r++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "reason=\"%s\"", signer_codes[r]);
        sg->m_rejected[r] = metric_counter("txlane_signer_rejected_total", labels,
                                           "allocated messages sent to the DLQ, by reason");
    }
    sg->m_batch_seconds =
        metric_histogram("txlane_signer_batch_seconds", NULL,
                         "time to sign a batch and queue its messages (their delivery commits it later)",
                         metrics_latency_bounds, metrics_latency_nbounds);
}

void signer_clear(signer_t *sg) {
    jbuf_free(&sg->j);
    free(sg->raw);
    sg->raw = NULL;
    sg->raw_cap = 0;
}

int signer_on_idle(void *ctx) {
    signer_t *sg = ctx;
    worker_tick(sg->worker, 0);
    return STREAM_WAIT_MAX_MS;
}

/* Produces the DLQ entry and, with a request id, the "rejected" status event.
 * m holds what decoding got before it failed (request_id is only set once
 * valid); decoded says whether all of it is valid. */
static int signer_reject(signer_t *sg, const rd_kafka_message_t *rkm, const msg_allocated_t *m,
                         int decoded, signer_reject_t reason, const char *detail) {
    const char *code = signer_codes[reason];
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    const char *request_id = m->request_id[0] != '\0' ? m->request_id : NULL;
    log_warn("message rejected", LF_S("reason", code), LF_S("detail", detail),
             LF_S("topic", topic), LF_I("partition", rkm->partition), LF_I("offset", rkm->offset),
             LF_S("request_id", request_id != NULL ? request_id : ""),
             LF_I("tx_id", decoded ? m->tx_id : -1), LF_I("lane", decoded ? (long long)m->lane : -1),
             LF_I("nonce", decoded ? (long long)m->nonce : -1));
    jbuf_reset(&sg->j);
    msg_dlq_encode(code, detail, rkm->payload, rkm->payload != NULL ? rkm->len : 0, topic,
                   rkm->partition, rkm->offset, SIGNER_PROGRAM, msg_now_ms(), &sg->j);
    int rc = producer_send(sg->producer, sg->topic_dlq, request_id,
                           request_id != NULL ? strlen(request_id) : 0, sg->j.buf, sg->j.len,
                           RD_KAFKA_PARTITION_UA);
    if (rc != 0 || request_id == NULL)
        goto done;
    msg_status_t st = {
        .request_id = request_id,
        .tx_id = decoded ? m->tx_id : -1,
        .state = "rejected",
        .lane = decoded ? (int64_t)m->lane : -1,
        .nonce = decoded && m->nonce <= INT64_MAX ? (int64_t)m->nonce : -1,
        .attempt = decoded ? (int64_t)m->attempt : -1,
        .block_number = -1,
        .receipt_status = -1,
        .reason = code,
        .program = SIGNER_PROGRAM,
    };
    jbuf_reset(&sg->j);
    msg_status_encode(&st, msg_now_ms(), &sg->j);
    rc = producer_send(sg->producer, sg->topic_status, request_id, strlen(request_id), sg->j.buf,
                       sg->j.len, RD_KAFKA_PARTITION_UA);
done:
    if (rc == 0)
        sg->batch_rejected[reason]++;
    return rc;
}

/* Checks the message against this signer's wallet and chain and builds the
 * transaction. Returns SIGNER_REJECT_COUNT_ when it can be signed, else the
 * reason (detail set). */
static signer_reject_t signer_check(const signer_t *sg, const msg_allocated_t *m, tx_t *tx,
                                    char *detail, size_t size) {
    char from[ADDRESS_STR_LEN + 1];
    uint32_t lane;
    address_format(&m->from, from);
    if (keyring_lane_of(sg->kr, &m->from, &lane) != 0) {
        snprintf(detail, size, "from %s is not one of the %u lanes of this wallet", from,
                 keyring_lanes(sg->kr));
        return SIGNER_REJECT_UNKNOWN_LANE;
    }
    if (lane != m->lane) {
        snprintf(detail, size, "from %s is lane %u, the message says lane %u", from, lane,
                 m->lane);
        return SIGNER_REJECT_LANE_MISMATCH;
    }
    if (sg->chain_id != 0 && m->chain_id != sg->chain_id) {
        snprintf(detail, size, "chain_id %llu, this signer signs for chain %llu only",
                 (unsigned long long)m->chain_id, (unsigned long long)sg->chain_id);
        return SIGNER_REJECT_WRONG_CHAIN;
    }
    if (m->gas_limit == 0) {
        snprintf(detail, size, "gas_limit must be at least 1");
        return SIGNER_REJECT_INVALID_TX;
    }
    if (uint256_cmp(&m->fees.max_priority_fee_per_gas, &m->fees.max_fee_per_gas) > 0) {
        snprintf(detail, size, "max_priority_fee_per_gas exceeds max_fee_per_gas");
        return SIGNER_REJECT_INVALID_TX;
    }
    memset(tx, 0, sizeof(*tx));
    tx->type = sg->tx_type;
    tx->chain_id = m->chain_id;
    tx->nonce = m->nonce;
    tx->gas_limit = m->gas_limit;
    tx->to = m->to;
    tx->value = m->value;
    tx->data = m->data;
    tx->data_len = m->data_len;
    if (sg->tx_type == TX_TYPE_EIP1559) {
        tx->max_fee_per_gas = m->fees.max_fee_per_gas;
        tx->max_priority_fee_per_gas = m->fees.max_priority_fee_per_gas;
    } else {
        tx->gas_price = m->fees.max_fee_per_gas;
    }
    int rc = tx_check(tx);
    if (rc == TXL_ERANGE && sg->tx_type == TX_TYPE_LEGACY) {
        snprintf(detail, size, "chain_id %llu is too large for a legacy EIP-155 signature",
                 (unsigned long long)m->chain_id);
        return SIGNER_REJECT_INVALID_TX;
    }
    if (rc != 0) {
        snprintf(detail, size, "not a valid %s transaction: %s",
                 sg->tx_type == TX_TYPE_EIP1559 ? "EIP-1559" : "legacy", txl_strerror(rc));
        return SIGNER_REJECT_INVALID_TX;
    }
    return SIGNER_REJECT_COUNT_;
}

static void signer_log_signed(const msg_allocated_t *m, const uint8_t hash[32]) {
    if (!log_enabled(LOG_DEBUG))
        return;
    char hx[2 + 64 + 1] = "0x";
    hex_encode(hash, 32, hx + 2);
    log_debug("signed", LF_I("tx_id", m->tx_id), LF_S("request_id", m->request_id),
              LF_U("lane", m->lane), LF_U("nonce", m->nonce), LF_U("attempt", m->attempt),
              LF_S("tx_hash", hx));
}

/* Signs or rejects one message; 0 once its output is queued. */
static int signer_handle(signer_t *sg, const rd_kafka_message_t *rkm) {
    msg_allocated_t m;
    tx_t tx;
    char detail[256];
    int rc;
    const char *payload = rkm->payload != NULL ? rkm->payload : "";
    if (msg_allocated_decode(payload, rkm->payload != NULL ? rkm->len : 0, &m, detail,
                             sizeof(detail)) != 0) {
        rc = signer_reject(sg, rkm, &m, 0, SIGNER_REJECT_BAD_MESSAGE, detail);
        goto done;
    }
    signer_reject_t reason = signer_check(sg, &m, &tx, detail, sizeof(detail));
    if (reason != SIGNER_REJECT_COUNT_) {
        rc = signer_reject(sg, rkm, &m, 1, reason, detail);
        goto done;
    }
    size_t need = tx_raw_cap(&tx);
    if (need > sg->raw_cap) {
        sg->raw = xrealloc(sg->raw, need);
        sg->raw_cap = need;
    }
    msg_signed_t s;
    memset(&s, 0, sizeof(s));
    rc = keyring_sign(sg->kr, m.lane, &tx, sg->raw, sg->raw_cap, &s.raw_len, s.hash);
    if (rc != 0) {
        snprintf(detail, sizeof(detail), "could not sign: %s", txl_strerror(rc));
        rc = signer_reject(sg, rkm, &m, 1, SIGNER_REJECT_INVALID_TX, detail);
        goto done;
    }
    s.tx_id = m.tx_id;
    memcpy(s.request_id, m.request_id, sizeof(s.request_id));
    s.kind = m.kind;
    s.lane = m.lane;
    s.from = m.from;
    s.nonce = m.nonce;
    s.attempt = m.attempt;
    s.raw = sg->raw; /* borrowed: not cleared with msg_signed_clear */
    s.fees = m.fees;
    s.created_ms = m.created_ms;
    jbuf_reset(&sg->j);
    msg_signed_encode(&s, &sg->j);
    if (sg->j.len + ADDRESS_STR_LEN + SIGNER_RECORD_OVERHEAD > sg->message_max) {
        /* would stall the partition: the producer can never deliver it */
        snprintf(detail, sizeof(detail), "the signed message has %zu bytes, above %zu",
                 sg->j.len, sg->message_max - ADDRESS_STR_LEN - SIGNER_RECORD_OVERHEAD);
        rc = signer_reject(sg, rkm, &m, 1, SIGNER_REJECT_OVERSIZED, detail);
        goto done;
    }
    char key[ADDRESS_STR_LEN + 1];
    address_format(&m.from, key);
    rc = producer_send(sg->producer, sg->topic_signed, key, ADDRESS_STR_LEN, sg->j.buf, sg->j.len,
                       RD_KAFKA_PARTITION_UA);
    if (rc == 0) {
        sg->batch_signed++;
        signer_log_signed(&m, s.hash);
    }
done:
    msg_allocated_clear(&m);
    return rc;
}

static double signer_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int signer_on_batch(void *ctx, rd_kafka_message_t **msgs, size_t n) {
    signer_t *sg = ctx;
    double t0 = signer_seconds();
    sg->batch_signed = 0;
    memset(sg->batch_rejected, 0, sizeof(sg->batch_rejected));
    for (size_t i = 0; i < n; i++) {
        int rc = signer_handle(sg, msgs[i]);
        if (rc != 0)
            return rc;
    }
    /* The signed messages are queued: the stream commits the batch's offsets
     * once they are delivered (pipelined commits, stream.h). */
    size_t rejected = 0;
    metric_add(sg->m_signed, (double)sg->batch_signed);
    for (int r = 0; r < SIGNER_REJECT_COUNT_; r++) {
        metric_add(sg->m_rejected[r], (double)sg->batch_rejected[r]);
        rejected += sg->batch_rejected[r];
    }
    double seconds = signer_seconds() - t0;
    metric_observe(sg->m_batch_seconds, seconds);
    log_debug("batch done", LF_U("messages", n), LF_U("signed", sg->batch_signed),
              LF_U("rejected", rejected), LF_D("seconds", seconds));
    return 0;
}
