/*
 * stream.c - the consume/process/commit batch loop (see stream.h).
 *
 * The batch in hand lives in the stream, so the rebalance callback (run by
 * librdkafka inside rd_kafka_consumer_poll or rd_kafka_consumer_close, on
 * the owner's thread) can process and commit it before partitions go away.
 * Offsets: after on_batch succeeds, offset+1 of the last message of each
 * partition is stored and committed asynchronously; revocation and close
 * commit synchronously. With a producer (pipelined commits) the offsets wait
 * in a FIFO with the batch's delivery mark and are committed, oldest first,
 * once the mark is done. Single-threaded.
 */
#include "txlane/stream.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txlane/kafka.h"
#include "txlane/log.h"
#include "txlane/metrics.h"
#include "txlane/service.h"
#include "txlane/xmalloc.h"

#define STREAM_BACKOFF_MIN_MS 100
#define STREAM_BACKOFF_MAX_MS 5000

typedef struct {
    rd_kafka_topic_partition_list_t *offs; /* next offsets to commit */
    uint64_t mark;                         /* producer mark of the batch's output */
    size_t n;                              /* messages of the batch */
} stream_pending_t;

struct stream {
    stream_handlers_t h;
    rd_kafka_t *rk;
    rd_kafka_message_t **batch;
    size_t n;
    stream_pending_t pending[STREAM_PENDING_MAX]; /* oldest first */
    size_t npending;
    rd_kafka_topic_partition_list_t *assigned;
    metric_t *m_batches, *m_messages, *m_retries, *m_rebalances, *m_batch_size;
    metric_t *m_committed, *m_pending;
};

static const double stream_size_bounds[] = {1, 10, 50, 100, 250, 500, 1000, 2000, 5000};

stream_t *stream_new(const stream_handlers_t *h) {
    assert(h != NULL && h->on_batch != NULL && h->batch_max >= 1 && h->linger_ms >= 0);
    stream_t *s = xcalloc(1, sizeof(*s));
    s->h = *h;
    s->batch = xcalloc(h->batch_max, sizeof(*s->batch));
    s->assigned = rd_kafka_topic_partition_list_new(16);
    s->m_batches = metric_counter("txlane_stream_batches_total", NULL, "batches processed");
    s->m_messages = metric_counter("txlane_stream_messages_total", NULL,
                                   "messages processed and committed");
    s->m_retries = metric_counter("txlane_stream_batch_retries_total", NULL,
                                  "times a batch was handed back after a failure");
    s->m_rebalances = metric_counter("txlane_stream_rebalances_total", NULL,
                                     "partition assignments and revocations");
    s->m_committed = metric_counter("txlane_stream_committed_total", NULL,
                                    "messages whose offsets were committed (their output "
                                    "delivered)");
    s->m_pending = metric_gauge("txlane_stream_pending_batches", NULL,
                                "batches processed whose output waits for delivery before "
                                "their offsets are committed");
    s->m_batch_size = metric_histogram("txlane_stream_batch_messages", NULL,
                                       "messages per batch", stream_size_bounds,
                                       sizeof(stream_size_bounds) / sizeof(stream_size_bounds[0]));
    return s;
}

int stream_subscribe(stream_t *s, rd_kafka_t *consumer, const char *topic, char *errstr,
                     size_t errstr_size) {
    s->rk = consumer;
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size, "could not subscribe to %s: %s", topic,
                 rd_kafka_err2str(err));
        return TXL_EKAFKA;
    }
    return 0;
}

