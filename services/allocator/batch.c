/*
 * batch.c - one batch of payout requests (DESIGN section 6):
 *
 *   1. validate every message; invalid ones go to the DLQ (no nonce);
 *   2. BEGIN; insert the valid ones into requests ON CONFLICT DO NOTHING:
 *      the rows returned are new, the rest are duplicates;
 *   3. route each new request to an owned active lane (or its pinned lane)
 *      and take next_nonce++ in memory;
 *   4. insert txs (created) + tx_events, advance lanes.next_nonce WHERE
 *      owner_epoch = <mine> (0 rows: fenced -> roll back, drop the lanes,
 *      hand the batch back); read the allocations of duplicates still
 *      'created' (they are published again, unchanged); COMMIT;
 *   5. queue allocated messages and status events on the producer; the
 *      stream commits the batch's offsets once every one of them has its
 *      delivery report (stream.h, pipelined commits), while the next batches
 *      are allocated.
 *
 * Every statement covers the whole batch (array parameters), so a batch is
 * six round trips whatever its size. In-memory nonces are restored when the
 * transaction does not commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "txlane/db.h"
#include "txlane/erc20.h"
#include "txlane/hex.h"
#include "txlane/log.h"
#include "txlane/msg.h"
#include "txlane/payout.h"
#include "txlane/service.h"
#include "txlane/xmalloc.h"

#define ALLOC_GAS_TRANSFER 21000ULL

typedef struct {
    rd_kafka_message_t *m;
    payout_request_t req;
    payout_reject_t reason;
    char detail[200];
    int first;  /* first occurrence of its request_id in the batch */
    int is_new; /* won the requests insert */
    int in_batch_repeat; /* a later copy of a request that is new in this batch */
    int dup_row;         /* row of its stored allocation to re-publish, or -1 */
    int lane;
    long long nonce;
    long long tx_id;
    /* watcher requests (allocator.h: key markers) */
    int funds_marker;       /* key says top-up or sweep: kind looked up in funds_requests */
    tx_kind_t kind;         /* TX_KIND_PAYOUT unless funds_requests says otherwise */
    long long realloc_tx;   /* key says re-allocate this tx_id; -1: not */
    int realloc_ok;         /* reallocations lists it, open, never mined: move it */
    long long old_nonce;
    int moved_row;          /* row of the move's result to publish, or -1 */
    /* the transaction */
    eth_address_t tx_to;
    uint256_t tx_value;
    const uint8_t *tx_data;
    size_t tx_data_len;
    uint64_t gas_limit;
    uint8_t erc20_call[68];
} alloc_item_t;

static const char *const batch_sql_requests =
    "INSERT INTO requests (request_id, payload, source_partition, source_offset, received_at)"
    " SELECT u.id, u.payload, u.part, u.off, COALESCE(to_timestamp(u.ts / 1000.0), now())"
    " FROM unnest($1::text[], $2::jsonb[], $3::int[], $4::bigint[], $5::bigint[])"
    "   AS u(id, payload, part, off, ts)"
    " ON CONFLICT (request_id) DO NOTHING RETURNING request_id";

static const char *const batch_sql_ids =
    "SELECT nextval('txs_tx_id_seq') FROM generate_series(1, $1::int)";

static const char *const batch_sql_txs =
    "WITH ins AS ("
    " INSERT INTO txs (tx_id, request_id, kind, lane_id, nonce, state, from_address, to_address,"
    "   value_wei, token, data, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, chain_id)"
    " SELECT u.tx_id, u.request_id, u.kind, u.lane_id, u.nonce, 'created', u.from_address,"
    "   u.to_address, u.value_wei, u.token, decode(u.data, 'hex'), u.gas_limit,"
    "   $11::numeric, $12::numeric, $13::bigint"
    " FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[],"
    "   $7::numeric[], $8::text[], $9::text[], $10::bigint[], $14::text[])"
    "   AS u(tx_id, request_id, lane_id, nonce, from_address, to_address, value_wei, token, data,"
    "        gas_limit, kind)"
    " RETURNING tx_id, request_id, lane_id, nonce)"
    " INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program, detail)"
    " SELECT tx_id, request_id, NULL, 'created', 'allocator',"
    "   jsonb_build_object('lane', lane_id, 'nonce', nonce) FROM ins";

static const char *const batch_sql_lanes =
    "UPDATE lanes SET next_nonce = u.next_nonce, updated_at = now()"
    " FROM unnest($1::int[], $2::bigint[], $3::bigint[]) AS u(id, next_nonce, epoch)"
    " WHERE lanes.id = u.id AND lanes.owner_epoch = u.epoch AND lanes.next_nonce <= u.next_nonce"
    " RETURNING lanes.id";

