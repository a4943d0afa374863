/*
 * main.c - txlane-signer: consumes txlane.allocated, signs each transaction
 * with its lane key, produces txlane.signed. Holds the seed; no database and
 * no node access.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "txlane/config.h"
#include "txlane/health.h"
#include "txlane/kafka.h"
#include "txlane/log.h"
#include "txlane/service.h"

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
    char errstr[512];
    memset(&cfg, 0, sizeof(cfg));
    int rc = service_start(&svc, "signer", "txlane-signer: signs allocated transactions",
                           signer_options, &cfg, &cfg.common, argc, argv);
    if (rc >= 0)
        return rc;

    health_require(HEALTH_KAFKA);
    const char *defaults[] = {"group.id", cfg.group, "enable.auto.offset.store", "false", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new("txlane-signer", defaults, errstr, sizeof(errstr));
    rd_kafka_t *rk = conf != NULL ? kafka_client_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr))
                                  : NULL;
    if (rk == NULL) {
        fprintf(stderr, "txlane-signer: %s\n", errstr);
        return service_finish(&svc, signer_options, &cfg, 2);
    }
    service_deps_t deps = {.rk = rk};
    while (service_running()) {
        service_deps_check(&deps, 2000);
        health_heartbeat();
        rd_kafka_poll(rk, 100);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return service_finish(&svc, signer_options, &cfg, 0);
}
