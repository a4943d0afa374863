/*
 * audit_tx.c - the audit's per-transaction checks.
 *
 * Invariant 3: every attempt (tx_attempts.raw, and txs.raw) of a
 * transaction is decoded with tx.h and must be signed by the lane (sender
 * recovered), for the tx's nonce and chain, with the hash recorded for it,
 * and carry either the tx's payout - to COALESCE(token, to_address), value
 * (token ? 0 : value_wei), data - or a no-op (0-value self-transfer without
 * data). So at most one payout can ever be executed for a (lane, nonce).
 *
 * Invariant 7b (with the node): the receipts of every attempt of the txs
 * that PostgreSQL says are mined (confirmed, cancelled, failed) and of the
 * in-flight ones whose nonce the chain has passed, read in JSON-RPC batches.
 * A confirmed/cancelled tx must have exactly one attempt mined at or before
 * the audit block, in the recorded block, with the recorded receipt status,
 * and it must be the payout for 'confirmed' and the no-op for 'cancelled'.
 * The per-lane tallies (ours_mined, awaiting, foreign) feed check 7a.
 *
 * The scan runs in single-row mode: memory grows with the txs that need a
 * receipt, not with the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "ctl.h"
#include "txlane/hex.h"
#include "txlane/tx.h"
#include "txlane/uint256.h"
#include "txlane/xmalloc.h"

typedef struct {
    uint8_t hash[32];
    int attempt; /* -1: txs.raw */
    int payout;  /* carries the tx's payout */
    int noop;    /* a 0-value self-transfer without data (both for a cancel tx) */
    /* from the node */
    int mined;
    unsigned long long block;
    char block_hash[67];
    int status;
} audit_cand_t;

typedef enum { TS_CREATED, TS_PENDING, TS_SUBMITTED, TS_CONFIRMED, TS_CANCELLED, TS_FAILED } ts_t;

/* What the receipt check needs of one tx. */
typedef struct {
    long long tx_id, lane_id, nonce;
    ts_t state;
    int kind_cancel;
    char *request_id; /* owned; "" when none */
    long long block_number;  /* -1: not recorded */
    char block_hash[67];     /* "" when not recorded */
    int receipt_status;      /* -1: not recorded */
    audit_cand_t *cands;     /* owned */
    size_t n_cands;
} audit_chain_tx_t;

typedef struct {
    audit_t *a;
    /* the tx being scanned */
    int open;
    audit_chain_tx_t cur;
    eth_address_t from, target;
    uint256_t value;
    uint8_t *data;
    size_t data_len;
    unsigned long long chain_id;
    char tx_hash[67];
    /* ",5,9," nonces the tx was moved off (reallocations: used outside txlane); its
     * attempts from before a move are for those */
    char old_nonces[512];
    int hash_matched, n_raws; /* of the tx being scanned */
    /* results */
    audit_chain_tx_t *list;
    size_t n_list, cap_list;
    unsigned long long n_txs, n_decoded, n_distinct;
} audit_scan_t;

static const char *const audit_state_names[] = {"created",   "pending",   "submitted",
                                                "confirmed", "cancelled", "failed"};

static int audit_state_parse(const char *s, ts_t *out) {
    for (int i = 0; i < 6; i++) {
        if (strcmp(s, audit_state_names[i]) == 0) {
            *out = (ts_t)i;
            return 0;
        }
    }
    return -1;
}

static const char audit_scan_sql[] =
    "SELECT t.tx_id, t.lane_id, t.nonce, t.state, t.kind, t.from_address, t.to_address,"
    " t.value_wei::text, t.token, encode(t.data, 'hex'), t.chain_id, t.tx_hash, t.block_number,"
    " t.block_hash, t.receipt_status, coalesce(t.request_id, ''), encode(t.raw, 'hex'),"
    " a.attempt, a.tx_hash, encode(a.raw, 'hex'), a.is_cancel,"
    " (SELECT ',' || string_agg(r.old_nonce::text, ',') || ',' FROM reallocations r"
    "   WHERE r.tx_id = t.tx_id AND r.new_nonce IS NOT NULL)"
    " FROM txs t LEFT JOIN tx_attempts a ON a.tx_id = t.tx_id"
    " ORDER BY t.tx_id, a.attempt";

enum {
    SC_TX_ID, SC_LANE, SC_NONCE, SC_STATE, SC_KIND, SC_FROM, SC_TO, SC_VALUE, SC_TOKEN, SC_DATA,
    SC_CHAIN, SC_HASH, SC_BLOCK, SC_BLOCK_HASH, SC_RECEIPT, SC_REQUEST, SC_TX_RAW, SC_ATTEMPT,
    SC_A_HASH, SC_A_RAW, SC_A_CANCEL, SC_OLD_NONCES,
};

