/*
 * lanes.c - the broadcaster's lanes and their queues.
 *
 * A lane is known by its address, derived from the account xpub; its
 * messages go to the partition of txlane.signed that its EIP-55 address key
 * maps to with murmur2_random (what every txlane producer uses), and the
 * instance that holds that partition owns the lane: it alone sends its
 * transactions. Each lane keeps its unconfirmed transactions in a small
 * array sorted by nonce (one entry per nonce: the latest attempt).
 * Main thread only.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcast.h"
#include "txlane/hex.h"
#include "txlane/log.h"
#include "txlane/xmalloc.h"

int bc_lanes_init(bc_t *bc, char *errstr, size_t errstr_size) {
    hd_node_t account;
    int rc = hd_lane_account_parse(bc->cfg->xpub, &account);
    if (rc == 0)
        rc = hd_lane_chain_from_account(&account, &bc->chain);
    hd_node_wipe(&account);
    if (rc != 0) {
        snprintf(errstr, errstr_size,
                 "TXLANE_XPUB: not the account xpub m/44'/60'/0' of a wallet (%s)",
                 txl_strerror(rc));
        return TXL_ECONFIG;
    }
    for (uint32_t i = 0; i < (uint32_t)bc->cfg->lanes; i++) {
        if (bc_lane_get(bc, i) == NULL) {
            snprintf(errstr, errstr_size, "TXLANE_XPUB: cannot derive lane %u", i);
            return TXL_ECONFIG;
        }
    }
    return 0;
}

void bc_lanes_free(bc_t *bc) {
    for (size_t i = 0; i < bc->nlanes; i++) {
        if (bc->lanes[i] != NULL) {
            bc_lane_clear(bc->lanes[i]);
            free(bc->lanes[i]->q);
            free(bc->lanes[i]);
        }
    }
    free(bc->lanes);
    bc->lanes = NULL;
    bc->nlanes = 0;
}

int32_t bc_lane_partition(const bc_t *bc, const bc_lane_t *lane) {
    if (bc->partitions <= 0)
        return -1;
    return rd_kafka_msg_partitioner_murmur2_random(NULL, lane->address_str,
                                                   strlen(lane->address_str), bc->partitions,
                                                   NULL, NULL);
}

bc_lane_t *bc_lane_get(bc_t *bc, uint32_t index) {
    if (index < bc->nlanes && bc->lanes[index] != NULL)
        return bc->lanes[index];
    if (index >= BC_LANE_INDEX_MAX)
        return NULL;
    eth_address_t address;
    if (hd_lane_address(&bc->chain, index, &address) != 0)
        return NULL;
    if (index >= bc->nlanes) {
        size_t n = (size_t)index + 1 > bc->nlanes * 2 ? (size_t)index + 1 : bc->nlanes * 2;
        bc->lanes = xrealloc(bc->lanes, n * sizeof(*bc->lanes));
        memset(bc->lanes + bc->nlanes, 0, (n - bc->nlanes) * sizeof(*bc->lanes));
        bc->nlanes = n;
    }
    bc_lane_t *lane = xcalloc(1, sizeof(*lane));
    lane->index = index;
    lane->address = address;
    address_format(&address, lane->address_str);
    lane->partition = bc_lane_partition(bc, lane);
    char labels[32];
    snprintf(labels, sizeof(labels), "lane=\"%u\"", index);
    lane->m_inflight = metric_gauge("txlane_broadcaster_inflight", labels,
                                    "transactions the node accepted and the chain has not mined");
    bc->lanes[index] = lane;
    return lane;
}

void bc_lanes_assign(bc_t *bc, const int32_t *parts, size_t n, int add) {
    for (size_t i = 0; i < bc->nlanes; i++) {
        bc_lane_t *lane = bc->lanes[i];
        if (lane == NULL)
            continue;
        for (size_t k = 0; k < n; k++) {
            if (lane->partition != parts[k])
                continue;
            if (add) {
                lane->owned = 1;
                lane->loaded = 0;
            } else {
                lane->owned = 0;
                lane->loaded = 0;
                lane->held = 0;
                lane->mined_known = 0;
                bc_lane_clear(lane);
            }
        }
    }
}

bc_entry_t *bc_entry_new(int64_t tx_id, const char *request_id, uint64_t nonce, uint32_t attempt,
                         const uint8_t hash[32], const uint8_t *raw, size_t raw_len) {
    bc_entry_t *e = xcalloc(1, sizeof(*e));
    e->tx_id = tx_id;
    e->request_id = request_id != NULL && request_id[0] != '\0' ? xstrdup(request_id) : NULL;
    e->nonce = nonce;
    e->attempt = attempt;
    memcpy(e->hash, hash, 32);
    e->params = xmalloc(2 * raw_len + 8);
    memcpy(e->params, "[\"0x", 4);
    hex_encode(raw, raw_len, e->params + 4);
    memcpy(e->params + 4 + 2 * raw_len, "\"]", 3);
    e->state = BC_ENTRY_QUEUED;
    e->reported = -1;
    bc_entry_add_hash(e, attempt, hash);
    return e;
}

void bc_entry_add_hash(bc_entry_t *e, uint32_t attempt, const uint8_t hash[32]) {
    for (size_t i = 0; i < e->nhashes; i++) {
        if (e->hashes[i].attempt == attempt)
            return;
    }
    e->hashes = xrealloc(e->hashes, (e->nhashes + 1) * sizeof(*e->hashes));
    e->hashes[e->nhashes].attempt = attempt;
    memcpy(e->hashes[e->nhashes].hash, hash, 32);
    e->nhashes++;
}

void bc_entry_free(bc_entry_t *e) {
    if (e == NULL)
        return;
    free(e->request_id);
    free(e->params);
    free(e->hashes);
    free(e);
}

/* Index of the first entry with nonce >= nonce. */
static size_t bc_lane_lower_bound(const bc_lane_t *lane, uint64_t nonce) {
    size_t lo = 0, hi = lane->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lane->q[mid]->nonce < nonce)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t bc_lane_find(const bc_lane_t *lane, uint64_t nonce) {
    size_t i = bc_lane_lower_bound(lane, nonce);
    return i < lane->n && lane->q[i]->nonce == nonce ? i : lane->n;
}

