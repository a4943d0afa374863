#!/usr/bin/env bash
# Benchmark (prints figures, never fails on timings): how fast txlane-watcher catches up with a
# chain that holds many lane transactions. LANES x PER_LANE payouts are signed, recorded as
# submitted txs rows and mined in blocks of TXS_PER_BLOCK (anvil's automine is off while they
# are sent, one evm_mine per block: thousands of transactions sent to anvil faster than it
# mines them make its automine loop queue the same pool again and again, mining empty blocks
# for hours and growing by gigabytes); then one watcher starts from the block before them and
# the time until every row is confirmed is measured, with the CPU time the node (anvil) and the
# watcher spent meanwhile (from /proc/<pid>/stat: what the watcher's reads cost the node).
# Needs the local stack (deploy/local/stack.sh up) and a build; other users of the node see no
# blocks mined by themselves for the few seconds of sending.
#
#   tests/bench/watcher_catchup.sh [LANES] [PER_LANE] [TXS_PER_BLOCK]   (defaults 16, 64, 100)
source "$(dirname "$0")/../integration/lib_txlane.sh"
LANES="${1:-16}" PER_LANE="${2:-64}" TXS_PER_BLOCK="${3:-100}"
txl_test_init bench_watcher
DB="txlane_$TXL_TEST"
sql() { txl_psql -d "$DB" -Atc "$1"; }
"$TXL_CLI" migrate >/dev/null
"$TXL_CLI" topics >/dev/null
txl_fund_lanes "$LANES"
TOTAL=$((LANES * PER_LANE))
RECIPIENT="0x$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"
MAX_FEE=100000000000 TIP=1000000000

echo "signing $TOTAL payouts over $LANES lanes..."
: >"$TXL_DIR/rows.csv"
: >"$TXL_DIR/raws"
for ((lane = 0; lane < LANES; lane++)); do
    addr="$(txl_lane_address "$lane")"
    sql "INSERT INTO lanes (id, address, next_nonce) VALUES ($lane, '$addr', $PER_LANE)"
    for ((nonce = 0; nonce < PER_LANE; nonce++)); do
        out="$("$TXL_CLI" sign --mnemonic-file "$TXLANE_MNEMONIC_FILE" \
            --passphrase-file "$TXLANE_PASSPHRASE_FILE" --lane "$lane" \
            --chain-id "$TXLANE_CHAIN_ID" --nonce "$nonce" --to "$RECIPIENT" --value 1 \
            --gas-limit 21000 --max-fee "$MAX_FEE" --priority-fee "$TIP")"
        raw="$(sed -n 1p <<<"$out")" hash="$(sed -n 2p <<<"$out")"
        echo "$raw" >>"$TXL_DIR/raws"
        echo "b-$lane-$nonce,$lane,$nonce,$addr,$hash" >>"$TXL_DIR/rows.csv"
    done
done
txl_psql -d "$DB" -q <<SQL
CREATE TEMP TABLE r (req text, lane int, nonce bigint, addr text, hash text);
\copy r FROM '$TXL_DIR/rows.csv' WITH (FORMAT csv)
INSERT INTO requests (request_id, payload) SELECT req, '{}' FROM r;
INSERT INTO txs (request_id, lane_id, nonce, state, from_address, to_address, value_wei,
                 gas_limit, max_fee_per_gas, max_priority_fee_per_gas, chain_id, tx_hash)
SELECT req, lane, nonce, 'submitted', addr, '$RECIPIENT', 1, 21000, $MAX_FEE, $TIP,
       $TXLANE_CHAIN_ID, hash FROM r;
SQL

START="$(($(txl_rpc eth_blockNumber | tr -d '"') + 1))"
echo "sending them to the node, mining a block of $TXS_PER_BLOCK at a time..."
trap 'txl_rpc evm_setAutomine "[true]" >/dev/null; txl_cleanup' EXIT
txl_rpc evm_setAutomine '[false]' >/dev/null
split -l "$TXS_PER_BLOCK" "$TXL_DIR/raws" "$TXL_DIR/chunk."
for chunk in "$TXL_DIR"/chunk.*; do
    jq -R -s -c 'split("\n") | map(select(length > 0)) | to_entries
        | map({jsonrpc: "2.0", id: .key, method: "eth_sendRawTransaction", params: [.value]})' \
        "$chunk" | curl -sf -H 'content-type: application/json' -d @- "$TXLANE_RPC_URL" |
        jq -e 'map(select(has("error"))) | length == 0' >/dev/null || txl_fail "node refused a batch"
    txl_rpc evm_mine '[]' >/dev/null
done
txl_rpc evm_setAutomine '[true]' >/dev/null
confirmed() { [[ "$(sql "SELECT count(*) FROM txs WHERE state = 'confirmed'")" == "$TOTAL" ]]; }
mined_all() {
    local n
    n="$(txl_rpc eth_getTransactionCount "[\"$(txl_lane_address $((LANES - 1)))\",\"latest\"]")"
    (($(tr -d '"' <<<"$n") == PER_LANE))
}
txl_wait_for 120 mined_all || txl_fail "the node did not mine every payout"
HEAD="$(($(txl_rpc eth_blockNumber | tr -d '"')))"

# cpu_ms PID: user + system CPU time of the process so far, in ms (0 when it is not readable)
cpu_ms() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
    # fields after the command name (which may hold spaces): utime and stime are 14 and 15
    awk -v tck="$(getconf CLK_TCK)" '{ print int(($12 + $13) * 1000 / tck) }' <<<"${stat##*) }"
}
ANVIL_PID="$(awk '{ print $1 }' "$TXLANE_STACK_RUN_DIR/anvil.pid" 2>/dev/null || echo 0)"
anvil0="$(cpu_ms "$ANVIL_PID")"
t0="$(date +%s%N)"
TXLANE_START_BLOCK="$START" TXLANE_POLL_MS=100 txl_start_named watcher watcher 29149
txl_wait_for 600 confirmed || txl_fail "not all confirmed within 600 s"
ms=$((($(date +%s%N) - t0) / 1000000))
anvil_ms=$(($(cpu_ms "$ANVIL_PID") - anvil0))
watcher_ms="$(cpu_ms "${TXL_PIDS[watcher]}")"
blocks=$((HEAD - START + 1))
txl_stop_worker watcher
echo "watcher catch-up: $TOTAL payouts in $blocks blocks confirmed in $ms ms from a cold start:" \
    "$((TOTAL * 1000 / ms)) confirmations/s, $((blocks * 1000 / ms)) blocks/s" \
    "(TXLANE_BLOCKS_PER_BATCH 20, 4 batches per range; TXLANE_BLOCK_RECEIPTS" \
    "${TXLANE_BLOCK_RECEIPTS:-true})"
echo "cpu meanwhile: node (anvil pid $ANVIL_PID) $anvil_ms ms, watcher $watcher_ms ms" \
    "(anything else using the shared node counts too)"
