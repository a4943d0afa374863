/*
 * leader.c - leadership as a PostgreSQL session advisory lock (see leader.h).
 *
 * States: disconnected -> standby (connected, lock not held) -> leader.
 * Any failure on the connection goes back to disconnected: the session is
 * closed with PQfinish, never reset, because a reset session would not hold
 * the lock any more while the program still believed it did.
 */
#include "txlane/leader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/health.h"
#include "txlane/log.h"
#include "txlane/service.h"
#include "txlane/xmalloc.h"

struct leader {
    char *dsn;
    char *program;
    char key[24]; /* decimal text of the lock key, the statements' parameter */
    int retry_ms;
    metric_t *gauge;
    PGconn *db;
    int is_leader;
    uint64_t term;
    long long next_try_ms;
    int announced_standby; /* "standing by" logged since the last change */
    int announced_down;    /* connection failure logged since the last success */
};

static void leader_notice_ignore(void *arg, const char *message) {
    (void)arg, (void)message;
}

leader_t *leader_new(const char *dsn, const char *program, int64_t key, int retry_ms,
                     metric_t *gauge) {
    leader_t *l = xcalloc(1, sizeof(*l));
    l->dsn = xstrdup(dsn);
    l->program = xstrdup(program);
    snprintf(l->key, sizeof(l->key), "%" PRId64, key);
    l->retry_ms = retry_ms;
    l->gauge = gauge;
    if (gauge != NULL)
        metric_set(gauge, 0);
    return l;
}

static void leader_set(leader_t *l, int is_leader) {
    l->is_leader = is_leader;
    if (l->gauge != NULL)
        metric_set(l->gauge, is_leader);
}

/* Closes the session; the server releases the lock when it notices. */
static void leader_disconnect(leader_t *l, const char *reason) {
    if (l->is_leader)
        log_error("leadership lost", LF_S("reason", reason), LF_U("term", l->term));
    leader_set(l, 0);
    if (l->db != NULL)
        PQfinish(l->db);
    l->db = NULL;
    l->announced_standby = 0;
    l->next_try_ms = service_now_ms() + l->retry_ms;
    health_set(HEALTH_POSTGRES, 0);
}

static void leader_chomp(char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

static int leader_connect(leader_t *l) {
    /* keepalives first, then the dsn (expanded), so the dsn can override them */
    const char *keys[] = {"keepalives", "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "connect_timeout", "options",
                          "dbname", "application_name", NULL};
    const char *values[] = {"1", "5", "2", "3", "5", "-c statement_timeout=15000",
                            l->dsn, l->program, NULL};
    PGconn *db = PQconnectdbParams(keys, values, 1);
    if (PQstatus(db) != CONNECTION_OK) {
        char err[512];
        snprintf(err, sizeof(err), "%s", PQerrorMessage(db));
        leader_chomp(err);
        if (!l->announced_down)
            log_warn("could not connect to postgresql", LF_S("error", err));
        l->announced_down = 1;
        PQfinish(db);
        health_set(HEALTH_POSTGRES, 0);
        return TXL_EDB;
    }
    PQsetNoticeProcessor(db, leader_notice_ignore, NULL);
    if (l->announced_down)
        log_info("connected to postgresql");
    l->announced_down = 0;
    l->db = db;
    health_set(HEALTH_POSTGRES, 1);
    return 0;
}

/* Runs a one-row boolean query with the key as $1: 1 true, 0 false, <0 error. */
static int leader_query_bool(leader_t *l, const char *sql) {
    const char *params[] = {l->key};
    PGresult *res = PQexecParams(l->db, sql, 1, NULL, params, NULL, NULL, 0);
    int rc;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        char err[512];
        snprintf(err, sizeof(err), "%s", PQresultErrorMessage(res));
        leader_chomp(err);
        log_warn("leadership query failed", LF_S("error", err));
        rc = TXL_EDB;
    } else {
        rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    }
    PQclear(res);
    return rc;
}

static const char leader_sql_try[] = "SELECT pg_try_advisory_lock($1::bigint)";
/* A bigint key shows in pg_locks as classid (high 32 bits), objid (low 32
 * bits) and objsubid 1. */
static const char leader_sql_held[] =
    "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 1"
    " AND classid::bigint = ($1::bigint >> 32) & 4294967295"
    " AND objid::bigint = $1::bigint & 4294967295";

int leader_poll(leader_t *l) {
    long long now = service_now_ms();
    if (l->db != NULL && PQstatus(l->db) == CONNECTION_BAD)
        leader_disconnect(l, "connection to postgresql lost");
    if (l->db == NULL) {
        if (now < l->next_try_ms)
            return 0;
        if (leader_connect(l) != 0) {
            l->next_try_ms = now + l->retry_ms;
            return 0;
        }
        l->next_try_ms = now;
    }
    if (l->is_leader) {
        int held = leader_query_bool(l, leader_sql_held);
        if (held < 0) {
            leader_disconnect(l, PQstatus(l->db) == CONNECTION_BAD ? "connection to postgresql lost"
                                                                   : "lock check failed");
        } else if (!held) {
            leader_disconnect(l, "advisory lock no longer held by this session");
        }
        return l->is_leader;
    }
    if (now < l->next_try_ms)
        return 0;
    l->next_try_ms = now + l->retry_ms;
    int got = leader_query_bool(l, leader_sql_try);
    if (got < 0) {
        leader_disconnect(l, "lock attempt failed");
        return 0;
    }
    health_set(HEALTH_POSTGRES, 1);
    if (got) {
        l->term++;
        leader_set(l, 1);
        l->announced_standby = 0;
        log_info("leadership acquired", LF_U("term", l->term), LF_S("lock_key", l->key));
    } else if (!l->announced_standby) {
        log_info("standing by: another instance is leader", LF_S("lock_key", l->key));
        l->announced_standby = 1;
    }
    return l->is_leader;
}

int leader_is_leader(const leader_t *l) {
    return l->is_leader;
}

uint64_t leader_term(const leader_t *l) {
    return l->term;
}

PGconn *leader_db(leader_t *l) {
    return l->db;
}

int leader_check(leader_t *l) {
    if (l->is_leader && l->db != NULL && PQstatus(l->db) == CONNECTION_BAD) {
        /* the session is gone, and the lock with it; the connection is closed
         * by the next leader_poll, so the caller's pointer stays valid */
        log_error("leadership lost", LF_S("reason", "connection to postgresql lost"),
                  LF_U("term", l->term));
        leader_set(l, 0);
        health_set(HEALTH_POSTGRES, 0);
    }
    return l->is_leader;
}

void leader_free(leader_t *l) {
    if (l == NULL)
        return;
    if (l->db != NULL)
        PQfinish(l->db);
    if (l->gauge != NULL)
        metric_set(l->gauge, 0);
    free(l->dsn);
    free(l->program);
    free(l);
}
