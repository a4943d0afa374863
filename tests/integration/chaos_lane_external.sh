#!/usr/bin/env bash
# chaos_lane_external.sh - the external-use policy (DESIGN section 8) on anvil: while a lane's
# payouts wait (the broadcaster is stopped, so they are allocated and signed but not sent), its
# key is used outside txlane for the lane's next two nonces (anvil_impersonateAccount +
# eth_sendTransaction from the lane address; mining is left alone, the anvil is shared). The
# watcher proves the two payouts at those nonces were not mined, the owning allocator moves
# them to fresh nonces of the lane, every request is paid exactly once and
# `txlane audit --final --strict-recipients` passes.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_lane_external 12
export TXLANE_EXTERNAL_CHECK_MS=500
LANE_ADDR="" stranger=""
stranger_paid() { [[ "$(txl_rpc eth_getBalance "[\"$stranger\",\"latest\"]")" == '"0x2"' ]]; }
restore_chain() {
    [[ -n "$LANE_ADDR" ]] && txl_rpc anvil_stopImpersonatingAccount "[\"$LANE_ADDR\"]" >/dev/null 2>&1 || true
}
trap 'restore_chain; txl_cleanup' EXIT

e2e_start allocator allocator 19471
e2e_start signer signer 19472
e2e_start broadcaster broadcaster 19473
e2e_start watcher watcher 19474
e2e_submit 100
e2e_wait 100 120

e2e_kill broadcaster
prefix="$E2E_PREFIX"
E2E_PREFIX="$prefix-b" e2e_submit 100
# a lane with at least three payouts allocated and not sent (all earlier ones are confirmed)
pick="SELECT lane_id FROM txs WHERE state IN ('created', 'pending')
      GROUP BY lane_id HAVING count(*) >= 3 ORDER BY lane_id LIMIT 1"
txl_wait_for 30 e2e_has "$pick" || txl_fail "no lane with waiting payouts"
lane="$(e2e_db "$pick")"
LANE_ADDR="$(txl_lane_address "$lane")"
nonce="$(python3 -c "print(int($(txl_rpc eth_getTransactionCount "[\"$LANE_ADDR\",\"latest\"]"), 16))")"
victims="$(e2e_db "SELECT string_agg(request_id, ' ' ORDER BY nonce) FROM txs WHERE lane_id = $lane AND nonce IN ($nonce, $((nonce + 1))) AND state IN ('created', 'pending')")"
[[ "$victims" == *" "* ]] || txl_fail "lane $lane: no waiting payouts at nonces $nonce and $((nonce + 1))"
echo "  lane $lane: nonces $nonce and $((nonce + 1)) used outside txlane (payouts $victims)"
t_fault="$(date +%s%3N)"
txl_rpc anvil_impersonateAccount "[\"$LANE_ADDR\"]" >/dev/null
stranger="$(python3 -c "import os; print('0x' + os.urandom(20).hex())")"
for n in "$nonce" "$((nonce + 1))"; do
    txl_rpc eth_sendTransaction "[{\"from\":\"$LANE_ADDR\",\"to\":\"$stranger\",\"value\":\"0x1\",
        \"gas\":\"0x5208\",\"nonce\":\"$(printf '0x%x' "$n")\"}]" >/dev/null
done
txl_rpc anvil_stopImpersonatingAccount "[\"$LANE_ADDR\"]" >/dev/null
txl_wait_for 20 stranger_paid ||
    txl_fail "the two outside transactions were not mined"
e2e_restart broadcaster

e2e_wait 200 180
[[ "$(e2e_db "SELECT count(*) FROM reallocations WHERE lane_id = $lane AND new_nonce IS NOT NULL")" == 2 ]] ||
    txl_fail "re-allocations: $(e2e_db "SELECT string_agg(tx_id || ':' || old_nonce || '->' || coalesce(new_nonce::text, '-'), ' ') FROM reallocations")"
[[ "$(e2e_db "SELECT string_agg(request_id, ' ' ORDER BY old_nonce) FROM reallocations")" == "$victims" ]] ||
    txl_fail "re-allocated payouts are not the ones at the used nonces"
[[ "$(e2e_db "SELECT count(*) FROM lane_external_nonces WHERE lane_id = $lane AND nonce_from IN ($nonce, $((nonce + 1)))")" == 2 ]] ||
    txl_fail "the used nonces are not recorded as external"
[[ "$(e2e_db "SELECT external_use_count >= 2 AND status_reason LIKE '%outside txlane%' FROM lanes WHERE id = $lane")" == t ]] ||
    txl_fail "lane $lane not flagged"
[[ "$(e2e_db "SELECT count(*) FROM txs WHERE request_id IN ('${victims// /\',\'}') AND state = 'confirmed' AND nonce > $((nonce + 1))")" == 2 ]] ||
    txl_fail "re-allocated payouts not confirmed at fresh nonces"
[[ "$(txl_metric 19474 txlane_watcher_external_use_total)" == 2 ]] || txl_fail "external-use metric"
[[ "$(txl_metric 19471 txlane_allocator_reallocated_total)" == 2 ]] || txl_fail "allocator re-allocation metric"
moving_ms="$(e2e_db "SELECT round(1000 * extract(epoch FROM min(confirmed_at)) - $t_fault) FROM txs
    WHERE request_id IN ('${victims// /\',\'}')")"
echo "  figures: fault to the first re-allocated payout confirmed ${moving_ms} ms; attempts of the" \
    "re-allocated payouts: $(e2e_db "SELECT string_agg(t.request_id || ' ' || (SELECT count(*) FROM tx_attempts a
        WHERE a.tx_id = t.tx_id), ', ') FROM txs t WHERE t.request_id IN ('${victims// /\',\'}')")"
e2e_audit
e2e_stop_all
txl_pass "two nonces used outside txlane: detected, re-allocated, every payout paid once, audit passes"
