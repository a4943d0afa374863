#!/usr/bin/env bash
# chaos_repair_bump.sh - a fee spike: anvil's base fee raised far above the fee cap the allocator
# gave its transactions (its fee estimate is kept stale on purpose). The node refuses them or keeps
# them unmined; the watcher bumps each lane's lowest nonce (underpriced answer, or
# TXLANE_BUMP_AFTER_MS), every replacement with fee cap and tip >= 110 % of the attempt before it;
# all payouts confirm and the audit passes. Prints the bumps and the time from the fault to the
# first confirmation after it.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_repair_bump 12
export TXLANE_BUMP_AFTER_MS=3000 TXLANE_DROPPED_AFTER_MS=4000 TXLANE_POLL_MS=200
TXLANE_FEE_REFRESH_MS=600000 e2e_start allocator allocator 19571
e2e_start signer signer 19572
e2e_start broadcaster broadcaster 19573
TXLANE_FEE_REFRESH_MS=300 e2e_start watcher watcher 19574
e2e_submit 40
e2e_wait 40 60

# The fault: the next block's base fee 100 x the highest fee cap allocated so far (>= 20 gwei).
cap="$(e2e_db "SELECT max(max_fee_per_gas) FROM txs")"
base="$(python3 -c "print(max($cap * 100, 20 * 10**9))")"
echo "  allocated fee cap $cap wei; base fee raised to $base wei"
fault_ms="$(e2e_db "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")"
# anvil applies the base fee to the next block only, and every block after it lowers it by up to
# 12.5 %: other tests mine on the shared chain, so the fault is renewed every 0.2 s until a
# replacement of ours is mined (at most 30 s), then let go.
hexbase="$(python3 -c "print(hex($base))")"
(for ((i = 0; i < 150; i++)); do
    txl_rpc anvil_setNextBlockBaseFeePerGas "[\"$hexbase\"]" >/dev/null
    [[ "$(e2e_db "SELECT count(*) FROM txs WHERE state = 'confirmed' AND attempt > 0")" == 0 ]] || break
    sleep 0.2
done) &
fault_pid=$!
txl_rpc anvil_setNextBlockBaseFeePerGas "[\"$hexbase\"]" >/dev/null
txl_rpc evm_mine '[]' >/dev/null
E2E_PREFIX="$E2E_PREFIX-b" # e2e_wait counts these only
e2e_submit 160
e2e_wait 160 180
wait "$fault_pid" || true
[[ "$(e2e_db "SELECT count(*) FROM txs WHERE state = 'confirmed' AND attempt > 0")" -gt 0 ]] ||
    txl_fail "no replacement was mined: the fault did not hold"

bumps="$(e2e_db "SELECT count(*) FROM tx_attempts WHERE attempt > 0")"
((bumps > 0)) || txl_fail "no replacement was recorded"
bad="$(e2e_db "SELECT string_agg(format('tx %s attempt %s', a.tx_id, a.attempt), ', ') FROM tx_attempts a
    JOIN tx_attempts p ON p.tx_id = a.tx_id AND p.attempt = a.attempt - 1
    WHERE a.max_fee_per_gas * 100 < p.max_fee_per_gas * 110
       OR a.max_priority_fee_per_gas * 100 < p.max_priority_fee_per_gas * 110")"
[[ -z "$bad" ]] || txl_fail "replacements below +10 % of the attempt before: $bad"
events="$(e2e_db "SELECT count(*) FROM tx_events WHERE program = 'watcher' AND detail->>'event' = 'bumped'")"
((events >= bumps)) || txl_fail "$bumps replacements recorded but only $events bump events"
[[ "$(txl_metric 19574 txlane_watcher_bumps_total)" -ge 1 ]] || txl_fail "txlane_watcher_bumps_total not counted"
moving_ms="$(e2e_db "SELECT min((extract(epoch FROM confirmed_at) * 1000)::bigint) - $fault_ms FROM txs
    WHERE created_at > to_timestamp($fault_ms / 1000.0)")"
max_attempt="$(e2e_db "SELECT max(attempt) FROM tx_attempts")"
e2e_audit
e2e_stop_all
echo "  figures: $bumps replacement(s) over $(e2e_db "SELECT count(DISTINCT tx_id) FROM tx_attempts WHERE attempt > 0") tx(s), highest attempt $max_attempt; fault to first confirmation ${moving_ms} ms"
txl_pass "fee spike: stalled payouts bumped (each +10 % or more), all confirmed, audit passes"