static void audit_chain_tx_free(audit_chain_tx_t *t) {
    free(t->request_id);
    free(t->cands);
    memset(t, 0, sizeof(*t));
}

/* "tx 12 (request order-1)" or "tx 12" into buf. */
static const char *audit_tx_name(const audit_chain_tx_t *t, char *buf, size_t n) {
    if (t->request_id != NULL && t->request_id[0] != '\0')
        snprintf(buf, n, "tx %lld (request %s, lane %lld nonce %lld)", t->tx_id, t->request_id,
                 t->lane_id, t->nonce);
    else
        snprintf(buf, n, "tx %lld (lane %lld nonce %lld)", t->tx_id, t->lane_id, t->nonce);
    return buf;
}

static void audit_tx_begin(audit_scan_t *s, PGresult *row) {
    audit_t *a = s->a;
    audit_chain_tx_t *t = &s->cur;
    char name[256];
    memset(t, 0, sizeof(*t));
    s->open = 1;
    s->n_txs++;
    s->hash_matched = 0;
    s->n_raws = 0;
    t->tx_id = atoll(PQgetvalue(row, 0, SC_TX_ID));
    t->lane_id = atoll(PQgetvalue(row, 0, SC_LANE));
    t->nonce = atoll(PQgetvalue(row, 0, SC_NONCE));
    t->request_id = xstrdup(PQgetvalue(row, 0, SC_REQUEST));
    t->kind_cancel = strcmp(PQgetvalue(row, 0, SC_KIND), "cancel") == 0;
    t->block_number = PQgetisnull(row, 0, SC_BLOCK) ? -1 : atoll(PQgetvalue(row, 0, SC_BLOCK));
    snprintf(t->block_hash, sizeof(t->block_hash), "%s",
             PQgetisnull(row, 0, SC_BLOCK_HASH) ? "" : PQgetvalue(row, 0, SC_BLOCK_HASH));
    t->receipt_status =
        PQgetisnull(row, 0, SC_RECEIPT) ? -1 : atoi(PQgetvalue(row, 0, SC_RECEIPT));
    if (audit_state_parse(PQgetvalue(row, 0, SC_STATE), &t->state) != 0)
        t->state = TS_CREATED;
    snprintf(s->tx_hash, sizeof(s->tx_hash), "%s",
             PQgetisnull(row, 0, SC_HASH) ? "" : PQgetvalue(row, 0, SC_HASH));
    s->chain_id = strtoull(PQgetvalue(row, 0, SC_CHAIN), NULL, 10);
    snprintf(s->old_nonces, sizeof(s->old_nonces), "%s", PQgetvalue(row, 0, SC_OLD_NONCES));
    audit_tx_name(t, name, sizeof(name));

    /* the payout every attempt must carry */
    const char *token = PQgetisnull(row, 0, SC_TOKEN) ? NULL : PQgetvalue(row, 0, SC_TOKEN);
    const char *data_hex = PQgetvalue(row, 0, SC_DATA);
    free(s->data);
    s->data = xmalloc(strlen(data_hex) / 2 + 1);
    if (address_parse(PQgetvalue(row, 0, SC_FROM), &s->from) != 0 ||
        address_parse(token != NULL ? token : PQgetvalue(row, 0, SC_TO), &s->target) != 0 ||
        uint256_parse_dec(PQgetvalue(row, 0, SC_VALUE), &s->value) != 0 ||
        hex_decode(data_hex, strlen(data_hex), s->data, strlen(data_hex) / 2 + 1,
                   &s->data_len) != 0)
        audit_fail(a, AUDIT_C3_ATTEMPTS, "%s: its from, to, token, value or data is malformed",
                   name);
    if (token != NULL)
        memset(&s->value, 0, sizeof(s->value));
}

