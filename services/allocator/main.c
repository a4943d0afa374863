/*
 * main.c - txlane-allocator: consumes txlane.requests, validates each payout
 * request, reserves a (lane, nonce) durably in PostgreSQL and produces
 * txlane.allocated. Knows lanes by address only (xpub); never a key.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "txlane/config.h"
#include "txlane/db.h"
#include "txlane/health.h"
#include "txlane/kafka.h"
#include "txlane/log.h"
#include "txlane/rpc.h"
#include "txlane/service.h"

typedef struct {
    cfg_common_t common;
    char *group;
    char *pg_dsn;
    char *rpc_url;
} allocator_config_t;

static const cfg_option_t allocator_options[] = {
    CFG_COMMON_OPTIONS(allocator_config_t, "9101"),
    {"group", "TXLANE_GROUP", CFG_STR, "txlane-allocator", 0, 0, offsetof(allocator_config_t, group), 0,
     "Kafka consumer group"},
    {"pg_dsn", "TXLANE_PG_DSN", CFG_STR, NULL, 0, 0, offsetof(allocator_config_t, pg_dsn),
     CFG_REQUIRED | CFG_SECRET, "PostgreSQL connection string"},
    {"rpc_url", "TXLANE_RPC_URL", CFG_STR, "http://127.0.0.1:8545", 0, 0,
     offsetof(allocator_config_t, rpc_url), 0, "JSON-RPC URL of the EVM node"},
    CFG_END,
};

int main(int argc, char **argv) {
    allocator_config_t cfg;
    service_t svc;
    char errstr[512];
    memset(&cfg, 0, sizeof(cfg));
    int rc = service_start(&svc, "allocator", "txlane-allocator: allocates lanes and nonces to payout requests",
                           allocator_options, &cfg, &cfg.common, argc, argv);
    if (rc >= 0)
        return rc;

    health_require(HEALTH_KAFKA);
    const char *defaults[] = {"group.id", cfg.group, "enable.auto.offset.store", "false", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new("txlane-allocator", defaults, errstr, sizeof(errstr));
    rd_kafka_t *rk = conf != NULL ? kafka_client_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr))
                                  : NULL;
    if (rk == NULL) {
        fprintf(stderr, "txlane-allocator: %s\n", errstr);
        return service_finish(&svc, allocator_options, &cfg, 2);
    }
    health_require(HEALTH_POSTGRES);
    PGconn *db = NULL;
    while (service_running() && (db = db_connect(cfg.pg_dsn, "txlane-allocator", errstr,
                                                  sizeof(errstr))) == NULL) {
        log_warn("waiting for postgresql", LF_S("error", errstr));
        health_heartbeat();
        for (int i = 0; i < 10 && service_running(); i++)
            rd_kafka_poll(rk, 100);
    }
    rpc_client_t *rpc = rpc_client_new(cfg.rpc_url, 5000);
    service_deps_t deps = {.rk = rk, .db = db, .rpc = rpc};
    while (service_running()) {
        service_deps_check(&deps, 2000);
        health_heartbeat();
        rd_kafka_poll(rk, 100);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    rpc_client_free(rpc);
    PQfinish(db);
    return service_finish(&svc, allocator_options, &cfg, 0);
}
