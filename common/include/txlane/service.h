/*
 * service.h - what every worker program does around its loop: configuration,
 * logging, signals, the HTTP endpoint, and the exit status rules.
 *
 *   rc = service_start(&svc, "allocator", summary, table, &cfg, &cfg.common, argc, argv);
 *   if (rc >= 0) return rc;           // --help/--version (0) or bad config (2)
 *   while (service_running()) { ...; health_heartbeat(); }
 *   return service_finish(&svc, table, &cfg, exit_code);
 *
 * SIGTERM and SIGINT ask the loop to stop (finish the batch, flush, commit,
 * close); a second signal exits at once with status 1.
 */
#ifndef TXLANE_SERVICE_H
#define TXLANE_SERVICE_H

#include "txlane/config.h"
#include "txlane/http.h"

typedef struct {
    const char *program;
    http_server_t *http;
} service_t;

/* Returns -1 when the program should run, else the exit status to return:
 * 0 after --help/--version, 2 for invalid configuration (one line on stderr). */
int service_start(service_t *svc, const char *program, const char *summary,
                  const cfg_option_t *table, void *cfg, const cfg_common_t *common, int argc,
                  char **argv);

/* 1 until SIGTERM/SIGINT arrived or a fatal Kafka error was reported. */
int service_running(void);
/* Asks the loop to stop (as a signal would). */
void service_stop(void);

/* Stops the HTTP endpoint, frees the configuration, logs the exit and returns
 * exit_code (non-zero after a fatal Kafka error). */
int service_finish(service_t *svc, const cfg_option_t *table, void *cfg, int exit_code);

/*
 * The connections a program watches for readiness. service_deps_check()
 * pings each non-NULL one at most every interval_ms (Kafka metadata,
 * SELECT 1, eth_chainId) and updates health.h; call it from the main loop.
 */
typedef struct {
    struct rd_kafka_s *rk;
    struct pg_conn *db;
    struct rpc_client *rpc;
    long long next_check_ms;
} service_deps_t;

void service_deps_check(service_deps_t *deps, long long interval_ms);

/* Milliseconds of CLOCK_MONOTONIC; for timing loops and latencies. */
long long service_now_ms(void);

#endif
