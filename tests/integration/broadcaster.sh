#!/usr/bin/env bash
# broadcaster.sh - txlane-broadcaster against real Kafka, PostgreSQL and anvil, the upstream
# simulated without the other programs: lanes rows and txs rows in `created` (as the allocator
# leaves them), each tx signed with `txlane sign` from the test wallet and produced to the signed
# topic keyed by its lane address (as the signer would).
#   1. every tx reaches submitted and is mined (per lane nonce count, receipts with status 1);
#      tx_attempts rows, tx_events and pending/submitted status events (with the request's
#      metadata); bad signed messages go to the DLQ; a duplicated message changes nothing;
#   2. killed (SIGKILL) with txs pending in PostgreSQL that were never sent: the next instance
#      re-sends them when it takes the lanes over;
#   3. with automine off (a private anvil, so the shared chain keeps mining for other tests): no
#      lane ever has more than MAX_INFLIGHT txs ahead of its mined nonce, each mined block lets the
#      next ones go, and with automine back on all are mined;
#   4. node unreachable (a port where nothing listens): txs are recorded, nothing is submitted or
#      lost; restarted with the node's URL, all are submitted and mined;
#   5. what the node refuses: a lane without funds is marked low_funds and held, and resumes once
#      funded and active again; a tx rejected for good (intrinsic gas too low) and one below the
#      base fee get their answer recorded and an alert, the lane's later nonce is still sent, and
#      the replacements the watcher would publish (a cancel, a fee bump) go out and are mined.
source "$(dirname "$0")/lib_txlane.sh"
txl_test_init broadcaster
CLI="$TXL_CLI"
"$CLI" sign --help | grep -q -- '--lane' ||
    txl_fail "txlane sign cannot sign as a lane of a mnemonic file (--mnemonic-file ... --lane I)"
DB=txlane_broadcaster
PORT=19213
# A loopback port nothing listens on now (for the private anvil, and as an unreachable node).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PRIVATE_PORT="$(free_port)"
PRIVATE_RPC="http://127.0.0.1:$PRIVATE_PORT"
SHARED_RPC="$TXLANE_RPC_URL"
INFLIGHT=4
"$CLI" migrate >/dev/null 2>"$TXL_DIR/migrate.log" || txl_fail "migrate: $(tail -1 "$TXL_DIR/migrate.log")"
TXLANE_PARTITIONS_SIGNED=6 "$CLI" topics >/dev/null 2>"$TXL_DIR/topics.log" || txl_fail "topics: $(tail -1 "$TXL_DIR/topics.log")"
export TXLANE_LANES=8 TXLANE_MAX_INFLIGHT=$INFLIGHT TXLANE_POLL_MS=100 TXLANE_RETRY_MAX_MS=1000 \
    TXLANE_FUNDS_RETRY_MS=500

q() { txl_psql -d "$DB" -Atc "$1"; }

