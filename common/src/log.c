/*
 * log.c - JSON-lines logging on stderr (see log.h).
 *
 * A line is built in a stack buffer (string values past LOG_VALUE_MAX are cut
 * and end in "..."; a field that does not fit is dropped and the line gets
 * "truncated":true, so every line stays valid JSON) and written with a single write(2) so concurrent threads never interleave.
 * Strings are JSON-escaped; control characters become \u00XX.
 */
#include "txlane/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192
#define LOG_VALUE_MAX 1024 /* source bytes of one string value; longer ones end in "..." */

static const char *log_program = "txlane";
static volatile int log_min_level = LOG_INFO;

static const char *const log_level_names[] = {"debug", "info", "warn", "error", "fatal"};

void log_init(const char *program, log_level_t level) {
    log_program = program;
    log_min_level = level;
}

void log_level_set(log_level_t level) {
    log_min_level = level;
}

int log_level_parse(const char *s, log_level_t *out) {
    for (int i = LOG_DEBUG; i <= LOG_FATAL; i++) {
        if (strcmp(s, log_level_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return TXL_EINVAL;
}

int log_enabled(log_level_t level) {
    return (int)level >= log_min_level;
}

typedef struct {
    char buf[LOG_LINE_MAX];
    size_t len;
    int truncated;
} log_line_t;

static void log_put(log_line_t *line, const char *s, size_t n) {
    /* keep room for the truncation mark and the closing "}\n" */
    size_t room = sizeof(line->buf) - 24 - line->len;
    if (n > room) {
        n = room;
        line->truncated = 1;
    }
    memcpy(line->buf + line->len, s, n);
    line->len += n;
}

static void log_puts(log_line_t *line, const char *s) {
    log_put(line, s, strlen(s));
}

static void log_put_json_string(log_line_t *line, const char *s) {
    static const char hexdig[] = "0123456789abcdef";
    log_put(line, "\"", 1);
    if (s == NULL)
        s = "(null)";
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++, count++) {
        if (count == LOG_VALUE_MAX) {
            log_put(line, "...", 3);
            break;
        }
        char esc[6];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            log_put(line, esc, 2);
        } else if (*p < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hexdig[*p >> 4];
            esc[5] = hexdig[*p & 15];
            log_put(line, esc, 6);
        } else {
            log_put(line, (const char *)p, 1);
        }
    }
    log_put(line, "\"", 1);
}

void log_emit(log_level_t level, const char *msg, ...) {
    log_line_t line = {.len = 0, .truncated = 0};
    char tmp[64];
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(tmp + n, sizeof(tmp) - n, ".%03ldZ", ts.tv_nsec / 1000000);

    log_puts(&line, "{\"ts\":\"");
    log_puts(&line, tmp);
    log_puts(&line, "\",\"level\":\"");
    log_puts(&line, log_level_names[level]);
    log_puts(&line, "\",\"program\":");
    log_put_json_string(&line, log_program);
    log_puts(&line, ",\"msg\":");
    log_put_json_string(&line, msg);

    va_list ap;
    va_start(ap, msg);
    for (;;) {
        log_field_t f = va_arg(ap, log_field_t);
        if (f.type == LOG_FIELD_END || line.truncated)
            break;
        size_t field_start = line.len;
        log_puts(&line, ",");
        log_put_json_string(&line, f.key);
        log_puts(&line, ":");
        switch (f.type) {
        case LOG_FIELD_STR:
            log_put_json_string(&line, f.s);
            break;
        case LOG_FIELD_INT:
            snprintf(tmp, sizeof(tmp), "%lld", f.i);
            log_puts(&line, tmp);
            break;
        case LOG_FIELD_UINT:
            snprintf(tmp, sizeof(tmp), "%llu", f.u);
            log_puts(&line, tmp);
            break;
        case LOG_FIELD_DBL:
            snprintf(tmp, sizeof(tmp), "%.6g", f.d);
            log_puts(&line, tmp);
            break;
        case LOG_FIELD_END:
            break;
        }
        if (line.truncated)
            line.len = field_start;
    }
    va_end(ap);

    if (line.truncated) {
        static const char mark[] = ",\"truncated\":true";
        memcpy(line.buf + line.len, mark, sizeof(mark) - 1);
        line.len += sizeof(mark) - 1;
    }
    line.buf[line.len++] = '}';
    line.buf[line.len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line.buf, line.len);
    (void)w;
}
