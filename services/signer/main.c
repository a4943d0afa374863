/*
 * main.c - txlane-signer: consumes txlane.allocated, signs each transaction
 * with its lane key, produces txlane.signed. Holds the seed; no database and
 * no node access.
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
} signer_config_t;

static const cfg_option_t signer_options[] = {
    CFG_COMMON_OPTIONS(signer_config_t, "9102"),
    {"group", "TXLANE_GROUP", CFG_STR, "txlane-signer", 0, 0, offsetof(signer_config_t, group), 0,
     "Kafka consumer group"},
    CFG_END,
};

int main(int argc, char **argv) {
    signer_config_t cfg;
    service_t svc;
    worker_t w;
    char errstr[512];
    memset(&cfg, 0, sizeof(cfg));
    int rc = service_start(&svc, "signer", "txlane-signer: signs allocated transactions",
                           signer_options, &cfg, &cfg.common, argc, argv);
    if (rc >= 0)
        return rc;
    worker_spec_t spec = {.client_id = "txlane-signer", .group = cfg.group, .pg_dsn = NULL,
                          .rpc_url = NULL};
    rc = worker_open(&w, &spec, errstr, sizeof(errstr));
    if (rc == TXL_ECONFIG) {
        fprintf(stderr, "txlane-signer: invalid configuration: %s\n", errstr);
        worker_close(&w);
        return service_finish(&svc, signer_options, &cfg, 2);
    }
    while (service_running())
        worker_tick(&w, 100);
    worker_close(&w);
    return service_finish(&svc, signer_options, &cfg, 0);
}
