#!/usr/bin/env bash
# e2e_payouts.sh - 5,000 payouts over 32 lanes through the whole pipeline (allocator, signer,
# broadcaster, watcher) on anvil: every payout confirmed, `txlane audit --final
# --strict-recipients` passes (on-chain nonce counts per lane, each recipient's balance equals
# what it was paid, no hole, one tx per request).
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init e2e_payouts 32
e2e_start allocator allocator 19301
e2e_start signer signer 19302
e2e_start broadcaster broadcaster 19303
e2e_start watcher watcher 19304
e2e_submit 5000
e2e_wait 5000 300
e2e_audit
e2e_stop_all
txl_pass "5,000 payouts confirmed over 32 lanes, audit passes"