static void audit_attempt(audit_scan_t *s, const char *raw_hex, const char *hash_text,
                          int attempt, int is_cancel) {
    audit_t *a = s->a;
    audit_chain_tx_t *t = &s->cur;
    char name[256], what[32];
    audit_tx_name(t, name, sizeof(name));
    if (attempt >= 0)
        snprintf(what, sizeof(what), "attempt #%d", attempt);
    else
        snprintf(what, sizeof(what), "txs.raw");
    size_t n = strlen(raw_hex) / 2;
    uint8_t *raw = xmalloc(n + 1);
    s->n_raws++;
    tx_decoded_t dec;
    eth_address_t sender;
    if (hex_decode(raw_hex, strlen(raw_hex), raw, n + 1, &n) != 0 || tx_decode(raw, n, &dec) != 0) {
        audit_fail(a, AUDIT_C3_ATTEMPTS, "%s: %s is not a valid signed transaction", name, what);
        free(raw);
        return;
    }
    s->n_decoded++;
    char hash[67] = "0x";
    hex_encode(dec.hash, 32, hash + 2);
    if (hash_text != NULL && strcmp(hash_text, hash) != 0)
        audit_fail(a, AUDIT_C3_ATTEMPTS, "%s: %s is recorded with hash %s but its raw hashes to %s",
                   name, what, hash_text, hash);
    if (s->tx_hash[0] != '\0' && strcmp(s->tx_hash, hash) == 0)
        s->hash_matched = 1;
    if (tx_recover_sender(&dec, &sender) != 0 || !address_equal(&sender, &s->from))
        audit_fail(a, AUDIT_C3_ATTEMPTS, "%s: %s is not signed by the lane's key", name, what);
    char moved[32];
    snprintf(moved, sizeof(moved), ",%llu,", (unsigned long long)dec.tx.nonce);
    int old_attempt = attempt >= 0 && strstr(s->old_nonces, moved) != NULL;
    if ((dec.tx.nonce != (uint64_t)t->nonce && !old_attempt) || dec.tx.chain_id != s->chain_id)
        audit_fail(a, AUDIT_C3_ATTEMPTS, "%s: %s is for nonce %llu on chain %llu", name, what,
                   (unsigned long long)dec.tx.nonce, (unsigned long long)dec.tx.chain_id);
    int payout = address_equal(&dec.tx.to, &s->target) &&
                 uint256_cmp(&dec.tx.value, &s->value) == 0 && dec.tx.data_len == s->data_len &&
                 (s->data_len == 0 || memcmp(dec.tx.data, s->data, s->data_len) == 0);
    int noop = address_equal(&dec.tx.to, &s->from) && uint256_is_zero(&dec.tx.value) &&
               dec.tx.data_len == 0;
    if (!payout && !noop) {
        char to[ADDRESS_STR_LEN + 1], value[UINT256_DEC_BUF];
        address_format(&dec.tx.to, to);
        uint256_format_dec(&dec.tx.value, value);
        audit_fail(a, AUDIT_C3_ATTEMPTS,
                   "%s: %s sends %s wei to %s with %zu byte(s) of data: neither its payout nor a "
                   "no-op",
                   name, what, value, to, dec.tx.data_len);
    } else if (is_cancel && !noop) {
        audit_fail(a, AUDIT_C3_ATTEMPTS, "%s: %s is marked as a cancel but pays the recipient",
                   name, what);
    }
    for (size_t i = 0; i < t->n_cands; i++) {
        if (memcmp(t->cands[i].hash, dec.hash, 32) == 0) {
            free(raw);
            return;
        }
    }
    s->n_distinct++;
    t->cands = xrealloc(t->cands, (t->n_cands + 1) * sizeof(audit_cand_t));
    audit_cand_t *c = &t->cands[t->n_cands++];
    memset(c, 0, sizeof(*c));
    memcpy(c->hash, dec.hash, 32);
    c->attempt = attempt;
    c->payout = payout;
    c->noop = noop;
    free(raw);
}

/* Ends the tx being scanned: keeps it when its receipts are to be read. */
static void audit_tx_end(audit_scan_t *s) {
    audit_t *a = s->a;
    audit_chain_tx_t *t = &s->cur;
    if (!s->open)
        return;
    s->open = 0;
    char name[256];
    if (s->n_raws > 0 && s->tx_hash[0] != '\0' && !s->hash_matched)
        audit_fail(a, AUDIT_C3_ATTEMPTS, "%s: tx_hash %s is the hash of none of its attempts",
                   audit_tx_name(t, name, sizeof(name)), s->tx_hash);
    int keep = 0;
    if (a->rpc != NULL) {
        audit_lane_t *lane = audit_lane_find(a, t->lane_id);
        keep = t->state >= TS_CONFIRMED || (lane != NULL && t->nonce < lane->mined);
        if (s->chain_id != a->chain_id)
            audit_fail(a, AUDIT_C7B_RECEIPTS, "%s is for chain %llu, the node is chain %llu",
                       audit_tx_name(t, name, sizeof(name)), s->chain_id, a->chain_id);
    }
    if (!keep) {
        audit_chain_tx_free(t);
        return;
    }
    if (s->n_list == s->cap_list) {
        s->cap_list = s->cap_list ? s->cap_list * 2 : 256;
        s->list = xrealloc(s->list, s->cap_list * sizeof(audit_chain_tx_t));
    }
    s->list[s->n_list++] = *t;
    memset(t, 0, sizeof(*t));
}

