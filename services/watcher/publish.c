/*
 * publish.c - the watcher's status events: a transactional outbox.
 *
 * Every transition the watcher makes is a tx_events row (program 'watcher')
 * written in the same PostgreSQL transaction as the transition itself. This
 * policy reads the rows after watcher_state.status_event_id in id order,
 * produces one txlane.status event each (key: request_id), and once every
 * one of them has a successful delivery report it moves status_event_id
 * forward. A leader that dies in between leaves the position behind: the
 * next leader publishes those events again (at least once, never lost).
 * The watcher's events are written by one session at a time (the leader's),
 * so their ids grow in commit order and the position never skips one.
 *
 * Delivery is not waited for in the loop: while Kafka is unreachable the
 * watcher keeps following the chain and confirming, and the events wait in
 * the outbox (and in librdkafka's queue, retried forever).
 *
 * The status event is built from the row and the txs row: state = to_state,
 * except a confirmed transaction with receipt status 0, whose event is
 * "failed" with the reason. Detail keys read: attempt, tx_hash,
 * block_number, receipt_status, reason (see confirm.c; repair policies use
 * the same keys).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/log.h"
#include "txlane/msg.h"
#include "watcher.h"

/* Events read and produced per turn. */
#define WATCH_PUBLISH_BATCH 5000
/* Events produced and not yet delivered beyond which no more are read (a
 * long Kafka outage must not fill librdkafka's queue and block the loop). */
#define WATCH_PUBLISH_MAX_INFLIGHT 50000
/* Bound on waiting for deliveries when the program stops. */
#define WATCH_PUBLISH_DRAIN_MS 5000

static const char watch_sql_events[] =
    "SELECT e.event_id, e.tx_id, e.request_id, e.to_state, t.lane_id, t.nonce,"
    " e.detail->>'attempt', e.detail->>'tx_hash', e.detail->>'block_number',"
    " e.detail->>'receipt_status', e.detail->>'reason',"
    " CASE WHEN jsonb_typeof(r.payload->'metadata') = 'object'"
    "   THEN (r.payload->'metadata')::text END,"
    " (extract(epoch FROM e.at) * 1000)::bigint"
    " FROM tx_events e"
    " LEFT JOIN txs t ON t.tx_id = e.tx_id"
    " LEFT JOIN requests r ON r.request_id = e.request_id"
    " WHERE e.program = 'watcher' AND e.event_id > $1::bigint"
    " ORDER BY e.event_id LIMIT $2::int";

static int64_t watch_col_i64(const PGresult *res, int r, int c, int64_t null_value) {
    return PQgetisnull(res, r, c) ? null_value : strtoll(PQgetvalue(res, r, c), NULL, 10);
}

static const char *watch_col_str(const PGresult *res, int r, int c) {
    return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

static int watch_publish_start(watcher_t *w) {
    PGresult *res = watch_query(w, "status outbox position",
                                "SELECT status_event_id FROM watcher_state", 0, NULL);
    if (res == NULL)
        return TXL_EDB;
    if (PQntuples(res) != 1) {
        log_error("watcher_state has no row: run txlane migrate");
        PQclear(res);
        return TXL_EDB;
    }
    w->published_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    w->sent_id = w->published_id;
    PQclear(res);
    return 0;
}

/* Records that every event up to w->sent_id was delivered. */
static int watch_publish_mark(watcher_t *w) {
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)w->sent_id);
    const char *params[] = {id};
    PGresult *res = watch_query(w, "record status outbox position",
                                "UPDATE watcher_state SET status_event_id = $1::bigint,"
                                " updated_at = now() WHERE status_event_id < $1::bigint",
                                1, params);
    if (res == NULL)
        return TXL_EDB;
    PQclear(res);
    w->published_id = w->sent_id;
    return 0;
}

