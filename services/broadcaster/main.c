/*
 * main.c - txlane-broadcaster: consumes txlane.signed, records each attempt
 * in PostgreSQL (pending) and sends it to the node, per lane in nonce order,
 * at most max_inflight ahead of the chain's mined nonce; marks what the node
 * accepts submitted (DESIGN section 7). See bcast.h for the files.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcast.h"
#include "txlane/kafka.h"
#include "txlane/log.h"
#include "txlane/service.h"
#include "txlane/stream.h"

static const cfg_option_t broadcaster_options[] = {
    CFG_COMMON_OPTIONS(bc_config_t, "9103"),
    {"group", "TXLANE_GROUP", CFG_STR, "txlane-broadcaster", 0, 0, offsetof(bc_config_t, group), 0,
     "Kafka consumer group"},
    {"pg_dsn", "TXLANE_PG_DSN", CFG_STR, NULL, 0, 0, offsetof(bc_config_t, pg_dsn),
     CFG_REQUIRED | CFG_SECRET, "PostgreSQL connection string"},
    {"rpc_url", "TXLANE_RPC_URL", CFG_STR, "http://127.0.0.1:8545", 0, 0,
     offsetof(bc_config_t, rpc_url), 0, "JSON-RPC URL of the EVM node"},
    {"xpub", "TXLANE_XPUB", CFG_STR, NULL, 0, 0, offsetof(bc_config_t, xpub), CFG_REQUIRED,
     "account xpub m/44'/60'/0' of the lanes (txlane xpub)"},
    {"lanes", "TXLANE_LANES", CFG_INT, "64", 1, 1000000, offsetof(bc_config_t, lanes), 0,
     "lanes derived at start-up (others are derived when their messages come)"},
    {"max_inflight", "TXLANE_MAX_INFLIGHT", CFG_INT, "16", 1, 4096,
     offsetof(bc_config_t, max_inflight), 0,
     "per lane, txs sent at most this far ahead of the chain's mined nonce"},
    {"poll_ms", "TXLANE_POLL_MS", CFG_INT, "200", 10, 60000, offsetof(bc_config_t, poll_ms), 0,
     "interval of the mined-nonce reads (one JSON-RPC batch for all lanes)"},
    {"block_poll_ms", "TXLANE_BLOCK_POLL_MS", CFG_INT, "20", 1, 60000,
     offsetof(bc_config_t, block_poll_ms), 0,
     "while a lane's window is full, the chain head is read this often; a new block reads "
     "the mined nonces at once"},
    {"batch_max", "TXLANE_BATCH_MAX", CFG_INT, "500", 1, 100000, offsetof(bc_config_t, batch_max),
     0, "signed messages recorded per PostgreSQL statement"},
    {"linger_ms", "TXLANE_LINGER_MS", CFG_INT, "0", 0, 10000, offsetof(bc_config_t, linger_ms), 0,
     "wait at most this long for a batch of signed messages to fill (0: take what has arrived)"},
    {"rpc_concurrency", "TXLANE_RPC_CONCURRENCY", CFG_INT, "4", 1, 16,
     offsetof(bc_config_t, rpc_concurrency), 0, "JSON-RPC batches in flight at once"},
    {"rpc_batch_max", "TXLANE_RPC_BATCH_MAX", CFG_INT, "200", 1, 1000,
     offsetof(bc_config_t, rpc_batch_max), 0, "calls per JSON-RPC batch"},
    {"retry_min_ms", "TXLANE_RETRY_MIN_MS", CFG_INT, "100", 1, 600000,
     offsetof(bc_config_t, retry_min_ms), 0, "first retry delay of a send (doubles per failure)"},
    {"retry_max_ms", "TXLANE_RETRY_MAX_MS", CFG_INT, "5000", 1, 3600000,
     offsetof(bc_config_t, retry_max_ms), 0, "cap of the retry delay (retries never stop)"},
    {"funds_retry_ms", "TXLANE_FUNDS_RETRY_MS", CFG_INT, "5000", 100, 3600000,
     offsetof(bc_config_t, funds_retry_ms), 0,
     "a lane held for insufficient funds probes its lowest nonce this often"},
    CFG_END,
};

#define BC_WAIT_STEP_MS 100

/* Waits until the signed topic exists and sets the lanes' partitions. */
static int bc_wait_partitions(bc_t *bc, worker_t *w) {
    int logged = 0;
    while (service_running()) {
        int cnt = kafka_topic_partitions(w->consumer, bc->cfg->common.topic_signed, 5000);
        if (cnt > 0) {
            bc->partitions = cnt;
            for (size_t i = 0; i < bc->nlanes; i++) {
                if (bc->lanes[i] != NULL)
                    bc->lanes[i]->partition = bc_lane_partition(bc, bc->lanes[i]);
            }
            return 0;
        }
        if (!logged++)
            log_warn("waiting for the signed topic", LF_S("topic", bc->cfg->common.topic_signed),
                     LF_ERR(cnt));
        for (int i = 0; i < 10 && service_running(); i++)
            worker_tick(w, BC_WAIT_STEP_MS);
    }
    return TXL_ETIMEOUT;
}

/* The lanes PostgreSQL knows must be the xpub's: a different wallet would
 * have the broadcaster send other keys' transactions as ours. */
