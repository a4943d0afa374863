/*
 * kafka.h - librdkafka set-up shared by every program.
 *
 * Configuration: kafka_conf_new() applies every KAFKA_<PROPERTY> environment
 * variable (KAFKA_BOOTSTRAP_SERVERS -> bootstrap.servers) on top of the
 * program's defaults, so operators can set any librdkafka property; an
 * unknown property or bad value is a configuration error naming the variable.
 * The error callback logs, tracks broker reachability in health.h, and raises
 * kafka_fatal on ERR__FATAL (the program must then exit non-zero).
 *
 * Admin: kafka_topics_ensure() creates topics idempotently.
 */
#ifndef TXLANE_KAFKA_H
#define TXLANE_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>

#include "txlane/err.h"

/* Set when librdkafka reports a fatal error; the program exits non-zero. */
extern volatile sig_atomic_t kafka_fatal;

/*
 * Returns a new configuration with client.id, the error callback and every
 * KAFKA_* variable applied. defaults (NULL-terminated name/value pairs) go
 * first so the environment can override them. On error returns NULL with
 * errstr set. The caller owns the result (rd_kafka_conf_destroy, or hand it to
 * rd_kafka_new which takes it on success).
 */
rd_kafka_conf_t *kafka_conf_new(const char *client_id, const char *const *defaults, char *errstr,
                                size_t errstr_size);

/* Checks that every KAFKA_* variable names a valid librdkafka property. */
int kafka_env_check(char *errstr, size_t errstr_size) TXL_WUR;

/* rd_kafka_new that logs and returns NULL on failure; takes conf in all cases. */
rd_kafka_t *kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr,
                             size_t errstr_size);

/* Asks the cluster for broker metadata; updates health. 0 if reachable. */
int kafka_ping(rd_kafka_t *rk, int timeout_ms) TXL_WUR;

typedef struct {
    const char *name;
    int partitions;
    const char *const *configs; /* NULL, or NULL-terminated name/value pairs */
} kafka_topic_spec_t;

/*
 * Creates the topics that do not exist yet (replication factor rf, -1 for the
 * broker default). Existing topics are left as they are; one with fewer
 * partitions than asked is reported in errstr as a warning (returns 0).
 * *created receives how many were created.
 */
int kafka_topics_ensure(rd_kafka_t *rk, const kafka_topic_spec_t *specs, size_t n, int rf,
                        int timeout_ms, int *created, char *errstr, size_t errstr_size) TXL_WUR;

/* Number of partitions of topic, or a negative error. */
int kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms) TXL_WUR;

#endif
