/*
 * bcast.h - txlane-broadcaster's internal types, shared by its files:
 *
 *   main.c    configuration, wiring, the loop
 *   lanes.c   lanes (address, partition, ownership) and their nonce-ordered queues
 *   ingest.c  txlane.signed batches -> pending in PostgreSQL -> queues; takeovers
 *   sender.c  the loop between batches: mined-nonce polls, PostgreSQL notes
 *   round.c   send rounds within the in-flight window, without waiting; answers
 *   store.c   every PostgreSQL statement (batched with unnest)
 *   report.c  status events, DLQ entries, notes to write, metrics
 *
 * Everything runs on the main thread (the stream's callbacks included).
 */
#ifndef TXLANE_BCAST_H
#define TXLANE_BCAST_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/config.h"
#include "txlane/db.h"
#include "txlane/err.h"
#include "txlane/hd.h"
#include "txlane/jbuf.h"
#include "txlane/metrics.h"
#include "txlane/node_answer.h"
#include "txlane/producer.h"
#include "txlane/rpc.h"
#include "txlane/worker.h"

#define BC_PROGRAM "broadcaster"
/* Lane indexes served (the lane table is indexed by lane: this bounds it). */
#define BC_LANE_INDEX_MAX 1000000u

typedef struct {
    cfg_common_t common;
    char *group;
    char *pg_dsn;
    char *rpc_url;
    char *xpub;
    long long lanes;
    long long max_inflight;
    long long poll_ms;
    long long block_poll_ms;
    long long batch_max;
    long long linger_ms;
    long long rpc_concurrency;
    long long rpc_batch_max;
    long long retry_min_ms;
    long long retry_max_ms;
    long long funds_retry_ms;
} bc_config_t;

typedef enum {
    BC_ENTRY_QUEUED = 0, /* to be sent when next_ms comes (first send or a retry) */
    BC_ENTRY_ACCEPTED,   /* the node has it; waits for the mined nonce to pass it */
    BC_ENTRY_INVALID,    /* rejected for good; waits for a replacement (the watcher's cancel) */
    BC_ENTRY_SENDING,    /* in the send round in flight; its answer decides */
} bc_entry_state_t;

typedef struct {
    uint32_t attempt;
    uint8_t hash[32];
} bc_attempt_hash_t;

/* One transaction (its latest attempt) in a lane's queue. */
typedef struct {
    int64_t tx_id;
    char *request_id; /* NULL when the tx has none */
    uint64_t nonce;
    uint32_t attempt;
    uint8_t hash[32];
    char *params; /* eth_sendRawTransaction params: ["0x<raw>"] */
    bc_entry_state_t state;
    long long next_ms;   /* QUEUED: not before this time */
    unsigned failures;   /* answers in a row that were not an acceptance (backoff) */
    unsigned mined_misses; /* receipt checks that found none of our attempts mined */
    int submitted;       /* a node accepted an attempt before (loaded as submitted) */
    int reported;        /* node_outcome_t last written to the attempt and reported, or -1 */
    bc_attempt_hash_t *hashes; /* every attempt known for this tx (mined check) */
    size_t nhashes;
} bc_entry_t;

typedef struct {
    uint32_t index;
    eth_address_t address;
    char address_str[ADDRESS_STR_LEN + 1];
    int32_t partition; /* partition of txlane.signed its messages go to */
    int owned;         /* that partition is assigned here */
    int loaded;        /* its pending/submitted txs were loaded from PostgreSQL since assigned */
    int held;          /* insufficient funds: only the lowest queued nonce is probed */
    long long probe_ms; /* held: next probe send and status check */
    int mined_known;
    uint64_t mined; /* the chain's mined nonce count ("latest") */
    bc_entry_t **q; /* sorted by nonce, unique nonces */
    size_t n, cap;
    metric_t *m_inflight;
} bc_lane_t;

/* A fact to write to PostgreSQL (kept until written: PostgreSQL may be down). */
typedef struct {
    int64_t tx_id;
    uint32_t attempt;
    int32_t lane;
    char *text; /* attempt result, or a lane's status reason; owned */
    size_t seq; /* order of arrival */
} bc_note_t;