/* Produces one event row. */
static int watch_publish_row(watcher_t *w, const PGresult *res, int r, jbuf_t *j) {
    const char *state = PQgetvalue(res, r, 3);
    const char *receipt = watch_col_str(res, r, 9);
    const char *reason = watch_col_str(res, r, 10);
    msg_status_t m = {
        .request_id = watch_col_str(res, r, 2),
        .tx_id = watch_col_i64(res, r, 1, -1),
        .state = state,
        .lane = watch_col_i64(res, r, 4, -1),
        .nonce = watch_col_i64(res, r, 5, -1),
        .attempt = watch_col_i64(res, r, 6, -1),
        .tx_hash = watch_col_str(res, r, 7),
        .block_number = watch_col_i64(res, r, 8, -1),
        .receipt_status = receipt != NULL ? atoi(receipt) : -1,
        .reason = reason,
        .metadata = watch_col_str(res, r, 11),
        .program = "watcher",
    };
    if (strcmp(state, "confirmed") == 0 && m.receipt_status == 0) {
        m.state = "failed";
        if (m.reason == NULL)
            m.reason = "reverted";
    }
    jbuf_reset(j);
    msg_status_encode(&m, watch_col_i64(res, r, 12, msg_now_ms()), j);
    return producer_send(w->producer, w->cfg->common.topic_status, m.request_id,
                         m.request_id != NULL ? strlen(m.request_id) : 0, j->buf, j->len,
                         RD_KAFKA_PARTITION_UA);
}

/* Produces the events after w->sent_id. */
static int watch_publish_next(watcher_t *w) {
    char after[24], limit[24];
    snprintf(after, sizeof(after), "%lld", (long long)w->sent_id);
    snprintf(limit, sizeof(limit), "%d", WATCH_PUBLISH_BATCH);
    const char *params[] = {after, limit};
    PGresult *res = watch_query(w, "status events", watch_sql_events, 2, params);
    if (res == NULL)
        return TXL_EDB;
    jbuf_t j;
    jbuf_init(&j);
    int rc = 0, r;
    for (r = 0; r < PQntuples(res) && rc == 0; r++) {
        rc = watch_publish_row(w, res, r, &j);
        if (rc == 0)
            w->sent_id = watch_col_i64(res, r, 0, w->sent_id);
    }
    if (rc != 0)
        log_error("could not produce a status event", LF_S("topic", w->cfg->common.topic_status),
                  LF_ERR(rc));
    else if (r > 0)
        log_debug("status events produced", LF_I("events", r), LF_I("up_to_event", w->sent_id));
    metric_add(w->m_status_events, r - (rc != 0));
    jbuf_free(&j);
    PQclear(res);
    return rc;
}

static int watch_publish_tick(watcher_t *w) {
    rd_kafka_t *rk = producer_handle(w->producer);
    rd_kafka_poll(rk, 0);
    if (w->sent_id > w->published_id && rd_kafka_outq_len(rk) == 0) {
        /* nothing in flight: flush re-sends any failed delivery, else returns at once */
        int rc = producer_flush(w->producer);
        if (rc != 0)
            return rc;
        rc = watch_publish_mark(w);
        if (rc != 0)
            return rc;
    }
    if (producer_outstanding(w->producer) >= WATCH_PUBLISH_MAX_INFLIGHT)
        return 0;
    return watch_publish_next(w);
}

void watch_publish_drain(watcher_t *w) {
    rd_kafka_t *rk = producer_handle(w->producer);
    long long deadline = service_now_ms() + WATCH_PUBLISH_DRAIN_MS;
    if (w->sent_id <= w->published_id)
        return;
    while (rd_kafka_outq_len(rk) > 0 && service_now_ms() < deadline)
        rd_kafka_poll(rk, 100);
    if (rd_kafka_outq_len(rk) == 0 && producer_outstanding(w->producer) == 0 &&
        leader_is_leader(w->leader) && watch_publish_mark(w) == 0)
        return;
    log_warn("status events not confirmed delivered before exit; the next leader sends them again",
             LF_I("from_event", w->published_id + 1), LF_I("to_event", w->sent_id));
}

const watch_policy_t watch_policy_publish = {
    .name = "publish",
    .start = watch_publish_start,
    .tick = watch_publish_tick,
    .on_reorg = NULL,
};
