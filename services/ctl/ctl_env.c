/*
 * ctl_env.c - what the commands that reach PostgreSQL, Kafka or the node
 * share: their environment settings (one table per command, rows from
 * ctl.h), --help with the command's own usage, the database connection and
 * integer arguments. See ctl.h.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "txlane/db.h"
#include "txlane/kafka.h"
#include "txlane/log.h"

int ctl_env_load(const char *cmd, const cfg_option_t *table, ctl_env_t *env, int with_kafka) {
    char errstr[512];
    char prog[64];
    char *argv0[] = {prog, NULL};
    snprintf(prog, sizeof(prog), "txlane %s", cmd);
    memset(env, 0, sizeof(*env));
    log_init("txlane", LOG_INFO);
    int rc = cfg_load(table, env, prog, 1, argv0, errstr, sizeof(errstr));
    if (rc == 0 && with_kafka)
        rc = kafka_env_check(errstr, sizeof(errstr));
    if (rc != 0)
        return ctl_usage_error(cmd, "%s", errstr);
    if (env->log_level != NULL) {
        log_level_t level;
        if (log_level_parse(env->log_level, &level) != 0)
            return ctl_usage_error(cmd, "TXLANE_LOG_LEVEL: expected debug, info, warn or error");
        log_level_set(level);
    }
    return -1;
}

void ctl_env_free(const cfg_option_t *table, ctl_env_t *env) {
    cfg_free(table, env);
}

int ctl_help(const char *usage, const cfg_option_t *table) {
    fputs(usage, stdout);
    fputc('\n', stdout);
    cfg_print_env(stdout, table);
    return 0;
}

PGconn *ctl_db_connect(const char *cmd, const ctl_env_t *env) {
    char errstr[1024];
    PGconn *conn = db_connect(env->pg_dsn, "txlane-cli", errstr, sizeof(errstr));
    if (conn == NULL)
        fprintf(stderr, "txlane %s: %s\n", cmd, errstr);
    return conn;
}

int ctl_parse_ll(const char *s, long long min, long long max, long long *out) {
    const char *p = s;
    if (*p == '-' && min < 0)
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    for (const char *q = p; *q != '\0'; q++) {
        if (*q < '0' || *q > '9')
            return -1;
    }
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
