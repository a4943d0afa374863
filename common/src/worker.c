/*
 * worker.c - the connections of a worker program (see worker.h).
 */
#include "txlane/worker.h"

#include <string.h>

#include "txlane/db.h"
#include "txlane/health.h"
#include "txlane/kafka.h"
#include "txlane/log.h"

#define WORKER_DEPS_INTERVAL_MS 2000
#define WORKER_RPC_TIMEOUT_MS 5000

int worker_open(worker_t *w, const worker_spec_t *spec, char *errstr, size_t errstr_size) {
    memset(w, 0, sizeof(*w));
    health_require(HEALTH_KAFKA);
    /* Offsets are stored and committed by stream.h only after the effects are
     * durable; a new group starts from the beginning of the topic. */
    const char *defaults[] = {"group.id", spec->group,
                              "enable.auto.offset.store", "false",
                              "enable.auto.commit", "false",
                              "auto.offset.reset", "earliest",
                              "partition.assignment.strategy", "cooperative-sticky",
                              /* a dead worker's partitions move after 10 s, not
                               * librdkafka's 45; a joining one is noticed within 1 s */
                              "session.timeout.ms", "10000",
                              "heartbeat.interval.ms", "1000",
                              NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(spec->client_id, defaults, errstr, errstr_size);
    if (conf == NULL)
        return TXL_ECONFIG;
    if (spec->rebalance_cb != NULL) {
        rd_kafka_conf_set_rebalance_cb(conf, spec->rebalance_cb);
        rd_kafka_conf_set_opaque(conf, spec->opaque);
    }
    w->consumer = kafka_client_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (w->consumer == NULL)
        return TXL_ECONFIG;
    w->deps.rk = spec->ping_client != NULL ? spec->ping_client : w->consumer;
    if (spec->rpc_url != NULL) {
        w->rpc = rpc_client_new(spec->rpc_url, WORKER_RPC_TIMEOUT_MS);
        w->deps.rpc = w->rpc;
    }
    if (spec->pg_dsn == NULL)
        return 0;
    health_require(HEALTH_POSTGRES);
    while (service_running()) {
        w->db = db_connect(spec->pg_dsn, spec->client_id, errstr, errstr_size);
        if (w->db != NULL) {
            w->deps.db = w->db;
            health_set(HEALTH_POSTGRES, 1);
            return 0;
        }
        log_warn("waiting for postgresql", LF_S("error", errstr));
        for (int i = 0; i < 10 && service_running(); i++)
            worker_tick(w, 100);
    }
    return TXL_ETIMEOUT;
}

void worker_tick(worker_t *w, int poll_ms) {
    service_deps_check(&w->deps, WORKER_DEPS_INTERVAL_MS);
    health_heartbeat();
    if (poll_ms > 0)
        rd_kafka_poll(w->consumer, poll_ms);
}

void worker_close(worker_t *w) {
    if (w->consumer != NULL) {
        if (!rd_kafka_consumer_closed(w->consumer))
            rd_kafka_consumer_close(w->consumer);
        rd_kafka_destroy(w->consumer);
    }
    rpc_client_free(w->rpc);
    if (w->db != NULL)
        PQfinish(w->db);
    memset(w, 0, sizeof(*w));
}
