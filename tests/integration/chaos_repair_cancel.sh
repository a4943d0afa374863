#!/usr/bin/env bash
# chaos_repair_cancel.sh - the operator's `txlane cancel` and `txlane bump`. Payouts are held before
# they are mined without touching anvil's mining mode (other tests share it): the broadcaster runs
# against a node URL that does not answer, so it records the signed attempts (pending) but cannot
# send them. Then `txlane cancel` of one payout on lane 1 (followed by more payouts on that lane)
# and `txlane bump --percent 25` of one on lane 2; the broadcaster, restarted against the real node,
# sends only the newest attempts. The cancelled payout's nonce ends 'cancelled' (txs and
# tx_events), its recipient got nothing, the later payouts on lane 1 confirm, the bumped payout
# confirms with fees >= 110 % of its first attempt, the audit passes; refusals exit 1.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_repair_cancel 12
cli_fails() { # cli_fails WHAT ARGS...: the command must exit 1 and print something on stderr
    local what="$1" rc=0
    shift
    "$TXL_CLI" "$@" >"$TXL_DIR/refusal.out" 2>"$TXL_DIR/refusal.err" || rc=$?
    [[ $rc == 1 ]] || txl_fail "$what: txlane $* exited $rc, expected 1 ($(cat "$TXL_DIR/refusal.err"))"
    [[ -s "$TXL_DIR/refusal.err" ]] || txl_fail "$what: no reason printed"
    echo "  refused as expected ($what): $(tail -1 "$TXL_DIR/refusal.err")"
}
export TXLANE_BUMP_AFTER_MS=600000 TXLANE_DROPPED_AFTER_MS=600000 TXLANE_GAP_AFTER_MS=600000
export TXLANE_POLL_MS=200
e2e_start allocator allocator 19591
e2e_start signer signer 19592
TXLANE_RPC_URL="http://127.0.0.1:9" e2e_start broadcaster broadcaster 19593
e2e_start watcher watcher 19594

submit() { # submit ID LANE: one payout of 1 gwei to a fresh random recipient, pinned to LANE
    local to
    to="0x$(openssl rand -hex 20)"
    "$TXL_CLI" submit --to "$to" --value 1000000000 --request-id "$1" --lane "$2" \
        >>"$TXL_DIR/submit.out" 2>&1 || txl_fail "submit $1: $(tail -2 "$TXL_DIR/submit.out")"
    echo "$to"
}
p="$E2E_PREFIX"
victim_to="$(submit "$p-victim" 1)"
for i in 1 2 3; do submit "$p-after-$i" 1 >/dev/null; done
submit "$p-slow" 2 >/dev/null
held() { [[ "$(e2e_db "SELECT count(*) FROM txs WHERE request_id LIKE '$p-%' AND state = 'pending'")" == 5 ]]; }
txl_wait_for 60 held || txl_fail "payouts not held pending: $(e2e_db "SELECT string_agg(request_id || ' ' || state, ', ') FROM txs")"
[[ "$(e2e_db "SELECT count(*) FROM txs WHERE block_number IS NOT NULL")" == 0 ]] || txl_fail "a held payout was mined"

cli_fails "unknown request" cancel "$p-nope" --wait 5
fault_ms="$(e2e_db "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")"
"$TXL_CLI" cancel "$p-victim" --wait 30 >"$TXL_DIR/cancel.out" 2>>"$TXL_DIR/cli.log" ||
    txl_fail "txlane cancel failed: $(tail -2 "$TXL_DIR/cli.log")"
echo "  $(cat "$TXL_DIR/cancel.out")"
cli_fails "cancel of a cancel" cancel "$p-victim" --wait 5
"$TXL_CLI" bump "$p-slow" --percent 25 --wait 30 >"$TXL_DIR/bump.out" 2>>"$TXL_DIR/cli.log" ||
    txl_fail "txlane bump failed: $(tail -2 "$TXL_DIR/cli.log")"
echo "  $(cat "$TXL_DIR/bump.out")"
[[ "$(e2e_db "SELECT count(*) FROM repair_requests WHERE ok AND done_at IS NOT NULL")" == 2 ]] ||
    txl_fail "repair_requests not answered ok: $(e2e_db "SELECT string_agg(action || ' ' || coalesce(result, '-'), '; ') FROM repair_requests")"

# The replacements reach the broadcaster (recorded as attempt 1); then it gets the real node.
replaced() { [[ "$(e2e_db "SELECT count(*) FROM tx_attempts a JOIN txs t USING (tx_id)
    WHERE t.request_id IN ('$p-victim', '$p-slow') AND a.attempt = 1")" == 2 ]]; }
