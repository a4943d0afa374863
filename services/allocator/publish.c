/*
 * publish.c - what the allocator produces: allocations on txlane.allocated
 * (keyed by lane address), status events on txlane.status (keyed by
 * request_id), rejected requests on txlane.dlq. Each call queues on the
 * allocator's producer; batch.c flushes once per batch and only then lets
 * the offsets be committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "txlane/hex.h"
#include "txlane/log.h"
#include "txlane/msg.h"
#include "txlane/xmalloc.h"

void alloc_publish_status(allocator_t *a, const char *request_id, long long tx_id,
                          const char *state, int lane, long long nonce, const char *reason,
                          const char *metadata) {
    msg_status_t st = {.request_id = request_id, .tx_id = tx_id, .state = state, .lane = lane,
                       .nonce = nonce, .attempt = tx_id >= 0 ? 0 : -1, .block_number = -1,
                       .receipt_status = -1, .reason = reason, .metadata = metadata,
                       .program = "allocator"};
    jbuf_reset(&a->json);
    msg_status_encode(&st, msg_now_ms(), &a->json);
    if (producer_send(a->producer, a->cfg->common.topic_status, request_id,
                      request_id ? strlen(request_id) : 0, a->json.buf, a->json.len,
                      RD_KAFKA_PARTITION_UA) != 0)
        log_warn("could not queue a status event", LF_S("request_id", request_id));
}

int alloc_publish_allocated(allocator_t *a, const msg_allocated_t *m) {
    char key[ADDRESS_STR_LEN + 1];
    address_format(&m->from, key);
    jbuf_reset(&a->json);
    msg_allocated_encode(m, &a->json);
    return producer_send(a->producer, a->cfg->common.topic_allocated, key, strlen(key), a->json.buf,
                         a->json.len, RD_KAFKA_PARTITION_UA);
}

int alloc_publish_dlq(allocator_t *a, const rd_kafka_message_t *m, const char *code,
                      const char *detail, const char *request_id) {
    jbuf_reset(&a->json);
    msg_dlq_encode(code, detail, m->payload, m->len, rd_kafka_topic_name(m->rkt),
                   m->partition, m->offset, "allocator", msg_now_ms(), &a->json);
    int rc = producer_send(a->producer, a->cfg->common.topic_dlq, m->key, m->key_len, a->json.buf,
                           a->json.len, RD_KAFKA_PARTITION_UA);
    alloc_publish_status(a, request_id, -1, "rejected", -1, -1, code, NULL);
    log_info("request rejected", LF_S("reason", code), LF_S("detail", detail),
             LF_S("topic", rd_kafka_topic_name(m->rkt)), LF_I("partition", m->partition),
             LF_I("offset", m->offset));
    return rc;
}

/* Publishes row r of stored allocations (batch.c's duplicates/re-allocations query) again. */
int alloc_publish_stored(allocator_t *a, PGresult *res, int r) {
    msg_allocated_t m;
    memset(&m, 0, sizeof m);
    m.tx_id = atoll(PQgetvalue(res, r, 0));
    snprintf(m.request_id, sizeof m.request_id, "%s", PQgetvalue(res, r, 1));
    if (tx_kind_parse(PQgetvalue(res, r, 15), &m.kind) != 0)
        m.kind = TX_KIND_PAYOUT;
    m.lane = (uint32_t)atol(PQgetvalue(res, r, 2));
    m.nonce = (uint64_t)atoll(PQgetvalue(res, r, 3));
    int token = !PQgetisnull(res, r, 7);
    eth_address_t recipient;
    uint256_t value;
    if (address_parse(PQgetvalue(res, r, 4), &m.from) != 0 ||
        address_parse(PQgetvalue(res, r, 5), &recipient) != 0 ||
        uint256_parse_dec(PQgetvalue(res, r, 6), &value) != 0 ||
        (token && address_parse(PQgetvalue(res, r, 7), &m.to) != 0) ||
        uint256_parse_dec(PQgetvalue(res, r, 10), &m.fees.max_fee_per_gas) != 0 ||
        uint256_parse_dec(PQgetvalue(res, r, 11), &m.fees.max_priority_fee_per_gas) != 0) {
        log_error("stored allocation does not parse", LF_I("tx_id", m.tx_id));
        return 0;
    }
    if (token) {
        uint256_from_u64(0, &m.value);
    } else {
        m.to = recipient;
        m.value = value;
    }
    const char *hexdata = PQgetvalue(res, r, 8);
    size_t hexlen = strlen(hexdata);
    uint8_t *data = NULL;
    size_t data_len = 0;
    if (hexlen > 0) {
        data = xmalloc(hexlen / 2 + 1);
        if (hex_decode(hexdata, hexlen, data, hexlen / 2 + 1, &data_len) != 0) {
            free(data);
            log_error("stored calldata does not parse", LF_I("tx_id", m.tx_id));
            return 0;
        }
    }
    m.data = data;
    m.data_len = data_len;
    m.gas_limit = (uint64_t)atoll(PQgetvalue(res, r, 9));
    m.chain_id = (uint64_t)atoll(PQgetvalue(res, r, 12));
    m.attempt = (uint32_t)atol(PQgetvalue(res, r, 13));
    m.created_ms = atoll(PQgetvalue(res, r, 14));
    int rc = alloc_publish_allocated(a, &m);
    free(data);
    if (rc == 0)
        metric_inc(a->m_republished);
    return rc;
}
