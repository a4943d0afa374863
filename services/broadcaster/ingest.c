/*
 * ingest.c - what enters the broadcaster's queues: batches of txlane.signed
 * (recorded as pending in PostgreSQL first) and lanes taken over on a
 * partition assignment (their pending/submitted transactions reloaded from
 * PostgreSQL).
 *
 * A batch: each message is decoded and checked (its raw transaction must
 * decode, hash to its "hash", carry its nonce and be signed by its lane's
 * address, derived from the xpub); bad ones go to the DLQ. The rest is
 * recorded in one statement (store.c); once that commits the offsets may be
 * committed, because the raw transaction is durable in PostgreSQL and will be
 * sent from there by whoever owns the lane. Main thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcast.h"
#include "txlane/hex.h"
#include "txlane/kafka.h"
#include "txlane/log.h"
#include "txlane/msg.h"
#include "txlane/tx.h"
#include "txlane/xmalloc.h"

#define BC_PARTITIONS_TIMEOUT_MS 5000

typedef struct {
    rd_kafka_message_t *km;
    msg_signed_t s;
    int decoded;
    int ok;             /* decoded, checked, and the newest attempt of its tx in the batch */
    const char *reason; /* rejected: the DLQ reason code, and its detail */
    char detail[256];
} bc_in_t;

/* Marks x rejected (sent to the DLQ once the batch is recorded). */
static void bc_reject(bc_in_t *x, const char *reason) {
    x->ok = 0;
    x->reason = reason;
}

/* Checks a decoded signed message against its raw transaction and lane.
 * Returns NULL, or a reason code with detail written to why. */
static const char *bc_check(bc_t *bc, const msg_signed_t *s, char *why, size_t why_size) {
    bc_lane_t *lane = bc_lane_get(bc, s->lane);
    if (lane == NULL) {
        snprintf(why, why_size, "lane %u is beyond the lanes this broadcaster serves (%u)",
                 s->lane, BC_LANE_INDEX_MAX);
        return "unknown_lane";
    }
    char from[ADDRESS_STR_LEN + 1];
    address_format(&s->from, from);
    if (!address_equal(&lane->address, &s->from)) {
        snprintf(why, why_size, "from %s is not lane %u (%s) of the configured xpub", from,
                 s->lane, lane->address_str);
        return "wrong_lane_address";
    }
    tx_decoded_t dec;
    eth_address_t signer;
    if (tx_decode(s->raw, s->raw_len, &dec) != 0) {
        snprintf(why, why_size, "raw is not a signed EIP-1559 or EIP-155 transaction");
        return "undecodable_raw";
    }
    if (memcmp(dec.hash, s->hash, 32) != 0) {
        snprintf(why, why_size, "hash is not keccak256(raw)");
        return "hash_mismatch";
    }
    if (dec.tx.nonce != s->nonce) {
        snprintf(why, why_size, "raw has nonce %llu, message %llu",
                 (unsigned long long)dec.tx.nonce, (unsigned long long)s->nonce);
        return "nonce_mismatch";
    }
    if (tx_recover_sender(&dec, &signer) != 0 || !address_equal(&signer, &s->from)) {
        snprintf(why, why_size, "raw is not signed by %s", from);
        return "wrong_signer";
    }
    return NULL;
}

/* Keeps, per tx_id, only the newest attempt of the batch (the first of equal
 * ones): one statement updates a row once. */
static void bc_dedupe(bc_in_t *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        for (size_t k = i + 1; in[i].ok && k < n; k++) {
            if (!in[k].ok || in[k].s.tx_id != in[i].s.tx_id)
                continue;
            if (in[k].s.attempt > in[i].s.attempt)
                in[i].ok = 0;
            else
                in[k].ok = 0;
        }
    }
}

/* Lane of a message that is recorded: its partition is owned here, whatever
 * the key hashing said (a producer keyed by something else). */
static bc_lane_t *bc_lane_of(bc_t *bc, const bc_in_t *in) {
    bc_lane_t *lane = bc_lane_get(bc, in->s.lane);
    if (lane->partition != in->km->partition) {
        log_warn("lane's messages arrive on another partition than its key maps to",
                 LF_U("lane", lane->index), LF_S("address", lane->address_str),
                 LF_I("partition", in->km->partition), LF_I("expected", lane->partition));
        lane->partition = in->km->partition;
    }
    if (!lane->owned) {
        lane->owned = 1;
        lane->loaded = 0;
    }
    return lane;
}

