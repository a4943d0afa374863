/*
 * audit.h - `txlane audit` internals: the report (one check per invariant of
 * DESIGN section 5, each PASS/FAIL/SKIP/ERROR with a summary, notes and
 * examples of violations), and the state the checks share.
 *
 *   cmd_audit.c     the command: options, snapshot, order of the checks
 *   audit_db.c      checks 1, 2 and 6 (SQL only) and the lanes
 *   audit_tx.c      check 3 (every attempt decoded) and 7b (receipts)
 *   audit_chain.c   checks 4, 7a and 7c (nonce counts, recipients' balances)
 *   audit_report.c  the report, text or JSON
 *
 * Every check reads one REPEATABLE READ snapshot of PostgreSQL and the node
 * at one block (the block number read just after the snapshot began).
 */
#ifndef TXLANE_CTL_AUDIT_H
#define TXLANE_CTL_AUDIT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/rpc.h"

typedef enum { AUDIT_PASS, AUDIT_FAIL, AUDIT_SKIP, AUDIT_ERROR } audit_status_t;

typedef enum {
    AUDIT_C1_REQUESTS,
    AUDIT_C2_NONCES,
    AUDIT_C3_ATTEMPTS,
    AUDIT_C4_USED,
    AUDIT_C5_DLQ,
    AUDIT_C6_FORWARD,
    AUDIT_C7A_MINED,
    AUDIT_C7B_RECEIPTS,
    AUDIT_C7C_RECIPIENTS,
    AUDIT_CHECKS,
} audit_check_id_t;

typedef struct {
    const char *id;    /* "1" .. "7c" */
    const char *title; /* the invariant, short */
    int skipped, error;
    unsigned long long violations;
    char *summary;   /* what was checked, owned */
    char **examples; /* up to examples_max, owned */
    size_t n_examples;
    char **notes; /* facts that are not violations, owned */
    size_t n_notes;
} audit_check_t;

/* A lane as PostgreSQL and the node see it. */
typedef struct {
    long long id;
    char address[ADDRESS_STR_LEN + 1];
    eth_address_t addr;
    long long first, next;   /* first_nonce, next_nonce */
    long long n_txs;         /* txs rows */
    long long done;          /* txs confirmed or cancelled */
    long long external;      /* nonces in lane_external_nonces */
    long long mined;         /* the node's mined count at the audit block; -1 unknown */
    long long ours_mined;    /* confirmed/cancelled txs one of whose attempts is mined */
    long long awaiting;      /* pending/submitted txs one of whose attempts is mined */
    long long failed_mined;  /* failed txs one of whose attempts (their cancel) is mined */
    long long foreign;       /* nonces below mined whose tx has no attempt mined */
} audit_lane_t;

typedef struct {
    audit_check_t checks[AUDIT_CHECKS];
    size_t examples_max;
    int final;             /* --final: non-terminal states are failures */
    int strict_recipients; /* --strict-recipients */
    int db_only;           /* --db-only: no node */
    PGconn *conn;
    rpc_client_t *rpc;
    unsigned long long chain_id;
    unsigned long long block; /* the audit block */
    char block_tag[24];       /* "0x..." of block */
    audit_lane_t *lanes;
    size_t n_lanes;
} audit_t;

void audit_init(audit_t *a);
void audit_free(audit_t *a);

/* Records one violation; the text is kept while fewer than examples_max. */
void audit_fail(audit_t *a, audit_check_id_t c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void audit_note(audit_t *a, audit_check_id_t c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void audit_summary(audit_t *a, audit_check_id_t c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Marks a check as not run because of an error (the reason becomes a note). */
void audit_error(audit_t *a, audit_check_id_t c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void audit_skip(audit_t *a, audit_check_id_t c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds each string of a JSON array text (from SQL json_agg) as an example;
 * violations are counted by the caller with audit_count. */
void audit_examples_json(audit_t *a, audit_check_id_t c, const char *json);
void audit_count(audit_t *a, audit_check_id_t c, unsigned long long violations);

audit_status_t audit_status(const audit_t *a, audit_check_id_t c);
/* Prints the report; returns 1 if every check passed (or was skipped). */
int audit_report_print(const audit_t *a, int json);

/* audit_db.c */
int audit_load_lanes(audit_t *a);
void audit_check_requests(audit_t *a);
void audit_check_nonces(audit_t *a);
void audit_check_forward(audit_t *a);
audit_lane_t *audit_lane_find(audit_t *a, long long id);

/* audit_tx.c: scans every tx and attempt (check 3) and, unless db_only,
 * checks receipts (7b) and fills ours_mined/awaiting/foreign of the lanes. */
void audit_check_transactions(audit_t *a);

/* audit_chain.c */
int audit_chain_open(audit_t *a, const char *rpc_url, long timeout_ms);
void audit_check_lane_counts(audit_t *a); /* 4 and 7a, after audit_check_transactions */
void audit_check_recipients(audit_t *a);  /* 7c */

/* Runs sql with params in single-row mode, calling on_row for each row.
 * Returns 0, or -1 with the error recorded on check c. */
int audit_scan(audit_t *a, audit_check_id_t c, const char *sql, int nparams,
               const char *const *params, void (*on_row)(void *ctx, PGresult *row), void *ctx);
/* PQexecParams expecting tuples; NULL with the error recorded on check c. */
PGresult *audit_query(audit_t *a, audit_check_id_t c, const char *sql, int nparams,
                      const char *const *params);

#endif
