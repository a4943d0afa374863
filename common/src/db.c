/*
 * db.c - PostgreSQL connections and migrations (see db.h).
 */
#include "txlane/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/embedded.h"
#include "txlane/health.h"
#include "txlane/log.h"
#include "txlane/xmalloc.h"


#define DB_MIGRATE_LOCK_KEY "7478160501" /* any constant shared by every migrating process */

static void db_notice_ignore(void *arg, const char *message) {
    (void)arg, (void)message;
}

PGconn *db_connect(const char *dsn, const char *program, char *errstr, size_t errstr_size) {
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *values[] = {dsn, program, "5", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(errstr, errstr_size, "could not connect to postgresql: %s",
                 PQerrorMessage(conn));
        /* libpq messages end in a newline */
        size_t len = strlen(errstr);
        while (len > 0 && (errstr[len - 1] == '\n' || errstr[len - 1] == ' '))
            errstr[--len] = '\0';
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, db_notice_ignore, NULL);
    return conn;
}

static void db_set_error(PGconn *conn, const PGresult *res, char *errstr, size_t errstr_size) {
    const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    if (msg == NULL || msg[0] == '\0')
        msg = PQerrorMessage(conn);
    snprintf(errstr, errstr_size, "%s", msg);
    size_t len = strlen(errstr);
    while (len > 0 && (errstr[len - 1] == '\n' || errstr[len - 1] == ' '))
        errstr[--len] = '\0';
}

int db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, char *errstr,
            size_t errstr_size) {
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        db_set_error(conn, res, errstr, errstr_size);
        rc = TXL_EDB;
    }
    PQclear(res);
    return rc;
}

int db_ping(PGconn *conn) {
    for (int tries = 0; tries < 2; tries++) {
        PGresult *res = PQexec(conn, "SELECT 1");
        int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
        if (ok) {
            health_set(HEALTH_POSTGRES, 1);
            return 0;
        }
        if (PQstatus(conn) == CONNECTION_BAD)
            PQreset(conn);
    }
    health_set(HEALTH_POSTGRES, 0);
    return TXL_EDB;
}

/* 1 if version is recorded, 0 if not, negative on error. */
static int db_migration_applied(PGconn *conn, const char *version, char *errstr,
                                size_t errstr_size) {
    const char *params[] = {version};
    PGresult *res = PQexecParams(conn, "SELECT 1 FROM schema_migrations WHERE version = $1", 1,
                                 NULL, params, NULL, NULL, 0);
    int rc;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_set_error(conn, res, errstr, errstr_size);
        rc = TXL_EDB;
    } else {
        rc = PQntuples(res) > 0;
    }
    PQclear(res);
    return rc;
}

static int db_migration_apply(PGconn *conn, const txl_embedded_file_t *mig, char *errstr,
                              size_t errstr_size) {
    char msg[512];
    if (db_exec(conn, "BEGIN", 0, NULL, errstr, errstr_size) != 0)
        return TXL_EDB;
    /* the migration file may hold many statements: simple query protocol */
    PGresult *res = PQexec(conn, mig->data);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_set_error(conn, res, msg, sizeof(msg));
        snprintf(errstr, errstr_size, "migration %s failed: %s", mig->name, msg);
        PQclear(res);
        PQclear(PQexec(conn, "ROLLBACK"));
        return TXL_EDB;
    }
    PQclear(res);
    const char *params[] = {mig->name};
    if (db_exec(conn, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, params, errstr,
                errstr_size) != 0 ||
        db_exec(conn, "COMMIT", 0, NULL, errstr, errstr_size) != 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return TXL_EDB;
    }
    return 0;
}

int db_migrate(PGconn *conn, int *applied, char *errstr, size_t errstr_size) {
    int rc;
    *applied = 0;
    if (db_exec(conn, "SELECT pg_advisory_lock(" DB_MIGRATE_LOCK_KEY ")", 0, NULL, errstr,
                errstr_size) != 0)
        return TXL_EDB;
    rc = db_exec(conn,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                 0, NULL, errstr, errstr_size);
    for (size_t i = 0; rc == 0 && i < txl_sql_migrations_count; i++) {
        const txl_embedded_file_t *mig = &txl_sql_migrations[i];
        int done = db_migration_applied(conn, mig->name, errstr, errstr_size);
        if (done < 0) {
            rc = done;
            break;
        }
        if (done)
            continue;
        rc = db_migration_apply(conn, mig, errstr, errstr_size);
        if (rc == 0) {
            (*applied)++;
            log_info("migration applied", LF_S("version", mig->name));
        }
    }
    char unlock_err[256];
    if (db_exec(conn, "SELECT pg_advisory_unlock(" DB_MIGRATE_LOCK_KEY ")", 0, NULL, unlock_err,
                sizeof(unlock_err)) != 0 &&
        rc == 0) {
        snprintf(errstr, errstr_size, "%s", unlock_err);
        rc = TXL_EDB;
    }
    return rc;
}

