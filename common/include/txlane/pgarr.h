/*
 * pgarr.h - PostgreSQL array literals ("{1,2,NULL}", "{\"a\",\"b\"}") built
 * as text parameters, for batched statements that unnest() arrays: one
 * statement carries a whole batch, never one statement per row.
 *
 *   pgarr_t ids; pgarr_init(&ids);
 *   pgarr_i64(&ids, 7); pgarr_null(&ids);
 *   params[0] = pgarr_text(&ids);       // "{7,NULL}", valid until the next append
 *   ... "SELECT * FROM unnest($1::bigint[])" ...
 *   pgarr_free(&ids);
 *
 * Strings are always double-quoted with '"' and '\' escaped, so any text
 * (including "NULL") arrives as itself. Allocation aborts on out-of-memory.
 * A pgarr_t belongs to one thread.
 */
#ifndef TXLANE_PGARR_H
#define TXLANE_PGARR_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf; /* "{" + elements; pgarr_text() closes it */
    size_t len, cap;
    size_t n; /* elements appended */
} pgarr_t;

void pgarr_init(pgarr_t *a);
/* Empties the array, keeps the allocation. */
void pgarr_reset(pgarr_t *a);
/* Frees; accepts a zeroed or freed array. */
void pgarr_free(pgarr_t *a);

void pgarr_i64(pgarr_t *a, int64_t v);
void pgarr_u64(pgarr_t *a, uint64_t v);
void pgarr_null(pgarr_t *a);
/* A text element (UTF-8), quoted. */
void pgarr_str(pgarr_t *a, const char *s);

/* The literal, NUL-terminated, owned by a; stays valid until the next
 * append, reset or free. Appending after it goes on with the same array. */
const char *pgarr_text(pgarr_t *a);

#endif
