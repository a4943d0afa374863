/*
 * store.c - the broadcaster's PostgreSQL statements.
 *
 * Each is one statement and one round trip for a whole batch: array
 * parameters unnested into rows, data-modifying CTEs for the guarded
 * transition, the attempt rows and the tx_events ledger together (a single
 * statement is a single transaction). Transitions (DESIGN section 4):
 *   created -> pending            a signed attempt is recorded (raw + hash)
 *   pending/submitted, new attempt  a replacement is recorded (state kept)
 *   pending -> submitted          the node accepted an attempt, or one is mined
 *   submitted, first acceptance of a newer attempt: an event, state kept
 *   failed, the watcher's cancel of its nonce   recorded and sent, state kept
 *                                 (no event: the watcher moves it to cancelled)
 * Anything else (a tx already confirmed or cancelled, an older attempt, a
 * redelivered message) matches no row and changes nothing.
 *
 * Plans stay linear in the batch: every row is reached through its primary
 * key (a LATERAL lookup where the planner would otherwise hash a whole
 * table), and the steps pass their rows on through RETURNING instead of
 * joining CTEs to each other (a CTE is estimated at a row or two, which
 * turns such a join into a nested loop over the batch squared).
 *
 * tx_attempts.result holds "<outcome>/<reason>" and, for a node error, ": "
 * and the node's message (node_answer.h), e.g. "invalid/intrinsic_gas_too_low:
 * intrinsic gas too low"; sent_at is when the node first accepted it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bcast.h"
#include "txlane/db.h"

static const char bc_sql_record[] =
    "WITH m AS ("
    "  SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bytea[], $5::numeric[],"
    "                       $6::numeric[], $7::bool[], $8::int[], $9::bigint[])"
    "    AS m(tx_id, attempt, tx_hash, raw, max_fee, tip, is_cancel, lane_id, nonce)),"
    " cur AS ("
    "  SELECT m.*, t.state AS from_state, t.attempt AS cur_attempt, t.request_id,"
    "         t.lane_id AS cur_lane, t.nonce AS cur_nonce,"
    "         t.lane_id = m.lane_id AND t.nonce = m.nonce"
    "         AND ((t.state = 'created' AND m.attempt >= t.attempt)"
    "           OR (t.state IN ('pending', 'submitted') AND m.attempt > t.attempt)"
    "           OR (t.state = 'failed' AND m.is_cancel AND m.attempt > t.attempt)) AS ok"
    "  FROM m JOIN txs t ON t.tx_id = m.tx_id FOR UPDATE OF t),"
    " ins AS ("
    "  INSERT INTO tx_attempts (tx_id, attempt, tx_hash, max_fee_per_gas,"
    "                           max_priority_fee_per_gas, is_cancel, raw)"
    "  SELECT tx_id, attempt, tx_hash, max_fee, tip, is_cancel, raw FROM cur WHERE ok"
    "  ON CONFLICT (tx_id, attempt) DO NOTHING),"
    " upd AS ("
    "  UPDATE txs t SET state = CASE WHEN c.from_state = 'created' THEN 'pending' ELSE t.state END,"
    "         attempt = c.attempt, tx_hash = c.tx_hash, raw = c.raw,"
    "         pending_at = COALESCE(t.pending_at, now())"
    "  FROM cur c WHERE c.ok AND t.tx_id = c.tx_id"
    "  RETURNING t.tx_id, t.state, c.request_id, c.from_state, c.attempt, c.tx_hash),"
    " ev AS ("
    "  INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program, detail)"
    "  SELECT tx_id, request_id, from_state, state, 'broadcaster',"
    "         jsonb_build_object('attempt', attempt, 'tx_hash', tx_hash)"
    "  FROM upd WHERE from_state <> 'failed')"
    " SELECT tx_id, from_state, cur_attempt, cur_lane, cur_nonce,"
    "        CASE WHEN ok THEN CASE WHEN from_state = 'created' THEN 'pending' ELSE from_state END END,"
    "        CASE WHEN ok AND from_state = 'created' THEN"
    "          (SELECT (r.payload -> 'metadata')::text FROM requests r"
    "           WHERE r.request_id = cur.request_id) END"
    " FROM cur";

static const char bc_sql_submitted[] =
    "WITH m AS ("
    "  SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[]) AS m(tx_id, attempt, result)),"
    " x AS ("
    "  SELECT m.tx_id, m.attempt, m.result, a.tx_hash, a.sent_at IS NULL AS first,"
    "         t.state AS from_state, t.attempt = m.attempt AS latest"
    "  FROM m CROSS JOIN LATERAL (SELECT a.tx_hash, a.sent_at FROM tx_attempts a"
    "    WHERE a.tx_id = m.tx_id AND a.attempt = m.attempt OFFSET 0) a"
    "  JOIN txs t ON t.tx_id = m.tx_id"
    "  FOR UPDATE OF a, t),"
    " att AS ("
    "  UPDATE tx_attempts a SET sent_at = now(), result = x.result FROM x"
    "  WHERE x.first AND a.tx_id = x.tx_id AND a.attempt = x.attempt),"
    " upd AS ("
    "  UPDATE txs t SET state = 'submitted', submitted_at = COALESCE(t.submitted_at, now())"
    "  FROM x WHERE t.tx_id = x.tx_id"
    "    AND (x.from_state = 'pending' OR (x.from_state = 'submitted' AND x.first AND x.latest))"
    "  RETURNING t.tx_id, t.request_id, t.lane_id, t.nonce, x.from_state, x.attempt, x.tx_hash,"
    "            x.result),"
    " ev AS ("
    "  INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program, detail)"
    "  SELECT tx_id, request_id, from_state, 'submitted', 'broadcaster',"
    "         jsonb_build_object('attempt', attempt, 'tx_hash', tx_hash, 'result', result)"
    "  FROM upd)"
    " SELECT tx_id, request_id, lane_id, nonce, attempt, tx_hash,"
    "        (SELECT (r.payload -> 'metadata')::text FROM requests r"
    "         WHERE r.request_id = upd.request_id)"
    " FROM upd";

/* Only attempts the node never accepted get a result here; a result that is
 * already there is not reported again. */