static void stream_sleep_ms(long long ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void stream_batch_drop(stream_t *s) {
    for (size_t i = 0; i < s->n; i++)
        rd_kafka_message_destroy(s->batch[i]);
    s->n = 0;
}

/* offset+1 of the last message per partition of the batch. Caller destroys. */
static rd_kafka_topic_partition_list_t *stream_batch_offsets(const stream_t *s) {
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new((int)s->n);
    for (size_t i = 0; i < s->n; i++) {
        rd_kafka_message_t *m = s->batch[i];
        const char *topic = rd_kafka_topic_name(m->rkt);
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(offs, topic, m->partition);
        if (tp == NULL)
            tp = rd_kafka_topic_partition_list_add(offs, topic, m->partition);
        if (m->offset + 1 > tp->offset)
            tp->offset = m->offset + 1;
    }
    return offs;
}

/* Stores the offsets, then commits them (async unless sync). */
static void stream_offsets_commit(stream_t *s, rd_kafka_topic_partition_list_t *offs, int sync) {
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(s->rk, offs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("could not store offsets", LF_S("error", rd_kafka_err2str(err)));
    err = rd_kafka_commit(s->rk, offs, !sync);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        log_warn("could not commit offsets", LF_S("error", rd_kafka_err2str(err)));
}

/* Commits the pending batches whose output is delivered, oldest first. */
static void stream_pending_commit(stream_t *s, int sync) {
    size_t k = 0;
    while (k < s->npending && producer_mark_done(s->h.producer, s->pending[k].mark)) {
        stream_offsets_commit(s, s->pending[k].offs, sync);
        rd_kafka_topic_partition_list_destroy(s->pending[k].offs);
        metric_add(s->m_committed, (double)s->pending[k].n);
        k++;
    }
    memmove(s->pending, s->pending + k, (s->npending - k) * sizeof(s->pending[0]));
    s->npending -= k;
    metric_set(s->m_pending, (double)s->npending);
}

/* Waits for the output of every pending batch and commits them
 * synchronously (revocation, close). Batches whose output is not delivered
 * when the program stops are left uncommitted (redelivered). */
static void stream_pending_drain(stream_t *s) {
    if (s->npending == 0)
        return;
    if (producer_flush(s->h.producer) != 0)
        log_warn("stopping with batches whose output is not delivered; they will be redelivered",
                 LF_U("batches", s->npending));
    stream_pending_commit(s, 1);
    for (size_t i = 0; i < s->npending; i++)
        rd_kafka_topic_partition_list_destroy(s->pending[i].offs);
    s->npending = 0;
    metric_set(s->m_pending, 0);
}

/* Serves delivery reports and commits what they complete; with room, waits
 * until fewer than STREAM_PENDING_MAX batches are pending. */
static void stream_pending_step(stream_t *s, int room) {
    if (s->h.producer == NULL)
        return;
    producer_poll(s->h.producer, 0);
    stream_pending_commit(s, 0);
    while (room && s->npending >= STREAM_PENDING_MAX && service_running() && !kafka_fatal) {
        producer_poll(s->h.producer, 10);
        stream_pending_commit(s, 0);
    }
}

/* Hands the batch back to Kafka: seeks each partition to the batch's first
 * offset so the messages are read again (by this consumer while it holds the
 * partition, else by the next owner), then drops it uncommitted. */
static void stream_batch_unread(stream_t *s) {
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new((int)s->n);
    for (size_t i = 0; i < s->n; i++) {
        rd_kafka_message_t *m = s->batch[i];
        const char *topic = rd_kafka_topic_name(m->rkt);
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(offs, topic, m->partition);
        if (tp == NULL) {
            tp = rd_kafka_topic_partition_list_add(offs, topic, m->partition);
            tp->offset = m->offset;
        } else if (m->offset < tp->offset) {
            tp->offset = m->offset;
        }
    }
    rd_kafka_error_t *error = rd_kafka_seek_partitions(s->rk, offs, 2000);
    if (error != NULL) {
        log_warn("could not seek back", LF_S("error", rd_kafka_error_string(error)));
        rd_kafka_error_destroy(error);
    }
    rd_kafka_topic_partition_list_destroy(offs);
    stream_batch_drop(s);
}

/* Processes the batch in hand until on_batch succeeds (then commits) or the
 * program is asked to stop (then drops it uncommitted). Returns the number of
 * messages committed. */
static size_t stream_batch_process(stream_t *s, int sync) {
    if (s->n == 0)
        return 0;
    long long backoff = STREAM_BACKOFF_MIN_MS;
    for (;;) {
        int rc = s->h.on_batch(s->h.ctx, s->batch, s->n);
        if (rc == 0)
            break;
        if (rc == TXL_EFENCED) {
            metric_inc(s->m_retries);
            log_info("batch handed back: its partitions' lanes are not available here",
                     LF_U("messages", s->n));
            stream_batch_unread(s);
            if (!sync)
                stream_sleep_ms(STREAM_BACKOFF_MIN_MS);
            return 0;
        }
        if (!service_running() || kafka_fatal) {
            log_warn("stopping with an unfinished batch; it will be redelivered",
                     LF_U("messages", s->n), LF_ERR(rc));
            stream_batch_drop(s);
            return 0;
        }
        metric_inc(s->m_retries);
        log_warn("batch failed, retrying", LF_U("messages", s->n), LF_ERR(rc),
                 LF_I("backoff_ms", backoff));
        stream_sleep_ms(backoff);
        backoff = backoff * 2 > STREAM_BACKOFF_MAX_MS ? STREAM_BACKOFF_MAX_MS : backoff * 2;
    }
    size_t n = s->n;
    rd_kafka_topic_partition_list_t *offs = stream_batch_offsets(s);
    if (s->h.producer == NULL) {
        stream_offsets_commit(s, offs, sync);
        rd_kafka_topic_partition_list_destroy(offs);
        metric_add(s->m_committed, (double)n);
    } else {
        stream_pending_step(s, 1); /* room for this one */
        if (s->npending == STREAM_PENDING_MAX)
            stream_pending_drain(s); /* stopping or kafka failing: no room was made */
        s->pending[s->npending].offs = offs;
        s->pending[s->npending].mark = producer_mark(s->h.producer);
        s->pending[s->npending].n = n;
        s->npending++;
        metric_set(s->m_pending, (double)s->npending);
        if (sync)
            stream_pending_drain(s);
        else
            stream_pending_commit(s, 0);
    }
    metric_inc(s->m_batches);
    metric_add(s->m_messages, (double)n);
    metric_observe(s->m_batch_size, (double)n);
    stream_batch_drop(s);
    return n;
}

static void stream_assigned_update(stream_t *s, const rd_kafka_topic_partition_list_t *parts,
                                   int add) {
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        int found = rd_kafka_topic_partition_list_find(s->assigned, p->topic, p->partition) != NULL;
        if (add && !found)
            rd_kafka_topic_partition_list_add(s->assigned, p->topic, p->partition);
        else if (!add && found)
            rd_kafka_topic_partition_list_del(s->assigned, p->topic, p->partition);
    }
}

static void stream_log_parts(const char *msg, const rd_kafka_topic_partition_list_t *parts,
                             const char *protocol) {
    char list[512];
    size_t off = 0;
    list[0] = '\0';
    for (int i = 0; i < parts->cnt && off < sizeof(list) - 16; i++)
        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%d", i ? "," : "",
                                parts->elems[i].partition);
    log_info(msg, LF_S("topic", parts->cnt ? parts->elems[0].topic : ""), LF_S("partitions", list),
             LF_S("protocol", protocol));
}

