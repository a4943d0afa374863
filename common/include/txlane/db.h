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

/*
 * Applies the compiled-in migrations (schemas/sql/NNN_name.sql) not yet recorded in
 * schema_migrations, each in its own transaction, under an advisory lock so
 * concurrent runs are safe. *applied receives how many ran (0: up to date).
 */
int db_migrate(PGconn *conn, int *applied, char *errstr, size_t errstr_size) TXL_WUR;

#endif
