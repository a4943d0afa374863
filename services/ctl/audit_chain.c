/*
 * audit_chain.c - the audit's view of the node: the audit block, every
 * lane's mined nonce count (one JSON-RPC batch), and recipients' balances.
 *
 * Invariant 7a, per lane, with M = the chain's mined count (nonce) at the
 * audit block, F = first_nonce (nonces below it were used before txlane
 * took the lane), D = its txs confirmed or cancelled, X = the nonces recorded
 * in lane_external_nonces (used outside txlane, skipped by the allocator),
 * Q = in-flight txs one of whose attempts is already mined (the watcher has
 * not confirmed them yet); a failed payout whose nonce its cancel filled counts
 * as cancelled:
 *
 *     M - F = D + X + Q,   and with --final also Q = 0.
 *
 * The chain's nonces form a prefix [0, M); txlane's nonces of a lane are
 * [F, next_nonce) (invariant 2), so every mined nonce from F on must be a tx
 * txlane knows to be mined or a recorded external one. M - F larger: some
 * nonce was used outside txlane and nobody recorded it; smaller: PostgreSQL
 * says confirmed where the chain disagrees (7b names the txs).
 *
 * Invariant 4: every allocated nonce is mined, M >= next_nonce: reported as
 * in flight, a failure only with --final (nothing should be in flight).
 *
 * Invariant 7c: for plain ETH payouts (no token, no data, not to a lane
 * address) the sum of confirmed successful values per recipient is compared
 * with eth_getBalance at the audit block. A recipient may have received
 * other money, so only a balance below what txlane paid is a failure -
 * unless --strict-recipients, where any difference is. Recipients of
 * contract calls are not compared (the contract may have moved the value).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "ctl.h"
#include "txlane/uint256.h"
#include "txlane/xmalloc.h"

/* eth_chainId and eth_blockNumber in one batch. */
static int audit_chain_head(audit_t *a, char *errstr, size_t errstr_size) {
    rpc_batch_t b;
    rpc_batch_init(&b);
    rpc_batch_add(&b, "eth_chainId", "[]");
    rpc_batch_add(&b, "eth_blockNumber", "[]");
    int rc = rpc_batch_send(a->rpc, &b);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "%s", b.errstr);
    } else if (b.calls[0].error_message != NULL || b.calls[1].error_message != NULL ||
               rpc_result_u64(b.calls[0].result, &a->chain_id) != 0 ||
               rpc_result_u64(b.calls[1].result, &a->block) != 0) {
        snprintf(errstr, errstr_size, "eth_chainId/eth_blockNumber: %s",
                 b.calls[0].error_message   ? b.calls[0].error_message
                 : b.calls[1].error_message ? b.calls[1].error_message
                                            : "malformed answer");
        rc = TXL_ERPC;
    }
    rpc_batch_free(&b);
    snprintf(a->block_tag, sizeof(a->block_tag), "0x%llx", a->block);
    return rc;
}

int audit_chain_open(audit_t *a, const char *rpc_url, long timeout_ms) {
    char errstr[512];
    a->rpc = rpc_client_new(rpc_url, timeout_ms);
    int rc = audit_chain_head(a, errstr, sizeof(errstr));
    if (rc == 0 && a->n_lanes > 0) {
        char **addrs = xcalloc(a->n_lanes, sizeof(char *));
        uint256_t *mined = xcalloc(a->n_lanes, sizeof(uint256_t));
        for (size_t i = 0; i < a->n_lanes; i++)
            addrs[i] = a->lanes[i].address;
        rc = ctl_rpc_address_quantities(a->rpc, "eth_getTransactionCount", addrs, a->n_lanes,
                                        a->block_tag, mined, errstr, sizeof(errstr));
        for (size_t i = 0; rc == 0 && i < a->n_lanes; i++) {
            uint64_t v = 0;
            a->lanes[i].mined = uint256_to_u64(&mined[i], &v) == 0 && v <= INT64_MAX
                                    ? (long long)v
                                    : (long long)INT64_MAX;
        }
        free(addrs);
        free(mined);
    }
    if (rc != 0) {
        static const audit_check_id_t chain_checks[] = {AUDIT_C4_USED, AUDIT_C7A_MINED,
                                                        AUDIT_C7B_RECEIPTS, AUDIT_C7C_RECIPIENTS};
        for (size_t i = 0; i < sizeof(chain_checks) / sizeof(chain_checks[0]); i++)
            audit_error(a, chain_checks[i], "not checked: node %s: %s", rpc_url, errstr);
        rpc_client_free(a->rpc);
        a->rpc = NULL;
        for (size_t i = 0; i < a->n_lanes; i++)
            a->lanes[i].mined = -1;
    }
    return rc;
}

