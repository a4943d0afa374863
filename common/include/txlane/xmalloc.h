/*
 * xmalloc.h - allocation that aborts on out-of-memory.
 *
 * Every allocation in txlane goes through these: running out of memory is not
 * a condition any program here can recover from, so callers never check NULL.
 * Free with free(). xstrdup/xstrndup return NUL-terminated copies.
 */
#ifndef TXLANE_XMALLOC_H
#define TXLANE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