int bc_lane_enqueue(bc_lane_t *lane, bc_entry_t *e) {
    size_t i = bc_lane_lower_bound(lane, e->nonce);
    if (i < lane->n && lane->q[i]->nonce == e->nonce) {
        bc_entry_t *old = lane->q[i];
        if (old->tx_id == e->tx_id && e->attempt <= old->attempt) {
            bc_entry_free(e);
            return 0;
        }
        if (old->tx_id != e->tx_id)
            log_error("two transactions for one lane nonce; keeping the newer message",
                      LF_U("lane", lane->index), LF_U("nonce", e->nonce),
                      LF_I("tx_id", old->tx_id), LF_I("other_tx_id", e->tx_id));
        else {
            for (size_t k = 0; k < old->nhashes; k++)
                bc_entry_add_hash(e, old->hashes[k].attempt, old->hashes[k].hash);
            e->submitted = old->submitted || old->state == BC_ENTRY_ACCEPTED;
        }
        lane->q[i] = e;
        bc_entry_free(old);
        return 1;
    }
    if (lane->n == lane->cap) {
        lane->cap = lane->cap ? lane->cap * 2 : 16;
        lane->q = xrealloc(lane->q, lane->cap * sizeof(*lane->q));
    }
    memmove(lane->q + i + 1, lane->q + i, (lane->n - i) * sizeof(*lane->q));
    lane->q[i] = e;
    lane->n++;
    return 1;
}

bc_entry_t *bc_lane_take(bc_lane_t *lane, size_t i) {
    assert(i < lane->n);
    bc_entry_t *e = lane->q[i];
    memmove(lane->q + i, lane->q + i + 1, (lane->n - i - 1) * sizeof(*lane->q));
    lane->n--;
    return e;
}

void bc_lane_clear(bc_lane_t *lane) {
    for (size_t i = 0; i < lane->n; i++)
        bc_entry_free(lane->q[i]);
    lane->n = 0;
    metric_set(lane->m_inflight, 0);
}

size_t bc_queue_depth(const bc_t *bc) {
    size_t n = 0;
    for (size_t i = 0; i < bc->nlanes; i++) {
        if (bc->lanes[i] != NULL)
            n += bc->lanes[i]->n;
    }
    return n;
}