typedef struct {
    bc_note_t *v;
    size_t n, cap;
} bc_notes_t;

/* A call of the send round: which entry it was for (found again by these). */
typedef struct {
    uint32_t lane;
    uint32_t attempt;
    uint64_t nonce;
    int64_t tx_id;
} bc_sent_t;

/* The send round in flight (n == 0: none). Call i is in batches[i / per]. */
typedef struct {
    rpc_batch_t **batches;
    size_t nb, per;
    bc_sent_t *sent;
    size_t n;
    long long started_ms;
} bc_round_t;

/* A send round's HTTP requests time out after this. */
#define BC_SEND_TIMEOUT_MS 5000
/* While a round is in flight the loop waits at most this for messages. */
#define BC_ROUND_WAIT_MS 1

typedef struct {
    metric_t *sent, *retries, *recorded, *submitted, *dlq, *alerts, *mined_checks;
    metric_t *answers[NODE_ANSWER_COUNT];
    metric_t *rpc_send_seconds, *rpc_poll_seconds;
    metric_t *queue_depth, *lanes_owned, *lanes_held;
} bc_metrics_t;

typedef struct {
    const bc_config_t *cfg;
    worker_t *w;
    rpc_client_t *send_rpc; /* the send rounds' own connections (owned) */
    bc_round_t round;
    producer_t *producer;
    hd_node_t chain; /* public node m/44'/60'/0'/0: lane i is its child i */
    bc_lane_t **lanes; /* by index; NULL until first needed */
    size_t nlanes;
    int32_t partitions;  /* partition count of txlane.signed */
    long long next_poll_ms;
    /* A lane's window is full: the head is read every block_poll_ms, and a
     * block newer than the last mined-nonce read triggers the next one. */
    int blocked;
    long long next_head_ms;
    int head_known;
    uint64_t head; /* block number at the last mined-nonce read */
    long long node_retry_ms; /* transport failures: nothing is sent before this */
    long long pg_retry_ms;   /* PostgreSQL failures: its work waits until then */
    unsigned node_failures;
    bc_notes_t to_submit;   /* accepted or mined attempts: pending -> submitted */
    bc_notes_t to_result;   /* other answers: tx_attempts.result + alert */
    bc_notes_t to_low;      /* lanes found without funds: lanes.status = low_funds */
    long long next_gauges_ms;
    jbuf_t j;
    bc_metrics_t m;
} bc_t;

/* lanes.c */
int bc_lanes_init(bc_t *bc, char *errstr, size_t errstr_size) TXL_WUR;
void bc_lanes_free(bc_t *bc);
/* The lane of index (created on first use); NULL for an index of
 * BC_LANE_INDEX_MAX or more, or one the xpub cannot derive. */
bc_lane_t *bc_lane_get(bc_t *bc, uint32_t index);
int32_t bc_lane_partition(const bc_t *bc, const bc_lane_t *lane);
/* Inserts e in nonce order, taking ownership. A queued entry of the same
 * nonce is replaced by a newer attempt (its attempt hashes kept), and kept
 * (e freed) when e is not newer. Returns 1 if e went into the queue. */
int bc_lane_enqueue(bc_lane_t *lane, bc_entry_t *e);
/* Drops every entry (revocation). */
void bc_lane_clear(bc_lane_t *lane);
/* Index of the entry of that nonce, or lane->n. */
size_t bc_lane_find(const bc_lane_t *lane, uint64_t nonce);
/* Removes q[i] and returns it (the caller frees it). */
bc_entry_t *bc_lane_take(bc_lane_t *lane, size_t i);
bc_entry_t *bc_entry_new(int64_t tx_id, const char *request_id, uint64_t nonce, uint32_t attempt,
                         const uint8_t hash[32], const uint8_t *raw, size_t raw_len);