PGresult *db_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   char *errstr, size_t errstr_size) {
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        db_set_error(conn, res, errstr, errstr_size);
        PQclear(res);
        return NULL;
    }
    return res;
}

int db_begin(PGconn *conn, char *errstr, size_t errstr_size) {
    return db_exec(conn, "BEGIN", 0, NULL, errstr, errstr_size);
}

int db_commit(PGconn *conn, char *errstr, size_t errstr_size) {
    return db_exec(conn, "COMMIT", 0, NULL, errstr, errstr_size);
}

void db_rollback(PGconn *conn) {
    char err[256];
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE &&
        db_exec(conn, "ROLLBACK", 0, NULL, err, sizeof err) != 0)
        log_warn("rollback failed", LF_S("error", err));
}

void db_recover(PGconn *conn) {
    if (PQstatus(conn) != CONNECTION_OK) {
        log_warn("postgresql connection lost, reconnecting");
        PQreset(conn);
        health_set(HEALTH_POSTGRES, PQstatus(conn) == CONNECTION_OK);
    }
}

/* ---- array literals ---- */

static void db_array_reserve(db_array_t *a, size_t more) {
    if (a->len + more + 2 <= a->cap)
        return;
    size_t cap = a->cap ? a->cap : 256;
    while (cap < a->len + more + 2)
        cap *= 2;
    a->buf = xrealloc(a->buf, cap);
    a->cap = cap;
}

void db_array_init(db_array_t *a) {
    memset(a, 0, sizeof(*a));
    db_array_reset(a);
}

void db_array_reset(db_array_t *a) {
    db_array_reserve(a, 1);
    a->buf[0] = '{';
    a->len = 1;
    a->n = 0;
}

void db_array_free(db_array_t *a) {
    free(a->buf);
    memset(a, 0, sizeof(*a));
}

static void db_array_sep(db_array_t *a) {
    if (a->n++ > 0)
        a->buf[a->len++] = ',';
}

void db_array_addn(db_array_t *a, const char *s, size_t n) {
    db_array_reserve(a, 2 * n + 4);
    db_array_sep(a);
    a->buf[a->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            a->buf[a->len++] = '\\';
        a->buf[a->len++] = s[i];
    }
    a->buf[a->len++] = '"';
}

void db_array_add(db_array_t *a, const char *s) {
    if (s == NULL) {
        db_array_reserve(a, 6);
        db_array_sep(a);
        memcpy(a->buf + a->len, "NULL", 4);
        a->len += 4;
        return;
    }
    db_array_addn(a, s, strlen(s));
}

void db_array_add_i64(db_array_t *a, long long v) {
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", v);
    db_array_reserve(a, (size_t)n + 2);
    db_array_sep(a);
    memcpy(a->buf + a->len, num, (size_t)n);
    a->len += (size_t)n;
}

void db_array_add_bytes(db_array_t *a, const unsigned char *bytes, size_t n) {
    static const char digits[] = "0123456789abcdef";
    db_array_reserve(a, 2 * n + 8);
    db_array_sep(a);
    /* "\\x..." inside a quoted element is the bytea hex form \x... */
    memcpy(a->buf + a->len, "\"\\\\x", 4);
    a->len += 4;
    for (size_t i = 0; i < n; i++) {
        a->buf[a->len++] = digits[bytes[i] >> 4];
        a->buf[a->len++] = digits[bytes[i] & 15];
    }
    a->buf[a->len++] = '"';
}

const char *db_array_text(db_array_t *a) {
    db_array_reserve(a, 1);
    a->buf[a->len] = '}';
    a->buf[a->len + 1] = '\0';
    return a->buf;
}