static const char *const batch_sql_duplicates =
    "SELECT t.tx_id, t.request_id, t.lane_id, t.nonce, t.from_address, t.to_address, t.value_wei,"
    "  t.token, encode(t.data, 'hex'), t.gas_limit, t.max_fee_per_gas,"
    "  t.max_priority_fee_per_gas, t.chain_id, t.attempt,"
    "  (extract(epoch FROM t.created_at) * 1000)::bigint, t.kind"
    " FROM txs t WHERE t.request_id = ANY($1::text[]) AND t.state = 'created'"
    " ORDER BY t.request_id";

/* Top-ups and sweeps the watcher recorded, among the marked requests. */
static const char *const batch_sql_funds =
    "SELECT request_id, kind, lane_id FROM funds_requests WHERE request_id = ANY($1::text[])";

/* The marked re-allocations that may move: recorded by the watcher, not yet
 * moved, the row still at the recorded nonce, open and never seen mined. */
static const char *const batch_sql_realloc_check =
    "SELECT r.tx_id, t.lane_id, t.nonce FROM reallocations r"
    " JOIN txs t ON t.tx_id = r.tx_id AND t.lane_id = r.lane_id AND t.nonce = r.old_nonce"
    " WHERE r.tx_id = ANY($1::bigint[]) AND r.new_nonce IS NULL AND t.block_number IS NULL"
    "   AND t.state IN ('created', 'pending', 'submitted')"
    " FOR UPDATE OF t";

/* Moves the rows to their new nonces: attempt + 1 (the old attempts stay in
 * tx_attempts, at a nonce that can no longer be mined), back to created with
 * fees at least the current estimate; the old nonce becomes an external range
 * (invariant 2), the re-allocation is marked done. Returns the moved rows in
 * batch_sql_duplicates' columns. */
static const char *const batch_sql_realloc_move =
    "WITH u AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])"
    "   AS u(tx_id, old_nonce, nonce)),"
    " prev AS (SELECT t.tx_id, t.state, t.attempt FROM txs t JOIN u USING (tx_id)),"
    " mv AS (UPDATE txs t SET nonce = u.nonce, attempt = t.attempt + 1, state = 'created',"
    "   tx_hash = NULL, raw = NULL, block_number = NULL, block_hash = NULL,"
    "   receipt_status = NULL, gas_used = NULL, pending_at = NULL, submitted_at = NULL,"
    "   max_fee_per_gas = GREATEST(t.max_fee_per_gas, $4::numeric),"
    "   max_priority_fee_per_gas = GREATEST(t.max_priority_fee_per_gas, $5::numeric)"
    "  FROM u WHERE t.tx_id = u.tx_id AND t.nonce = u.old_nonce AND t.block_number IS NULL"
    "   AND t.state IN ('created', 'pending', 'submitted')"
    "  RETURNING t.*, u.old_nonce),"
    " ev AS (INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program, detail)"
    "  SELECT mv.tx_id, mv.request_id, prev.state, 'created', 'allocator',"
    "   jsonb_build_object('lane', mv.lane_id, 'nonce', mv.nonce, 'attempt', mv.attempt,"
    "     'reason', 'reallocated', 'old_nonce', mv.old_nonce)"
    "  FROM mv JOIN prev USING (tx_id)),"
    " ext AS (INSERT INTO lane_external_nonces (lane_id, nonce_from, nonce_to, detected_by)"
    "  SELECT lane_id, old_nonce, old_nonce + 1, $6 FROM mv ON CONFLICT DO NOTHING),"
    " done AS (UPDATE reallocations r SET new_nonce = mv.nonce, reallocated_at = now()"
    "  FROM mv WHERE r.tx_id = mv.tx_id AND r.old_nonce = mv.old_nonce)"
    " SELECT tx_id, request_id, lane_id, nonce, from_address, to_address, value_wei,"
    "  token, encode(data, 'hex'), gas_limit, max_fee_per_gas,"
    "  max_priority_fee_per_gas, chain_id, attempt,"
    "  (extract(epoch FROM created_at) * 1000)::bigint, kind"
    " FROM mv";

/* Intrinsic gas of a transaction with this calldata (no access list). */
static uint64_t batch_intrinsic_gas(const uint8_t *data, size_t len) {
    uint64_t gas = ALLOC_GAS_TRANSFER;
    for (size_t i = 0; i < len; i++)
        gas += data[i] ? 16 : 4;
    return gas;
}

