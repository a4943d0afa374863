#!/usr/bin/env bash
# chaos_e2e_kill.sh - payouts while SIGKILL hits each of the four programs at random moments
# (each at least twice), each restarted at once: all confirmed, the audit passes, no recipient
# paid twice (--strict-recipients: every balance equals what txlane recorded).
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_e2e_kill 32
# Static membership: a restarted instance gets its partitions back at once.
for prog in allocator signer broadcaster watcher; do
    KAFKA_GROUP_INSTANCE_ID="$prog-1" e2e_start "$prog" "$prog" "1932${#E2E_PROG[@]}"
done
e2e_submit 2000
kills=""
for round in 1 2 3; do
    for prog in allocator signer broadcaster watcher; do
        sleep "0.$((RANDOM % 8 + 2))"
        e2e_kill "$prog"
        KAFKA_GROUP_INSTANCE_ID="$prog-1" e2e_restart "$prog"
        kills+="$prog "
    done
    e2e_submit 1000
done
echo "killed: $kills"
e2e_wait 5000 400
e2e_audit
e2e_stop_all
txl_pass "every program killed 3 times mid-run: 5,000 payouts confirmed once, audit passes"
