/*
 * cmd_admin.c - `txlane migrate` and `txlane topics`: set up PostgreSQL and
 * Kafka for the pipeline. Both are idempotent: a second run changes nothing.
 * Configuration comes from the environment like the workers' (see --help).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "txlane/config.h"
#include "txlane/db.h"
#include "txlane/kafka.h"
#include "txlane/log.h"

typedef struct {
    cfg_common_t common;
    char *pg_dsn;
    long long p_requests, p_allocated, p_signed, p_status, p_dlq;
    long long replication;
    long long timeout_ms;
} admin_config_t;

static const cfg_option_t migrate_options[] = {
    CFG_COMMON_OPTIONS(admin_config_t, "0"),
    {"pg_dsn", "TXLANE_PG_DSN", CFG_STR, NULL, 0, 0, offsetof(admin_config_t, pg_dsn),
     CFG_REQUIRED | CFG_SECRET, "PostgreSQL connection string"},
    CFG_END,
};

static const cfg_option_t topics_options[] = {
    CFG_COMMON_OPTIONS(admin_config_t, "0"),
    {"partitions_requests", "TXLANE_PARTITIONS_REQUESTS", CFG_INT, "12", 1, 10000,
     offsetof(admin_config_t, p_requests), 0, "partitions of the requests topic"},
    {"partitions_allocated", "TXLANE_PARTITIONS_ALLOCATED", CFG_INT, "12", 1, 10000,
     offsetof(admin_config_t, p_allocated), 0, "partitions of the allocated topic"},
    {"partitions_signed", "TXLANE_PARTITIONS_SIGNED", CFG_INT, "12", 1, 10000,
     offsetof(admin_config_t, p_signed), 0, "partitions of the signed topic"},
    {"partitions_status", "TXLANE_PARTITIONS_STATUS", CFG_INT, "12", 1, 10000,
     offsetof(admin_config_t, p_status), 0, "partitions of the status topic"},
    {"partitions_dlq", "TXLANE_PARTITIONS_DLQ", CFG_INT, "3", 1, 10000,
     offsetof(admin_config_t, p_dlq), 0, "partitions of the dead-letter topic"},
    {"replication", "TXLANE_TOPIC_REPLICATION", CFG_INT, "-1", -1, 32,
     offsetof(admin_config_t, replication), 0, "replication factor (-1: broker default)"},
    {"timeout_ms", "TXLANE_ADMIN_TIMEOUT_MS", CFG_INT, "30000", 1000, 600000,
     offsetof(admin_config_t, timeout_ms), 0, "how long to wait for the cluster"},
    CFG_END,
};

/* Loads cfg from the environment; returns -1 to go on, else an exit status. */
static int admin_config_load(const char *cmd, const cfg_option_t *table, admin_config_t *cfg,
                             int argc, char **argv) {
    char errstr[512];
    char prog[64];
    snprintf(prog, sizeof(prog), "txlane %s", cmd);
    log_init("txlane", LOG_INFO);
    memset(cfg, 0, sizeof(*cfg));
    int rc = cfg_load(table, cfg, prog, argc, argv, errstr, sizeof(errstr));
    if (rc == 0 && table == topics_options)
        rc = kafka_env_check(errstr, sizeof(errstr));
    if (rc == 1) {
        cfg_free(table, cfg);
        return 0;
    }
    if (rc != 0) {
        cfg_free(table, cfg);
        return ctl_usage_error(cmd, "%s", errstr);
    }
    return -1;
}

int cmd_migrate(int argc, char **argv) {
    admin_config_t cfg;
    int rc = admin_config_load("migrate", migrate_options, &cfg, argc, argv);
    if (rc >= 0)
        return rc;
    char errstr[1024];
    int applied = 0;
    PGconn *conn = db_connect(cfg.pg_dsn, "txlane-migrate", errstr, sizeof(errstr));
    if (conn == NULL) {
        fprintf(stderr, "txlane migrate: %s\n", errstr);
        rc = 1;
    } else if (db_migrate(conn, &applied, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "txlane migrate: %s\n", errstr);
        rc = 1;
    } else {
        printf(applied ? "applied %d migration(s)\n" : "schema up to date (%d applied)\n",
               applied);
        rc = 0;
    }
    PQfinish(conn);
    cfg_free(migrate_options, &cfg);
    return rc;
}

int cmd_topics(int argc, char **argv) {
    admin_config_t cfg;
    int rc = admin_config_load("topics", topics_options, &cfg, argc, argv);
    if (rc >= 0)
        return rc;
    char errstr[512];
    rd_kafka_t *rk = NULL;
    rd_kafka_conf_t *conf = kafka_conf_new("txlane-topics", NULL, errstr, sizeof(errstr));
    if (conf != NULL)
        rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "txlane topics: %s\n", errstr);
        cfg_free(topics_options, &cfg);
        return 2;
    }
    /* The requests topic takes messages up to 2 MiB so that an oversized
     * request reaches the allocator and its DLQ (with a reason) instead of
     * failing at the producer with a broker error only the producer sees. */
    static const char *const requests_configs[] = {"max.message.bytes", "2097152", NULL};
    kafka_topic_spec_t specs[] = {
        {cfg.common.topic_requests, (int)cfg.p_requests, requests_configs},
        {cfg.common.topic_allocated, (int)cfg.p_allocated, NULL},
        {cfg.common.topic_signed, (int)cfg.p_signed, NULL},
        {cfg.common.topic_status, (int)cfg.p_status, NULL},
        {cfg.common.topic_dlq, (int)cfg.p_dlq, NULL},
    };
    size_t n = sizeof(specs) / sizeof(specs[0]);
    int created = 0;
    if (kafka_topics_ensure(rk, specs, n, (int)cfg.replication, (int)cfg.timeout_ms, &created,
                            errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "txlane topics: %s\n", errstr);
        rc = 1;
    } else {
        if (errstr[0] != '\0')
            fprintf(stderr, "txlane topics: warning: %s\n", errstr);
        for (size_t i = 0; i < n; i++)
            printf("%s partitions=%d\n", specs[i].name, specs[i].partitions);
        printf("created %d topic(s), %zu already existed\n", created, n - (size_t)created);
        rc = 0;
    }
    rd_kafka_destroy(rk);
    cfg_free(topics_options, &cfg);
    return rc;
}
