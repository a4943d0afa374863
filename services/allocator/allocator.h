/*
 * allocator.h - the allocator's state, shared by its files (this program
 * only): main.c (configuration and loop), lanes.c (lane registry,
 * partition ownership, fencing, chain check) and batch.c (one batch of
 * requests -> one PostgreSQL transaction -> allocated messages).
 *
 * Everything runs on the main thread; the stream's callbacks (batch,
 * assignment, revocation) are called from stream_poll.
 */
#ifndef TXLANE_ALLOCATOR_H
#define TXLANE_ALLOCATOR_H

#include <libpq-fe.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/config.h"
#include "txlane/fee_oracle.h"
#include "txlane/jbuf.h"
#include "txlane/metrics.h"
#include "txlane/msg.h"
#include "txlane/producer.h"
#include "txlane/rpc.h"
#include "txlane/uint256.h"

typedef struct {
    cfg_common_t common;
    char *group;
    char *pg_dsn;
    char *rpc_url;
    char *xpub;
    long long lanes;
    long long treasury_lane; /* -1: none */
    long long chain_id;      /* 0: ask the node */
    long long batch_max;
    long long linger_ms;
    char *max_fee_wei;
    char *min_priority_fee_wei;
    long long fee_refresh_ms;
    long long gas_limit_erc20;
    long long gas_limit_call;
    long long gas_limit_max;
    long long lane_refresh_ms;
} allocator_config_t;

typedef struct {
    eth_address_t addr;
    char addr_text[ADDRESS_STR_LEN + 1];
    int owned;         /* this instance holds the lane's partition */
    int chain_checked; /* next_nonce compared with the chain since assignment */
    int active;        /* status 'active' */
    long long epoch;   /* owner_epoch this instance set (fencing token) */
    long long next_nonce;
    long long inflight; /* txs not yet confirmed/cancelled/failed */
    metric_t *m_next_nonce;
} alloc_lane_t;

enum { PART_NONE = 0, PART_ASSIGNED, PART_TAKEN }; /* TAKEN: lanes fenced and loaded */

typedef struct {
    const allocator_config_t *cfg;
    PGconn *db;
    rpc_client_t *rpc;
    producer_t *producer;
    fee_oracle_t *fees;
    char owner[128]; /* this instance: host:pid */
    int partitions;  /* of the requests topic */
    uint64_t chain_id;
    alloc_lane_t *lanes; /* cfg->lanes entries */
    signed char *part_state; /* per partition: PART_* */
    uint32_t *rr;        /* per partition: round-robin cursor over its lanes */
    long long next_lane_refresh_ms;
    jbuf_t json;
    metric_t *m_allocated, *m_duplicates, *m_republished, *m_rejected_total, *m_fenced,
        *m_external_use, *m_reallocated, *m_funds_requests, *m_owned, *m_batch_seconds, *m_lanes_unavailable;
} allocator_t;

/* lanes.c */

/* Registers the lanes derived from the xpub in PostgreSQL (idempotent) and
 * checks that lanes already registered have the same addresses. */
int lanes_register(allocator_t *a, char *errstr, size_t errstr_size) TXL_WUR;
/* Partition p was assigned: fence its lanes (owner_epoch + 1) and load them.
 * On failure the partition stays PART_ASSIGNED and lanes_take_pending retries. */
int lanes_take(allocator_t *a, int32_t partition) TXL_WUR;
void lanes_take_pending(allocator_t *a);
/* Partition p was revoked: forget its lanes. */
void lanes_drop(allocator_t *a, int32_t partition);
/* Compares owned, unchecked lanes' next_nonce with the chain (one batch). */
void lanes_check_chain(allocator_t *a);
/* Re-reads owned lanes' status, epoch and in-flight counts when due (or now
 * with force); drops lanes another instance fenced. */
void lanes_refresh(allocator_t *a, int force);
/* A routable lane for a new request read from partition: one of the
 * partition's lanes (i mod P), owned, checked, active, not the treasury;
 * fewest in flight first, round-robin among equals. -1 if none. Keeping a
 * lane's allocations on one partition keeps them in that partition's order. */
int lanes_route(allocator_t *a, int32_t partition);
/* 1 if lane (pinned by a request read from partition) may take it; the
 * treasury lane only with treasury_ok (a top-up the watcher recorded). */
int lanes_pin_ok(const allocator_t *a, int lane, int32_t partition, int treasury_ok);

/*
 * Messages only txlane-watcher writes to the requests topic carry a marker
 * in their key; the database is the authority, the marker only says that a
 * lookup is worth its round trip:
 *   "txlane-funds:<request_id>"  a top-up or sweep listed in funds_requests
 *                                (its kind is recorded in txs; a top-up may be
 *                                pinned to the treasury lane);
 *   "txlane-reallocate:<tx_id>"  the stored request of a payout whose nonce
 *                                was used outside txlane, listed in
 *                                reallocations: its txs row moves to a fresh
 *                                nonce of its lane (same tx_id, request_id).
 */
#define ALLOC_KEY_FUNDS "txlane-funds:"
#define ALLOC_KEY_REALLOCATE "txlane-reallocate:"

/* publish.c: queue messages on the allocator's producer (flushed per batch). */
void alloc_publish_status(allocator_t *a, const char *request_id, long long tx_id,
                          const char *state, int lane, long long nonce, const char *reason,
                          const char *metadata);
int alloc_publish_allocated(allocator_t *a, const msg_allocated_t *m) TXL_WUR;
/* m's original bytes, with the reason code and detail; request_id may be NULL. */
int alloc_publish_dlq(allocator_t *a, const rd_kafka_message_t *m, const char *code,
                      const char *detail, const char *request_id) TXL_WUR;
/* Row r of a stored-allocation result (see batch.c's duplicates query), again. */
int alloc_publish_stored(allocator_t *a, PGresult *res, int r) TXL_WUR;

/* batch.c: the stream's on_batch. */
int alloc_batch(void *ctx, rd_kafka_message_t **msgs, size_t n);

#endif
