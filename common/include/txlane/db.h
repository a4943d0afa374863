/*
 * db.h - PostgreSQL connections and schema migrations (libpq).
 *
 * Statements always pass parameters out of line (PQexecParams); every result
 * is checked and cleared. A connection belongs to one thread.
 */
#ifndef TXLANE_DB_H
#define TXLANE_DB_H

#include <libpq-fe.h>
#include <stddef.h>

#include "txlane/err.h"

/* Opens a connection to dsn. On failure returns NULL with errstr set. Close
 * with PQfinish. Sets application_name to program. */
PGconn *db_connect(const char *dsn, const char *program, char *errstr, size_t errstr_size);

/* Runs "SELECT 1", resetting a broken connection once; updates health. */
int db_ping(PGconn *conn) TXL_WUR;

/* Executes sql with nparams text parameters, expecting a command or tuples
 * result. 0 on success, TXL_EDB with errstr set otherwise. */
int db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, char *errstr,
            size_t errstr_size) TXL_WUR;

/* Like db_exec but returns the result (tuples or command), which the caller
 * PQclears; NULL with errstr set on error. */
PGresult *db_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   char *errstr, size_t errstr_size);

/*
 * Applies the compiled-in migrations (schemas/sql/NNN_name.sql) not yet recorded in
 * schema_migrations, each in its own transaction, under an advisory lock so
 * concurrent runs are safe. *applied receives how many ran (0: up to date).
 */
int db_migrate(PGconn *conn, int *applied, char *errstr, size_t errstr_size) TXL_WUR;

/*
 * Array parameters for batched statements: one text parameter holding a
 * PostgreSQL array literal, used with unnest($1::text[], $2::bigint[], ...)
 * so a whole batch is one statement and one round trip.
 *
 *   db_array_t ids; db_array_init(&ids);
 *   db_array_add(&ids, "order-1"); db_array_add_i64(&ids, 7); db_array_add(&ids, NULL);
 *   params[0] = db_array_text(&ids);     // {"order-1","7",NULL}
 *   db_array_free(&ids);
 *
 * Elements are always quoted and escaped, so any text is safe. The buffer is
 * owned by the array; db_array_text's result lives until the next add, reset
 * or free.
 */
typedef struct {
    char *buf;
    size_t len, cap;
    size_t n; /* elements added */
} db_array_t;

void db_array_init(db_array_t *a);
void db_array_reset(db_array_t *a);
void db_array_free(db_array_t *a);
/* Adds a text element; NULL adds SQL NULL. */
void db_array_add(db_array_t *a, const char *s);
void db_array_addn(db_array_t *a, const char *s, size_t n);
void db_array_add_i64(db_array_t *a, long long v);
/* Adds "\\x<hex>" (use with ::bytea[]). */
void db_array_add_bytes(db_array_t *a, const unsigned char *bytes, size_t n);
const char *db_array_text(db_array_t *a);

/* Runs BEGIN / COMMIT / ROLLBACK. ROLLBACK errors are logged, not returned. */
int db_begin(PGconn *conn, char *errstr, size_t errstr_size) TXL_WUR;
int db_commit(PGconn *conn, char *errstr, size_t errstr_size) TXL_WUR;
void db_rollback(PGconn *conn);

/* After a failed statement: resets the connection when it is broken. */
void db_recover(PGconn *conn);

#endif
