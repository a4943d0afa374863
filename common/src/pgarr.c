/*
 * pgarr.c - PostgreSQL array literals for unnest() parameters (see pgarr.h).
 */
#include "txlane/pgarr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/xmalloc.h"

/* Room for extra bytes plus the closing "}" and the NUL. */
static void pgarr_reserve(pgarr_t *a, size_t extra) {
    if (a->len + extra + 2 <= a->cap)
        return;
    size_t cap = a->cap ? a->cap : 64;
    while (a->len + extra + 2 > cap)
        cap *= 2;
    a->buf = xrealloc(a->buf, cap);
    a->cap = cap;
}

void pgarr_init(pgarr_t *a) {
    memset(a, 0, sizeof(*a));
    pgarr_reset(a);
}

void pgarr_reset(pgarr_t *a) {
    pgarr_reserve(a, 1);
    a->buf[0] = '{';
    a->len = 1;
    a->n = 0;
}

void pgarr_free(pgarr_t *a) {
    if (a == NULL)
        return;
    free(a->buf);
    memset(a, 0, sizeof(*a));
}

static void pgarr_sep(pgarr_t *a) {
    pgarr_reserve(a, 1);
    if (a->n++ > 0)
        a->buf[a->len++] = ',';
}

static void pgarr_raw(pgarr_t *a, const char *s, size_t n) {
    pgarr_reserve(a, n);
    memcpy(a->buf + a->len, s, n);
    a->len += n;
}

void pgarr_i64(pgarr_t *a, int64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    pgarr_sep(a);
    pgarr_raw(a, tmp, (size_t)n);
}

void pgarr_u64(pgarr_t *a, uint64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    pgarr_sep(a);
    pgarr_raw(a, tmp, (size_t)n);
}

void pgarr_null(pgarr_t *a) {
    pgarr_sep(a);
    pgarr_raw(a, "NULL", 4);
}

void pgarr_str(pgarr_t *a, const char *s) {
    size_t n = strlen(s);
    pgarr_sep(a);
    pgarr_reserve(a, 2 * n + 2);
    a->buf[a->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            a->buf[a->len++] = '\\';
        a->buf[a->len++] = s[i];
    }
    a->buf[a->len++] = '"';
}

const char *pgarr_text(pgarr_t *a) {
    pgarr_reserve(a, 0);
    a->buf[a->len] = '}';
    a->buf[a->len + 1] = '\0';
    return a->buf;
}
