#!/usr/bin/env bash
# chaos_e2e_node_outage.sh - the node stops answering for 10 s mid-run (anvil SIGSTOP, then
# SIGCONT): nothing is lost, every payout confirms, the audit passes.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_e2e_node_outage 32
e2e_start allocator allocator 19331
e2e_start signer signer 19332
e2e_start broadcaster broadcaster 19333
e2e_start watcher watcher 19334
trap '"$TXL_SRC/deploy/local/stack.sh" cont-node >/dev/null 2>&1 || true; txl_cleanup' EXIT
e2e_submit 1500
sleep 1
"$TXL_SRC/deploy/local/stack.sh" stop-node >/dev/null
e2e_submit 1500
sleep 10
"$TXL_SRC/deploy/local/stack.sh" cont-node >/dev/null
e2e_wait 3000 300
e2e_audit
e2e_stop_all
txl_pass "node unreachable for 10 s: 3,000 payouts confirmed, audit passes"
