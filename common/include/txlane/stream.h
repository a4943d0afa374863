/*
 * stream.h - consume, process, commit: the batch loop every consuming program
 * runs (librdkafka high-level consumer in a group).
 *
 *   stream_t *s = stream_new(&handlers);          // before the consumer exists
 *   spec.rebalance_cb = stream_rebalance_cb; spec.opaque = s;
 *   worker_open(&w, &spec, ...);                   // creates the consumer
 *   stream_subscribe(s, w.consumer, topic, ...);
 *   while (service_running()) stream_poll(s);      // also does worker_tick work
 *   stream_close(s);                               // closes the consumer; before worker_close
 *
 * stream_poll collects up to batch_max messages, waiting at most linger_ms
 * after the first one, and hands them to on_batch. When on_batch returns 0
 * their effects are durable: the next offsets are stored and committed
 * (asynchronously; synchronously on revocation and close). When it returns
 * an error the same batch is handed back after a capped backoff, until it
 * succeeds or the program is asked to stop (then nothing is committed: the
 * messages are redelivered to whoever owns the partitions next). When it
 * returns TXL_EFENCED (this instance cannot do the work now, e.g. it lost the
 * resources the messages need) the batch is handed back at once: the
 * consumer seeks back to it and nothing is committed.
 *
 * With a producer set (pipelined commits), on_batch returns once the batch's
 * effects are durable and the messages it produces are queued; its offsets
 * are committed when those messages' delivery reports are in (producer.h
 * marks), in batch order, while later batches are already being processed.
 * At most STREAM_PENDING_MAX batches wait for delivery; revocation and close
 * wait for all of them.
 *
 * Rebalancing: both the COOPERATIVE (incremental) and the EAGER protocols.
 * On revocation the batch in hand is processed and committed first (DESIGN
 * section 6: finish the batch, then drop), then on_revoke runs, then the
 * partitions are released. on_assign runs after the new partitions are
 * added and before any of their messages is handed out. Messages of a
 * partition that is no longer assigned are never handed out.
 *
 * Consumer errors (broker down) are logged and retried by librdkafka;
 * ERR__FATAL raises kafka_fatal (the program exits non-zero).
 * Owned by one thread.
 */
#ifndef TXLANE_STREAM_H
#define TXLANE_STREAM_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "txlane/err.h"
#include "txlane/producer.h"

typedef struct stream stream_t;

/* Batches whose offsets wait for their messages' delivery (pipelined commits). */
#define STREAM_PENDING_MAX 8

/* The longest a stream_poll turn waits for a message. */
#define STREAM_WAIT_MAX_MS 100

typedef struct {
    /* Required. msgs[0..n) are in offset order per partition (n >= 1), owned by
     * the stream (do not destroy). Return 0 when their effects are durable. */
    int (*on_batch)(void *ctx, rd_kafka_message_t **msgs, size_t n);
    /* Optional. parts: the partitions just added (all of them under EAGER). */
    void (*on_assign)(void *ctx, const rd_kafka_topic_partition_list_t *parts);
    /* Optional. parts: the partitions being taken away (all under EAGER, or
     * on lost partitions). The batch in hand is already processed. */
    void (*on_revoke)(void *ctx, const rd_kafka_topic_partition_list_t *parts);
    /* Optional. Called once per stream_poll turn (e.g. timers, flushing).
     * Returns how long, in ms, the turn may then wait for a message when none
     * is there: 0 when the handler has work due at once, at most
     * STREAM_WAIT_MAX_MS (larger values and negative ones mean that). */
    int (*on_idle)(void *ctx);
    void *ctx;
    size_t batch_max; /* >= 1 */
    int linger_ms;    /* >= 0 */
    /* Optional: the producer on_batch queues its output on. Set, a batch's
     * offsets are committed once that output is delivered (pipelined), not
     * when on_batch returns. Not owned. */
    producer_t *producer;
} stream_handlers_t;

/* Copies h. Free with stream_close. */
stream_t *stream_new(const stream_handlers_t *h);

/* The rebalance callback to set on the consumer's configuration with
 * rd_kafka_conf_set_rebalance_cb, opaque = the stream (worker_spec_t does
 * this). */
void stream_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque);

/* Subscribes consumer to topic. The stream does not own the consumer. */
int stream_subscribe(stream_t *s, rd_kafka_t *consumer, const char *topic, char *errstr,
                     size_t errstr_size) TXL_WUR;

/* One turn: collect a batch (waits up to 100 ms for the first message),
 * process, commit. Returns the number of messages committed (0 when idle,
 * or when the program was stopped before the batch was durable). */
size_t stream_poll(stream_t *s);

/* Partitions currently assigned (a copy owned by the caller, free with
 * rd_kafka_topic_partition_list_destroy), never NULL. */
rd_kafka_topic_partition_list_t *stream_assignment(stream_t *s);

/* Closes the consumer (leaving the group: on_revoke runs for the last
 * partitions and what was processed is committed synchronously), then frees
 * the stream. Call before worker_close. Accepts NULL. */
void stream_close(stream_t *s);

#endif