static void batch_reject(alloc_item_t *it, payout_reject_t reason, const char *fmt, long long v) {
    it->reason = reason;
    snprintf(it->detail, sizeof it->detail, fmt, v);
}

/* Validates one message and works out its transaction. */
static void batch_parse(allocator_t *a, alloc_item_t *it) {
    const allocator_config_t *cfg = a->cfg;
    payout_limits_t limits = {.gas_limit_max = (uint64_t)cfg->gas_limit_max,
                              .lanes = (int)cfg->lanes};
    it->lane = -1;
    /* A null value (tombstone) is parsed as empty input: not JSON. */
    const char *payload = it->m->payload != NULL ? it->m->payload : "";
    it->reason = payout_request_parse(payload, it->m->len, &limits, &it->req, it->detail,
                                      sizeof it->detail);
    if (it->reason != PAYOUT_OK)
        return;
    payout_request_t *r = &it->req;
    const char *key = it->m->key;
    size_t klen = it->m->key_len;
    if (key != NULL && klen > sizeof ALLOC_KEY_FUNDS - 1 &&
        memcmp(key, ALLOC_KEY_FUNDS, sizeof ALLOC_KEY_FUNDS - 1) == 0) {
        it->funds_marker = 1;
    } else if (key != NULL && klen > sizeof ALLOC_KEY_REALLOCATE - 1 &&
               klen < sizeof ALLOC_KEY_REALLOCATE + 20 &&
               memcmp(key, ALLOC_KEY_REALLOCATE, sizeof ALLOC_KEY_REALLOCATE - 1) == 0) {
        char id[24];
        size_t idlen = klen - (sizeof ALLOC_KEY_REALLOCATE - 1);
        memcpy(id, key + sizeof ALLOC_KEY_REALLOCATE - 1, idlen);
        id[idlen] = '\0';
        char *end;
        long long tx = strtoll(id, &end, 10);
        if (*end == '\0' && tx > 0)
            it->realloc_tx = tx;
    }
    /* a top-up may be pinned to the treasury lane; batch_funds checks it is one */
    if (r->lane >= 0 && !lanes_pin_ok(a, r->lane, it->m->partition, it->funds_marker)) {
        if (r->lane == cfg->treasury_lane)
            batch_reject(it, PAYOUT_REJECT_LANE, "lane %lld is the treasury lane", r->lane);
        else
            batch_reject(it, PAYOUT_REJECT_LANE,
                         "lane %lld is not owned by this partition (send it to partition lane "
                         "mod the partition count)",
                         r->lane);
        return;
    }
    uint64_t default_gas;
    if (r->has_token) {
        erc20_transfer_encode(&r->to, &r->value, it->erc20_call);
        it->tx_to = r->token;
        uint256_from_u64(0, &it->tx_value);
        it->tx_data = it->erc20_call;
        it->tx_data_len = sizeof it->erc20_call;
        default_gas = (uint64_t)cfg->gas_limit_erc20;
    } else {
        it->tx_to = r->to;
        it->tx_value = r->value;
        it->tx_data = r->data;
        it->tx_data_len = r->data_len;
        default_gas = r->data_len > 0 ? (uint64_t)cfg->gas_limit_call : ALLOC_GAS_TRANSFER;
    }
    uint64_t intrinsic = batch_intrinsic_gas(it->tx_data, it->tx_data_len);
    if (r->gas_limit != 0) {
        if (r->gas_limit < intrinsic) {
            batch_reject(it, PAYOUT_REJECT_GAS_LIMIT,
                         "gas_limit is below the transaction's intrinsic gas %lld",
                         (long long)intrinsic);
            return;
        }
        it->gas_limit = r->gas_limit;
    } else {
        it->gas_limit = default_gas > intrinsic ? default_gas : intrinsic;
    }
}

/* The payload stored in requests: the validated request in canonical form. */
static void batch_payload(const alloc_item_t *it, jbuf_t *j) {
    const payout_request_t *r = &it->req;
    jbuf_reset(j);
    jbuf_obj_begin(j);
    jbuf_key_str(j, "request_id", r->request_id);
    jbuf_key_addr(j, "to", &r->to);
    jbuf_key_u256(j, "value_wei", &r->value);
    if (r->has_token)
        jbuf_key_addr(j, "token", &r->token);
    if (r->data_len > 0)
        jbuf_key_hex(j, "data", r->data, r->data_len);
    if (r->gas_limit != 0) {
        char gas[24];
        snprintf(gas, sizeof gas, "%llu", (unsigned long long)r->gas_limit);
        jbuf_key_str(j, "gas_limit", gas);
    }
    if (r->lane >= 0)
        jbuf_key_i64(j, "lane", r->lane);
    if (r->metadata != NULL) {
        jbuf_key(j, "metadata");
        jbuf_raw(j, r->metadata, strlen(r->metadata));
    }
    jbuf_obj_end(j);
}

