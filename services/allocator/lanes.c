/*
 * lanes.c - the allocator's lanes: registration from the xpub, ownership by
 * partition (lane i belongs to partition i mod P of the requests topic),
 * fencing with owner_epoch, the one-time chain check on takeover, and
 * routing.
 *
 * Fencing: taking a partition bumps owner_epoch of its lanes; every later
 * next_nonce update of this instance says WHERE owner_epoch = <mine>, so an
 * instance that lost a lane without noticing cannot advance it (batch.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "txlane/db.h"
#include "txlane/hd.h"
#include "txlane/log.h"
#include "txlane/service.h"
#include "txlane/xmalloc.h"

static const char *const lanes_sql_register =
    "INSERT INTO lanes (id, address, is_treasury)"
    " SELECT u.id, u.address, u.id = $3::int FROM unnest($1::int[], $2::text[]) AS u(id, address)"
    " ON CONFLICT (id) DO UPDATE SET is_treasury = EXCLUDED.is_treasury"
    " WHERE lanes.is_treasury IS DISTINCT FROM EXCLUDED.is_treasury";

static const char *const lanes_sql_mismatch =
    "SELECT l.id, l.address FROM lanes l JOIN unnest($1::int[], $2::text[]) AS u(id, address)"
    " ON u.id = l.id WHERE l.address <> u.address ORDER BY l.id LIMIT 1";

static const char *const lanes_sql_take =
    "UPDATE lanes SET owner_epoch = owner_epoch + 1, owner = $2, updated_at = now()"
    " WHERE id = ANY($1::int[]) RETURNING id, owner_epoch, next_nonce, status";

static const char *const lanes_sql_state =
    "SELECT l.id, l.status, l.owner_epoch, l.next_nonce, COALESCE(c.n, 0)"
    " FROM lanes l LEFT JOIN (SELECT lane_id, count(*) AS n FROM txs"
    "   WHERE lane_id = ANY($1::int[]) AND state IN ('created', 'pending', 'submitted')"
    "   GROUP BY lane_id) c ON c.lane_id = l.id"
    " WHERE l.id = ANY($1::int[])";

static const char *const lanes_sql_chain_nonce =
    "UPDATE lanes SET chain_nonce = u.n FROM unnest($1::int[], $2::bigint[]) AS u(id, n)"
    " WHERE lanes.id = u.id";

/* The chain is ahead of next_nonce: move up, record the range (or, for a lane
 * that has never had a tx, start it at the chain's count). */
static const char *const lanes_sql_external =
    "WITH l AS (UPDATE lanes SET next_nonce = $2::bigint,"
    "   first_nonce = CASE WHEN NOT EXISTS (SELECT 1 FROM txs WHERE lane_id = $1::int)"
    "                      AND first_nonce = next_nonce THEN $2::bigint ELSE first_nonce END,"
    "   external_use_count = external_use_count + 1,"
    "   status_reason = 'chain nonce ' || ($2::bigint)::text || ' was ahead of next_nonce '"
    "                   || ($3::bigint)::text,"
    "   updated_at = now()"
    " WHERE id = $1::int AND owner_epoch = $4::bigint AND next_nonce = $3::bigint"
    " RETURNING id, first_nonce)"
    " INSERT INTO lane_external_nonces (lane_id, nonce_from, nonce_to, detected_by)"
    " SELECT id, $3::bigint, $2::bigint, $5 FROM l WHERE first_nonce <> $2::bigint";

static int lanes_is_treasury(const allocator_t *a, long long i) {
    return i == a->cfg->treasury_lane;
}

