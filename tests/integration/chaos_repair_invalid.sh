#!/usr/bin/env bash
# chaos_repair_invalid.sh - a payout the node refuses for good: a gas limit above anvil's block gas
# limit (300M; the allocator's TXLANE_GAS_LIMIT_MAX is raised to let it through), pinned to lane 0
# between ordinary payouts. (Calldata under its EIP-7623 floor cost does not do: anvil admits such
# a transaction to its pool and never mines it.) The
# payout ends failed with the node's reason, a cancel fills its nonce (the payout then reads
# cancelled, the recipient got nothing), the later payouts of lane 0 confirm, audit passes.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_repair_invalid 12
export TXLANE_POLL_MS=200
TXLANE_GAS_LIMIT_MAX=400000000 e2e_start allocator allocator 19591
e2e_start signer signer 19592
e2e_start broadcaster broadcaster 19593
e2e_start watcher watcher 19594
e2e_submit 50
e2e_wait 50 60
victim="$(python3 -c "import os; print('0x' + os.urandom(20).hex())")"
fault_ms="$(e2e_db "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")"
TXLANE_GAS_LIMIT_MAX=400000000 "$TXL_CLI" submit --to "$victim" --value 12345 --gas-limit 300000001 --lane 0 \
    --request-id "$E2E_PREFIX-invalid" >>"$TXL_DIR/submit.out" 2>&1 || txl_fail "submit of the invalid payout"
E2E_PREFIX="$E2E_PREFIX-b"
e2e_submit 60
"$TXL_CLI" submit --count 10 --random-recipients --value 1000000000000 --lane 0 \
    --prefix "$E2E_PREFIX-lane0" --quiet >>"$TXL_DIR/submit.out" 2>&1 || txl_fail "submit to lane 0"
e2e_wait 70 120
ended() { [[ "$(e2e_db "SELECT state FROM txs WHERE request_id = '${E2E_PREFIX%-b}-invalid'")" == cancelled ]]; }
txl_wait_for 60 ended || txl_fail "the invalid payout is $(e2e_db "SELECT state || ' ' || coalesce(fail_reason, '') FROM txs WHERE request_id = '${E2E_PREFIX%-b}-invalid'")"
rid="${E2E_PREFIX%-b}-invalid"
reason="$(e2e_db "SELECT fail_reason FROM txs WHERE request_id = '$rid'")"
[[ "$reason" == invalid/* ]] || txl_fail "fail_reason: $reason"
[[ "$(e2e_db "SELECT string_agg(from_state || '>' || to_state, ',' ORDER BY event_id) FROM tx_events
    WHERE request_id = '$rid'")" == "created>pending"*",pending>failed,failed>cancelled" ]] ||
    txl_fail "ledger: $(e2e_db "SELECT string_agg(from_state || '>' || to_state, ',' ORDER BY event_id) FROM tx_events WHERE request_id = '$rid'")"
[[ "$(e2e_db "SELECT is_cancel FROM tx_attempts a JOIN txs t USING (tx_id) WHERE t.request_id = '$rid'
    ORDER BY a.attempt DESC LIMIT 1")" == t ]] || txl_fail "the last attempt is not a cancel"
[[ "$(txl_rpc eth_getBalance "[\"$victim\",\"latest\"]")" == '"0x0"' ]] || txl_fail "the refused payout's recipient got funds"
lane0="$(e2e_db "SELECT count(*) FROM txs WHERE request_id LIKE '$E2E_PREFIX-lane0-%' AND state = 'confirmed'")"
[[ "$lane0" == 10 ]] || txl_fail "only $lane0 of the 10 later lane-0 payouts confirmed"
moving_ms="$(e2e_db "SELECT min((extract(epoch FROM t.confirmed_at) * 1000)::bigint) - $fault_ms FROM txs t
    JOIN txs v ON v.request_id = '$rid' WHERE t.lane_id = v.lane_id AND t.nonce > v.nonce")"
e2e_audit
e2e_stop_all
echo "  figures: reason '$reason'; fault to the lane's next confirmation ${moving_ms} ms; attempts $(e2e_db "SELECT count(*) FROM tx_attempts a JOIN txs t USING (tx_id) WHERE t.request_id = '$rid'")"
txl_pass "invalid payout failed with its reason, its nonce cancelled, lane 0 went on, audit passes"
