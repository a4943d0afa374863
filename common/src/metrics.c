/*
 * metrics.c - Prometheus metrics registry and text rendering (see metrics.h).
 *
 * All metrics sit in one linked list guarded by one mutex; updates are a
 * mutex-protected add, cheap next to the I/O every hot path does. Rendering
 * groups series by name so HELP/TYPE appear once per family.
 */
#include "txlane/metrics.h"

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "txlane/xmalloc.h"

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type_t;

struct metric {
    struct metric *next;
    char *name;
    char *labels;
    char *help;
    metric_type_t type;
    double value; /* counter/gauge value; histogram sum */
    double *bounds;
    unsigned long long *buckets; /* nbounds + 1 (the last is +Inf) */
    size_t nbounds;
    unsigned long long count;
};

const double metrics_latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
const size_t metrics_latency_nbounds = sizeof(metrics_latency_bounds) / sizeof(double);

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static metric_t *metrics_head = NULL;
static metric_t *metrics_tail = NULL;
static const char *metrics_program = "txlane";
static double metrics_start_time = 0;

void metrics_init(const char *program) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    metrics_program = program;
    metrics_start_time = (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int metric_same_labels(const char *a, const char *b) {
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static metric_t *metric_get(const char *name, const char *labels, const char *help,
                            metric_type_t type, const double *bounds, size_t nbounds) {
    pthread_mutex_lock(&metrics_lock);
    for (metric_t *m = metrics_head; m != NULL; m = m->next) {
        if (strcmp(m->name, name) == 0 && metric_same_labels(m->labels, labels)) {
            pthread_mutex_unlock(&metrics_lock);
            return m;
        }
    }
    metric_t *m = xcalloc(1, sizeof(*m));
    m->name = xstrdup(name);
    m->labels = labels != NULL ? xstrdup(labels) : NULL;
    m->help = xstrdup(help);
    m->type = type;
    if (type == METRIC_HISTOGRAM) {
        m->nbounds = nbounds;
        m->bounds = xmalloc(nbounds * sizeof(double));
        memcpy(m->bounds, bounds, nbounds * sizeof(double));
        m->buckets = xcalloc(nbounds + 1, sizeof(unsigned long long));
    }
    if (metrics_tail == NULL)
        metrics_head = m;
    else
        metrics_tail->next = m;
    metrics_tail = m;
    pthread_mutex_unlock(&metrics_lock);
    return m;
}

metric_t *metric_counter(const char *name, const char *labels, const char *help) {
    return metric_get(name, labels, help, METRIC_COUNTER, NULL, 0);
}

metric_t *metric_gauge(const char *name, const char *labels, const char *help) {
    return metric_get(name, labels, help, METRIC_GAUGE, NULL, 0);
}

metric_t *metric_histogram(const char *name, const char *labels, const char *help,
                           const double *bounds, size_t nbounds) {
    return metric_get(name, labels, help, METRIC_HISTOGRAM, bounds, nbounds);
}

void metric_inc(metric_t *m) {
    metric_add(m, 1);
}

void metric_add(metric_t *m, double v) {
    pthread_mutex_lock(&metrics_lock);
    m->value += v;
    pthread_mutex_unlock(&metrics_lock);
}

void metric_set(metric_t *m, double v) {
    pthread_mutex_lock(&metrics_lock);
    m->value = v;
    pthread_mutex_unlock(&metrics_lock);
}

void metric_observe(metric_t *m, double v) {
    pthread_mutex_lock(&metrics_lock);
    size_t i = 0;
    while (i < m->nbounds && v > m->bounds[i])
        i++;
    m->buckets[i]++;
    m->count++;
    m->value += v;
    pthread_mutex_unlock(&metrics_lock);
}

double metric_value(const metric_t *m) {
    pthread_mutex_lock(&metrics_lock);
    double v = m->value;
    pthread_mutex_unlock(&metrics_lock);
    return v;
}

typedef struct {
    char *buf;
    size_t len, cap;
} metrics_buf_t;

static void mb_printf(metrics_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));


static void mb_printf(metrics_buf_t *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0) + 64;
        b->buf = xrealloc(b->buf, b->cap);
    }
}

static void metrics_render_process(metrics_buf_t *b) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    long pages_resident = 0, pages_total = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2)
            pages_total = pages_resident = 0;
        fclose(f);
    }
    long page = sysconf(_SC_PAGESIZE);
    int fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d != NULL) {
        while (readdir(d) != NULL)
            fds++;
        closedir(d);
        fds -= 3; /* ".", ".." and the directory's own fd */
    }
    mb_printf(b, "# HELP process_cpu_seconds_total Total user and system CPU time.\n"
                 "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.3f\n",
              cpu);
    mb_printf(b, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                 "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n",
              pages_resident * page);
    mb_printf(b, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                 "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %ld\n",
              pages_total * page);
    mb_printf(b, "# HELP process_open_fds Number of open file descriptors.\n"
                 "# TYPE process_open_fds gauge\nprocess_open_fds %d\n",
              fds);
    mb_printf(b, "# HELP process_start_time_seconds Start time since the epoch in seconds.\n"
                 "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n",
              metrics_start_time);
    mb_printf(b, "# HELP txlane_build_info Build information.\n# TYPE txlane_build_info gauge\n"
                 "txlane_build_info{program=\"%s\",version=\"%s\"} 1\n",
              metrics_program, TXLANE_VERSION);
}

static const char *const metric_type_names[] = {"counter", "gauge", "histogram"};

static void metrics_render_series(metrics_buf_t *b, const metric_t *m) {
    const char *l = m->labels != NULL ? m->labels : "";
    const char *sep = m->labels != NULL ? "," : "";
    if (m->type != METRIC_HISTOGRAM) {
        if (m->labels != NULL)
            mb_printf(b, "%s{%s} %.17g\n", m->name, l, m->value);
        else
            mb_printf(b, "%s %.17g\n", m->name, m->value);
        return;
    }
    unsigned long long cum = 0;
    for (size_t i = 0; i <= m->nbounds; i++) {
        cum += m->buckets[i];
        if (i < m->nbounds)
            mb_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", m->name, l, sep, m->bounds[i], cum);
        else
            mb_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", m->name, l, sep, cum);
    }
    if (m->labels != NULL) {
        mb_printf(b, "%s_sum{%s} %.17g\n%s_count{%s} %llu\n", m->name, l, m->value, m->name, l,
                  m->count);
    } else {
        mb_printf(b, "%s_sum %.17g\n%s_count %llu\n", m->name, m->value, m->name, m->count);
    }
}

char *metrics_render(void) {
    metrics_buf_t b = {.buf = xmalloc(4096), .len = 0, .cap = 4096};
    b.buf[0] = '\0';
    metrics_render_process(&b);
    pthread_mutex_lock(&metrics_lock);
    for (metric_t *m = metrics_head; m != NULL; m = m->next) {
        /* a family is rendered at its first member */
        int seen = 0;
        for (metric_t *p = metrics_head; p != m; p = p->next) {
            if (strcmp(p->name, m->name) == 0) {
                seen = 1;
                break;
            }
        }
        if (seen)
            continue;
        mb_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                  metric_type_names[m->type]);
        for (metric_t *s = m; s != NULL; s = s->next) {
            if (strcmp(s->name, m->name) == 0)
                metrics_render_series(&b, s);
        }
    }
    pthread_mutex_unlock(&metrics_lock);
    return b.buf;
}