static void audit_on_row(void *ctx, PGresult *row) {
    audit_scan_t *s = ctx;
    long long tx_id = atoll(PQgetvalue(row, 0, SC_TX_ID));
    if (!s->open || tx_id != s->cur.tx_id) {
        audit_tx_end(s);
        audit_tx_begin(s, row);
        if (!PQgetisnull(row, 0, SC_TX_RAW))
            audit_attempt(s, PQgetvalue(row, 0, SC_TX_RAW), NULL, -1, 0);
    }
    if (!PQgetisnull(row, 0, SC_ATTEMPT)) {
        audit_attempt(s, PQgetvalue(row, 0, SC_A_RAW), PQgetvalue(row, 0, SC_A_HASH),
                      atoi(PQgetvalue(row, 0, SC_ATTEMPT)),
                      PQgetvalue(row, 0, SC_A_CANCEL)[0] == 't');
    }
}

/* Receipts: one call per candidate hash, in batches. */
typedef struct {
    audit_t *a;
    audit_cand_t **cands;
} audit_receipts_t;

static int audit_on_receipt(void *ctx, size_t i, const rpc_call_t *call) {
    audit_receipts_t *r = ctx;
    audit_cand_t *c = r->cands[i];
    if (call->error_message != NULL) {
        audit_error(r->a, AUDIT_C7B_RECEIPTS, "eth_getTransactionReceipt: %s",
                    call->error_message);
        return TXL_ERPC;
    }
    if (call->result == NULL || !YAJL_IS_OBJECT(call->result))
        return 0; /* not mined */
    const char *bn_path[] = {"blockNumber", NULL}, *bh_path[] = {"blockHash", NULL},
               *st_path[] = {"status", NULL};
    unsigned long long bn = 0, st = 0;
    const char *bh = rpc_result_str(yajl_tree_get(call->result, bh_path, yajl_t_string));
    if (rpc_result_u64(yajl_tree_get(call->result, bn_path, yajl_t_string), &bn) != 0 ||
        bh == NULL) {
        audit_error(r->a, AUDIT_C7B_RECEIPTS, "eth_getTransactionReceipt: a receipt without "
                                              "blockNumber or blockHash");
        return TXL_ERPC;
    }
    if (bn > r->a->block)
        return 0; /* mined after the audit block: not mined as of the snapshot */
    c->mined = 1;
    c->block = bn;
    snprintf(c->block_hash, sizeof(c->block_hash), "%s", bh);
    c->status = rpc_result_u64(yajl_tree_get(call->result, st_path, yajl_t_string), &st) == 0
                    ? (int)st
                    : -1;
    return 0;
}

static int audit_read_receipts(audit_t *a, audit_scan_t *s) {
    size_t n = 0;
    for (size_t i = 0; i < s->n_list; i++)
        n += s->list[i].n_cands;
    char **params = xcalloc(n + 1, sizeof(char *));
    audit_cand_t **cands = xcalloc(n + 1, sizeof(audit_cand_t *));
    size_t k = 0;
    for (size_t i = 0; i < s->n_list; i++) {
        for (size_t j = 0; j < s->list[i].n_cands; j++, k++) {
            char hex[65];
            hex_encode(s->list[i].cands[j].hash, 32, hex);
            params[k] = xasprintf("[\"0x%s\"]", hex);
            cands[k] = &s->list[i].cands[j];
        }
    }
    char errstr[512] = "";
    audit_receipts_t ctx = {a, cands};
    int rc = ctl_rpc_each(a->rpc, "eth_getTransactionReceipt", params, n, audit_on_receipt, &ctx,
                          errstr, sizeof(errstr));
    if (rc != 0 && errstr[0] != '\0')
        audit_error(a, AUDIT_C7B_RECEIPTS, "%s", errstr);
    for (size_t i = 0; i < n; i++)
        free(params[i]);
    free(params);
    free(cands);
    return rc;
}

