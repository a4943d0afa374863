/*
 * repair.c - what the repair policies share: their metrics, reading a
 * transaction row into an allocated message, the fee rules of replacements,
 * and producing to txlane.allocated. See repair.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair.h"
#include "txlane/hex.h"
#include "txlane/log.h"
#include "txlane/node_answer.h"
#include "txlane/xmalloc.h"

/* Raw transactions per eth_sendRawTransaction batch. */
#define WATCH_RAW_PER_BATCH 200

void watch_repair_init(watcher_t *w) {
    watch_repair_t *r = xcalloc(1, sizeof(*r));
    r->m_bumps = metric_counter("txlane_watcher_bumps_total", NULL,
                                "fee-bumped replacements published (stuck or underpriced)");
    r->m_bump_alerts =
        metric_counter("txlane_watcher_bump_alerts_total", NULL,
                       "stuck transactions that could not be bumped: TXLANE_MAX_FEE_WEI reached");
    r->m_underpriced = metric_counter("txlane_watcher_underpriced_total", NULL,
                                      "bumps triggered by an underpriced answer of the node");
    r->m_resent = metric_counter("txlane_watcher_resent_total", NULL,
                                 "dropped transactions sent again (the node accepted them)");
    r->m_dropped_checked = metric_counter("txlane_watcher_dropped_checks_total", NULL,
                                          "submitted transactions looked up on the node");
    r->m_invalid = metric_counter("txlane_watcher_invalid_total", NULL,
                                  "payouts failed because the node refused them for good");
    r->m_cancels = metric_counter("txlane_watcher_cancels_published_total", NULL,
                                  "cancels (0-value self-transfers) published to fill a nonce");
    r->m_gap_redrives = metric_counter("txlane_watcher_gap_redrives_total", NULL,
                                       "allocations published again (nothing signed in time)");
    r->m_gap_cancels = metric_counter("txlane_watcher_gap_cancels_total", NULL,
                                      "allocated nonces filled with a cancel after a re-drive");
    r->m_drift_alerts = metric_counter("txlane_watcher_drift_alerts_total", NULL,
                                       "lanes whose drift rose above TXLANE_DRIFT_ALERT");
    r->m_reorg_depth = metric_gauge("txlane_watcher_reorg_depth_blocks", NULL,
                                    "depth of the last reorganisation repaired");
    r->m_reorg_reverted = metric_counter("txlane_watcher_reorg_reverted_total", NULL,
                                         "mined transactions moved back to submitted by a reorg");
    r->m_operator = metric_counter("txlane_watcher_operator_requests_total", NULL,
                                   "txlane bump / cancel requests carried out");
    w->repair = r;
}

void watch_repair_free(watcher_t *w) {
    if (w->repair == NULL)
        return;
    free(w->repair->redriven);
    free(w->repair->drift);
    free(w->repair->drift_alerting);
    free(w->repair);
    w->repair = NULL;
}

