/*
 * health.c - dependency readiness and main-loop liveness (see health.h).
 */
#include "txlane/health.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "txlane/metrics.h"

static const char *const health_dep_names[HEALTH_NDEPS] = {"kafka", "postgres", "node"};
static atomic_int health_required[HEALTH_NDEPS];
static atomic_int health_up[HEALTH_NDEPS];
static atomic_llong health_last_beat;

static long long health_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static metric_t *health_gauge(health_dep_t dep) {
    char labels[64];
    snprintf(labels, sizeof(labels), "dependency=\"%s\"", health_dep_names[dep]);
    return metric_gauge("txlane_dependency_up", labels,
                        "1 when the program's connection to the dependency works");
}

void health_require(health_dep_t dep) {
    atomic_store(&health_required[dep], 1);
    metric_set(health_gauge(dep), atomic_load(&health_up[dep]));
    health_heartbeat();
}

void health_set(health_dep_t dep, int up) {
    atomic_store(&health_up[dep], up ? 1 : 0);
    metric_set(health_gauge(dep), up ? 1 : 0);
}

void health_heartbeat(void) {
    atomic_store(&health_last_beat, health_now());
}

int health_ready(void) {
    /* Not ready before the program has declared what it depends on: /readyz
     * opens before the connections are set up. */
    int required = 0;
    for (int i = 0; i < HEALTH_NDEPS; i++) {
        if (!atomic_load(&health_required[i]))
            continue;
        required = 1;
        if (!atomic_load(&health_up[i]))
            return 0;
    }
    return required;
}

int health_live(int max_silence_s) {
    return health_now() - atomic_load(&health_last_beat) <= max_silence_s;
}

void health_describe(char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < HEALTH_NDEPS && len < size; i++) {
        if (!atomic_load(&health_required[i]))
            continue;
        int n = snprintf(buf + len, size - len, "%s%s=%s", len ? " " : "", health_dep_names[i],
                         atomic_load(&health_up[i]) ? "up" : "down");
        if (n < 0)
            break;
        len += (size_t)n;
    }
}
