/*
 * health.h - liveness and readiness of a program, served on /healthz and /readyz.
 *
 * A program declares the dependencies it needs (kafka, postgres, node) with
 * health_require() at start-up and reports each one's state with
 * health_set() as it learns it; it is ready when every required dependency is
 * up. The main loop calls health_heartbeat() each turn; the program is live
 * while the last heartbeat is recent. Each dependency is also exported as the
 * gauge txlane_dependency_up{dependency="..."}. Thread-safe.
 */
#ifndef TXLANE_HEALTH_H
#define TXLANE_HEALTH_H

#include <stddef.h>

typedef enum { HEALTH_KAFKA = 0, HEALTH_POSTGRES, HEALTH_NODE, HEALTH_NDEPS } health_dep_t;

void health_require(health_dep_t dep);
void health_set(health_dep_t dep, int up);
void health_heartbeat(void);

/* 1 once at least one dependency is required and every required one is up. */
int health_ready(void);
/* live: the main loop turned within max_silence_s seconds */
int health_live(int max_silence_s);
/* Writes "kafka=up postgres=down ..." of the required dependencies into buf. */
void health_describe(char *buf, size_t size);

#endif
