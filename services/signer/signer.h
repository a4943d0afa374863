/*
 * signer.h - the signer's batch step: txlane.allocated messages in, signed
 * transactions on txlane.signed (key: the lane address) out, or a DLQ entry
 * with its reason and a "rejected" status event. Wired up by main.c; owned
 * by the main thread.
 */
#ifndef TXLANE_SIGNER_H
#define TXLANE_SIGNER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "txlane/jbuf.h"
#include "txlane/keyring.h"
#include "txlane/metrics.h"
#include "txlane/producer.h"
#include "txlane/tx.h"
#include "txlane/worker.h"

/* Why a message was not signed: the DLQ "reason" codes of the signer. */
typedef enum {
    SIGNER_REJECT_BAD_MESSAGE = 0, /* not a well-formed allocated message */
    SIGNER_REJECT_UNKNOWN_LANE,    /* from / lane is not one of this wallet's lanes */
    SIGNER_REJECT_LANE_MISMATCH,   /* from is the address of another lane than "lane" */
    SIGNER_REJECT_WRONG_CHAIN,     /* chain_id differs from TXLANE_CHAIN_ID */
    SIGNER_REJECT_INVALID_TX,      /* the fields do not make a valid transaction */
    SIGNER_REJECT_OVERSIZED,       /* the signed message would exceed Kafka's message size */
    SIGNER_REJECT_COUNT_
} signer_reject_t;

typedef struct {
    const keyring_t *kr;
    producer_t *producer;
    worker_t *worker;
    tx_type_t tx_type;
    uint64_t chain_id; /* 0: any */
    const char *topic_signed, *topic_status, *topic_dlq;
    size_t message_max; /* largest signed message the producer accepts (message.max.bytes) */

    jbuf_t j;           /* scratch for encoding */
    uint8_t *raw;       /* scratch for raw transactions */
    size_t raw_cap;
    size_t batch_signed; /* of the batch in hand */
    size_t batch_rejected[SIGNER_REJECT_COUNT_];

    metric_t *m_signed, *m_rejected[SIGNER_REJECT_COUNT_], *m_batch_seconds;
} signer_t;

/* Stable lower-case code of a reason, e.g. "wrong_chain". */
const char *signer_reject_code(signer_reject_t reason);

/* Sets up sg's scratch buffers and metrics, and message_max from the
 * producer's configuration (the other members are the caller's to fill).
 * Release with signer_clear. */
void signer_init(signer_t *sg, producer_t *producer);
void signer_clear(signer_t *sg);

/* stream_handlers_t.on_batch: signs or rejects every message, then waits
 * for every produced message's delivery. 0 when all are delivered. */
int signer_on_batch(void *ctx, rd_kafka_message_t **msgs, size_t n);

/* stream_handlers_t.on_idle: readiness checks and heartbeat. */
int signer_on_idle(void *ctx);

#endif
