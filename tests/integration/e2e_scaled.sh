#!/usr/bin/env bash
# e2e_scaled.sh - two signers and two broadcasters share the load (consumer groups split the
# partitions between them): 3,000 payouts over 32 lanes all confirmed, the audit passes.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init e2e_scaled 32
e2e_start allocator allocator 19311
e2e_start signer1 signer 19312
e2e_start signer2 signer 19313
e2e_start broadcaster1 broadcaster 19314
e2e_start broadcaster2 broadcaster 19315
e2e_start watcher watcher 19316
e2e_submit 3000
e2e_wait 3000 300
for inst in signer1 signer2 broadcaster1 broadcaster2; do
    grep -q '"partitions assigned"' "$TXL_DIR/$inst.log" || txl_fail "$inst never got partitions"
done
e2e_audit
e2e_stop_all
txl_pass "two signers and two broadcasters: 3,000 payouts confirmed, audit passes"