void bc_entry_add_hash(bc_entry_t *e, uint32_t attempt, const uint8_t hash[32]);
void bc_entry_free(bc_entry_t *e);
size_t bc_queue_depth(const bc_t *bc);
/* Marks lanes owned/not owned after an assignment change. */
void bc_lanes_assign(bc_t *bc, const int32_t *parts, size_t n, int add);

/* ingest.c */
int bc_on_batch(void *ctx, rd_kafka_message_t **msgs, size_t n);
void bc_on_assign(void *ctx, const rd_kafka_topic_partition_list_t *parts);
void bc_on_revoke(void *ctx, const rd_kafka_topic_partition_list_t *parts);
/* Loads the owned lanes that are not loaded yet; 0 or TXL_EDB. */
int bc_load_owned(bc_t *bc) TXL_WUR;

/* round.c */
long long bc_backoff(const bc_t *bc, unsigned failures);
void bc_node_failed(bc_t *bc, const rpc_batch_t *b, long long now);
void bc_node_ok(bc_t *bc);
/* Starts a send round of the due entries unless one is in flight. */
void bc_round_start(bc_t *bc, long long now);
/* Drives the round in flight (waiting at most wait_ms); applies its answers
 * when it ends. Returns 1 while one is still in flight. */
int bc_round_poll(bc_t *bc, int wait_ms);
/* Waits for the round in flight and applies its answers. */
void bc_round_drain(bc_t *bc);

/* sender.c */
/* Returns how long the stream may wait for a message (stream.h). */
int bc_on_idle(void *ctx);
/* Writes what the node told us (submitted, results, low funds) to
 * PostgreSQL; 0, or TXL_EDB with the notes kept. */
int bc_flush(bc_t *bc) TXL_WUR;

/* store.c: statements. Rows returned are owned by the caller (PQclear). */
typedef struct {
    db_array_t tx_id, attempt, hash, raw, max_fee, tip, is_cancel, lane, nonce;
} bc_record_t;
void bc_record_init(bc_record_t *r);
void bc_record_reset(bc_record_t *r);
void bc_record_free(bc_record_t *r);
PGresult *bc_store_record(PGconn *db, bc_record_t *r, char *errstr, size_t errstr_size);
PGresult *bc_store_submitted(PGconn *db, const bc_notes_t *notes, char *errstr,
                             size_t errstr_size);
PGresult *bc_store_results(PGconn *db, const bc_notes_t *notes, char *errstr,
                           size_t errstr_size);
PGresult *bc_store_low_funds(PGconn *db, const bc_notes_t *notes, char *errstr,
                             size_t errstr_size);
PGresult *bc_store_lane_status(PGconn *db, const int32_t *lanes, size_t n, char *errstr,
                               size_t errstr_size);
PGresult *bc_store_load(PGconn *db, const int32_t *lanes, size_t n, char *errstr,
                        size_t errstr_size);
PGresult *bc_store_lanes(PGconn *db, char *errstr, size_t errstr_size);

/* report.c */
void bc_metrics_init(bc_metrics_t *m);
void bc_notes_add(bc_notes_t *notes, int64_t tx_id, uint32_t attempt, int32_t lane,
                  const char *text);
/* Keeps only the last note of each tx_id (a statement updates a row once). */
void bc_notes_dedupe(bc_notes_t *notes);
void bc_notes_clear(bc_notes_t *notes);
void bc_notes_free(bc_notes_t *notes);
/* A status event on txlane.status (key request_id). Optional fields: NULL or -1. */
void bc_status(bc_t *bc, const char *request_id, int64_t tx_id, const char *state, int64_t lane,
               int64_t nonce, int64_t attempt, const char *tx_hash, const char *reason,
               const char *metadata);
/* A DLQ entry for message m with its reason, and an alert status event when
 * the message named its tx (tx_id >= 0). */
void bc_dlq(bc_t *bc, const rd_kafka_message_t *m, const char *reason, const char *detail,
            const char *request_id, int64_t tx_id);
/* "0x" + 64 lower-case hex digits. */
void bc_hash_hex(const uint8_t hash[32], char out[67]);

#endif
