#!/usr/bin/env bash
# chaos_lane_funds.sh - the funds policy (DESIGN section 8) on anvil: a lane drained to almost
# nothing mid-run goes low_funds, is topped up from the treasury lane, becomes active again and
# its payouts confirm; a lane far above TXLANE_LANE_MAX_BALANCE is swept to the cold address; a
# paused lane gets no new payouts. Audit passes.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_lane_funds 16
export TXLANE_TREASURY_LANE=15 TXLANE_FUNDS_INTERVAL_MS=500 TXLANE_FUNDS_RETRY_MS=500 \
    TXLANE_LANE_MIN_BALANCE=100000000000000000 TXLANE_LANE_TOPUP_WEI=50000000000000000000 \
    TXLANE_LANE_MAX_BALANCE=5000000000000000000000
export TXLANE_COLD_ADDRESS="0x$(openssl rand -hex 20)"
balance() { python3 -c "print(int($(txl_rpc eth_getBalance "[\"$1\",\"latest\"]"), 16))"; }

txl_rpc anvil_setBalance "[\"$(txl_lane_address 2)\",\"0xd3c21bcecceda1000000\"]" >/dev/null # 1e24
e2e_start allocator allocator 19461
e2e_start signer signer 19462
e2e_start broadcaster broadcaster 19463
e2e_start watcher watcher 19464
txl_wait_for 30 e2e_has "SELECT 1 FROM lanes HAVING count(*) = 16" ||
    txl_fail "lanes not registered"
"$TXL_CLI" lanes pause 0 >/dev/null || txl_fail "txlane lanes pause 0"
sleep 3 # the allocator re-reads lane status every TXLANE_LANE_REFRESH_MS (2 s)

e2e_submit 150
e2e_wait 40 120
# drain lane 1 below the cost of one transfer while it has payouts queued: they must wait for
# the top-up (the node answers "insufficient funds"), not be lost
t_fault="$(date +%s%3N)"
txl_rpc anvil_setBalance "[\"$(txl_lane_address 1)\",\"0xe8d4a51000\"]" >/dev/null # 1e12 wei
# really drained: below the lane minimum, and short of one payout (1e12 wei) plus its gas
base_fee="$(python3 -c "print(int('$(txl_rpc eth_getBlockByNumber '["latest",false]' | jq -r .baseFeePerGas)', 16))")"
drained="$(balance "$(txl_lane_address 1)")"
python3 -c "import sys; sys.exit(0 if $drained < min($TXLANE_LANE_MIN_BALANCE, 10**12 + 21000 * max($base_fee, 1)) else 1)" ||
    txl_fail "lane 1 holds $drained wei after the drain (base fee $base_fee)"
prefix="$E2E_PREFIX"
E2E_PREFIX="$prefix-b" e2e_submit 150 # fresh request ids; e2e_wait counts both rounds
txl_wait_for 60 e2e_has "SELECT 1 FROM txs WHERE kind = 'topup' AND to_address = '$(txl_lane_address 1)' AND state = 'confirmed'" ||
    txl_fail "no confirmed top-up of lane 1 (lane: $(e2e_db "SELECT status, status_reason FROM lanes WHERE id = 1"))"
e2e_wait 300 180
# the watcher sees the topped-up balance on its next funds check
txl_wait_for 30 e2e_has "SELECT 1 FROM lanes WHERE id = 1 AND status = 'active'" ||
    txl_fail "lane 1 not active again ($(e2e_db "SELECT status, status_reason FROM lanes WHERE id = 1"))"
[[ "$(e2e_db "SELECT count(*) FROM txs WHERE lane_id = 1 AND kind = 'payout' AND state = 'confirmed'")" -gt 0 ]] ||
    txl_fail "lane 1 confirmed no payouts"
[[ "$(e2e_db "SELECT lane_id FROM txs WHERE kind = 'topup' LIMIT 1")" == 15 ]] || txl_fail "top-up not from the treasury lane"
echo "  top-ups: $(e2e_db "SELECT string_agg(request_id || ' ' || value_wei, ', ') FROM txs WHERE kind = 'topup'")"
# the lane moves again: its first payout of the second round confirmed (none could pay before)
moving_ms="$(e2e_db "SELECT round(1000 * extract(epoch FROM min(confirmed_at)) - $t_fault) FROM txs
    WHERE lane_id = 1 AND request_id LIKE '$prefix-b-%'")"
echo "  figures: fault to lane 1 moving again ${moving_ms} ms;" \
    "$(e2e_db "SELECT count(*) FROM tx_attempts a JOIN txs t USING (tx_id) WHERE t.lane_id = 1 AND t.request_id LIKE '$prefix-b-%'")" \
    "attempts for $(e2e_db "SELECT count(*) FROM txs WHERE lane_id = 1 AND request_id LIKE '$prefix-b-%'") payouts of lane 1;" \
    "sends refused for funds: $(txl_metric 19463 'txlane_broadcaster_answers_total{outcome="low_funds"}')"

# the sweep of lane 2
txl_wait_for 60 e2e_has "SELECT 1 FROM txs WHERE kind = 'sweep' AND state = 'confirmed'" ||
    txl_fail "no confirmed sweep"
swept="$(e2e_db "SELECT sum(value_wei) FROM txs WHERE kind = 'sweep' AND state = 'confirmed' AND lane_id = 2")"
cold="$(balance "$TXLANE_COLD_ADDRESS")"
[[ "$swept" == "$cold" ]] || txl_fail "cold address holds $cold, sweeps recorded $swept"
lane2="$(balance "$(txl_lane_address 2)")"
python3 -c "import sys; sys.exit(0 if $lane2 <= $TXLANE_LANE_MAX_BALANCE else 1)" ||
    txl_fail "lane 2 still holds $lane2 after its sweep"
echo "  swept $swept wei to the cold address; lane 2 holds $lane2"

[[ "$(e2e_db "SELECT count(*) FROM txs WHERE lane_id = 0")" == 0 ]] || txl_fail "the paused lane 0 got payouts"
[[ "$(e2e_db "SELECT count(*) FROM txs WHERE lane_id = 15 AND kind = 'payout'")" == 0 ]] || txl_fail "payouts routed to the treasury"
[[ "$(txl_metric 19464 txlane_watcher_low_funds_total)" -ge 1 ]] || txl_fail "low_funds metric not counted"
"$TXL_CLI" lanes resume 0 >/dev/null || txl_fail "txlane lanes resume 3"
e2e_audit
e2e_stop_all
txl_pass "lane drained: low_funds, topped up from the treasury, resumed; lane over its maximum swept; paused lane skipped; audit passes"