int lanes_register(allocator_t *a, char *errstr, size_t errstr_size) {
    hd_node_t account, chain;
    db_array_t ids, addrs;
    int rc = 0;
    if (hd_lane_account_parse(a->cfg->xpub, &account) != 0 ||
        hd_lane_chain_from_account(&account, &chain) != 0) {
        snprintf(errstr, errstr_size, "TXLANE_XPUB: not the account xpub m/44'/60'/0'");
        return TXL_ECONFIG;
    }
    db_array_init(&ids);
    db_array_init(&addrs);
    for (long long i = 0; i < a->cfg->lanes; i++) {
        alloc_lane_t *l = &a->lanes[i];
        if (hd_lane_address(&chain, (uint32_t)i, &l->addr) != 0) {
            snprintf(errstr, errstr_size, "could not derive lane %lld", i);
            rc = TXL_ECRYPTO;
            goto cleanup;
        }
        address_format(&l->addr, l->addr_text);
        db_array_add_i64(&ids, i);
        db_array_add(&addrs, l->addr_text);
    }
    char treasury[24];
    snprintf(treasury, sizeof treasury, "%lld", a->cfg->treasury_lane);
    const char *params[] = {db_array_text(&ids), db_array_text(&addrs), treasury};
    PGresult *res = db_query(a->db, lanes_sql_mismatch, 2, params, errstr, errstr_size);
    if (res == NULL) {
        rc = TXL_EDB;
        goto cleanup;
    }
    if (PQntuples(res) > 0) {
        snprintf(errstr, errstr_size,
                 "lane %s is registered with address %s, not the one TXLANE_XPUB derives: this "
                 "database belongs to another wallet",
                 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        PQclear(res);
        rc = TXL_ECONFIG;
        goto cleanup;
    }
    PQclear(res);
    rc = db_exec(a->db, lanes_sql_register, 3, params, errstr, errstr_size);
cleanup:
    db_array_free(&ids);
    db_array_free(&addrs);
    hd_node_wipe(&account);
    hd_node_wipe(&chain);
    return rc;
}

/* Applies one row of (id, status, owner_epoch, next_nonce, inflight) to a
 * lane this instance owns; drops it when another instance fenced it. */
static void lanes_apply_state(allocator_t *a, PGresult *res, int row) {
    long long id = atoll(PQgetvalue(res, row, 0));
    if (id < 0 || id >= a->cfg->lanes)
        return;
    alloc_lane_t *l = &a->lanes[id];
    if (!l->owned)
        return;
    long long epoch = atoll(PQgetvalue(res, row, 2));
    if (epoch != l->epoch) {
        metric_inc(a->m_fenced);
        log_warn("lane taken over by another allocator", LF_I("lane", id),
                 LF_I("epoch", l->epoch), LF_I("current_epoch", epoch));
        l->owned = 0;
        return;
    }
    int active = strcmp(PQgetvalue(res, row, 1), "active") == 0;
    if (active != l->active)
        log_info("lane status changed", LF_I("lane", id), LF_S("status", PQgetvalue(res, row, 1)));
    l->active = active;
    l->inflight = atoll(PQgetvalue(res, row, 4));
}

static void lanes_owned_array(const allocator_t *a, db_array_t *ids, int32_t partition) {
    for (long long i = 0; i < a->cfg->lanes; i++) {
        /* the treasury lane is owned like any other (its top-ups are pinned to it);
         * lanes_route never picks it */
        if (partition >= 0 ? i % a->partitions == partition : a->lanes[i].owned)
            db_array_add_i64(ids, i);
    }
}

int lanes_take(allocator_t *a, int32_t partition) {
    char err[512];
    db_array_t ids;
    int rc = 0;
    if (partition < 0 || partition >= a->partitions) {
        log_error("assigned a partition beyond the count seen at start-up; restart to adopt it",
                  LF_I("partition", partition), LF_I("partitions", a->partitions));
        return TXL_ERANGE;
    }
    a->part_state[partition] = PART_ASSIGNED;
    db_array_init(&ids);
    lanes_owned_array(a, &ids, partition);
    const char *params[] = {db_array_text(&ids), a->owner};
    PGresult *res = NULL, *st = NULL;
    if (db_begin(a->db, err, sizeof err) != 0 ||
        (res = db_query(a->db, lanes_sql_take, 2, params, err, sizeof err)) == NULL ||
        (st = db_query(a->db, lanes_sql_state, 1, params, err, sizeof err)) == NULL ||
        db_commit(a->db, err, sizeof err) != 0) {
        log_warn("could not take the partition's lanes, will retry", LF_I("partition", partition),
                 LF_S("error", err));
        db_rollback(a->db);
        db_recover(a->db);
        rc = TXL_EDB;
        goto cleanup;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        long long id = atoll(PQgetvalue(res, r, 0));
        alloc_lane_t *l = &a->lanes[id];
        l->owned = 1;
        l->chain_checked = 0;
        l->epoch = atoll(PQgetvalue(res, r, 1));
        l->next_nonce = atoll(PQgetvalue(res, r, 2));
        l->active = strcmp(PQgetvalue(res, r, 3), "active") == 0;
        metric_set(l->m_next_nonce, (double)l->next_nonce);
    }
    for (int r = 0; r < PQntuples(st); r++)
        lanes_apply_state(a, st, r);
    a->part_state[partition] = PART_TAKEN;
    log_info("lanes taken", LF_I("partition", partition), LF_I("lanes", PQntuples(res)),
             LF_S("owner", a->owner));
cleanup:
    PQclear(res);
    PQclear(st);
    db_array_free(&ids);
    return rc;
}

void lanes_take_pending(allocator_t *a) {
    for (int p = 0; p < a->partitions; p++) {
        if (a->part_state[p] == PART_ASSIGNED && lanes_take(a, p) != 0)
            return;
    }
}

void lanes_drop(allocator_t *a, int32_t partition) {
    if (partition < 0 || partition >= a->partitions)
        return;
    a->part_state[partition] = PART_NONE;
    for (long long i = partition; i < a->cfg->lanes; i += a->partitions)
        a->lanes[i].owned = 0;
}

/* One lane's chain count is ahead of its next_nonce. */
static void lanes_chain_ahead(allocator_t *a, long long id, unsigned long long chain) {
    alloc_lane_t *l = &a->lanes[id];
    char err[512], sid[24], schain[24], snext[24], sepoch[24];
    snprintf(sid, sizeof sid, "%lld", id);
    snprintf(schain, sizeof schain, "%llu", chain);
    snprintf(snext, sizeof snext, "%lld", l->next_nonce);
    snprintf(sepoch, sizeof sepoch, "%lld", l->epoch);
    const char *params[] = {sid, schain, snext, sepoch, a->owner};
    PGresult *res = db_query(a->db, lanes_sql_external, 5, params, err, sizeof err);
    if (res == NULL) {
        log_warn("could not move a lane up to the chain, will retry", LF_I("lane", id),
                 LF_S("error", err));
        db_recover(a->db);
        return;
    }
    PQclear(res);
    /* Re-read: 0 rows updated means fenced or moved; lanes_apply_state decides. */
    db_array_t ids;
    db_array_init(&ids);
    db_array_add_i64(&ids, id);
    const char *sp[] = {db_array_text(&ids)};
    PGresult *st = db_query(a->db, lanes_sql_state, 1, sp, err, sizeof err);
    db_array_free(&ids);
    if (st == NULL) {
        db_recover(a->db);
        return;
    }
    if (PQntuples(st) == 1) {
        long long next = atoll(PQgetvalue(st, 0, 3));
        lanes_apply_state(a, st, 0);
        if (l->owned && next >= (long long)chain) {
            metric_inc(a->m_external_use);
            log_warn("lane used outside txlane: next nonce moved up to the chain",
                     LF_I("lane", id), LF_S("address", l->addr_text), LF_I("from", l->next_nonce),
                     LF_U("to", chain));
            l->next_nonce = next;
            metric_set(l->m_next_nonce, (double)next);
            l->chain_checked = 1;
        }
    }
    PQclear(st);
}

void lanes_check_chain(allocator_t *a) {
    rpc_batch_t batch;
    long long *ids = NULL;
    size_t n = 0;
    for (long long i = 0; i < a->cfg->lanes; i++)
        if (a->lanes[i].owned && !a->lanes[i].chain_checked)
            n++;
    if (n == 0)
        return;
    ids = xcalloc(n, sizeof(*ids));
    rpc_batch_init(&batch);
    n = 0;
    for (long long i = 0; i < a->cfg->lanes; i++) {
        if (!a->lanes[i].owned || a->lanes[i].chain_checked)
            continue;
        char params[80];
        snprintf(params, sizeof params, "[\"%s\",\"latest\"]", a->lanes[i].addr_text);
        rpc_batch_add(&batch, "eth_getTransactionCount", params);
        ids[n++] = i;
    }
    if (rpc_batch_send(a->rpc, &batch) != 0) {
        log_warn("could not read lanes' nonces from the node, will retry",
                 LF_S("error", batch.errstr), LF_U("lanes", n));
        goto cleanup;
    }
    db_array_t aid, anonce;
    db_array_init(&aid);
    db_array_init(&anonce);
    for (size_t k = 0; k < n; k++) {
        unsigned long long chain;
        alloc_lane_t *l = &a->lanes[ids[k]];
        if (rpc_result_u64(batch.calls[k].result, &chain) != 0) {
            log_warn("node gave no nonce for a lane", LF_I("lane", ids[k]),
                     LF_S("error", batch.calls[k].error_message ? batch.calls[k].error_message
                                                                : "not a quantity"));
            continue;
        }
        db_array_add_i64(&aid, ids[k]);
        db_array_add_i64(&anonce, (long long)chain);
        if ((long long)chain > l->next_nonce)
            lanes_chain_ahead(a, ids[k], chain);
        else
            l->chain_checked = 1;
    }
    if (aid.n > 0) {
        char err[512];
        const char *params[] = {db_array_text(&aid), db_array_text(&anonce)};
        if (db_exec(a->db, lanes_sql_chain_nonce, 2, params, err, sizeof err) != 0) {
            log_warn("could not record lanes' chain nonces", LF_S("error", err));
            db_recover(a->db);
        }
    }
    db_array_free(&aid);
    db_array_free(&anonce);
cleanup:
    rpc_batch_free(&batch);
    free(ids);
}

void lanes_refresh(allocator_t *a, int force) {
    long long now = service_now_ms();
    if (!force && now < a->next_lane_refresh_ms)
        return;
    a->next_lane_refresh_ms = now + a->cfg->lane_refresh_ms;
    db_array_t ids;
    db_array_init(&ids);
    lanes_owned_array(a, &ids, -1);
    if (ids.n > 0) {
        char err[512];
        const char *params[] = {db_array_text(&ids)};
        PGresult *st = db_query(a->db, lanes_sql_state, 1, params, err, sizeof err);
        if (st == NULL) {
            log_warn("could not refresh lanes", LF_S("error", err));
            db_recover(a->db);
        } else {
            for (int r = 0; r < PQntuples(st); r++)
                lanes_apply_state(a, st, r);
            PQclear(st);
        }
    }
    db_array_free(&ids);
    long long owned = 0;
    for (long long i = 0; i < a->cfg->lanes; i++)
        owned += a->lanes[i].owned;
    metric_set(a->m_owned, (double)owned);
}

int lanes_route(allocator_t *a, int32_t partition) {
    long long P = a->partitions, count = (a->cfg->lanes - partition + P - 1) / P;
    uint32_t *rr = &a->rr[partition];
    int best = -1;
    for (long long k = 0; k < count; k++) {
        long long i = partition + ((*rr + k) % count) * P;
        const alloc_lane_t *l = &a->lanes[i];
        if (!l->owned || !l->chain_checked || !l->active || lanes_is_treasury(a, i))
            continue;
        if (best < 0 || l->inflight < a->lanes[best].inflight)
            best = (int)i;
    }
    if (best >= 0)
        *rr = (uint32_t)((best / P + 1) % count);
    return best;
}

int lanes_pin_ok(const allocator_t *a, int lane, int32_t partition, int treasury_ok) {
    return lane >= 0 && lane < a->cfg->lanes && (treasury_ok || !lanes_is_treasury(a, lane)) &&
           lane % a->partitions == partition;
}
