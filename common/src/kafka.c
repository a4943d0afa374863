/*
 * kafka.c - librdkafka configuration from the environment, error handling,
 * reachability checks and topic administration (see kafka.h).
 */
#include "txlane/kafka.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/health.h"
#include "txlane/log.h"
#include "txlane/xmalloc.h"

extern char **environ;

volatile sig_atomic_t kafka_fatal = 0;

/* Variables that Kafka's own scripts and images use; they are not client properties. */
static const char *const kafka_env_ignored[] = {
    "KAFKA_HEAP_OPTS", "KAFKA_OPTS",      "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_LOG4J_OPTS",
    "KAFKA_JMX_OPTS",  "KAFKA_GC_LOG_OPTS", "KAFKA_HOME",              "KAFKA_DEBUG",
    "KAFKA_LOG_DIR",   NULL,
};

static int kafka_env_is_ignored(const char *name, size_t len) {
    for (const char *const *p = kafka_env_ignored; *p != NULL; p++) {
        if (strlen(*p) == len && strncmp(*p, name, len) == 0)
            return 1;
    }
    return 0;
}

/* Applies KAFKA_* variables to conf. */
static int kafka_conf_apply_env(rd_kafka_conf_t *conf, char *errstr, size_t errstr_size) {
    for (char **e = environ; *e != NULL; e++) {
        if (strncmp(*e, "KAFKA_", 6) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (eq == NULL || kafka_env_is_ignored(*e, (size_t)(eq - *e)))
            continue;
        size_t plen = (size_t)(eq - *e) - 6;
        if (plen == 0)
            continue;
        char *prop = xstrndup(*e + 6, plen);
        for (char *c = prop; *c != '\0'; c++)
            *c = *c == '_' ? '.' : (char)tolower((unsigned char)*c);
        char rderr[256];
        if (rd_kafka_conf_set(conf, prop, eq + 1, rderr, sizeof(rderr)) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "%.*s: %s", (int)(eq - *e), *e, rderr);
            free(prop);
            return TXL_ECONFIG;
        }
        free(prop);
    }
    return 0;
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        log_fatal("kafka fatal error", LF_S("error", fatal), LF_S("code", rd_kafka_err2name(orig)));
        kafka_fatal = 1;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        health_set(HEALTH_KAFKA, 0);
        log_warn("all kafka brokers are down", LF_S("reason", reason));
        return;
    }
    log_warn("kafka error", LF_S("code", rd_kafka_err2name(err)), LF_S("reason", reason));
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    /* KAFKA_* settings are shared by producers and consumers: a property that
     * does not apply to this client type is expected, not a warning. */
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "will be ignored by this") != NULL)
        level = 7;
    if (level <= 3)
        log_error("librdkafka", LF_S("facility", fac), LF_S("detail", buf));
    else if (level <= 4)
        log_warn("librdkafka", LF_S("facility", fac), LF_S("detail", buf));
    else
        log_debug("librdkafka", LF_S("facility", fac), LF_S("detail", buf));
}

rd_kafka_conf_t *kafka_conf_new(const char *client_id, const char *const *defaults, char *errstr,
                                size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char rderr[256];
    if (rd_kafka_conf_set(conf, "client.id", client_id, rderr, sizeof(rderr)) != RD_KAFKA_CONF_OK)
        goto fail_rd;
    for (const char *const *d = defaults; d != NULL && d[0] != NULL; d += 2) {
        if (rd_kafka_conf_set(conf, d[0], d[1], rderr, sizeof(rderr)) != RD_KAFKA_CONF_OK)
            goto fail_rd;
    }
    if (kafka_conf_apply_env(conf, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    return conf;

fail_rd:
    snprintf(errstr, errstr_size, "kafka configuration: %s", rderr);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int kafka_env_check(char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = kafka_conf_apply_env(conf, errstr, errstr_size);
    rd_kafka_conf_destroy(conf);
    return rc;
}

rd_kafka_t *kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr,
                             size_t errstr_size) {
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, errstr_size);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return rk;
}

int kafka_ping(rd_kafka_t *rk, int timeout_ms) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->broker_cnt == 0) {
        if (md != NULL)
            rd_kafka_metadata_destroy(md);
        health_set(HEALTH_KAFKA, 0);
        return TXL_EKAFKA;
    }
    rd_kafka_metadata_destroy(md);
    health_set(HEALTH_KAFKA, 1);
    return 0;
}

int kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int rc = TXL_EKAFKA;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
        if (md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = md->topics[0].partition_cnt;
        else if (md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            rc = TXL_ENOTFOUND;
    }
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

int kafka_topics_ensure(rd_kafka_t *rk, const kafka_topic_spec_t *specs, size_t n, int rf,
                        int timeout_ms, int *created, char *errstr, size_t errstr_size) {
    rd_kafka_NewTopic_t **topics = xcalloc(n, sizeof(*topics));
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_event_t *ev = NULL;
    int rc = TXL_EKAFKA;
    char rderr[256];

    *created = 0;
    errstr[0] = '\0';
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, rderr, sizeof(rderr));
    for (size_t i = 0; i < n; i++) {
        topics[i] = rd_kafka_NewTopic_new(specs[i].name, specs[i].partitions, rf, rderr,
                                          sizeof(rderr));
        if (topics[i] == NULL) {
            snprintf(errstr, errstr_size, "topic %s: %s", specs[i].name, rderr);
            rc = TXL_EINVAL;
            goto cleanup;
        }
        for (const char *const *c = specs[i].configs; c != NULL && c[0] != NULL; c += 2) {
            if (rd_kafka_NewTopic_set_config(topics[i], c[0], c[1]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(errstr, errstr_size, "topic %s: bad config %s", specs[i].name, c[0]);
                rc = TXL_EINVAL;
                goto cleanup;
            }
        }
    }
    rd_kafka_CreateTopics(rk, topics, n, opts, queue);
    ev = rd_kafka_queue_poll(queue, timeout_ms + 2000);
    if (ev == NULL) {
        snprintf(errstr, errstr_size, "no answer from the kafka cluster within %d ms",
                 timeout_ms + 2000);
        rc = TXL_ETIMEOUT;
        goto cleanup;
    }
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size, "create topics: %s", rd_kafka_event_error_string(ev));
        goto cleanup;
    }
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t cnt = 0;
    const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(res, &cnt);
    rc = 0;
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
        const char *name = rd_kafka_topic_result_name(results[i]);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            (*created)++;
        } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            snprintf(errstr, errstr_size, "topic %s: %s", name,
                     rd_kafka_topic_result_error_string(results[i]));
            rc = TXL_EKAFKA;
            goto cleanup;
        }
    }
    /* existing topics: report those with fewer partitions than asked */
    for (size_t i = 0; i < n; i++) {
        int have = kafka_topic_partitions(rk, specs[i].name, timeout_ms);
        if (have >= 0 && have < specs[i].partitions) {
            snprintf(errstr, errstr_size, "topic %s exists with %d partitions (%d configured)",
                     specs[i].name, have, specs[i].partitions);
        }
    }

cleanup:
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    for (size_t i = 0; i < n; i++) {
        if (topics[i] != NULL)
            rd_kafka_NewTopic_destroy(topics[i]);
    }
    free(topics);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(queue);
    return rc;
}