# wait_for SECS CMD...: runs CMD every 0.1 s until it succeeds.
wait_for() {
    local secs="$1" i
    shift
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# rpc_at URL METHOD PARAMS: one JSON-RPC call; prints the result.
rpc_at() {
    curl -sf -H 'content-type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$1" | jq -c .result
}

metric() { # NAME: the value of an unlabelled metric of the broadcaster
    curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

count_is() { [[ "$(q "$1")" == "$2" ]]; }

mined_is() { # URL LANE N: the chain's mined nonce count of lane LANE is N
    [[ "$(($(rpc_at "$1" eth_getTransactionCount "[\"${ADDR[$2]}\",\"latest\"]" | tr -d '"')))" == "$3" ]]
}

lanes_mined_are() { # URL FIRST LAST N
    local l
    for ((l = $2; l <= $3; l++)); do mined_is "$1" "$l" "$4" || return 1; done
}

# Every hash listed in FILE ("tx_id hash raw" lines) has a receipt with status 1 at URL.
receipts_ok() {
    local url="$1" file="$2" body
    body="$(awk 'BEGIN { printf "[" } { printf "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"eth_getTransactionReceipt\",\"params\":[\"%s\"]}", (NR > 1 ? "," : ""), NR, $2 } END { printf "]" }' "$file")"
    [[ "$(curl -sf -H 'content-type: application/json' -d "$body" "$url" |
        jq '[.[] | select(.result.status == "0x1")] | length')" == "$(wc -l <"$file")" ]]
}

# settled WHERE N URL FIRST LAST MINED NAME: N txs matching WHERE are submitted, lanes FIRST..LAST
# have MINED mined txs at URL, and every tx of NAME.txs has a receipt with status 1 there.
settled() {
    local where="$1" n="$2" url="$3" first="$4" last="$5" mined="$6" name="$7"
    wait_for 40 count_is "SELECT count(*) FROM txs WHERE state = 'submitted' AND $where" "$n" ||
        txl_fail "$name: $(q "SELECT count(*) FROM txs WHERE state = 'submitted' AND $where") of $n submitted"
    wait_for 20 lanes_mined_are "$url" "$first" "$last" "$mined" ||
        txl_fail "$name: lanes $first-$last do not have $mined mined txs each"
    receipts_ok "$url" "$TXL_DIR/$name.txs" || txl_fail "$name: not every tx mined with status 1"
}

declare -a ADDR
while read -r i a; do ADDR[$i]="$a"; done < <("$CLI" derive --xpub "$TXLANE_XPUB" --index 0 --count 8)
for ((l = 0; l < 8; l++)); do
    q "INSERT INTO lanes (id, address) VALUES ($l, '${ADDR[$l]}')" >/dev/null
done

# sign_msg NAME LANE NONCE TX_ID ATTEMPT KIND TO VALUE GAS MAX_FEE TIP: signs one transaction with
# the lane's key (`txlane sign`, the test wallet) and appends the signed message to NAME.msgs
# ("address<TAB>message", as the signer produces it) and "tx_id hash raw" to NAME.txs.
sign_msg() {
    local name="$1" l="$2" n="$3" tx_id="$4" attempt="$5" kind="$6" to="$7" value="$8" gas="$9"
    local max_fee="${10}" tip="${11}" out raw hash
    out="$("$CLI" sign --mnemonic-file "$TXLANE_MNEMONIC_FILE" \
        --passphrase-file "$TXLANE_PASSPHRASE_FILE" --lane "$l" --chain-id "$TXLANE_CHAIN_ID" \
        --nonce "$n" --to "$to" --value "$value" --gas-limit "$gas" --max-fee "$max_fee" \
        --priority-fee "$tip")" || txl_fail "txlane sign failed for lane $l nonce $n"
    raw="$(sed -n 1p <<<"$out")"
    hash="$(sed -n 2p <<<"$out")"
    printf '%s\t{"tx_id":%d,"request_id":"bc-%d","kind":"%s","lane":%d,"from":"%s","nonce":%d,"attempt":%d,"hash":"%s","raw":"%s","max_fee_per_gas":"%s","max_priority_fee_per_gas":"%s","created_ms":%d}\n' \
        "${ADDR[$l]}" "$tx_id" "$tx_id" "$kind" "$l" "${ADDR[$l]}" "$n" "$attempt" "$hash" "$raw" \
        "$max_fee" "$tip" "$(date +%s%3N)" >>"$TXL_DIR/$name.msgs"
    echo "$tx_id $hash $raw" >>"$TXL_DIR/$name.txs"
}

gas_price() { echo $(($(rpc_at "$1" eth_gasPrice '[]' | tr -d '"'))); }

# make_txs URL FIRST_LANE LAST_LANE FIRST_NONCE COUNT NAME [GAS [MAX_FEE]]: txs rows in `created`
# (and their requests, with metadata) as the allocator leaves them, for those lanes and nonces,
# each signed into NAME.msgs / NAME.txs. tx_id = lane * 1000 + nonce + 1.
make_txs() {
    local url="$1" first="$2" last="$3" nonce0="$4" count="$5" name="$6" gas="${7:-21000}"
    local tip=1000000000 max_fee l n tx_id to value sql=""
    max_fee="${8:-$(($(gas_price "$url") * 2 + tip))}"
    ((tip <= max_fee)) || tip="$max_fee"
    : >"$TXL_DIR/$name.msgs"
    : >"$TXL_DIR/$name.txs"
    for ((l = first; l <= last; l++)); do
        for ((n = nonce0; n < nonce0 + count; n++)); do
            tx_id=$((l * 1000 + n + 1))
            to="0x$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"
            value=$((1000000 + tx_id))
            sql+="INSERT INTO requests (request_id, payload) VALUES ('bc-$tx_id', '{\"metadata\":{\"n\":$tx_id}}');"
            sql+="INSERT INTO txs (tx_id, request_id, lane_id, nonce, from_address, to_address,"
            sql+=" value_wei, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, chain_id)"
            sql+=" VALUES ($tx_id, 'bc-$tx_id', $l, $n, '${ADDR[$l]}', '$to', $value, $gas,"
            sql+=" $max_fee, $tip, $TXLANE_CHAIN_ID);"
            sign_msg "$name" "$l" "$n" "$tx_id" 0 payout "$to" "$value" "$gas" "$max_fee" "$tip"
        done
    done
    txl_psql -d "$DB" -q <<<"$sql"
}

produce() { txl_produce "$TXLANE_TOPIC_SIGNED" "$1" -K '	'; }

start_broadcaster() { # RPC_URL
    TXLANE_RPC_URL="$1" txl_start_worker broadcaster "$PORT"
    txl_wait_ready "$PORT" 30 || txl_fail "broadcaster not ready: $(tail -3 "$TXL_DIR/broadcaster.log")"
}

stop_broadcaster() {
    txl_stop_worker broadcaster
    [[ "$TXL_EXIT" == 0 ]] || txl_fail "broadcaster exited with $TXL_EXIT on SIGTERM"
}

# ---- 1. submitted, mined, recorded; DLQ; duplicates -------------------------------------------
txl_fund_lanes 4
make_txs "$SHARED_RPC" 0 3 0 5 wave1
{
    printf '%s\tnot json at all\n' "${ADDR[0]}"
    # a message whose hash is not its raw's
    head -1 "$TXL_DIR/wave1.msgs" | sed -E 's/"hash":"0x[0-9a-f]{4}/"hash":"0x0000/'
} >"$TXL_DIR/bad.msgs"
produce "$TXL_DIR/wave1.msgs"
produce "$TXL_DIR/bad.msgs"
start_broadcaster "$SHARED_RPC"
settled true 20 "$SHARED_RPC" 0 3 5 wave1
txl_pass "20 txs over 4 lanes submitted and mined with status 1"

[[ "$(q "SELECT count(*) FROM tx_attempts a JOIN txs t USING (tx_id)
          WHERE a.attempt = 0 AND a.tx_hash = t.tx_hash AND a.raw = t.raw AND a.sent_at IS NOT NULL
            AND (a.result LIKE 'accepted/%' OR a.result LIKE 'known/%')")" == 20 ]] ||
    txl_fail "tx_attempts: $(q "SELECT count(*) FROM tx_attempts") rows, not 20 accepted ones"
[[ "$(q "SELECT count(*) FROM txs WHERE pending_at IS NOT NULL AND submitted_at >= pending_at")" == 20 ]] ||
    txl_fail "txs lack pending_at/submitted_at"
[[ "$(q "SELECT string_agg(n::text, ',' ORDER BY k) FROM (SELECT from_state || '>' || to_state AS k, count(*) AS n
          FROM tx_events WHERE program = 'broadcaster' GROUP BY 1) e")" == "20,20" ]] ||
    txl_fail "tx_events: $(q "SELECT string_agg(from_state || '>' || to_state || ':' || n, ' ') FROM (SELECT from_state, to_state, count(*) n FROM tx_events GROUP BY 1, 2) e")"
txl_pass "tx_attempts, timestamps and tx_events (created>pending, pending>submitted) recorded"

txl_consume "$TXLANE_TOPIC_DLQ" 2 20 >"$TXL_DIR/dlq.out" || txl_fail "DLQ entries missing"
[[ "$(cut -d' ' -f3- "$TXL_DIR/dlq.out" | jq -r .reason | sort | tr '\n' ' ')" == "hash_mismatch invalid_message " ]] ||
    txl_fail "DLQ reasons: $(cut -d' ' -f3- "$TXL_DIR/dlq.out" | jq -r .reason | tr '\n' ' ')"
txl_consume "$TXLANE_TOPIC_STATUS" 41 20 >"$TXL_DIR/status.out" || txl_fail "status events missing"
cut -d' ' -f3- "$TXL_DIR/status.out" >"$TXL_DIR/status.json"
[[ "$(jq -s '[.[] | select(.state == "pending" and .metadata.n == .tx_id)] | length' "$TXL_DIR/status.json")" == 20 &&
    "$(jq -s '[.[] | select(.state == "submitted" and .metadata.n == .tx_id and (.tx_hash | length) == 66)] | length' "$TXL_DIR/status.json")" == 20 &&
    "$(jq -s '[.[] | select(.state == "alert")] | length' "$TXL_DIR/status.json")" == 1 ]] ||
    txl_fail "status events: $(jq -r .state "$TXL_DIR/status.json" | sort | uniq -c | tr '\n' ' ')"
txl_pass "DLQ holds the 2 bad messages; 20 pending + 20 submitted status events with metadata"

events="$(q "SELECT count(*) FROM tx_events")"
consumed="$(metric txlane_stream_messages_total)"
head -3 "$TXL_DIR/wave1.msgs" >"$TXL_DIR/dup.msgs"
produce "$TXL_DIR/dup.msgs"
consumed_is() { [[ "$(metric txlane_stream_messages_total)" == "$1" ]]; }
wait_for 20 consumed_is $((consumed + 3)) ||
    txl_fail "the duplicated messages were not consumed ($(metric txlane_stream_messages_total) messages, $consumed before)"
sleep 0.3 # a send pass after the batch
[[ "$(q "SELECT count(*) FROM tx_events")" == "$events" &&
    "$(q "SELECT count(*) FROM tx_attempts")" == 20 &&
    "$(q "SELECT count(*) FROM txs WHERE state = 'submitted'")" == 20 ]] ||
    txl_fail "a duplicated signed message changed something"
txl_pass "duplicated signed messages change nothing"

# ---- 2. crash, then takeover re-sends pending txs that were never sent -------------------------
pid="${TXL_PIDS[broadcaster]}"
disown "$pid"
kill -KILL "$pid"
wait_for 5 eval '! kill -0 "$pid" 2>/dev/null' || txl_fail "the broadcaster survived SIGKILL"
unset "TXL_PIDS[broadcaster]"
make_txs "$SHARED_RPC" 0 3 5 2 wave2
# Recorded as the broadcaster records them before sending, and never sent.
while read -r tx_id hash raw; do
    echo "UPDATE txs SET state = 'pending', attempt = 0, tx_hash = '$hash', raw = '\\x${raw#0x}',
              pending_at = now() WHERE tx_id = $tx_id;
          INSERT INTO tx_attempts (tx_id, attempt, tx_hash, max_fee_per_gas, max_priority_fee_per_gas, raw)
              SELECT tx_id, 0, tx_hash, max_fee_per_gas, max_priority_fee_per_gas, raw FROM txs WHERE tx_id = $tx_id;"
done <"$TXL_DIR/wave2.txs" | txl_psql -d "$DB" -q
mined_is "$SHARED_RPC" 0 5 || txl_fail "lane 0 mined count moved before the takeover"
start_broadcaster "$SHARED_RPC"
settled true 28 "$SHARED_RPC" 0 3 7 wave2
txl_pass "after SIGKILL, the next instance re-sent the 8 pending txs it took over"

# ---- 3. automine off: at most MAX_INFLIGHT ahead of the mined nonce ---------------------------
stop_broadcaster
q "UPDATE txs SET state = 'confirmed', confirmed_at = now() WHERE lane_id < 4" >/dev/null # the watcher's part
"$TXL_SRC/.tools/npm/node_modules/.bin/anvil" --port "$PRIVATE_PORT" --chain-id "$TXLANE_CHAIN_ID" \
    --silent >"$TXL_DIR/anvil.log" 2>&1 &
TXL_PIDS[anvil]=$!
wait_for 20 rpc_at "$PRIVATE_RPC" eth_chainId '[]' >/dev/null || txl_fail "private anvil did not start"
TXLANE_RPC_URL="$PRIVATE_RPC" txl_fund_lanes 8
rpc_at "$PRIVATE_RPC" evm_setAutomine '[false]' >/dev/null
make_txs "$PRIVATE_RPC" 4 7 0 10 wave3
produce "$TXL_DIR/wave3.msgs"
start_broadcaster "$PRIVATE_RPC"

# Every lane exactly INFLIGHT txs ahead of its mined nonce (a full window, never more), and no more
# than INFLIGHT of its txs in the node's pool.
window_ok() {
    local body="[" l
    for ((l = 4; l <= 7; l++)); do
        body+="{\"jsonrpc\":\"2.0\",\"id\":$((2 * l)),\"method\":\"eth_getTransactionCount\",\"params\":[\"${ADDR[$l]}\",\"latest\"]},"
        body+="{\"jsonrpc\":\"2.0\",\"id\":$((2 * l + 1)),\"method\":\"eth_getTransactionCount\",\"params\":[\"${ADDR[$l]}\",\"pending\"]},"
    done
    body+="{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"txpool_content\",\"params\":[]}]"
    # per lane: pending nonce - mined nonce, and the lane's txs in the pool (pending + queued)
    curl -sf -H 'content-type: application/json' -d "$body" "$PRIVATE_RPC" |
        python3 -c '
import json, sys
answers = {a["id"]: a["result"] for a in json.load(sys.stdin)}
limit, pool = int(sys.argv[1]), answers.pop(0)
in_pool = {}
for part in ("pending", "queued"):
    for addr, txs in pool[part].items():
        in_pool[addr.lower()] = in_pool.get(addr.lower(), 0) + len(txs)
ahead = [int(answers[i + 1], 16) - int(answers[i], 16) for i in sorted(answers)[::2]]
if any(a != limit for a in ahead) or max(in_pool.values(), default=0) > limit:
    sys.exit("window exceeded: ahead %s, in the pool %s" % (ahead, in_pool))
' "$INFLIGHT"
}
submitted_is() { count_is "SELECT count(*) FROM txs WHERE lane_id >= 4 AND state = 'submitted'" "$1"; }
for block in 1 2; do
    wait_for 20 submitted_is $((16 * block)) ||
        txl_fail "round $block: $(q "SELECT count(*) FROM txs WHERE lane_id >= 4 AND state = 'submitted'") submitted, want $((16 * block))"
    for _ in 1 2 3 4; do
        window_ok || txl_fail "a lane went more than $INFLIGHT txs ahead of its mined nonce"
        submitted_is $((16 * block)) || txl_fail "more than $INFLIGHT per lane submitted ahead of the chain"
        sleep 0.1
    done
    rpc_at "$PRIVATE_RPC" evm_mine '[]' >/dev/null
    wait_for 10 lanes_mined_are "$PRIVATE_RPC" 4 7 $((4 * block)) || txl_fail "block $block did not mine 4 txs per lane"
done
txl_pass "automine off: each lane had exactly $INFLIGHT txs ahead of its mined nonce, one block at a time"
rpc_at "$PRIVATE_RPC" evm_setAutomine '[true]' >/dev/null
rpc_at "$PRIVATE_RPC" evm_mine '[]' >/dev/null
settled "lane_id >= 4" 40 "$PRIVATE_RPC" 4 7 10 wave3
txl_pass "automine on again: all 40 mined"

# ---- 4. node unreachable ------------------------------------------------------------------------
stop_broadcaster
DEAD_RPC="http://127.0.0.1:$(free_port)"
! curl -s -o /dev/null "$DEAD_RPC" || txl_fail "something listens at $DEAD_RPC"
start_broadcaster "$DEAD_RPC"
make_txs "$PRIVATE_RPC" 4 7 10 3 wave4
produce "$TXL_DIR/wave4.msgs"
wait_for 20 count_is "SELECT count(*) FROM txs WHERE lane_id >= 4 AND state = 'pending'" 12 ||
    txl_fail "with the node unreachable the 12 new txs were not recorded pending"
wait_for 20 grep -q '"could not reach node' "$TXL_DIR/broadcaster.log" ||
    txl_fail "the broadcaster did not notice the node is unreachable"
sleep 0.5
[[ "$(q "SELECT count(*) FROM txs WHERE lane_id >= 4 AND state = 'pending'")" == 12 ]] ||
    txl_fail "txs moved on while the node was unreachable"
stop_broadcaster
start_broadcaster "$PRIVATE_RPC"
settled "lane_id >= 4" 52 "$PRIVATE_RPC" 4 7 13 wave4
txl_pass "node unreachable: the 12 txs waited in PostgreSQL, then were all submitted and mined"

# ---- 5. low funds, invalid, underpriced; replacements ------------------------------------------
rpc_at "$PRIVATE_RPC" anvil_setBalance "[\"${ADDR[4]}\",\"0x0\"]" >/dev/null
make_txs "$PRIVATE_RPC" 4 4 13 2 wave5
make_txs "$PRIVATE_RPC" 5 5 13 1 wave5i 20000 # intrinsic gas too low
make_txs "$PRIVATE_RPC" 5 5 14 1 wave5v
make_txs "$PRIVATE_RPC" 6 6 13 1 wave5u 21000 7 # max fee 7 wei: below the base fee
cat "$TXL_DIR"/wave5i.msgs "$TXL_DIR"/wave5v.msgs "$TXL_DIR"/wave5u.msgs >>"$TXL_DIR/wave5.msgs"
produce "$TXL_DIR/wave5.msgs"
result_like() { count_is "SELECT count(*) FROM tx_attempts WHERE tx_id = $1 AND attempt = 0 AND result LIKE '$2'" 1; }
wait_for 20 count_is "SELECT status || ' ' || (status_reason LIKE 'low_funds/insufficient_funds%') FROM lanes WHERE id = 4" "low_funds true" ||
    txl_fail "lane 4 without funds: $(q "SELECT status, status_reason FROM lanes WHERE id = 4")"
wait_for 20 result_like 4014 'low_funds/insufficient_funds: %' || txl_fail "tx 4014: no low_funds result"
wait_for 20 result_like 5014 'invalid/intrinsic_gas_too_low: %' || txl_fail "tx 5014: no invalid result"
wait_for 20 result_like 6014 'underpriced/fee_below_base_fee: %' || txl_fail "tx 6014: no underpriced result"
wait_for 20 count_is "SELECT state FROM txs WHERE tx_id = 5015" submitted ||
    txl_fail "the nonce after an invalid tx was not sent"
[[ "$(q "SELECT string_agg(state, ',' ORDER BY tx_id) FROM txs WHERE tx_id IN (4014, 4015, 5014, 6014)")" == pending,pending,pending,pending ]] ||
    txl_fail "refused txs left pending: $(q "SELECT string_agg(tx_id || '=' || state, ',') FROM txs WHERE tx_id IN (4014, 4015, 5014, 6014)")"
# Alerts: the DLQ'd message of tx 1, and each refused tx (4015 too when it went out before the hold).
alerts_ok() {
    timeout 20 kcat -C -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$TXLANE_TOPIC_STATUS" -o beginning -e -q |
        jq -r 'select(.state == "alert") | .tx_id' | sort -nu | tr '\n' ' ' >"$TXL_DIR/alerts"
    grep -Eqx '1 4014 (4015 )?5014 6014 ' "$TXL_DIR/alerts"
}
wait_for 10 alerts_ok || txl_fail "alert status events for: $(cat "$TXL_DIR/alerts")"
txl_pass "low funds held lane 4; invalid and underpriced answers recorded with alerts; the next nonce still went out"

rpc_at "$PRIVATE_RPC" anvil_setBalance "[\"${ADDR[4]}\",\"0x3635c9adc5dea00000\"]" >/dev/null
q "UPDATE lanes SET status = 'active', status_reason = NULL WHERE id = 4" >/dev/null # the watcher's part
wait_for 20 lanes_mined_are "$PRIVATE_RPC" 4 4 15 || txl_fail "lane 4 did not resume after it was funded"
txl_pass "lane 4 resumed once funded and active again"

# The watcher's replacements, signed: a cancel for the invalid tx, a fee bump for the underpriced one.
: >"$TXL_DIR/wave6.msgs"
: >"$TXL_DIR/wave6.txs"
fee=$(($(gas_price "$PRIVATE_RPC") * 2 + 1000000000))
sign_msg wave6 5 13 5014 1 cancel "${ADDR[5]}" 0 21000 "$fee" 1000000000
sign_msg wave6 6 13 6014 1 payout "$(q "SELECT to_address FROM txs WHERE tx_id = 6014")" 1006014 21000 "$fee" 1000000000
produce "$TXL_DIR/wave6.msgs"
wait_for 20 lanes_mined_are "$PRIVATE_RPC" 5 5 15 || txl_fail "lane 5: the cancel did not unblock the lane"
wait_for 20 lanes_mined_are "$PRIVATE_RPC" 6 6 14 || txl_fail "lane 6: the fee bump was not mined"
receipts_ok "$PRIVATE_RPC" "$TXL_DIR/wave6.txs" || txl_fail "replacements not mined with status 1"
wait_for 10 count_is "SELECT string_agg(tx_id || ':' || state || ':' || attempt, ',' ORDER BY tx_id) FROM txs WHERE tx_id IN (5014, 6014)" \
    "5014:submitted:1,6014:submitted:1" || txl_fail "replacements: $(q "SELECT string_agg(tx_id || ':' || state || ':' || attempt, ',') FROM txs WHERE tx_id IN (5014, 6014)")"
[[ "$(q "SELECT string_agg(tx_id || ':' || is_cancel || ':' || (sent_at IS NOT NULL), ',' ORDER BY tx_id)
          FROM tx_attempts WHERE attempt = 1")" == "5014:true:true,6014:false:true" ]] || txl_fail "replacement attempts not recorded"
txl_pass "the cancel and the fee bump were recorded as attempt 1, sent and mined"

[[ "$(q "SELECT count(*) FROM lanes WHERE status <> 'active'")" == 0 ]] || txl_fail "a lane left active"
[[ "$(q "SELECT string_agg(tx_id::text, ',' ORDER BY tx_id) FROM tx_attempts WHERE sent_at IS NULL")" == "5014,6014" ]] ||
    txl_fail "attempts never accepted: $(q "SELECT string_agg(tx_id || '/' || attempt, ',') FROM tx_attempts WHERE sent_at IS NULL")"
stop_broadcaster
txl_pass "broadcaster"