static void audit_judge(audit_t *a, audit_chain_tx_t *t) {
    char name[256];
    audit_lane_t *lane = audit_lane_find(a, t->lane_id);
    audit_cand_t *m = NULL;
    size_t mined = 0;
    audit_tx_name(t, name, sizeof(name));
    for (size_t i = 0; i < t->n_cands; i++) {
        if (t->cands[i].mined) {
            mined++;
            m = &t->cands[i];
        }
    }
    if (mined > 1)
        audit_fail(a, AUDIT_C7B_RECEIPTS, "%s: %zu of its attempts have receipts", name, mined);
    const char *state = audit_state_names[t->state];
    if (t->state < TS_CONFIRMED) { /* in flight, nonce below the chain's count */
        if (m != NULL) {
            if (lane != NULL)
                lane->awaiting++;
        } else {
            if (lane != NULL)
                lane->foreign++;
            audit_fail(a, AUDIT_C7A_MINED,
                       "%s is %s, but the chain has mined that nonce with none of its attempts "
                       "(the lane was used outside txlane)",
                       name, state);
        }
        return;
    }
    if (t->state == TS_FAILED) {
        if (m != NULL && lane != NULL)
            lane->failed_mined++;
        if (m != NULL && m->payout && !m->noop)
            audit_fail(a, AUDIT_C7B_RECEIPTS, "%s is failed, but its payout attempt #%d was mined "
                                              "(the recipient was paid)",
                       name, m->attempt);
        return;
    }
    if (m == NULL) {
        audit_fail(a, AUDIT_C7B_RECEIPTS, "%s is %s but none of its %zu attempt(s) is on chain "
                                          "at block %llu",
                   name, state, t->n_cands, a->block);
        return;
    }
    if (lane != NULL)
        lane->ours_mined++;
    if (t->state == TS_CANCELLED && !m->noop)
        audit_fail(a, AUDIT_C7B_RECEIPTS, "%s is cancelled, but its payout attempt #%d was mined "
                                          "(the recipient was paid)",
                   name, m->attempt);
    if (t->state == TS_CONFIRMED && !m->payout)
        audit_fail(a, AUDIT_C7B_RECEIPTS, "%s is confirmed, but the attempt mined (#%d) is a "
                                          "no-op (the recipient was not paid)",
                   name, m->attempt);
    if ((t->block_number >= 0 && (unsigned long long)t->block_number != m->block) ||
        (t->block_hash[0] != '\0' && strcasecmp(t->block_hash, m->block_hash) != 0))
        audit_fail(a, AUDIT_C7B_RECEIPTS, "%s is recorded in block %lld %s but was mined in "
                                          "block %llu %s (a reorg not followed?)",
                   name, t->block_number, t->block_hash[0] ? t->block_hash : "(no hash)",
                   m->block, m->block_hash);
    if (t->receipt_status >= 0 && m->status >= 0 && t->receipt_status != m->status)
        audit_fail(a, AUDIT_C7B_RECEIPTS, "%s is recorded with receipt status %d, the chain says "
                                          "%d",
                   name, t->receipt_status, m->status);
}

void audit_check_transactions(audit_t *a) {
    audit_scan_t s;
    memset(&s, 0, sizeof(s));
    s.a = a;
    int rc = audit_scan(a, AUDIT_C3_ATTEMPTS, audit_scan_sql, 0, NULL, audit_on_row, &s);
    audit_tx_end(&s);
    audit_chain_tx_free(&s.cur);
    free(s.data);
    if (rc == 0)
        audit_summary(a, AUDIT_C3_ATTEMPTS,
                      "%llu transaction(s), %llu distinct signed attempt(s) decoded (%llu raws)",
                      s.n_txs, s.n_distinct, s.n_decoded);
    if (a->rpc == NULL) {
        /* --db-only, or the node could not be reached (recorded already) */
    } else if (rc != 0) {
        audit_error(a, AUDIT_C7B_RECEIPTS, "not checked: the transactions could not be read");
        audit_error(a, AUDIT_C7A_MINED, "not checked: the transactions could not be read");
    } else if (audit_read_receipts(a, &s) != 0) {
        audit_error(a, AUDIT_C7A_MINED, "not checked: the receipts could not be read");
    } else {
        size_t n = 0;
        for (size_t i = 0; i < s.n_list; i++) {
            audit_judge(a, &s.list[i]);
            n += s.list[i].n_cands;
        }
        audit_summary(a, AUDIT_C7B_RECEIPTS, "%zu transaction(s) checked against %zu receipt "
                                             "look-up(s)",
                      s.n_list, n);
    }
    for (size_t i = 0; i < s.n_list; i++)
        audit_chain_tx_free(&s.list[i]);
    free(s.list);
}
