/*
 * main.c - txlane-watcher: follows the chain, confirms transactions and
 * repairs lanes (stuck, dropped, gaps, reorgs, funds). One active leader.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "txlane/config.h"
#include "txlane/service.h"
#include "txlane/worker.h"

typedef struct {
    cfg_common_t common;
    char *group;
    char *pg_dsn;
    char *rpc_url;
} watcher_config_t;

static const cfg_option_t watcher_options[] = {
    CFG_COMMON_OPTIONS(watcher_config_t, "9104"),
    {"group", "TXLANE_GROUP", CFG_STR, "txlane-watcher", 0, 0, offsetof(watcher_config_t, group), 0,
     "Kafka consumer group"},
    {"pg_dsn", "TXLANE_PG_DSN", CFG_STR, NULL, 0, 0, offsetof(watcher_config_t, pg_dsn),
     CFG_REQUIRED | CFG_SECRET, "PostgreSQL connection string"},
    {"rpc_url", "TXLANE_RPC_URL", CFG_STR, "http://127.0.0.1:8545", 0, 0,
     offsetof(watcher_config_t, rpc_url), 0, "JSON-RPC URL of the EVM node"},
    CFG_END,
};

int main(int argc, char **argv) {
    watcher_config_t cfg;
    service_t svc;
    worker_t w;
    char errstr[512];
    memset(&cfg, 0, sizeof(cfg));
    int rc = service_start(&svc, "watcher", "txlane-watcher: confirms transactions and repairs lanes",
                           watcher_options, &cfg, &cfg.common, argc, argv);
    if (rc >= 0)
        return rc;
    worker_spec_t spec = {.client_id = "txlane-watcher", .group = cfg.group, .pg_dsn = cfg.pg_dsn,
                          .rpc_url = cfg.rpc_url};
    rc = worker_open(&w, &spec, errstr, sizeof(errstr));
    if (rc == TXL_ECONFIG) {
        fprintf(stderr, "txlane-watcher: invalid configuration: %s\n", errstr);
        worker_close(&w);
        return service_finish(&svc, watcher_options, &cfg, 2);
    }
    while (service_running())
        worker_tick(&w, 100);
    worker_close(&w);
    return service_finish(&svc, watcher_options, &cfg, 0);
}