static int batch_cmp_id(const void *x, const void *y) {
    const alloc_item_t *a = *(alloc_item_t *const *)x, *b = *(alloc_item_t *const *)y;
    int c = strcmp(a->req.request_id, b->req.request_id);
    if (c != 0)
        return c;
    return a < b ? -1 : a > b; /* batch order among equals */
}

static int batch_cmp_key(const void *key, const void *elem) {
    const alloc_item_t *b = *(alloc_item_t *const *)elem;
    return strcmp((const char *)key, b->req.request_id);
}

/* Marks is_new on the first occurrence of each request_id returned. */
static void batch_mark_new(alloc_item_t **sorted, size_t n, PGresult *res) {
    for (int r = 0; r < PQntuples(res); r++) {
        const char *id = PQgetvalue(res, r, 0);
        alloc_item_t **hit = bsearch(id, sorted, n, sizeof(*sorted), batch_cmp_key);
        if (hit == NULL)
            continue;
        while (hit > sorted && strcmp(hit[-1]->req.request_id, id) == 0)
            hit--;
        (*hit)->is_new = 1;
    }
}

/*
 * Which duplicates are published again: a request still 'created' whose copy
 * came from its lane's own partition (lane mod P). Every allocation of a
 * lane comes from that partition, so re-publishing in offset order keeps
 * each lane's allocations in nonce order on txlane.allocated. A copy on
 * another partition needs nothing: if the original's allocation was never
 * delivered, the original message itself was not committed and comes back.
 */
static void batch_mark_republish(const allocator_t *a, alloc_item_t **sorted, size_t n,
                                 PGresult *res) {
    for (int r = 0; r < PQntuples(res); r++) {
        const char *id = PQgetvalue(res, r, 1);
        long long lane = atoll(PQgetvalue(res, r, 2));
        alloc_item_t **hit = bsearch(id, sorted, n, sizeof(*sorted), batch_cmp_key);
        if (hit == NULL)
            continue;
        while (hit > sorted && strcmp(hit[-1]->req.request_id, id) == 0)
            hit--;
        for (; hit < sorted + n && strcmp((*hit)->req.request_id, id) == 0; hit++) {
            if (lane % a->partitions == (*hit)->m->partition) {
                (*hit)->dup_row = r;
                break;
            }
        }
    }
}

typedef struct {
    db_array_t ids, payloads, partitions, offsets, stamps;                         /* requests */
    db_array_t tx_ids, rids, lanes, nonces, froms, tos, values, tokens, datas, gas; /* txs */
    db_array_t lane_ids, lane_next, lane_epochs, dup_ids;
    db_array_t kinds, mv_ids, mv_old, mv_new;
} batch_arrays_t;

static void batch_arrays_init(batch_arrays_t *b) {
    db_array_t *all = (db_array_t *)b;
    for (size_t i = 0; i < sizeof(*b) / sizeof(db_array_t); i++)
        db_array_init(&all[i]);
}

static void batch_arrays_free(batch_arrays_t *b) {
    db_array_t *all = (db_array_t *)b;
    for (size_t i = 0; i < sizeof(*b) / sizeof(db_array_t); i++)
        db_array_free(&all[i]);
}

/*
 * The kinds of the marked requests (top-up, sweep), from funds_requests. A
 * marked request the watcher did not record is an ordinary payout, and one
 * of those pinned to the treasury lane is rejected. 0 or TXL_EDB.
 */