static const char bc_sql_results[] =
    "WITH m AS ("
    "  SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[]) AS m(tx_id, attempt, result)),"
    " upd AS ("
    "  UPDATE tx_attempts a SET result = m.result FROM m"
    "  WHERE a.tx_id = m.tx_id AND a.attempt = m.attempt AND a.sent_at IS NULL"
    "    AND a.result IS DISTINCT FROM m.result"
    "  RETURNING a.tx_id, a.attempt, a.tx_hash, m.result)"
    " SELECT upd.tx_id, t.request_id, t.lane_id, t.nonce, upd.attempt, upd.tx_hash, upd.result,"
    "        (r.payload -> 'metadata')::text"
    " FROM upd JOIN txs t USING (tx_id) LEFT JOIN requests r ON r.request_id = t.request_id";

static const char bc_sql_low_funds[] =
    "UPDATE lanes l SET status = 'low_funds', status_reason = m.reason, updated_at = now()"
    " FROM unnest($1::int[], $2::text[]) AS m(id, reason)"
    " WHERE l.id = m.id AND l.status = 'active' RETURNING l.id";

static const char bc_sql_lane_status[] =
    "SELECT id, status FROM lanes WHERE id = ANY($1::int[])";

/* The latest attempt of every pending/submitted tx of the lanes, every
 * attempt's hash ("attempt:hash,...") and the state, in nonce order per lane. */
static const char bc_sql_load[] =
    "SELECT t.tx_id, t.request_id, t.lane_id, t.nonce, t.attempt, t.tx_hash,"
    "       encode(COALESCE(t.raw, a.raw), 'hex'),"
    "       (SELECT string_agg(x.attempt || ':' || x.tx_hash, ',' ORDER BY x.attempt)"
    "          FROM tx_attempts x WHERE x.tx_id = t.tx_id),"
    "       t.state"
    " FROM txs t LEFT JOIN tx_attempts a ON a.tx_id = t.tx_id AND a.attempt = t.attempt"
    " WHERE t.lane_id = ANY($1::int[])"
    "   AND (t.state IN ('pending', 'submitted') OR (t.state = 'failed' AND a.is_cancel"
    "        AND t.block_number IS NULL))"
    "   AND COALESCE(t.raw, a.raw) IS NOT NULL"
    " ORDER BY t.lane_id, t.nonce";

static const char bc_sql_lanes[] = "SELECT id, address FROM lanes ORDER BY id";

void bc_record_init(bc_record_t *r) {
    db_array_t *arrays[] = {&r->tx_id, &r->attempt, &r->hash, &r->raw,  &r->max_fee,
                            &r->tip,   &r->is_cancel, &r->lane, &r->nonce};
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
        db_array_init(arrays[i]);
}

void bc_record_reset(bc_record_t *r) {
    db_array_t *arrays[] = {&r->tx_id, &r->attempt, &r->hash, &r->raw,  &r->max_fee,
                            &r->tip,   &r->is_cancel, &r->lane, &r->nonce};
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
        db_array_reset(arrays[i]);
}