void stream_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    stream_t *s = opaque;
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    int cooperative = protocol != NULL && strcmp(protocol, "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    metric_inc(s->m_rebalances);

    switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, parts);
        stream_assigned_update(s, parts, 1);
        stream_log_parts("partitions assigned", parts, protocol ? protocol : "");
        if (s->h.on_assign != NULL)
            s->h.on_assign(s->h.ctx, parts);
        break;
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        /* Finish the batch in hand before the partitions go (DESIGN section 6),
         * and commit every batch still waiting for its output's delivery. */
        stream_batch_process(s, 1);
        if (s->h.producer != NULL)
            stream_pending_drain(s);
        stream_log_parts(rd_kafka_assignment_lost(rk) ? "partitions lost" : "partitions revoked",
                         parts, protocol ? protocol : "");
        if (s->h.on_revoke != NULL)
            s->h.on_revoke(s->h.ctx, parts);
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, NULL);
        stream_assigned_update(s, parts, 0);
        if (!cooperative) {
            rd_kafka_topic_partition_list_destroy(s->assigned);
            s->assigned = rd_kafka_topic_partition_list_new(16);
        }
        break;
    default:
        log_error("rebalance failed", LF_S("error", rd_kafka_err2str(err)));
        if (s->h.on_revoke != NULL && s->assigned->cnt > 0)
            s->h.on_revoke(s->h.ctx, s->assigned);
        rd_kafka_assign(rk, NULL);
        rd_kafka_topic_partition_list_destroy(s->assigned);
        s->assigned = rd_kafka_topic_partition_list_new(16);
        break;
    }
    if (error != NULL) {
        log_error("incremental rebalance failed", LF_S("error", rd_kafka_error_string(error)));
        rd_kafka_error_destroy(error);
    }
    if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_error("rebalance assign failed", LF_S("error", rd_kafka_err2str(aerr)));
}

/* Adds a polled message to the batch, or logs and destroys an error event. */
static void stream_take(stream_t *s, rd_kafka_message_t *m) {
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        s->batch[s->n++] = m;
        return;
    }
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        log_warn("consumer error", LF_S("error", rd_kafka_message_errstr(m)),
                 LF_S("code", rd_kafka_err2name(m->err)));
    rd_kafka_message_destroy(m);
}

size_t stream_poll(stream_t *s) {
    assert(s->rk != NULL);
    stream_pending_step(s, 0);
    int wait_ms = STREAM_WAIT_MAX_MS;
    if (s->h.on_idle != NULL) {
        wait_ms = s->h.on_idle(s->h.ctx);
        if (wait_ms < 0 || wait_ms > STREAM_WAIT_MAX_MS)
            wait_ms = STREAM_WAIT_MAX_MS;
    }
    if (s->n == 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, wait_ms);
        if (m == NULL)
            return 0;
        stream_take(s, m);
        if (s->n == 0)
            return 0;
    }
    long long deadline = service_now_ms() + s->h.linger_ms;
    while (s->n < s->h.batch_max && service_running()) {
        long long left = deadline - service_now_ms();
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, left > 0 ? (int)left : 0);
        if (m == NULL) {
            if (left <= 0)
                break;
            continue;
        }
        stream_take(s, m);
    }
    return stream_batch_process(s, 0);
}

rd_kafka_topic_partition_list_t *stream_assignment(stream_t *s) {
    return rd_kafka_topic_partition_list_copy(s->assigned);
}

void stream_close(stream_t *s) {
    if (s == NULL)
        return;
    if (s->rk != NULL) {
        stream_batch_process(s, 1);
        if (s->h.producer != NULL)
            stream_pending_drain(s);
        rd_kafka_consumer_close(s->rk); /* revokes: on_revoke runs, offsets committed */
    }
    stream_batch_drop(s);
    rd_kafka_topic_partition_list_destroy(s->assigned);
    free(s->batch);
    free(s);
}
