/*
 * metrics.h - a process-wide registry of Prometheus metrics.
 *
 * Metrics are created once (usually at start-up) and updated from any thread;
 * metrics_render() writes the Prometheus text exposition format, including
 * process metrics (resident memory, cpu seconds, start time, open fds) and
 * txlane_build_info. A metric is identified by name + label set; asking for an
 * existing one returns the same pointer. Metrics live until process exit.
 *
 * labels is the inside of {...} already formatted, e.g. "lane=\"3\"", or NULL.
 */
#ifndef TXLANE_METRICS_H
#define TXLANE_METRICS_H

#include <stddef.h>

typedef struct metric metric_t;

metric_t *metric_counter(const char *name, const char *labels, const char *help);
metric_t *metric_gauge(const char *name, const char *labels, const char *help);
/* bounds: ascending upper bounds of the buckets (+Inf is implicit). */
metric_t *metric_histogram(const char *name, const char *labels, const char *help,
                           const double *bounds, size_t nbounds);

void metric_inc(metric_t *m);
void metric_add(metric_t *m, double v);
void metric_set(metric_t *m, double v);
void metric_observe(metric_t *m, double v);
double metric_value(const metric_t *m);

/* Sets the program label of txlane_build_info. Call once at start-up. */
void metrics_init(const char *program);

/* Renders every metric; the caller frees the returned string. */
char *metrics_render(void);

/* Latency buckets in seconds, from 1 ms to 60 s. */
extern const double metrics_latency_bounds[];
extern const size_t metrics_latency_nbounds;

#endif
