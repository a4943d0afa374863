#!/usr/bin/env bash
# chaos_e2e_kafka_restart.sh - the Kafka broker is restarted mid-run: producers and consumers
# retry, nothing is lost or skipped, every payout confirms, the audit passes.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_e2e_kafka_restart 32
e2e_start allocator allocator 19341
e2e_start signer signer 19342
e2e_start broadcaster broadcaster 19343
e2e_start watcher watcher 19344
e2e_submit 1500
sleep 1
"$TXL_SRC/deploy/local/stack.sh" restart-kafka >/dev/null || txl_fail "kafka did not come back"
e2e_submit 1500
e2e_wait 3000 300
e2e_audit
e2e_stop_all
txl_pass "kafka restarted mid-run: 3,000 payouts confirmed, audit passes"