static void bc_enqueue_signed(bc_t *bc, const bc_in_t *in) {
    bc_lane_t *lane = bc_lane_of(bc, in);
    if (lane->mined_known && in->s.nonce < lane->mined)
        return; /* mined already: nothing to send (the watcher confirms) */
    bc_entry_t *e = bc_entry_new(in->s.tx_id, in->s.request_id, in->s.nonce, in->s.attempt,
                                 in->s.hash, in->s.raw, in->s.raw_len);
    bc_lane_enqueue(lane, e);
}

/* Applies the rows of the record statement: one per message whose tx_id is
 * in txs (tx_id, state before, attempt before, lane, nonce, state after or
 * NULL, metadata); a message without a row names an unknown transaction. */
static void bc_apply_recorded(bc_t *bc, bc_in_t *in, size_t n, PGresult *res) {
    char *seen = xcalloc(n ? n : 1, 1);
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t tx_id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        bc_in_t *x = NULL;
        for (size_t i = 0; i < n && x == NULL; i++) {
            if (in[i].ok && !seen[i] && in[i].s.tx_id == tx_id) {
                x = &in[i];
                seen[i] = 1;
            }
        }
        if (x == NULL)
            continue;
        const msg_signed_t *s = &x->s;
        char hash[67];
        bc_hash_hex(s->hash, hash);
        const char *before = PQgetvalue(res, r, 1);
        long long lane = strtoll(PQgetvalue(res, r, 3), NULL, 10);
        unsigned long long nonce = strtoull(PQgetvalue(res, r, 4), NULL, 10);
        if (lane != s->lane || nonce != s->nonce) {
            snprintf(x->detail, sizeof(x->detail), "tx_id %lld is lane %lld nonce %llu in PostgreSQL",
                     (long long)tx_id, lane, nonce);
            bc_reject(x, "tx_mismatch");
            continue;
        }
        const char *meta = PQgetisnull(res, r, 6) ? NULL : PQgetvalue(res, r, 6);
        long long attempt_before = strtoll(PQgetvalue(res, r, 2), NULL, 10);
        if (!PQgetisnull(res, r, 5)) {
            metric_inc(bc->m.recorded);
            log_debug("attempt recorded", LF_U("lane", s->lane), LF_U("nonce", s->nonce),
                      LF_I("tx_id", tx_id), LF_U("attempt", s->attempt), LF_S("tx_hash", hash),
                      LF_S("from_state", before));
            if (strcmp(before, "created") == 0)
                bc_status(bc, s->request_id[0] ? s->request_id : NULL, tx_id, "pending", s->lane,
                          (int64_t)s->nonce, s->attempt, hash, NULL, meta);
            bc_enqueue_signed(bc, x);
        } else if ((strcmp(before, "pending") == 0 || strcmp(before, "submitted") == 0) &&
                   attempt_before == (long long)s->attempt) {
            /* Redelivered: already recorded; queued unless it is there already. */
            bc_enqueue_signed(bc, x);
        } else {
            log_info("signed message for a transaction past it ignored", LF_I("tx_id", tx_id),
                     LF_U("attempt", s->attempt), LF_S("state", before),
                     LF_I("recorded_attempt", attempt_before));
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i].ok && !seen[i]) {
            snprintf(in[i].detail, sizeof(in[i].detail), "tx_id %lld is not in PostgreSQL",
                     (long long)in[i].s.tx_id);
            bc_reject(&in[i], "unknown_tx");
        }
    }
    free(seen);
}

