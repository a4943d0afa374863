/*
 * log.h - structured logging: one JSON object per line on stderr.
 *
 *   log_info("consumer started", LF_S("topic", topic), LF_I("partition", p));
 *
 * prints {"ts":"2026-...Z","level":"info","program":"allocator","msg":"consumer
 * started","topic":"txlane.requests","partition":3}. The level is checked before
 * any argument is formatted. Messages are short and lower-case, detail goes in
 * fields. Each line is written with one write(2), so lines from threads never
 * interleave. Keys, seeds and signatures must never be passed to these calls.
 */
#ifndef TXLANE_LOG_H
#define TXLANE_LOG_H

#include "txlane/err.h"

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL } log_level_t;

typedef enum { LOG_FIELD_END = 0, LOG_FIELD_STR, LOG_FIELD_INT, LOG_FIELD_UINT, LOG_FIELD_DBL } log_field_type_t;

typedef struct {
    const char *key;
    log_field_type_t type;
    const char *s;
    long long i;
    unsigned long long u;
    double d;
} log_field_t;

#define LF_S(k, v) ((log_field_t){.key = (k), .type = LOG_FIELD_STR, .s = (v)})
#define LF_I(k, v) ((log_field_t){.key = (k), .type = LOG_FIELD_INT, .i = (long long)(v)})
#define LF_U(k, v) ((log_field_t){.key = (k), .type = LOG_FIELD_UINT, .u = (unsigned long long)(v)})
#define LF_D(k, v) ((log_field_t){.key = (k), .type = LOG_FIELD_DBL, .d = (double)(v)})
#define LF_ERR(code) LF_S("error", txl_strerror(code))
#define LF_END_ ((log_field_t){.key = NULL, .type = LOG_FIELD_END})

/* Sets the program name in every line and the minimum level. Not thread-safe:
 * call once at start-up. program must outlive logging (a string literal). */
void log_init(const char *program, log_level_t level);
void log_level_set(log_level_t level);
/* "debug" | "info" | "warn" | "error" -> level; TXL_EINVAL otherwise. */
int log_level_parse(const char *s, log_level_t *out) TXL_WUR;
int log_enabled(log_level_t level);
/* Fields are log_field_t values terminated by LF_END_; use the macros below. */
void log_emit(log_level_t level, const char *msg, ...);

#define log_at_(lvl, ...)                                                                          \
    do {                                                                                           \
        if (log_enabled(lvl))                                                                      \
            log_emit(lvl, __VA_ARGS__, LF_END_);                                                   \
    } while (0)
#define log_debug(...) log_at_(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_at_(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_at_(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at_(LOG_ERROR, __VA_ARGS__)
#define log_fatal(...) log_at_(LOG_FATAL, __VA_ARGS__)

#endif