void audit_check_lane_counts(audit_t *a) {
    long long total_mined = 0, total_accounted = 0, awaiting = 0, unmined = 0, allocated = 0;
    if (a->rpc == NULL || a->checks[AUDIT_C7A_MINED].error)
        return;
    for (size_t i = 0; i < a->n_lanes; i++) {
        audit_lane_t *l = &a->lanes[i];
        long long used = l->mined - l->first;
        long long accounted = l->done + l->failed_mined + l->external + l->awaiting;
        allocated += l->next - l->first;
        total_mined += used > 0 ? used : 0;
        total_accounted += accounted;
        awaiting += l->awaiting;
        if (l->mined < l->first)
            audit_fail(a, AUDIT_C7A_MINED,
                       "lane %lld %s: the chain has mined %lld nonce(s), fewer than its "
                       "first_nonce %lld",
                       l->id, l->address, l->mined, l->first);
        else if (used != accounted)
            audit_fail(a, AUDIT_C7A_MINED,
                       "lane %lld %s: %lld nonce(s) mined from first_nonce %lld, txlane accounts "
                       "for %lld (%lld confirmed/cancelled, %lld external, %lld awaiting "
                       "confirmation): %lld %s",
                       l->id, l->address, used, l->first, accounted, l->done + l->failed_mined,
                       l->external, l->awaiting, used > accounted ? used - accounted : accounted - used,
                       used > accounted ? "used by transactions txlane did not send or record"
                                        : "recorded as mined but not mined");
        if (a->final && l->awaiting > 0)
            audit_fail(a, AUDIT_C7A_MINED,
                       "lane %lld: %lld transaction(s) mined but not confirmed in PostgreSQL",
                       l->id, l->awaiting);
        if (l->mined < l->next) {
            long long from = l->mined > l->first ? l->mined : l->first;
            unmined += l->next - from;
            if (a->final)
                audit_fail(a, AUDIT_C4_USED, "lane %lld: nonces %lld..%lld allocated but not mined",
                           l->id, from, l->next - 1);
        }
    }
    audit_summary(a, AUDIT_C7A_MINED,
                  "%zu lane(s) at block %llu: %lld nonce(s) mined from first_nonce, %lld accounted "
                  "for",
                  a->n_lanes, a->block, total_mined, total_accounted);
    if (awaiting > 0 && !a->final)
        audit_note(a, AUDIT_C7A_MINED,
                   "%lld transaction(s) mined and awaiting confirmation (a failure with --final)",
                   awaiting);
    audit_summary(a, AUDIT_C4_USED, "%lld of %lld allocated nonce(s) mined", allocated - unmined,
                  allocated);
    if (unmined > 0 && !a->final)
        audit_note(a, AUDIT_C4_USED, "%lld nonce(s) in flight (a failure with --final)", unmined);
}

static const char audit_recipients_sql[] =
    "SELECT lower(to_address), sum(value_wei)::text, count(*) FROM txs"
    " WHERE state = 'confirmed' AND receipt_status IS DISTINCT FROM 0 AND token IS NULL"
    "   AND kind <> 'cancel'"
    " GROUP BY lower(to_address)"
    " HAVING bool_and(data = '\\x'::bytea)"
    "   AND lower(to_address) NOT IN (SELECT lower(address) FROM lanes)"
    " ORDER BY 1";

void audit_check_recipients(audit_t *a) {
    if (a->rpc == NULL)
        return;
    PGresult *res = audit_query(a, AUDIT_C7C_RECIPIENTS, audit_recipients_sql, 0, NULL);
    if (res == NULL)
        return;
    size_t n = (size_t)PQntuples(res);
    char **addrs = xcalloc(n + 1, sizeof(char *));
    uint256_t *balance = xcalloc(n + 1, sizeof(uint256_t));
    size_t m = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        eth_address_t addr;
        if (address_parse(PQgetvalue(res, (int)i, 0), &addr) == 0)
            addrs[m++] = PQgetvalue(res, (int)i, 0);
        else
            bad++;
    }
    char errstr[512];
    if (ctl_rpc_address_quantities(a->rpc, "eth_getBalance", addrs, m, a->block_tag, balance,
                                   errstr, sizeof(errstr)) != 0) {
        audit_error(a, AUDIT_C7C_RECIPIENTS, "not checked: %s", errstr);
        goto cleanup;
    }
    size_t equal = 0, less = 0, more = 0;
    for (size_t i = 0, k = 0; i < n; i++) {
        if (k >= m || addrs[k] != PQgetvalue(res, (int)i, 0))
            continue;
        uint256_t paid;
        char paid_dec[UINT256_DEC_BUF], held[UINT256_DEC_BUF];
        if (uint256_parse_dec(PQgetvalue(res, (int)i, 1), &paid) != 0) {
            k++;
            continue;
        }
        int cmp = uint256_cmp(&balance[k], &paid);
        uint256_format_dec(&balance[k], held);
        uint256_format_dec(&paid, paid_dec);
        if (cmp == 0) {
            equal++;
        } else if (cmp < 0) {
            less++;
            audit_fail(a, AUDIT_C7C_RECIPIENTS,
                       "recipient %s holds %s wei, less than the %s wei of its %s confirmed "
                       "payout(s)",
                       addrs[k], held, paid_dec, PQgetvalue(res, (int)i, 2));
        } else {
            more++;
            if (a->strict_recipients)
                audit_fail(a, AUDIT_C7C_RECIPIENTS,
                           "recipient %s holds %s wei, more than the %s wei of its %s confirmed "
                           "payout(s)",
                           addrs[k], held, paid_dec, PQgetvalue(res, (int)i, 2));
        }
        k++;
    }
    audit_summary(a, AUDIT_C7C_RECIPIENTS,
                  "%zu recipient(s) of plain ETH payouts at block %llu: %zu hold exactly what "
                  "they were paid, %zu less, %zu more",
                  m, a->block, equal, less, more);
    if (more > 0 && !a->strict_recipients)
        audit_note(a, AUDIT_C7C_RECIPIENTS,
                   "%zu recipient(s) hold more than txlane paid them (other income; a failure "
                   "with --strict-recipients)",
                   more);
    if (bad > 0)
        audit_note(a, AUDIT_C7C_RECIPIENTS, "%zu recipient(s) with a malformed address skipped",
                   bad);
cleanup:
    free(addrs);
    free(balance);
    PQclear(res);
}
