#!/usr/bin/env bash
# chaos_repair_dropped.sh - anvil forgets its pool: with automine off (interval mining every
# 2 s, so transactions wait in the pool), anvil_dropAllTransactions mid-run. The watcher finds the
# submitted transactions the node no longer knows and sends them again; all confirm, the audit
# passes. Automine is restored on exit (other tests share anvil).
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_repair_dropped 12
restore_mining() {
    txl_rpc evm_setIntervalMining '[0]' >/dev/null 2>&1 || true
    txl_rpc evm_setAutomine '[true]' >/dev/null 2>&1 || true
    txl_cleanup
}
trap restore_mining EXIT
export TXLANE_DROPPED_AFTER_MS=1500 TXLANE_POLL_MS=200 TXLANE_BUMP_AFTER_MS=600000
e2e_start allocator allocator 19581
e2e_start signer signer 19582
e2e_start broadcaster broadcaster 19583
e2e_start watcher watcher 19584
txl_rpc evm_setAutomine '[false]' >/dev/null
txl_rpc evm_setIntervalMining '[2]' >/dev/null
e2e_submit 200
# Wait until transactions sit in the pool, then drop them all.
# (Ask the node's pool itself: the database may not know yet that some were mined.)
in_pool() { (($(txl_rpc txpool_status '[]' | jq -r .pending) >= 20)); }
txl_wait_for 30 in_pool || txl_fail "no transactions waiting in the pool"
fault_ms="$(e2e_db "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")"
txl_rpc anvil_dropAllTransactions '[]' >/dev/null
dropped_now="$(txl_rpc txpool_status '[]' | jq -r .pending)"
[[ $((dropped_now)) == 0 ]] || txl_fail "anvil still holds $dropped_now txs after dropping all"
e2e_wait 200 180
resent="$(txl_metric 19584 txlane_watcher_resent_total)"
[[ -n "$resent" ]] && (( ${resent%.*} > 0 )) || txl_fail "nothing was sent again (txlane_watcher_resent_total $resent)"
moving_ms="$(e2e_db "SELECT min((extract(epoch FROM confirmed_at) * 1000)::bigint) - $fault_ms FROM txs
    WHERE confirmed_at > to_timestamp($fault_ms / 1000.0)")"
e2e_audit
e2e_stop_all
echo "  figures: ${resent%.*} transaction(s) sent again; fault to first confirmation ${moving_ms} ms"
txl_pass "pool dropped: forgotten transactions sent again, all 200 confirmed, audit passes"
