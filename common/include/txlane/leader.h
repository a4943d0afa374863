/*
 * leader.h - one active instance among several: leadership is a PostgreSQL
 * session advisory lock (pg_try_advisory_lock on a dedicated key), held on a
 * connection this module owns.
 *
 *   leader_t *l = leader_new(dsn, "txlane-watcher", key, 1000, &m_leader_gauge);
 *   while (running) {
 *       if (leader_poll(l)) { act with leader_db(l); after a failed statement
 *                             call leader_check(l) before acting again }
 *       // leader_db(l) may change (or become NULL) in every leader_poll
 *   }
 *   leader_free(l);                      // ends the session: the lock is released
 *
 * A standby tries the lock every retry_ms; when the leader's session ends
 * (exit, crash, kill -9, lost connection) PostgreSQL releases the lock and a
 * standby takes it on its next try. The lock lives and dies with the session,
 * so the module never resets its connection in place (libpq's PQreset would
 * silently start a session without the lock): a connection that fails is
 * closed, leadership ends at once, and a new connection starts as a standby.
 * While leader, every leader_poll verifies in pg_locks that this session still
 * holds the lock. Statements the leader runs on leader_db() are fenced by the
 * lock: they run on the very session that holds it.
 *
 * TCP keepalives (5 s idle, 2 s interval, 3 probes) bound how long a dead
 * network goes unnoticed, and a statement_timeout of 15 s how long one
 * statement may hold the loop; a dsn may override them. Advisory locks are per
 * database: instances sharing a database compete, others do not.
 *
 * Updates the postgres dependency of health.h (a standby that is connected
 * is ready) and a 0/1 gauge. Owned by one thread.
 */
#ifndef TXLANE_LEADER_H
#define TXLANE_LEADER_H

#include <libpq-fe.h>
#include <stdint.h>

#include "txlane/err.h"
#include "txlane/metrics.h"

typedef struct leader leader_t;

/* Copies dsn and program (the session's application_name). gauge (may be
 * NULL) is set to 1 while leader, else 0. Connects lazily in leader_poll. */
leader_t *leader_new(const char *dsn, const char *program, int64_t key, int retry_ms,
                     metric_t *gauge);

/* Ends the session (releasing the lock) and frees. Accepts NULL. */
void leader_free(leader_t *l);

/*
 * One turn: (re)connects when needed, tries the lock when standby (at most
 * every retry_ms), verifies it when leader. Returns 1 while leader, 0 when
 * standby or disconnected. Never blocks longer than a connection attempt
 * (5 s) or one statement.
 */
int leader_poll(leader_t *l);

/* 1 while leader (as of the last leader_poll / leader_check). */
int leader_is_leader(const leader_t *l);

/* How many times this instance became leader; changes on every acquisition
 * so that callers notice a new term and reload their state. */
uint64_t leader_term(const leader_t *l);

/* The session's connection (NULL when disconnected). Only act on it while
 * leader_is_leader(). */
PGconn *leader_db(leader_t *l);

/* After a statement failed: if the connection is broken, leadership ends now
 * (the connection itself is closed by the next leader_poll, so leader_db()
 * stays valid until then). Returns 1 if still leader. */
int leader_check(leader_t *l);

#endif
