/*
 * producer.c - delivery-tracked Kafka producer (see producer.h).
 *
 * Each queued message is a producer_rec_t that owns its topic, key and value
 * until the delivery report arrives; librdkafka references those buffers
 * (no copy). A successful report frees the record; a failed one moves it to
 * the retry list that producer_flush() and producer_poll() send again. Each
 * record belongs to a delivery mark; a mark is done when none of its records
 * (and none of an earlier mark's) is left undelivered. Single-threaded: the
 * delivery callback runs inside rd_kafka_poll/rd_kafka_flush on the owner's
 * thread.
 */
#include "txlane/producer.h"

#include <stdlib.h>
#include <string.h>

#include "txlane/kafka.h"
#include "txlane/log.h"
#include "txlane/metrics.h"
#include "txlane/service.h"
#include "txlane/xmalloc.h"

#define PRODUCER_POLL_MS 100
#define PRODUCER_STOP_GRACE_MS 10000 /* after SIGTERM: keep delivering this long */
#define PRODUCER_FREE_FLUSH_MS 5000

typedef struct producer_rec {
    struct producer_rec *next;
    char *topic;
    void *key;
    size_t key_len;
    void *value;
    size_t value_len;
    int32_t partition;
    uint64_t mark; /* producer_mark() it belongs to */
} producer_rec_t;

/* Messages of one mark not yet delivered. */
typedef struct {
    uint64_t mark;
    size_t left;
} producer_slot_t;

struct producer {
    rd_kafka_t *rk;
    size_t outstanding; /* queued in librdkafka, report not yet seen */
    producer_rec_t *failed_head, *failed_tail;
    size_t failed;
    uint64_t mark;          /* the mark messages queued now belong to */
    producer_slot_t *slots; /* marks with messages not yet delivered, oldest first */
    size_t nslots, slots_cap;
    metric_t *m_sent, *m_failed;
};

/* Counts one more message of the current mark. */
static void producer_slot_add(producer_t *p) {
    if (p->nslots > 0 && p->slots[p->nslots - 1].mark == p->mark) {
        p->slots[p->nslots - 1].left++;
        return;
    }
    if (p->nslots == p->slots_cap) {
        p->slots_cap = p->slots_cap ? p->slots_cap * 2 : 8;
        p->slots = xrealloc(p->slots, p->slots_cap * sizeof(*p->slots));
    }
    p->slots[p->nslots++] = (producer_slot_t){.mark = p->mark, .left = 1};
}

/* One message of mark delivered; marks with nothing left leave the front. */
static void producer_slot_done(producer_t *p, uint64_t mark) {
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].mark == mark) {
            p->slots[i].left--;
            break;
        }
    }
    size_t k = 0;
    while (k < p->nslots && p->slots[k].left == 0)
        k++;
    if (k > 0) {
        memmove(p->slots, p->slots + k, (p->nslots - k) * sizeof(*p->slots));
        p->nslots -= k;
    }
}

static void producer_rec_free(producer_rec_t *r) {
    if (r == NULL)
        return;
    free(r->topic);
    free(r->key);
    free(r->value);
    free(r);
}

static void producer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    producer_t *p = opaque;
    producer_rec_t *r = m->_private;
    p->outstanding--;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        metric_inc(p->m_sent);
        producer_slot_done(p, r->mark);
        producer_rec_free(r);
        return;
    }
    metric_inc(p->m_failed);
    log_warn("kafka delivery failed, will retry", LF_S("topic", r->topic),
             LF_S("error", rd_kafka_err2str(m->err)));
    r->next = NULL;
    if (p->failed_tail != NULL)
        p->failed_tail->next = r;
    else
        p->failed_head = r;
    p->failed_tail = r;
    p->failed++;
}

