/*
 * producer.h - a Kafka producer whose messages are sent when their delivery
 * reports say so, retried forever, never skipped.
 *
 *   producer_t *p = producer_new("txlane-allocator", errstr, sizeof errstr);
 *   producer_send(p, topic, key, keylen, value, len, RD_KAFKA_PARTITION_UA);
 *   ...
 *   if (producer_flush(p) == 0) { store and commit the input offsets }
 *
 * The producer is idempotent (enable.idempotence: no duplicates or
 * reordering from its own retries) with message.timeout.ms=0 (librdkafka
 * retries until delivered) and the murmur2_random partitioner, so a key maps
 * to the same partition as with the Java client. A delivery that still fails
 * is sent again by producer_flush. Any KAFKA_* variable overrides the
 * defaults (kafka.h).
 *
 * Owned by one thread (the program's main loop).
 */
#ifndef TXLANE_PRODUCER_H
#define TXLANE_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "txlane/err.h"

typedef struct producer producer_t;

/* NULL with errstr set on a configuration error. Free with producer_free. */
producer_t *producer_new(const char *client_id, char *errstr, size_t errstr_size);

/* Flushes what is outstanding (bounded by 5 s) and frees. Accepts NULL. */
void producer_free(producer_t *p);

rd_kafka_t *producer_handle(producer_t *p);

/*
 * Queues one message (key/value copied; key may be NULL). partition is
 * RD_KAFKA_PARTITION_UA to let the partitioner pick from the key, or an
 * explicit partition. A full local queue is waited out by serving delivery
 * reports. Returns 0, or TXL_EKAFKA for an unknown topic or a fatal error.
 */
int producer_send(producer_t *p, const char *topic, const void *key, size_t key_len,
                  const void *value, size_t value_len, int32_t partition) TXL_WUR;

/*
 * Waits until every message queued since the last successful flush has a
 * successful delivery report; failed ones are re-queued (in their original
 * order) and waited for again, forever. Returns 0 when all are delivered,
 * TXL_ETIMEOUT when the program was asked to stop first (nothing is
 * acknowledged then), TXL_EKAFKA after a fatal producer error.
 */
int producer_flush(producer_t *p) TXL_WUR;

/*
 * Delivery marks, for work that goes on while earlier messages are still in
 * flight: producer_mark() closes the current mark and returns it (every
 * message queued before belongs to it or an earlier one);
 * producer_mark_done() is 1 once all of them have successful delivery
 * reports. Reports are served by producer_poll (or producer_flush).
 *
 *   queue a batch's messages; m = producer_mark(p);
 *   ... later: producer_poll(p, 0); if (producer_mark_done(p, m)) commit its input
 */
uint64_t producer_mark(producer_t *p);
int producer_mark_done(const producer_t *p, uint64_t mark);
/* Serves delivery reports, waiting at most timeout_ms, after queueing failed
 * deliveries again. */
void producer_poll(producer_t *p, int timeout_ms);

/* Messages queued and not yet confirmed delivered. */
size_t producer_outstanding(const producer_t *p);

#endif
