/*
 * embedded.h - files compiled into the binaries at build time
 * (cmake/embed_files.cmake), so programs need no data directory at run time.
 */
#ifndef TXLANE_EMBEDDED_H
#define TXLANE_EMBEDDED_H

#include <stddef.h>

typedef struct {
    const char *name; /* base name, e.g. "001_init.sql" */
    const char *data; /* NUL-terminated contents */
    size_t len;       /* length without the NUL */
} txl_embedded_file_t;

/* The files of schemas/sql/ in file-name order. */
extern const txl_embedded_file_t txl_sql_migrations[];
extern const size_t txl_sql_migrations_count;

#endif
