#!/usr/bin/env bash
# allocator.sh - the allocator against real Kafka, PostgreSQL and anvil (issue: allocator):
#   1. 10,000 requests over 12 partitions, 5 % duplicated (half under another key, so on another
#      partition), 2 % invalid of varied kinds: one txs row per distinct valid request_id, the DLQ
#      holds every invalid one with its reason and bytes, per lane nonces are exactly 0..n-1,
#      txlane.allocated holds each allocation in nonce order within each lane's key;
#   5. a lane the chain has moved ahead of (txs sent from its address on anvil before the
#      allocator starts; and again later for a lane that already has allocations) is corrected
#      at assignment and recorded;
#   4. fencing: once another owner bumped a lane's owner_epoch, the running allocator cannot
#      advance it: its batch rolls back and it gives the lanes up.
source "$(dirname "$0")/lib_txlane.sh"
txl_test_init allocator
CLI="$TXL_CLI"
"$CLI" migrate >/dev/null 2>&1
TXLANE_PARTITIONS_REQUESTS=12 "$CLI" topics >/dev/null 2>&1
export TXLANE_LANES=24
DB="txlane_allocator"
PORT=19211

# Lanes 3 and 7 used outside txlane before the allocator ever ran: 2 txs from lane 3's address.
impersonate_send() { # LANE COUNT
    local addr i
    addr="$(txl_lane_address "$1")"
    txl_rpc anvil_setBalance "[\"$addr\",\"0x56bc75e2d63100000\"]" >/dev/null
    txl_rpc anvil_impersonateAccount "[\"$addr\"]" >/dev/null
    for ((i = 0; i < $2; i++)); do
        txl_rpc eth_sendTransaction "[{\"from\":\"$addr\",\"to\":\"$addr\",\"value\":\"0x0\"}]" >/dev/null
    done
    txl_rpc anvil_stopImpersonatingAccount "[\"$addr\"]" >/dev/null
}
impersonate_send 3 2

python3 "$TXL_SRC/tests/integration/alloc_load.py" gen "$TXL_DIR/load" --count 10000 --partitions 12 \
    --lanes 24 --seed 4
txl_produce "$TXLANE_TOPIC_REQUESTS" "$TXL_DIR/load/requests.txt" -K '	' -X message.max.bytes=2000000
txl_start_worker allocator "$PORT"
txl_wait_ready "$PORT" 30 || txl_fail "allocator not ready: $(tail -3 "$TXL_DIR/allocator.log")"

python3 "$TXL_SRC/tests/integration/alloc_load.py" check "$TXL_DIR/load" --wait 60 \
    --dsn "$TXLANE_PG_DSN" --allocated "$TXLANE_TOPIC_ALLOCATED" --dlq "$TXLANE_TOPIC_DLQ" \
    --bootstrap "$KAFKA_BOOTSTRAP_SERVERS" || txl_fail "allocation invariants"

# 5. lane 3 started at the chain's count (2), and this was counted.
read -r first next chain < <(txl_psql -d "$DB" -Atc \
    "SELECT first_nonce, next_nonce, chain_nonce FROM lanes WHERE id = 3" | tr '|' ' ')
[[ "$first" == 2 && "$chain" == 2 && "$next" -gt 2 ]] ||
    txl_fail "lane 3 not moved up to the chain: first=$first next=$next chain=$chain"
min3="$(txl_psql -d "$DB" -Atc "SELECT min(nonce) FROM txs WHERE lane_id = 3")"
[[ "$min3" == 2 ]] || txl_fail "lane 3's first allocation is nonce $min3, not 2"
metrics="$(curl -s "http://127.0.0.1:$PORT/metrics")"
grep -q '^txlane_allocator_lane_external_use_total 1$' <<<"$metrics" ||
    txl_fail "external use not counted: $(grep external_use <<<"$metrics")"
txl_pass "a lane used outside txlane before start-up begins at the chain's nonce"

# 5b. A lane with allocations whose chain count gets ahead: stop, spend from lane 7 past its
# next_nonce, restart: next_nonce moves up and the skipped range is recorded.
txl_stop_worker allocator
[[ "$TXL_EXIT" == 0 ]] || txl_fail "allocator exited $TXL_EXIT on SIGTERM"
next7="$(txl_psql -d "$DB" -Atc "SELECT next_nonce FROM lanes WHERE id = 7")"
impersonate_send 7 "$((next7 + 2))"
txl_start_worker allocator "$PORT"
txl_wait_ready "$PORT" 30 || txl_fail "allocator not ready after restart"
for ((i = 0; i < 100; i++)); do
    rec="$(txl_psql -d "$DB" -Atc "SELECT nonce_from || '-' || nonce_to FROM lane_external_nonces WHERE lane_id = 7")"
    [[ -n "$rec" ]] && break
    sleep 0.1
done
[[ "$rec" == "$next7-$((next7 + 2))" ]] || txl_fail "lane 7's external range is '$rec', want $next7-$((next7 + 2))"
[[ "$(txl_psql -d "$DB" -Atc "SELECT next_nonce FROM lanes WHERE id = 7")" == "$((next7 + 2))" ]] ||
    txl_fail "lane 7's next_nonce not moved up"
txl_pass "a lane the chain moved ahead of is corrected at assignment and its skipped nonces recorded"

# 4. Fencing: another owner bumps every lane's epoch behind the allocator's back.
before="$(txl_psql -d "$DB" -Atc "SELECT string_agg(id || ':' || next_nonce, ',' ORDER BY id) FROM lanes")"
txl_psql -d "$DB" -c "UPDATE lanes SET owner_epoch = owner_epoch + 1, owner = 'other-instance'" >/dev/null
printf 'fence-1\t{"request_id":"fence-1","to":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","value_wei":"1"}\n' \
    >"$TXL_DIR/fence.txt"
txl_produce "$TXLANE_TOPIC_REQUESTS" "$TXL_DIR/fence.txt" -K '	'
for ((i = 0; i < 100; i++)); do
    fenced="$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '$1 == "txlane_allocator_fenced_total" {print $2}')"
    [[ "${fenced:-0}" != 0 ]] && break
    sleep 0.1
done
[[ "${fenced:-0}" != 0 ]] || txl_fail "the allocator did not notice it was fenced"
sleep 1
after="$(txl_psql -d "$DB" -Atc "SELECT string_agg(id || ':' || next_nonce, ',' ORDER BY id) FROM lanes")"
[[ "$before" == "$after" ]] || txl_fail "a fenced allocator advanced a lane"
[[ "$(txl_psql -d "$DB" -Atc "SELECT count(*) FROM txs WHERE request_id = 'fence-1'")" == 0 ]] ||
    txl_fail "a fenced allocator allocated a request"
txl_pass "a writer with a stale owner_epoch cannot advance a lane"
# A restarted allocator takes the lanes back (new epoch) and allocates the request.
kill -KILL "${TXL_PIDS[allocator]}"
wait "${TXL_PIDS[allocator]}" 2>/dev/null || true
txl_start_worker allocator "$PORT"
for ((i = 0; i < 300; i++)); do
    n="$(txl_psql -d "$DB" -Atc "SELECT count(*) FROM txs WHERE request_id = 'fence-1'")"
    [[ "$n" == 1 ]] && break
    sleep 0.1
done
[[ "$n" == 1 ]] || txl_fail "fence-1 not allocated after the allocator took its lanes back"
txl_stop_worker allocator
[[ "$TXL_EXIT" == 0 ]] || txl_fail "allocator exited $TXL_EXIT on SIGTERM"
txl_pass "allocator: intake, duplicates, DLQ, nonce order, chain correction and fencing"
