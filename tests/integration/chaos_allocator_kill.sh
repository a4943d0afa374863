#!/usr/bin/env bash
# chaos_allocator_kill.sh - 10,000 requests (5 % duplicated, 2 % invalid) while the allocator is
# killed with SIGKILL at random moments (6 times) and restarted each time: still exactly one txs
# row per valid request, every invalid one in the DLQ, nonces 0..n-1 per lane without hole or
# repeat, and each allocation on txlane.allocated in nonce order within its lane's key.
source "$(dirname "$0")/lib_txlane.sh"
txl_test_init chaos_allocator_kill
"$TXL_CLI" migrate >/dev/null 2>&1
TXLANE_PARTITIONS_REQUESTS=12 "$TXL_CLI" topics >/dev/null 2>&1
export TXLANE_LANES=24 TXLANE_BATCH_MAX=200
# Static membership: a restarted instance gets its partitions back at once.
export KAFKA_GROUP_INSTANCE_ID=allocator-1
DB="txlane_chaos_allocator_kill"
PORT=19212
python3 "$TXL_SRC/tests/integration/alloc_load.py" gen "$TXL_DIR/load" --count 10000 --partitions 12 \
    --lanes 24 --seed 7 --prefix kill
# Six chunks; the allocator is killed while it works on each of them.
split -n l/6 -d "$TXL_DIR/load/requests.txt" "$TXL_DIR/chunk."
txl_start_worker allocator "$PORT"
txl_wait_ready "$PORT" 30 || txl_fail "allocator not ready"
kills=0
for chunk in "$TXL_DIR"/chunk.*; do
    txl_produce "$TXLANE_TOPIC_REQUESTS" "$chunk" -K '	' -X message.max.bytes=2000000
    sleep "0.$((RANDOM % 6 + 1))"
    kill -KILL "${TXL_PIDS[allocator]}"
    wait "${TXL_PIDS[allocator]}" 2>/dev/null || true
    kills=$((kills + 1))
    txl_start_worker allocator "$PORT"
done
python3 "$TXL_SRC/tests/integration/alloc_load.py" check "$TXL_DIR/load" --wait 90 --dsn "$TXLANE_PG_DSN" \
    --allocated "$TXLANE_TOPIC_ALLOCATED" --dlq "$TXLANE_TOPIC_DLQ" \
    --bootstrap "$KAFKA_BOOTSTRAP_SERVERS" --at-least-once || txl_fail "allocation invariants"
txl_stop_worker allocator
[[ "$TXL_EXIT" == 0 ]] || txl_fail "allocator exited $TXL_EXIT on SIGTERM"
txl_pass "allocator killed $kills times: every request allocated once, nonces gapless"
