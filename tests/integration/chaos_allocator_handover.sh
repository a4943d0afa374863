#!/usr/bin/env bash
# chaos_allocator_handover.sh - two allocator instances in one group: a second one starts in
# the middle of a 10,000-request run (partitions move to it), then the first is killed with
# SIGKILL (its partitions move too). No (lane, nonce) is reserved twice, no nonce is skipped,
# every valid request is allocated once.
source "$(dirname "$0")/lib_txlane.sh"
txl_test_init chaos_allocator_handover
"$TXL_CLI" migrate >/dev/null 2>&1
TXLANE_PARTITIONS_REQUESTS=12 "$TXL_CLI" topics >/dev/null 2>&1
export TXLANE_LANES=24 TXLANE_BATCH_MAX=100 TXLANE_GROUP="$TXLANE_GROUP_PREFIX.allocators"
DB="txlane_chaos_allocator_handover"
python3 "$TXL_SRC/tests/integration/alloc_load.py" gen "$TXL_DIR/load" --count 10000 --partitions 12 \
    --lanes 24 --seed 11 --prefix move
split -n l/5 -d "$TXL_DIR/load/requests.txt" "$TXL_DIR/chunk."
chunks=("$TXL_DIR"/chunk.*)
TXL_PIDS[first]=""
txl_start_worker allocator 19213
TXL_PIDS[first]="${TXL_PIDS[allocator]}"
txl_wait_ready 19213 30 || txl_fail "first allocator not ready"
# Ready is not assigned (a group member may hold no partition): wait for its lanes, so that the
# second instance joins a group whose partitions the first one holds.
took_lanes() { grep -q '"lanes taken"' "$TXL_DIR/$1" 2>/dev/null; }
txl_wait_for 30 took_lanes allocator.log || txl_fail "the first allocator never got partitions"
txl_produce "$TXLANE_TOPIC_REQUESTS" "${chunks[0]}" -K '	' -X message.max.bytes=2000000
txl_produce "$TXLANE_TOPIC_REQUESTS" "${chunks[1]}" -K '	' -X message.max.bytes=2000000
# The second instance joins mid-run: cooperative rebalancing moves half the partitions.
TXLANE_HTTP_PORT=19214 TXLANE_HTTP_BIND=127.0.0.1 "$TXL_BIN/txlane-allocator" \
    >>"$TXL_DIR/second.out" 2>>"$TXL_DIR/second.log" &
TXL_PIDS[second]=$!
txl_produce "$TXLANE_TOPIC_REQUESTS" "${chunks[2]}" -K '	' -X message.max.bytes=2000000
txl_wait_for 20 took_lanes second.log || txl_fail "the second allocator never got partitions"
txl_produce "$TXLANE_TOPIC_REQUESTS" "${chunks[3]}" -K '	' -X message.max.bytes=2000000
kill -KILL "${TXL_PIDS[first]}"
unset "TXL_PIDS[allocator]"
txl_produce "$TXLANE_TOPIC_REQUESTS" "${chunks[4]}" -K '	' -X message.max.bytes=2000000
python3 "$TXL_SRC/tests/integration/alloc_load.py" check "$TXL_DIR/load" --wait 90 --dsn "$TXLANE_PG_DSN" \
    --allocated "$TXLANE_TOPIC_ALLOCATED" --dlq "$TXLANE_TOPIC_DLQ" \
    --bootstrap "$KAFKA_BOOTSTRAP_SERVERS" --at-least-once || txl_fail "allocation invariants"
owners="$(txl_psql -d "$DB" -Atc "SELECT count(DISTINCT owner) FROM lanes")"
[[ "$owners" == 1 ]] || txl_fail "lanes still have $owners owners after the first instance died"
epochs="$(txl_psql -d "$DB" -Atc "SELECT max(owner_epoch) FROM lanes")"
[[ "$epochs" -ge 2 ]] || txl_fail "lanes were never handed over (max owner_epoch $epochs)"
kill -TERM "${TXL_PIDS[second]}"
wait "${TXL_PIDS[second]}" || txl_fail "second allocator exited $? on SIGTERM"
unset "TXL_PIDS[second]" "TXL_PIDS[first]"
txl_pass "two allocators with partitions moving between them: no nonce reserved twice, no hole"
