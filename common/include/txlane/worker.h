/*
 * worker.h - the connections a worker program holds: a Kafka consumer in
 * its group, optionally a PostgreSQL connection and a JSON-RPC client, and
 * the readiness checks over them (service.h). Belongs to the main thread.
 */
#ifndef TXLANE_WORKER_H
#define TXLANE_WORKER_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "txlane/rpc.h"
#include "txlane/service.h"

typedef struct {
    const char *client_id; /* e.g. "txlane-signer" */
    const char *group;     /* consumer group */
    const char *pg_dsn;    /* NULL: the program uses no database */
    const char *rpc_url;   /* NULL: the program talks to no node */
    /* Optional consumer rebalance callback (stream_rebalance_cb) and its opaque. */
    void (*rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque);
    void *opaque;
    /* Optional: the client the periodic Kafka check sends its metadata request
     * through, e.g. the program's producer. NULL: the consumer, whose broker
     * connection is often parked in a long-poll fetch that the request has to
     * wait behind (up to fetch.wait.max.ms), stalling the loop meanwhile. */
    rd_kafka_t *ping_client;
} worker_spec_t;

typedef struct {
    rd_kafka_t *consumer;
    PGconn *db;
    rpc_client_t *rpc;
    service_deps_t deps;
} worker_t;

/*
 * Creates the consumer and the RPC client and connects to PostgreSQL,
 * retrying the database every second until it answers or the program is
 * asked to stop. Returns 0, TXL_ECONFIG (errstr set: exit 2) or
 * TXL_ETIMEOUT when stopped while waiting. Release with worker_close().
 */
int worker_open(worker_t *w, const worker_spec_t *spec, char *errstr, size_t errstr_size) TXL_WUR;

/* One turn of an idle loop: readiness checks, heartbeat, and (poll_ms > 0)
 * a consumer poll. Programs that consume with stream.h call it with 0. */
void worker_tick(worker_t *w, int poll_ms);

/* Closes the consumer (leaving the group), the database and the client. */
void worker_close(worker_t *w);

#endif