txl_wait_for 30 replaced || txl_fail "the replacements were not recorded by the broadcaster"
[[ "$(e2e_db "SELECT a.is_cancel FROM tx_attempts a JOIN txs t USING (tx_id)
    WHERE t.request_id = '$p-victim' AND a.attempt = 1")" == t ]] || txl_fail "attempt 1 of the victim is not a cancel"
txl_stop_worker broadcaster
[[ $TXL_EXIT == 0 ]] || txl_fail "the broadcaster (node unreachable) exited $TXL_EXIT on SIGTERM"
e2e_start broadcaster broadcaster 19593

settled() { [[ "$(e2e_db "SELECT count(*) FROM txs WHERE request_id LIKE '$p-%'
    AND state IN ('confirmed', 'cancelled')")" == 5 ]]; }
txl_wait_for 60 settled || txl_fail "not settled: $(e2e_db "SELECT string_agg(request_id || ' ' || state, ', ') FROM txs")"
moving_ms="$(e2e_db "SELECT min((extract(epoch FROM confirmed_at) * 1000)::bigint) - $fault_ms FROM txs
    WHERE request_id LIKE '$p-after-%'")"

[[ "$(e2e_db "SELECT state FROM txs WHERE request_id = '$p-victim'")" == cancelled ]] ||
    txl_fail "the victim is $(e2e_db "SELECT state FROM txs WHERE request_id = '$p-victim'"), not cancelled"
[[ "$(e2e_db "SELECT count(*) FROM tx_events e JOIN txs t USING (tx_id)
    WHERE t.request_id = '$p-victim' AND e.to_state = 'cancelled'")" == 1 ]] ||
    txl_fail "no (or more than one) tx_events row to 'cancelled' for the victim"
[[ "$(e2e_db "SELECT count(*) FROM tx_events e JOIN txs t USING (tx_id)
    WHERE t.request_id = '$p-victim' AND e.detail->>'event' = 'cancel_requested'
      AND (e.detail->>'operator')::bool")" == 1 ]] || txl_fail "no operator cancel_requested event"
[[ "$(txl_rpc eth_getBalance "[\"$victim_to\",\"latest\"]")" == '"0x0"' ]] ||
    txl_fail "the cancelled payout's recipient was paid"
[[ "$(e2e_db "SELECT count(*) FROM txs WHERE request_id LIKE '$p-after-%' AND state = 'confirmed'")" == 3 ]] ||
    txl_fail "later payouts on lane 1 did not all confirm"
[[ "$(e2e_db "SELECT state FROM txs WHERE request_id = '$p-slow'")" == confirmed ]] || txl_fail "the bumped payout did not confirm"
read -r a0 a1 t0 t1 <<<"$(e2e_db "SELECT p.max_fee_per_gas, a.max_fee_per_gas, p.max_priority_fee_per_gas,
    a.max_priority_fee_per_gas FROM txs t JOIN tx_attempts p ON p.tx_id = t.tx_id AND p.attempt = 0
    JOIN tx_attempts a ON a.tx_id = t.tx_id AND a.attempt = 1 WHERE t.request_id = '$p-slow'" | tr '|' ' ')"
python3 -c "import sys; sys.exit(0 if $a1 * 100 >= $a0 * 125 and $t1 * 100 >= $t0 * 110 else 1)" ||
    txl_fail "bump below the asked +25 % fee cap / +10 % tip: $a0 -> $a1, tip $t0 -> $t1"
[[ "$(e2e_db "SELECT a.tx_hash FROM txs t JOIN tx_attempts a ON a.tx_id = t.tx_id AND a.attempt = 1
    WHERE t.request_id = '$p-slow'")" == "$(e2e_db "SELECT tx_hash FROM txs WHERE request_id = '$p-slow'")" ]] ||
    txl_fail "the mined transaction of the bumped payout is not its attempt 1"
[[ "$(txl_metric 19594 txlane_watcher_operator_requests_total)" == 2 ]] ||
    txl_fail "txlane_watcher_operator_requests_total is not 2"
cli_fails "bump of a confirmed payout" bump "$p-slow" --wait 5
cli_fails "cancel of a confirmed payout" cancel "$p-after-1" --wait 5
e2e_audit
e2e_stop_all
echo "  figures: bump fee cap $a0 -> $a1 wei, tip $t0 -> $t1 wei; cancel request to first later" \
    "payout on lane 1 confirmed ${moving_ms} ms (includes the broadcaster restart)"
txl_pass "operator cancel and bump: cancelled nonce filled, recipient unpaid, lane moves, bump +25 %, audit passes"