static int batch_funds(allocator_t *a, alloc_item_t *items, size_t n) {
    db_array_t ids;
    char err[512];
    db_array_init(&ids);
    for (size_t i = 0; i < n; i++)
        if (items[i].funds_marker && items[i].reason == PAYOUT_OK)
            db_array_add(&ids, items[i].req.request_id);
    if (ids.n == 0) {
        db_array_free(&ids);
        return 0;
    }
    const char *p[] = {db_array_text(&ids)};
    PGresult *res = db_query(a->db, batch_sql_funds, 1, p, err, sizeof err);
    db_array_free(&ids);
    if (res == NULL) {
        log_warn("could not read top-up and sweep requests", LF_S("error", err));
        db_recover(a->db);
        return TXL_EDB;
    }
    for (size_t i = 0; i < n; i++) {
        alloc_item_t *it = &items[i];
        if (!it->funds_marker || it->reason != PAYOUT_OK)
            continue;
        for (int r = 0; r < PQntuples(res); r++) {
            if (strcmp(PQgetvalue(res, r, 0), it->req.request_id) != 0)
                continue;
            if (tx_kind_parse(PQgetvalue(res, r, 1), &it->kind) != 0)
                it->kind = TX_KIND_PAYOUT;
            break;
        }
        if (it->kind == TX_KIND_TOPUP)
            metric_inc(a->m_funds_requests);
        else if (it->kind == TX_KIND_SWEEP)
            metric_inc(a->m_funds_requests);
        else if (it->req.lane >= 0 && it->req.lane == a->cfg->treasury_lane)
            batch_reject(it, PAYOUT_REJECT_LANE, "lane %lld is the treasury lane", it->req.lane);
    }
    PQclear(res);
    return 0;
}

/* Which marked re-allocations may move (batch_sql_realloc_check), inside the
 * batch's transaction: sets realloc_ok, lane and old_nonce. */
static int batch_realloc_check(allocator_t *a, alloc_item_t *items, size_t n, char *err,
                               size_t errsize) {
    db_array_t ids;
    db_array_init(&ids);
    for (size_t i = 0; i < n; i++)
        if (items[i].realloc_tx > 0 && items[i].reason == PAYOUT_OK && !items[i].is_new)
            db_array_add_i64(&ids, items[i].realloc_tx);
    if (ids.n == 0) {
        db_array_free(&ids);
        return 0;
    }
    const char *p[] = {db_array_text(&ids)};
    PGresult *res = db_query(a->db, batch_sql_realloc_check, 1, p, err, errsize);
    db_array_free(&ids);
    if (res == NULL)
        return TXL_EDB;
    for (int r = 0; r < PQntuples(res); r++) {
        long long tx = atoll(PQgetvalue(res, r, 0));
        int lane = atoi(PQgetvalue(res, r, 1));
        for (size_t i = 0; i < n; i++) {
            alloc_item_t *it = &items[i];
            if (it->realloc_tx != tx || it->is_new || it->reason != PAYOUT_OK)
                continue;
            /* only from the lane's own partition, and only a lane this instance owns */
            if (lane < 0 || lane >= a->cfg->lanes || lane % a->partitions != it->m->partition ||
                !a->lanes[lane].owned || !a->lanes[lane].chain_checked)
                break;
            it->realloc_ok = 1;
            it->lane = lane;
            it->old_nonce = atoll(PQgetvalue(res, r, 2));
            break; /* the first copy in the batch moves it */
        }
    }
    PQclear(res);
    return 0;
}

/*
 * Steps 2-4 in one transaction. Returns 0 (committed), TXL_EDB, TXL_EFENCED
 * (a lane was taken over, or no lane can take the batch now). The caller
 * restores the lanes' in-memory counters when this does not commit. *dups
 * receives the stored allocations of duplicates to re-publish (or NULL).
 */