int bc_on_batch(void *ctx, rd_kafka_message_t **msgs, size_t n) {
    bc_t *bc = ctx;
    bc_in_t *in = xcalloc(n, sizeof(*in));
    bc_record_t rec;
    bc_record_init(&rec);
    size_t valid = 0, dlq = 0;
    int rc = 0;
    char errstr[512];
    for (size_t i = 0; i < n; i++) {
        bc_in_t *x = &in[i];
        x->km = msgs[i];
        if (msg_signed_decode(msgs[i]->payload, msgs[i]->len, &x->s, x->detail,
                              sizeof(x->detail)) != 0) {
            bc_reject(x, "invalid_message");
            continue;
        }
        x->decoded = 1;
        x->reason = bc_check(bc, &x->s, x->detail, sizeof(x->detail));
        x->ok = x->reason == NULL;
    }
    bc_dedupe(in, n);
    for (size_t i = 0; i < n; i++) {
        if (!in[i].ok)
            continue;
        const msg_signed_t *s = &in[i].s;
        char dec[UINT256_DEC_BUF], hash[67];
        bc_hash_hex(s->hash, hash);
        db_array_add_i64(&rec.tx_id, s->tx_id);
        db_array_add_i64(&rec.attempt, s->attempt);
        db_array_add(&rec.hash, hash);
        db_array_add_bytes(&rec.raw, s->raw, s->raw_len);
        uint256_format_dec(&s->fees.max_fee_per_gas, dec);
        db_array_add(&rec.max_fee, dec);
        uint256_format_dec(&s->fees.max_priority_fee_per_gas, dec);
        db_array_add(&rec.tip, dec);
        db_array_add(&rec.is_cancel, s->kind == TX_KIND_CANCEL ? "true" : "false");
        db_array_add_i64(&rec.lane, s->lane);
        db_array_add_i64(&rec.nonce, (long long)s->nonce);
        valid++;
    }
    if (valid > 0) {
        PGresult *res = bc_store_record(bc->w->db, &rec, errstr, sizeof(errstr));
        if (res == NULL) {
            log_warn("could not record signed transactions", LF_S("error", errstr),
                     LF_U("messages", valid));
            rc = TXL_EDB;
        } else {
            bc_apply_recorded(bc, in, n, res);
            PQclear(res);
        }
    }
    /* Rejections go out once the batch is recorded (a failed batch comes back
     * whole), and are delivered before the offsets are committed. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (in[i].reason == NULL)
            continue;
        bc_dlq(bc, in[i].km, in[i].reason, in[i].detail,
               in[i].decoded ? in[i].s.request_id : NULL, in[i].decoded ? in[i].s.tx_id : -1);
        dlq++;
    }
    if (rc == 0 && dlq > 0 && producer_flush(bc->producer) != 0)
        rc = TXL_EKAFKA;
    for (size_t i = 0; i < n; i++)
        msg_signed_clear(&in[i].s);
    free(in);
    bc_record_free(&rec);
    metric_set(bc->m.queue_depth, (double)bc_queue_depth(bc));
    return rc;
}

/* The partitions of our topic in parts. Caller frees. */
static int32_t *bc_parts_of(const bc_t *bc, const rd_kafka_topic_partition_list_t *parts,
                            size_t *n) {
    int32_t *v = xcalloc((size_t)parts->cnt + 1, sizeof(*v));
    *n = 0;
    for (int i = 0; i < parts->cnt; i++) {
        if (strcmp(parts->elems[i].topic, bc->cfg->common.topic_signed) == 0)
            v[(*n)++] = parts->elems[i].partition;
    }
    return v;
}

static void bc_lanes_owned_metric(bc_t *bc) {
    size_t owned = 0;
    for (size_t i = 0; i < bc->nlanes; i++)
        owned += bc->lanes[i] != NULL && bc->lanes[i]->owned;
    metric_set(bc->m.lanes_owned, (double)owned);
}

void bc_on_assign(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    bc_t *bc = ctx;
    size_t n;
    int32_t *v = bc_parts_of(bc, parts, &n);
    int grown = 0;
    for (size_t i = 0; i < n; i++)
        grown |= v[i] >= bc->partitions;
    if (grown) {
        /* The topic has more partitions than we knew: keys map elsewhere now. */
        int cnt = kafka_topic_partitions(bc->w->consumer, bc->cfg->common.topic_signed,
                                         BC_PARTITIONS_TIMEOUT_MS);
        if (cnt > 0) {
            log_info("partition count of the signed topic changed", LF_I("partitions", cnt),
                     LF_I("was", bc->partitions));
            bc->partitions = cnt;
            for (size_t i = 0; i < bc->nlanes; i++) {
                if (bc->lanes[i] != NULL)
                    bc->lanes[i]->partition = bc_lane_partition(bc, bc->lanes[i]);
            }
        }
    }
    bc_lanes_assign(bc, v, n, 1);
    free(v);
    bc_lanes_owned_metric(bc);
}

void bc_on_revoke(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    bc_t *bc = ctx;
    /* The round in flight ends first and what it learnt is written, so the
     * next owner of these lanes starts from what the node said. */
    bc_round_drain(bc);
    if (bc_flush(bc) != 0)
        log_warn("node answers left unrecorded at revocation (the next owner re-sends them)");
    size_t n;
    int32_t *v = bc_parts_of(bc, parts, &n);
    bc_lanes_assign(bc, v, n, 0);
    free(v);
    bc_lanes_owned_metric(bc);
    metric_set(bc->m.queue_depth, (double)bc_queue_depth(bc));
}

/* Adds the attempts listed as "attempt:0xhash,..." to e. */
static void bc_entry_add_hashes(bc_entry_t *e, const char *list) {
    while (list != NULL && *list != '\0') {
        char *end = NULL;
        unsigned long attempt = strtoul(list, &end, 10);
        uint8_t hash[32];
        size_t len = 0;
        if (end == NULL || *end != ':' || strncmp(end + 1, "0x", 2) != 0)
            return;
        if (hex_decode(end + 3, 64, hash, sizeof(hash), &len) == 0 && len == 32)
            bc_entry_add_hash(e, (uint32_t)attempt, hash);
        list = strchr(end, ',');
        if (list != NULL)
            list++;
    }
}

/* Queues one row of the load statement. 0, or -1 for a row it cannot use. */
static int bc_load_row(bc_t *bc, PGresult *res, int r) {
    int64_t tx_id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
    const char *request_id = PQgetisnull(res, r, 1) ? NULL : PQgetvalue(res, r, 1);
    uint32_t lane_id = (uint32_t)strtoul(PQgetvalue(res, r, 2), NULL, 10);
    uint64_t nonce = strtoull(PQgetvalue(res, r, 3), NULL, 10);
    uint32_t attempt = (uint32_t)strtoul(PQgetvalue(res, r, 4), NULL, 10);
    const char *hash_hex = PQgetvalue(res, r, 5);
    const char *raw_hex = PQgetvalue(res, r, 6);
    bc_lane_t *lane = bc_lane_get(bc, lane_id);
    uint8_t hash[32];
    size_t hash_len = 0, raw_len = 0;
    uint8_t *raw = xmalloc(strlen(raw_hex) / 2 + 1);
    if (lane == NULL || strncmp(hash_hex, "0x", 2) != 0 ||
        hex_decode(hash_hex + 2, strlen(hash_hex) - 2, hash, sizeof(hash), &hash_len) != 0 ||
        hash_len != 32 ||
        hex_decode(raw_hex, strlen(raw_hex), raw, strlen(raw_hex) / 2 + 1, &raw_len) != 0) {
        free(raw);
        log_error("unusable pending transaction in PostgreSQL", LF_I("tx_id", tx_id));
        return -1;
    }
    if (!lane->mined_known || nonce >= lane->mined) {
        bc_entry_t *e = bc_entry_new(tx_id, request_id, nonce, attempt, hash, raw, raw_len);
        if (!PQgetisnull(res, r, 7))
            bc_entry_add_hashes(e, PQgetvalue(res, r, 7));
        e->submitted = strcmp(PQgetvalue(res, r, 8), "submitted") == 0;
        bc_lane_enqueue(lane, e);
    }
    free(raw);
    return 0;
}

int bc_load_owned(bc_t *bc) {
    int32_t *ids = xcalloc(bc->nlanes + 1, sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; i < bc->nlanes; i++) {
        if (bc->lanes[i] != NULL && bc->lanes[i]->owned && !bc->lanes[i]->loaded)
            ids[n++] = (int32_t)i;
    }
    int rc = 0;
    if (n > 0) {
        char errstr[512];
        PGresult *res = bc_store_load(bc->w->db, ids, n, errstr, sizeof(errstr));
        if (res == NULL) {
            log_warn("could not load the lanes taken over", LF_S("error", errstr),
                     LF_U("lanes", n));
            rc = TXL_EDB;
        } else {
            for (int r = 0; r < PQntuples(res); r++)
                (void)bc_load_row(bc, res, r);
            for (size_t i = 0; i < n; i++)
                bc->lanes[ids[i]]->loaded = 1;
            log_info("lanes taken over", LF_U("lanes", n),
                     LF_I("unconfirmed_txs", PQntuples(res)));
            PQclear(res);
            metric_set(bc->m.queue_depth, (double)bc_queue_depth(bc));
        }
    }
    free(ids);
    return rc;
}
