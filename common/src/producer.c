/*
 * producer.c - delivery-tracked Kafka producer (see producer.h).
 *
 * Each queued message is a producer_rec_t that owns its topic, key and value
 * until the delivery report arrives; librdkafka references those buffers
 * (no copy). A successful report frees the record; a failed one moves it to
 * the retry list that producer_flush() sends again. Single-threaded: the
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
} producer_rec_t;

struct producer {
    rd_kafka_t *rk;
    size_t outstanding; /* queued in librdkafka, report not yet seen */
    producer_rec_t *failed_head, *failed_tail;
    size_t failed;
    metric_t *m_sent, *m_failed;
};

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
    int rc = producer_enqueue(p, r, 0);
    if (rc != 0)
        producer_rec_free(r);
    return rc;
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
        while (p->failed_head != NULL) {
            producer_rec_t *r = p->failed_head;
            p->failed_head = r->next;
            if (p->failed_head == NULL)
                p->failed_tail = NULL;
            p->failed--;
            r->next = NULL;
            if (producer_enqueue(p, r, stop_deadline) != 0) {
                producer_rec_free(r);
                return TXL_EKAFKA;
            }
        }
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
    free(p);
}