static int batch_store(allocator_t *a, alloc_item_t *items, size_t n, alloc_item_t **sorted,
                       size_t nvalid, const msg_fees_t *fees, PGresult **dups,
                       PGresult **moved) {
    char err[512];
    batch_arrays_t b;
    PGresult *res = NULL;
    int rc = 0;
    batch_arrays_init(&b);

    for (size_t k = 0; k < nvalid; k++) {
        alloc_item_t *it = sorted[k];
        if (!it->first)
            continue;
        batch_payload(it, &a->json);
        db_array_add(&b.ids, it->req.request_id);
        db_array_addn(&b.payloads, a->json.buf, a->json.len);
        db_array_add_i64(&b.partitions, it->m->partition);
        db_array_add_i64(&b.offsets, it->m->offset);
        /* received_at: when the producer sent it (the message's create time), so latencies
         * include the time a request waited in the topic. */
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(it->m, &tstype);
        if (ts > 0)
            db_array_add_i64(&b.stamps, ts);
        else
            db_array_add(&b.stamps, NULL);
    }
    if ((rc = db_begin(a->db, err, sizeof err)) != 0)
        goto fail;
    const char *rp[] = {db_array_text(&b.ids), db_array_text(&b.payloads),
                        db_array_text(&b.partitions), db_array_text(&b.offsets),
                        db_array_text(&b.stamps)};
    if ((res = db_query(a->db, batch_sql_requests, 5, rp, err, sizeof err)) == NULL)
        goto fail_db;
    batch_mark_new(sorted, nvalid, res);
    PQclear(res);
    res = NULL;
    /* A repeat within the batch of a request that is new here is not a
     * duplicate to re-publish: its allocation goes out once, below. */
    for (size_t k = 0, first = 0; k < nvalid; k++) {
        if (sorted[k]->first)
            first = k;
        else if (sorted[first]->is_new)
            sorted[k]->in_batch_repeat = 1;
    }

    if ((rc = batch_realloc_check(a, items, n, err, sizeof err)) != 0)
        goto fail_db;

    /* Route the new requests in batch order: per lane, nonces follow offsets.
     * A re-allocation takes the next nonce of its own lane at its place. */
    size_t nnew = 0, nmoved = 0;
    for (size_t i = 0; i < n; i++) {
        alloc_item_t *it = &items[i];
        if (it->reason != PAYOUT_OK)
            continue;
        if (it->realloc_ok) {
            it->nonce = a->lanes[it->lane].next_nonce++;
            db_array_add_i64(&b.mv_ids, it->realloc_tx);
            db_array_add_i64(&b.mv_old, it->old_nonce);
            db_array_add_i64(&b.mv_new, it->nonce);
            nmoved++;
            continue;
        }
        if (!it->is_new) {
            if (!it->in_batch_repeat)
                db_array_add(&b.dup_ids, it->req.request_id);
            continue;
        }
        int lane = it->req.lane;
        if (lane >= 0) {
            if (!a->lanes[lane].owned || !a->lanes[lane].chain_checked) {
                log_warn("pinned lane not ready here", LF_I("lane", lane),
                         LF_S("request_id", it->req.request_id));
                rc = TXL_EFENCED;
                goto fail;
            }
        } else if ((lane = lanes_route(a, it->m->partition)) < 0) {
            metric_inc(a->m_lanes_unavailable);
            log_warn("no active lane of the partition can take requests",
                     LF_I("partition", it->m->partition), LF_S("request_id", it->req.request_id));
            rc = TXL_EFENCED;
            goto fail;
        }
        alloc_lane_t *l = &a->lanes[lane];
        it->lane = lane;
        it->nonce = l->next_nonce++;
        l->inflight++;
        nnew++;
    }

    char fee_max[UINT256_DEC_BUF], fee_tip[UINT256_DEC_BUF], chain[24];
    uint256_format_dec(&fees->max_fee_per_gas, fee_max);
    uint256_format_dec(&fees->max_priority_fee_per_gas, fee_tip);
    snprintf(chain, sizeof chain, "%llu", (unsigned long long)a->chain_id);
    if (nnew > 0) {
        char count[24];
        snprintf(count, sizeof count, "%zu", nnew);
        const char *ip[] = {count};
        if ((res = db_query(a->db, batch_sql_ids, 1, ip, err, sizeof err)) == NULL)
            goto fail_db;
        int row = 0;
        for (size_t i = 0; i < n; i++) {
            alloc_item_t *it = &items[i];
            if (it->reason != PAYOUT_OK || !it->is_new)
                continue;
            char to[ADDRESS_STR_LEN + 1], value[UINT256_DEC_BUF];
            it->tx_id = atoll(PQgetvalue(res, row++, 0));
            db_array_add_i64(&b.tx_ids, it->tx_id);
            db_array_add(&b.rids, it->req.request_id);
            db_array_add_i64(&b.lanes, it->lane);
            db_array_add_i64(&b.nonces, it->nonce);
            db_array_add(&b.froms, a->lanes[it->lane].addr_text);
            address_format(&it->req.to, to);
            db_array_add(&b.tos, to);
            uint256_format_dec(&it->req.value, value);
            db_array_add(&b.values, value);
            if (it->req.has_token) {
                address_format(&it->req.token, to);
                db_array_add(&b.tokens, to);
            } else {
                db_array_add(&b.tokens, NULL);
            }
            char *hex = xmalloc(2 * it->tx_data_len + 1);
            hex_encode(it->tx_data, it->tx_data_len, hex);
            db_array_add(&b.datas, hex);
            free(hex);
            db_array_add_i64(&b.gas, (long long)it->gas_limit);
            db_array_add(&b.kinds, tx_kind_name(it->kind));
        }
        PQclear(res);
        res = NULL;
        const char *tp[] = {db_array_text(&b.tx_ids), db_array_text(&b.rids),
                            db_array_text(&b.lanes),  db_array_text(&b.nonces),
                            db_array_text(&b.froms),  db_array_text(&b.tos),
                            db_array_text(&b.values), db_array_text(&b.tokens),
                            db_array_text(&b.datas),  db_array_text(&b.gas),
                            fee_max,                  fee_tip,
                            chain,                    db_array_text(&b.kinds)};
        if ((rc = db_exec(a->db, batch_sql_txs, 14, tp, err, sizeof err)) != 0)
            goto fail;
    }
    if (nmoved > 0) {
        const char *mp[] = {db_array_text(&b.mv_ids), db_array_text(&b.mv_old),
                            db_array_text(&b.mv_new), fee_max, fee_tip, a->owner};
        if ((*moved = db_query(a->db, batch_sql_realloc_move, 6, mp, err, sizeof err)) == NULL)
            goto fail_db;
        /* rows locked by batch_sql_realloc_check: every one moves */
        if ((size_t)PQntuples(*moved) != nmoved) {
            snprintf(err, sizeof err, "%d of %zu re-allocations moved", PQntuples(*moved),
                     nmoved);
            goto fail_db;
        }
        for (int r = 0; r < PQntuples(*moved); r++) {
            long long tx = atoll(PQgetvalue(*moved, r, 0));
            for (size_t i = 0; i < n; i++)
                if (items[i].realloc_ok && items[i].realloc_tx == tx)
                    items[i].moved_row = r;
        }
    }
    if (nnew + nmoved > 0) {
        /* Advance each touched lane, fenced by its epoch. */
        size_t touched = 0;
        for (long long i = 0; i < a->cfg->lanes; i++) {
            alloc_lane_t *l = &a->lanes[i];
            if (!l->owned)
                continue;
            int used = 0;
            for (size_t k = 0; k < n && !used; k++)
                used = (items[k].is_new || items[k].realloc_ok) && items[k].lane == i;
            if (!used)
                continue;
            db_array_add_i64(&b.lane_ids, i);
            db_array_add_i64(&b.lane_next, l->next_nonce);
            db_array_add_i64(&b.lane_epochs, l->epoch);
            touched++;
        }
        const char *lp[] = {db_array_text(&b.lane_ids), db_array_text(&b.lane_next),
                            db_array_text(&b.lane_epochs)};
        if ((res = db_query(a->db, batch_sql_lanes, 3, lp, err, sizeof err)) == NULL)
            goto fail_db;
        if ((size_t)PQntuples(res) != touched) {
            /* Some lane moved to another instance: find which, give them up. */
            metric_inc(a->m_fenced);
            log_warn("lane fenced by another allocator: batch rolled back",
                     LF_U("touched", touched), LF_I("updated", PQntuples(res)));
            PQclear(res);
            res = NULL;
            rc = TXL_EFENCED;
            db_rollback(a->db);
            lanes_refresh(a, 1);
            goto done;
        }
        PQclear(res);
        res = NULL;
    }

    if (b.dup_ids.n > 0) {
        const char *dp[] = {db_array_text(&b.dup_ids)};
        if ((*dups = db_query(a->db, batch_sql_duplicates, 1, dp, err, sizeof err)) == NULL)
            goto fail_db;
    }
    if ((rc = db_commit(a->db, err, sizeof err)) != 0)
        goto fail;
    goto done;

fail_db:
    rc = TXL_EDB;
fail:
    if (rc == TXL_EDB)
        log_warn("allocation batch failed, rolled back", LF_S("error", err));
    db_rollback(a->db);
    db_recover(a->db);
done:
    PQclear(res);
    if (rc != 0) {
        PQclear(*dups);
        *dups = NULL;
        PQclear(*moved);
        *moved = NULL;
    }
    batch_arrays_free(&b);
    return rc;
}