static const char *watch_col(const PGresult *res, int r, int c) {
    return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

int watch_tx_parse(const PGresult *res, int r, int c, watch_tx_t *t) {
    msg_allocated_t *m = &t->m;
    memset(t, 0, sizeof(*t));
    m->tx_id = strtoll(PQgetvalue(res, r, c), NULL, 10);
    snprintf(m->request_id, sizeof(m->request_id), "%s",
             watch_col(res, r, c + 1) ? PQgetvalue(res, r, c + 1) : "");
    const char *token = watch_col(res, r, c + 8);
    const char *hexdata = PQgetvalue(res, r, c + 9);
    eth_address_t recipient;
    uint256_t value;
    size_t hexlen = strlen(hexdata);
    int ok = tx_kind_parse(PQgetvalue(res, r, c + 2), &m->kind) == 0 &&
             address_parse(PQgetvalue(res, r, c + 5), &m->from) == 0 &&
             address_parse(PQgetvalue(res, r, c + 6), &recipient) == 0 &&
             uint256_parse_dec(PQgetvalue(res, r, c + 7), &value) == 0 &&
             (token == NULL || address_parse(token, &m->to) == 0) &&
             uint256_parse_dec(PQgetvalue(res, r, c + 14), &t->prev.max_fee_per_gas) == 0 &&
             uint256_parse_dec(PQgetvalue(res, r, c + 15), &t->prev.max_priority_fee_per_gas) == 0;
    if (ok && hexlen > 0) {
        m->data = xmalloc(hexlen / 2 + 1);
        ok = hex_decode(hexdata, hexlen, m->data, hexlen / 2 + 1, &m->data_len) == 0;
    }
    if (!ok) {
        log_error("stored transaction does not parse", LF_I("tx_id", m->tx_id));
        watch_tx_clear(t);
        return TXL_EINVAL;
    }
    if (token != NULL) {
        uint256_from_u64(0, &m->value);
    } else {
        m->to = recipient;
        m->value = value;
    }
    m->lane = (uint32_t)strtoul(PQgetvalue(res, r, c + 3), NULL, 10);
    m->nonce = strtoull(PQgetvalue(res, r, c + 4), NULL, 10);
    m->gas_limit = strtoull(PQgetvalue(res, r, c + 10), NULL, 10);
    m->chain_id = strtoull(PQgetvalue(res, r, c + 11), NULL, 10);
    m->attempt = (uint32_t)strtoul(PQgetvalue(res, r, c + 12), NULL, 10);
    m->created_ms = strtoll(PQgetvalue(res, r, c + 13), NULL, 10);
    m->fees = t->prev;
    snprintf(t->state, sizeof(t->state), "%s", PQgetvalue(res, r, c + 16));
    t->is_cancel = strcmp(PQgetvalue(res, r, c + 17), "t") == 0;
    if (t->is_cancel)
        watch_tx_make_cancel(m);
    return 0;
}

void watch_tx_clear(watch_tx_t *t) {
    msg_allocated_clear(&t->m);
}

void watch_tx_make_cancel(msg_allocated_t *m) {
    free(m->data);
    m->data = NULL;
    m->data_len = 0;
    m->kind = TX_KIND_CANCEL;
    m->to = m->from;
    uint256_from_u64(0, &m->value);
    m->gas_limit = 21000;
}

int watch_fees_market(watcher_t *w, msg_fees_t *out) {
    int rc = fee_oracle_fees(w->fees, out);
    if (rc != 0)
        log_warn("no fee estimate from the node yet: replacement waits");
    return rc;
}

/* out = max(prev * percent %, prev * 110 %, market), all rounded up. */
static int watch_fee_raise(const uint256_t *prev, unsigned percent, const uint256_t *market,
                           uint256_t *out) {
    uint256_t a, b;
    if (uint256_mul_percent_ceil(prev, 100u + percent, &a) != 0 ||
        uint256_mul_percent_ceil(prev, 110u, &b) != 0)
        return TXL_ERANGE;
    uint256_max(&a, &b, out);
    uint256_max(out, market, out);
    return 0;
}

int watch_fees_bump(watcher_t *w, const msg_fees_t *prev, unsigned percent, msg_fees_t *out) {
    msg_fees_t market;
    uint256_t need_cap, need_tip;
    if (watch_fees_market(w, &market) != 0)
        return TXL_EIO;
    if (watch_fee_raise(&prev->max_fee_per_gas, percent, &market.max_fee_per_gas,
                        &out->max_fee_per_gas) != 0 ||
        watch_fee_raise(&prev->max_priority_fee_per_gas, percent,
                        &market.max_priority_fee_per_gas, &out->max_priority_fee_per_gas) != 0 ||
        uint256_mul_percent_ceil(&prev->max_fee_per_gas, 110u, &need_cap) != 0 ||
        uint256_mul_percent_ceil(&prev->max_priority_fee_per_gas, 110u, &need_tip) != 0)
        return 1;
    uint256_min(&out->max_fee_per_gas, &w->max_fee, &out->max_fee_per_gas);
    uint256_min(&out->max_priority_fee_per_gas, &out->max_fee_per_gas,
                &out->max_priority_fee_per_gas);
    if (uint256_cmp(&out->max_fee_per_gas, &need_cap) < 0 ||
        uint256_cmp(&out->max_priority_fee_per_gas, &need_tip) < 0)
        return 1;
    return 0;
}

int watch_send_allocated(watcher_t *w, const msg_allocated_t *m) {
    char key[ADDRESS_STR_LEN + 1];
    jbuf_t j;
    address_format(&m->from, key);
    jbuf_init(&j);
    msg_allocated_encode(m, &j);
    int rc = producer_send(w->producer, w->cfg->common.topic_allocated, key, strlen(key), j.buf,
                           j.len, RD_KAFKA_PARTITION_UA);
    jbuf_free(&j);
    if (rc != 0)
        log_error("could not produce a replacement", LF_S("topic", w->cfg->common.topic_allocated),
                  LF_I("tx_id", m->tx_id), LF_ERR(rc));
    return rc;
}

void watch_marks_set(watch_mark_t **v, size_t *n, int64_t tx_id, long long at_ms) {
    for (size_t i = 0; i < *n; i++) {
        if ((*v)[i].tx_id != tx_id)
            continue;
        if (at_ms < 0)
            (*v)[i] = (*v)[--*n];
        else
            (*v)[i].at_ms = at_ms;
        return;
    }
    if (at_ms < 0)
        return;
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[*n].tx_id = tx_id;
    (*v)[*n].at_ms = at_ms;
    (*n)++;
}

long long watch_marks_get(const watch_mark_t *v, size_t n, int64_t tx_id) {
    for (size_t i = 0; i < n; i++) {
        if (v[i].tx_id == tx_id)
            return v[i].at_ms;
    }
    return -1;
}

size_t watch_send_raw(watcher_t *w, char *const *params, size_t n) {
    size_t nb = (n + WATCH_RAW_PER_BATCH - 1) / WATCH_RAW_PER_BATCH, accepted = 0;
    if (n == 0)
        return 0;
    rpc_batch_set_t set;
    rpc_batch_set_init(&set, nb);
    for (size_t i = 0; i < n; i++)
        rpc_batch_add(&set.b[i / WATCH_RAW_PER_BATCH], "eth_sendRawTransaction", params[i]);
    if (rpc_batch_set_send(w->rpc, &set) != 0) {
        metric_inc(w->m_errors);
        log_warn("could not send raw transactions again",
                 LF_S("error", rpc_batch_set_error(&set)));
    }
    for (size_t i = 0; i < n; i++) {
        const rpc_batch_t *b = &set.b[i / WATCH_RAW_PER_BATCH];
        node_answer_t a = node_answer_of_call(b, i % WATCH_RAW_PER_BATCH);
        if (a.outcome == NODE_ANSWER_ACCEPTED || a.outcome == NODE_ANSWER_KNOWN)
            accepted++;
        else
            log_debug("raw transaction not taken again", LF_S("outcome", node_outcome_name(a.outcome)),
                      LF_S("reason", a.reason));
    }
    rpc_batch_set_free(&set);
    return accepted;
}