producer_t *producer_new(const char *client_id, char *errstr, size_t errstr_size) {
    const char *defaults[] = {"enable.idempotence", "true",
                              "message.timeout.ms", "0", /* retry until delivered */
                              "linger.ms", "2",
                              "partitioner", "murmur2_random",
                              "compression.type", "lz4",
                              NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(client_id, defaults, errstr, errstr_size);
    if (conf == NULL)
        return NULL;
    producer_t *p = xcalloc(1, sizeof(*p));
    rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (p->rk == NULL) {
        free(p);
        return NULL;
    }
    p->m_sent = metric_counter("txlane_kafka_produced_total", NULL,
                               "messages the broker acknowledged");
    p->m_failed = metric_counter("txlane_kafka_delivery_failures_total", NULL,
                                 "delivery reports with an error (each message is sent again)");
    return p;
}

rd_kafka_t *producer_handle(producer_t *p) {
    return p->rk;
}

size_t producer_outstanding(const producer_t *p) {
    return p->outstanding + p->failed;
}

/* Hands r to librdkafka, waiting out a full queue. 0, or TXL_EKAFKA (r not
 * queued; still owned by the caller). */
static int producer_enqueue(producer_t *p, producer_rec_t *r, long long give_up_ms) {
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(r->topic), RD_KAFKA_V_PARTITION(r->partition),
            RD_KAFKA_V_KEY(r->key, r->key_len), RD_KAFKA_V_VALUE(r->value, r->value_len),
            RD_KAFKA_V_OPAQUE(r), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            p->outstanding++;
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || kafka_fatal ||
            (give_up_ms > 0 && service_now_ms() > give_up_ms)) {
            log_error("could not queue kafka message", LF_S("topic", r->topic),
                      LF_S("error", rd_kafka_err2str(err)));
            return TXL_EKAFKA;
        }
        rd_kafka_poll(p->rk, PRODUCER_POLL_MS);
    }
}

int producer_send(producer_t *p, const char *topic, const void *key, size_t key_len,
                  const void *value, size_t value_len, int32_t partition) {
    producer_rec_t *r = xcalloc(1, sizeof(*r));
    r->topic = xstrdup(topic);
    if (key != NULL) {
        r->key = xmalloc(key_len ? key_len : 1);
        memcpy(r->key, key, key_len);
        r->key_len = key_len;
    }
    r->value = xmalloc(value_len ? value_len : 1);
    memcpy(r->value, value, value_len);
    r->value_len = value_len;
    r->partition = partition;
    r->mark = p->mark;
    int rc = producer_enqueue(p, r, 0);
    if (rc != 0)
        producer_rec_free(r);
    else
        producer_slot_add(p);
    return rc;
}

uint64_t producer_mark(producer_t *p) {
    return p->mark++;
}

int producer_mark_done(const producer_t *p, uint64_t mark) {
    return p->nslots == 0 || p->slots[0].mark > mark;
}

/* Sends failed records again, in their original order; 0, or TXL_EKAFKA
 * with the rest (the one that could not be queued first) kept for later. */
static int producer_requeue(producer_t *p, long long give_up_ms) {
    while (p->failed_head != NULL) {
        producer_rec_t *r = p->failed_head;
        p->failed_head = r->next;
        if (p->failed_head == NULL)
            p->failed_tail = NULL;
        p->failed--;
        r->next = NULL;
        if (producer_enqueue(p, r, give_up_ms) != 0) {
            /* still ours: back at the head, sent again on the next try */
            r->next = p->failed_head;
            p->failed_head = r;
            if (p->failed_tail == NULL)
                p->failed_tail = r;
            p->failed++;
            return TXL_EKAFKA;
        }
    }
    return 0;
}

void producer_poll(producer_t *p, int timeout_ms) {
    if (p->failed_head != NULL && !kafka_fatal && producer_requeue(p, service_now_ms() + 1000) != 0)
        log_warn("could not queue a kafka message again, will retry");
    rd_kafka_poll(p->rk, timeout_ms);
}

int producer_flush(producer_t *p) {
    long long stop_deadline = 0;
    while (p->outstanding > 0 || p->failed > 0) {
        if (kafka_fatal)
            return TXL_EKAFKA;
        if (!service_running()) {
            if (stop_deadline == 0)
                stop_deadline = service_now_ms() + PRODUCER_STOP_GRACE_MS;
            else if (service_now_ms() > stop_deadline) {
                log_warn("stopping with undelivered kafka messages",
                         LF_U("outstanding", producer_outstanding(p)));
                return TXL_ETIMEOUT;
            }
        }
        /* Re-queue failed records in their original order. */
        if (producer_requeue(p, stop_deadline) != 0)
            return TXL_EKAFKA;
        rd_kafka_flush(p->rk, PRODUCER_POLL_MS);
    }
    return 0;
}

void producer_free(producer_t *p) {
    if (p == NULL)
        return;
    rd_kafka_flush(p->rk, PRODUCER_FREE_FLUSH_MS);
    if (p->outstanding > 0 || p->failed > 0)
        log_warn("kafka messages left undelivered at exit",
                 LF_U("outstanding", producer_outstanding(p)));
    /* rd_kafka_destroy purges what is left and reports it: records freed there. */
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(p->rk, 0);
    rd_kafka_destroy(p->rk);
    while (p->failed_head != NULL) {
        producer_rec_t *r = p->failed_head;
        p->failed_head = r->next;
        producer_rec_free(r);
    }
    free(p->slots);
    free(p);
}