int alloc_batch(void *ctx, rd_kafka_message_t **msgs, size_t n) {
    allocator_t *a = ctx;
    long long t0 = service_now_ms();
    alloc_item_t *items = xcalloc(n, sizeof(*items));
    alloc_item_t **sorted = xcalloc(n, sizeof(*sorted));
    long long *saved_next = xcalloc((size_t)a->cfg->lanes, sizeof(*saved_next));
    long long *saved_inflight = xcalloc((size_t)a->cfg->lanes, sizeof(*saved_inflight));
    PGresult *dups = NULL, *moved = NULL;
    msg_fees_t fees;
    size_t nvalid = 0, nrejected = 0, nnew = 0;
    int rc = 0;

    lanes_take_pending(a);
    lanes_refresh(a, 0);
    lanes_check_chain(a);

    for (size_t i = 0; i < n; i++) {
        items[i].m = msgs[i];
        items[i].dup_row = -1;
        items[i].moved_row = -1;
        items[i].realloc_tx = -1;
        items[i].kind = TX_KIND_PAYOUT;
        batch_parse(a, &items[i]);
    }
    if ((rc = batch_funds(a, items, n)) != 0)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        if (items[i].reason == PAYOUT_OK)
            sorted[nvalid++] = &items[i];
        else
            nrejected++;
    }
    qsort(sorted, nvalid, sizeof(*sorted), batch_cmp_id);
    for (size_t k = 0; k < nvalid; k++)
        sorted[k]->first = k == 0 || strcmp(sorted[k - 1]->req.request_id,
                                            sorted[k]->req.request_id) != 0;

    if (nvalid > 0) {
        if ((rc = fee_oracle_fees(a->fees, &fees)) != 0) {
            log_warn("no fee estimate from the node yet; waiting");
            goto cleanup;
        }
        for (long long i = 0; i < a->cfg->lanes; i++) {
            saved_next[i] = a->lanes[i].next_nonce;
            saved_inflight[i] = a->lanes[i].inflight;
        }
        rc = batch_store(a, items, n, sorted, nvalid, &fees, &dups, &moved);
        if (rc != 0) {
            for (long long i = 0; i < a->cfg->lanes; i++) {
                a->lanes[i].next_nonce = saved_next[i];
                a->lanes[i].inflight = saved_inflight[i];
            }
            goto cleanup;
        }
    }

    if (dups != NULL)
        batch_mark_republish(a, sorted, nvalid, dups);
    /* Committed: publish in batch order, which is nonce order per lane. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        alloc_item_t *it = &items[i];
        if (it->reason != PAYOUT_OK) {
            rc = alloc_publish_dlq(a, it->m, payout_reject_code(it->reason), it->detail,
                                   it->req.request_id[0] != '\0' ? it->req.request_id : NULL);
            continue;
        }
        if (it->moved_row >= 0) {
            long long lane = atoll(PQgetvalue(moved, it->moved_row, 2));
            rc = alloc_publish_stored(a, moved, it->moved_row);
            alloc_publish_status(a, it->req.request_id, it->realloc_tx, "created", (int)lane, it->nonce,
                         "reallocated", it->req.metadata);
            metric_set(a->lanes[lane].m_next_nonce, (double)a->lanes[lane].next_nonce);
            metric_inc(a->m_reallocated);
            log_warn("payout re-allocated: its nonce was used outside txlane",
                     LF_I("tx_id", it->realloc_tx), LF_S("request_id", it->req.request_id),
                     LF_I("lane", lane), LF_I("old_nonce", it->old_nonce),
                     LF_I("nonce", it->nonce));
            continue;
        }
        if (!it->is_new) {
            if (it->dup_row >= 0)
                rc = alloc_publish_stored(a, dups, it->dup_row);
            continue;
        }
        alloc_lane_t *l = &a->lanes[it->lane];
        msg_allocated_t m = {.tx_id = it->tx_id, .kind = it->kind,
                             .lane = (uint32_t)it->lane, .from = l->addr,
                             .nonce = (uint64_t)it->nonce, .to = it->tx_to,
                             .value = it->tx_value, .data = (uint8_t *)it->tx_data,
                             .data_len = it->tx_data_len, .gas_limit = it->gas_limit,
                             .fees = fees, .chain_id = a->chain_id, .attempt = 0,
                             .created_ms = msg_now_ms()};
        memcpy(m.request_id, it->req.request_id, sizeof m.request_id);
        rc = alloc_publish_allocated(a, &m);
        alloc_publish_status(a, it->req.request_id, it->tx_id, "created", it->lane, it->nonce, NULL,
                     it->req.metadata);
        metric_set(l->m_next_nonce, (double)l->next_nonce);
        nnew++;
    }
    if (rc == 0) {
        metric_add(a->m_allocated, (double)nnew);
        metric_add(a->m_duplicates, (double)(nvalid - nnew));
        metric_add(a->m_rejected_total, (double)nrejected);
        metric_observe(a->m_batch_seconds, (double)(service_now_ms() - t0) / 1000.0);
        log_debug("batch allocated", LF_U("messages", n), LF_U("allocated", nnew),
                  LF_U("duplicates", nvalid - nnew), LF_U("rejected", nrejected));
    }

cleanup:
    PQclear(dups);
    PQclear(moved);
    for (size_t i = 0; i < n; i++)
        payout_request_free(&items[i].req);
    free(items);
    free(sorted);
    free(saved_next);
    free(saved_inflight);
    return rc;
}