void bc_record_free(bc_record_t *r) {
    db_array_t *arrays[] = {&r->tx_id, &r->attempt, &r->hash, &r->raw,  &r->max_fee,
                            &r->tip,   &r->is_cancel, &r->lane, &r->nonce};
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
        db_array_free(arrays[i]);
}

/* Runs sql; on failure resets a broken connection (the caller retries). */
static PGresult *bc_store_run(PGconn *db, const char *sql, int nparams,
                              const char *const *params, char *errstr, size_t errstr_size) {
    PGresult *res = db_query(db, sql, nparams, params, errstr, errstr_size);
    if (res == NULL)
        db_recover(db);
    return res;
}

PGresult *bc_store_record(PGconn *db, bc_record_t *r, char *errstr, size_t errstr_size) {
    const char *params[] = {db_array_text(&r->tx_id),  db_array_text(&r->attempt),
                            db_array_text(&r->hash),   db_array_text(&r->raw),
                            db_array_text(&r->max_fee), db_array_text(&r->tip),
                            db_array_text(&r->is_cancel), db_array_text(&r->lane),
                            db_array_text(&r->nonce)};
    return bc_store_run(db, bc_sql_record, 9, params, errstr, errstr_size);
}

/* Runs sql with the notes as ($1 tx_id[], $2 attempt[], $3 text[]). */
static PGresult *bc_store_notes(PGconn *db, const char *sql, const bc_notes_t *notes,
                                char *errstr, size_t errstr_size) {
    db_array_t ids, attempts, texts;
    db_array_init(&ids);
    db_array_init(&attempts);
    db_array_init(&texts);
    for (size_t i = 0; i < notes->n; i++) {
        db_array_add_i64(&ids, notes->v[i].tx_id);
        db_array_add_i64(&attempts, notes->v[i].attempt);
        db_array_add(&texts, notes->v[i].text);
    }
    const char *params[] = {db_array_text(&ids), db_array_text(&attempts), db_array_text(&texts)};
    PGresult *res = bc_store_run(db, sql, 3, params, errstr, errstr_size);
    db_array_free(&ids);
    db_array_free(&attempts);
    db_array_free(&texts);
    return res;
}

PGresult *bc_store_submitted(PGconn *db, const bc_notes_t *notes, char *errstr,
                             size_t errstr_size) {
    return bc_store_notes(db, bc_sql_submitted, notes, errstr, errstr_size);
}

PGresult *bc_store_results(PGconn *db, const bc_notes_t *notes, char *errstr,
                           size_t errstr_size) {
    return bc_store_notes(db, bc_sql_results, notes, errstr, errstr_size);
}

PGresult *bc_store_low_funds(PGconn *db, const bc_notes_t *notes, char *errstr,
                             size_t errstr_size) {
    db_array_t ids, reasons;
    db_array_init(&ids);
    db_array_init(&reasons);
    for (size_t i = 0; i < notes->n; i++) {
        db_array_add_i64(&ids, notes->v[i].lane);
        db_array_add(&reasons, notes->v[i].text);
    }
    const char *params[] = {db_array_text(&ids), db_array_text(&reasons)};
    PGresult *res = bc_store_run(db, bc_sql_low_funds, 2, params, errstr, errstr_size);
    db_array_free(&ids);
    db_array_free(&reasons);
    return res;
}

/* Runs sql with the lane indexes as $1::int[]. */
static PGresult *bc_store_by_lanes(PGconn *db, const char *sql, const int32_t *lanes, size_t n,
                                   char *errstr, size_t errstr_size) {
    db_array_t ids;
    db_array_init(&ids);
    for (size_t i = 0; i < n; i++)
        db_array_add_i64(&ids, lanes[i]);
    const char *params[] = {db_array_text(&ids)};
    PGresult *res = bc_store_run(db, sql, 1, params, errstr, errstr_size);
    db_array_free(&ids);
    return res;
}

PGresult *bc_store_lane_status(PGconn *db, const int32_t *lanes, size_t n, char *errstr,
                               size_t errstr_size) {
    return bc_store_by_lanes(db, bc_sql_lane_status, lanes, n, errstr, errstr_size);
}

PGresult *bc_store_load(PGconn *db, const int32_t *lanes, size_t n, char *errstr,
                        size_t errstr_size) {
    return bc_store_by_lanes(db, bc_sql_load, lanes, n, errstr, errstr_size);
}

PGresult *bc_store_lanes(PGconn *db, char *errstr, size_t errstr_size) {
    return bc_store_run(db, bc_sql_lanes, 0, NULL, errstr, errstr_size);
}