static int bc_check_lanes(bc_t *bc, char *errstr, size_t errstr_size) {
    char err[512];
    PGresult *res = NULL;
    while (service_running() && (res = bc_store_lanes(bc->w->db, err, sizeof(err))) == NULL) {
        log_warn("waiting for postgresql", LF_S("error", err));
        for (int i = 0; i < 10 && service_running(); i++)
            worker_tick(bc->w, BC_WAIT_STEP_MS);
    }
    if (res == NULL)
        return TXL_ETIMEOUT;
    int rc = 0;
    for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
        long id = strtol(PQgetvalue(res, r, 0), NULL, 10);
        bc_lane_t *lane = bc_lane_get(bc, (uint32_t)id);
        eth_address_t pg_address;
        if (lane == NULL || address_parse(PQgetvalue(res, r, 1), &pg_address) != 0 ||
            !address_equal(&pg_address, &lane->address)) {
            snprintf(errstr, errstr_size,
                     "TXLANE_XPUB: lane %ld is %s in PostgreSQL but %s from the xpub", id,
                     PQgetvalue(res, r, 1), lane != NULL ? lane->address_str : "underivable");
            rc = TXL_ECONFIG;
        }
    }
    PQclear(res);
    return rc;
}

static int bc_config_check(const bc_config_t *cfg, char *errstr, size_t errstr_size) {
    if (cfg->retry_min_ms > cfg->retry_max_ms) {
        snprintf(errstr, errstr_size, "TXLANE_RETRY_MIN_MS: %lld is above TXLANE_RETRY_MAX_MS %lld",
                 cfg->retry_min_ms, cfg->retry_max_ms);
        return TXL_ECONFIG;
    }
    return 0;
}

int main(int argc, char **argv) {
    bc_config_t cfg;
    service_t svc;
    worker_t w;
    bc_t bc;
    char errstr[512];
    memset(&cfg, 0, sizeof(cfg));
    memset(&w, 0, sizeof(w));
    memset(&bc, 0, sizeof(bc));
    int rc = service_start(&svc, BC_PROGRAM,
                           "txlane-broadcaster: sends signed transactions to the node",
                           broadcaster_options, &cfg, &cfg.common, argc, argv);
    if (rc >= 0)
        return rc;
    int exit_code = 0;
    stream_t *stream = NULL;
    bc.cfg = &cfg;
    bc.w = &w;
    jbuf_init(&bc.j);
    bc_metrics_init(&bc.m);
    rc = bc_config_check(&cfg, errstr, sizeof(errstr));
    if (rc == 0)
        rc = bc_lanes_init(&bc, errstr, sizeof(errstr));
    if (rc == 0) {
        bc.producer = producer_new("txlane-broadcaster", errstr, sizeof(errstr));
        rc = bc.producer == NULL ? TXL_ECONFIG : 0;
    }
    if (rc == 0) {
        stream_handlers_t h = {.on_batch = bc_on_batch,
                               .on_assign = bc_on_assign,
                               .on_revoke = bc_on_revoke,
                               .on_idle = bc_on_idle,
                               .ctx = &bc,
                               .batch_max = (size_t)cfg.batch_max,
                               .linger_ms = (int)cfg.linger_ms};
        stream = stream_new(&h);
        worker_spec_t spec = {.client_id = "txlane-broadcaster",
                              .group = cfg.group,
                              .pg_dsn = cfg.pg_dsn,
                              .rpc_url = cfg.rpc_url,
                              .rebalance_cb = stream_rebalance_cb,
                              .opaque = stream,
                              .ping_client = producer_handle(bc.producer)};
        rc = worker_open(&w, &spec, errstr, sizeof(errstr));
    }
    if (rc == 0) {
        /* the send rounds get connections of their own (round.c) */
        bc.send_rpc = rpc_client_new(cfg.rpc_url, BC_SEND_TIMEOUT_MS);
        rc = bc_check_lanes(&bc, errstr, sizeof(errstr));
    }
    if (rc == 0)
        rc = bc_wait_partitions(&bc, &w);
    if (rc == 0)
        rc = stream_subscribe(stream, w.consumer, cfg.common.topic_signed, errstr, sizeof(errstr));
    if (rc == TXL_ECONFIG || rc == TXL_EKAFKA) {
        fprintf(stderr, "txlane-broadcaster: %s: %s\n",
                rc == TXL_ECONFIG ? "invalid configuration" : "could not start", errstr);
        exit_code = rc == TXL_ECONFIG ? 2 : 1;
    } else if (rc == 0) {
        log_info("broadcasting", LF_S("topic", cfg.common.topic_signed),
                 LF_I("partitions", bc.partitions), LF_I("lanes", (long long)bc.nlanes),
                 LF_I("max_inflight", cfg.max_inflight), LF_S("node", cfg.rpc_url));
        while (service_running() && !kafka_fatal)
            stream_poll(stream);
    }
    /* Closing the consumer revokes the partitions (the batch in hand is
     * recorded first, the send round in flight ended); then what the node
     * told us is written, and the status events are delivered. */
    stream_close(stream);
    if (bc.send_rpc != NULL)
        bc_round_drain(&bc);
    if (rc == 0 && bc_flush(&bc) != 0)
        log_warn("node answers left unrecorded at exit (the next owner re-sends and records them)");
    if (bc.producer != NULL && producer_flush(bc.producer) != 0)
        log_warn("status events left undelivered at exit");
    producer_free(bc.producer);
    worker_close(&w);
    rpc_client_free(bc.send_rpc);
    bc_notes_free(&bc.to_submit);
    bc_notes_free(&bc.to_result);
    bc_notes_free(&bc.to_low);
    bc_lanes_free(&bc);
    hd_node_wipe(&bc.chain);
    jbuf_free(&bc.j);
    return service_finish(&svc, broadcaster_options, &cfg, exit_code);
}
