/*
 * service.c - start-up and shutdown shared by the worker programs (see service.h).
 *
 * Signal handlers only set a sig_atomic_t flag; the loops poll it at least
 * every 100 ms, so a stop request is honoured well within the 5 s budget.
 */
#include "txlane/service.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "txlane/db.h"
#include "txlane/health.h"
#include "txlane/kafka.h"
#include "txlane/log.h"
#include "txlane/metrics.h"
#include "txlane/rpc.h"

static volatile sig_atomic_t service_stop_requested = 0;

static void service_on_signal(int sig) {
    (void)sig;
    if (service_stop_requested)
        _exit(1);
    service_stop_requested = 1;
}

int service_running(void) {
    return !service_stop_requested && !kafka_fatal;
}

void service_stop(void) {
    service_stop_requested = 1;
}

long long service_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int service_start(service_t *svc, const char *program, const char *summary,
                  const cfg_option_t *table, void *cfg, const cfg_common_t *common, int argc,
                  char **argv) {
    char errstr[512];
    memset(svc, 0, sizeof(*svc));
    svc->program = program;
    log_init(program, LOG_INFO);
    metrics_init(program);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cfg_print_help(stdout, table, argv[0], summary);
            return 0;
        }
    }
    int rc = cfg_load(table, cfg, argv[0], argc, argv, errstr, sizeof(errstr));
    if (rc == 0)
        rc = kafka_env_check(errstr, sizeof(errstr));
    if (rc == 1) {
        cfg_free(table, cfg);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: invalid configuration: %s\n", argv[0], errstr);
        cfg_free(table, cfg);
        return 2;
    }
    log_level_t level;
    if (log_level_parse(common->log_level, &level) != 0) {
        fprintf(stderr, "%s: invalid configuration: TXLANE_LOG_LEVEL: must be debug, info, "
                        "warn or error, got '%s'\n",
                argv[0], common->log_level);
        cfg_free(table, cfg);
        return 2;
    }
    log_level_set(level);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = service_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    health_heartbeat();
    if (common->http_port > 0) {
        svc->http = http_start(common->http_bind, (int)common->http_port, errstr, sizeof(errstr));
        if (svc->http == NULL) {
            fprintf(stderr, "%s: TXLANE_HTTP_PORT: %s\n", argv[0], errstr);
            cfg_free(table, cfg);
            return 2;
        }
    }
    log_info("starting", LF_S("version", TXLANE_VERSION), LF_I("http_port", common->http_port));
    return -1;
}

int service_finish(service_t *svc, const cfg_option_t *table, void *cfg, int exit_code) {
    http_stop(svc->http);
    svc->http = NULL;
    cfg_free(table, cfg);
    if (kafka_fatal && exit_code == 0)
        exit_code = 1;
    log_info("stopped", LF_I("exit_code", exit_code));
    return exit_code;
}

void service_deps_check(service_deps_t *deps, long long interval_ms) {
    long long now = service_now_ms();
    if (now < deps->next_check_ms)
        return;
    deps->next_check_ms = now + interval_ms;
    if (deps->rk != NULL && kafka_ping(deps->rk, 1000) != 0)
        log_warn("kafka unreachable", LF_S("detail", "broker metadata request failed"));
    if (deps->db != NULL && db_ping(deps->db) != 0)
        log_warn("postgresql unreachable", LF_S("detail", PQerrorMessage(deps->db)));
    if (deps->rpc != NULL) {
        unsigned long long chain_id;
        char errstr[256];
        if (rpc_chain_id(deps->rpc, &chain_id, errstr, sizeof(errstr)) != 0)
            log_warn("node unreachable", LF_S("detail", errstr));
    }
}
