#!/usr/bin/env bash
# chaos_repair_gap.sh - the gap policy (DESIGN section 8) on anvil:
#   1. a hole: lane 0's next_nonce moves past a nonce that no txs row holds (as when nonces are
#      reserved and their rows lost) while the allocator is stopped; payouts pinned to lane 0
#      after it cannot be mined until that nonce is used. The watcher finds the hole, waits
#      TXLANE_GAP_AFTER_MS, fills it with a cancel (a 0-value self-transfer) and the lane moves:
#      the hole ends cancelled, every later payout of lane 0 is confirmed.
#   2. a re-drive: payouts allocated while the signer is down stay created; after
#      TXLANE_GAP_AFTER_MS the watcher publishes their allocations again, and once a signer runs
#      they are signed, sent and confirmed.
# Each part ends with every payout confirmed; `txlane audit --final --strict-recipients` passes.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_repair_gap 12
export TXLANE_GAP_AFTER_MS=2000

e2e_start allocator allocator 19481
e2e_start signer signer 19482
e2e_start broadcaster broadcaster 19483
e2e_start watcher watcher 19484
e2e_submit 40
e2e_wait 40 120

# 1. A hole at lane 0's next nonce.
e2e_stop allocator
hole="$(e2e_db "SELECT next_nonce FROM lanes WHERE id = 0")"
e2e_db "UPDATE lanes SET next_nonce = next_nonce + 1 WHERE id = 0" >/dev/null
t_fault="$(date +%s%3N)"
e2e_restart allocator
prefix="$E2E_PREFIX"
"$TXL_CLI" submit --count 5 --random-recipients --value 1000000000000 --lane 0 \
    --prefix "$prefix-pinned" --quiet >>"$TXL_DIR/submit.out" 2>&1 || txl_fail "pinned submit"
txl_wait_for 30 e2e_has "SELECT 1 FROM txs WHERE request_id LIKE '$prefix-pinned-%' HAVING count(*) = 5" ||
    txl_fail "pinned payouts not allocated"
[[ "$(e2e_db "SELECT min(nonce) FROM txs WHERE request_id LIKE '$prefix-pinned-%'")" == $((hole + 1)) ]] ||
    txl_fail "pinned payouts do not start after the hole at nonce $hole"
txl_wait_for 60 e2e_has "SELECT 1 FROM txs WHERE lane_id = 0 AND nonce = $hole AND kind = 'cancel' AND state = 'cancelled'" ||
    txl_fail "hole at lane 0 nonce $hole not filled by a cancel ($(e2e_db "SELECT kind || ' ' || state FROM txs WHERE lane_id = 0 AND nonce = $hole"))"
txl_wait_for 60 e2e_has "SELECT 1 FROM txs WHERE request_id LIKE '$prefix-pinned-%' AND state = 'confirmed' HAVING count(*) = 5" ||
    txl_fail "lane 0's payouts after the hole not confirmed"
moving_ms="$(e2e_db "SELECT round(1000 * extract(epoch FROM min(confirmed_at)) - $t_fault) FROM txs
    WHERE request_id LIKE '$prefix-pinned-%'")"
[[ "$(txl_metric 19484 txlane_watcher_gap_cancels_total)" -ge 1 ]] || txl_fail "gap cancel not counted"
echo "  figures: hole at lane 0 nonce $hole filled with a cancel; fault to the lane's next confirmation ${moving_ms} ms"

# 2. Payouts allocated while no signer runs are re-driven.
e2e_stop signer
E2E_PREFIX="$prefix-b" e2e_submit 10
txl_wait_for 30 e2e_has "SELECT 1 FROM txs WHERE request_id LIKE '$prefix-b-%' AND state = 'created' HAVING count(*) = 10" ||
    txl_fail "payouts not allocated while the signer is down"
redriven() { [[ "$(txl_metric 19484 txlane_watcher_gap_redrives_total)" -ge 10 ]]; }
txl_wait_for 30 redriven || txl_fail "allocations not re-driven: $(txl_metric 19484 txlane_watcher_gap_redrives_total)"
e2e_restart signer
E2E_PREFIX="$prefix" e2e_wait 55 120
echo "  figures: $(txl_metric 19484 txlane_watcher_gap_redrives_total) allocation(s) re-driven; attempts of the re-driven payouts: $(e2e_db "SELECT count(*) FROM tx_attempts a JOIN txs t USING (tx_id) WHERE t.request_id LIKE '$prefix-b-%'")"

e2e_audit
e2e_stop_all
txl_pass "a nonce hole filled with a cancel, the lane moved on; unsigned allocations re-driven and confirmed; audit passes"
