#!/usr/bin/env bash
# pipeline_bench.sh - the whole pipeline against anvil's own limit, in one run, on a fresh anvil
# of its own: the stack's settings, plus one block a second (BLOCK_TIME) and a main-net-like block
# gas limit (BLOCK_GAS). Under sustained
# thousands of txs/s, automine (a block per arriving batch, each with a copy of the whole state)
# makes anvil erratic: some runs stall in one batch for a minute while its memory grows to many
# GB. Interval mining keeps it steady, and is how a real chain behaves.
#   (a) anvil's ingest limit: N pre-signed transfers over L lanes of a wallet of their own, each
#       to a fresh recipient like a payout, sent straight to anvil as JSON-RPC batches (200 calls
#       each; 4 in flight, each stream over lanes of its own in nonce order), txs/s from the
#       first send until all are mined; two rounds (two wallets), the better one counts;
#   (b) txlane end to end on the same anvil (one allocator, two signers, one broadcaster, one
#       watcher, L lanes), after a warm-up of L payouts: N payouts submitted at once, rate to
#       submitted and to confirmed (from the first request's Kafka timestamp to the last
#       submitted / confirmed), and the share of (a) that is;
#   (c) latency at steady rates (default 250, 500 and 1,000 requests/s, 10 s each): p50/p99/max
#       request -> submitted and request -> confirmed.
# With blocks a second apart a lane carries at most TXLANE_MAX_INFLIGHT (default 16) txs per
# block, so txlane's ceiling here is L x 16 txs/s: lanes are how txlane scales, hence L = 256.
# Signer throughput alone: tests/bench/signer_bench.sh.
#
#   deploy/local/stack.sh up && cmake --build build
#   tests/bench/pipeline_bench.sh [N] [LANES] [RATES] [BLOCK_TIME] [BLOCK_GAS]
#                                 defaults 10000 256 250,500,1000 1 30000000
#
# Prints figures; it is not a pass/fail test.
source "$(dirname "$0")/../integration/lib_txlane.sh"
source "$(dirname "$0")/../integration/lib_e2e.sh"
N="${1:-10000}"
LANES="${2:-256}"
RATES="${3:-250,500,1000}"
BLOCK_TIME="${4:-1}"
BLOCK_GAS="${5:-30000000}"
PER_LANE=$(((N + LANES - 1) / LANES))
N=$((PER_LANE * LANES))
PRESIGN="$TXL_BUILD/tests/bench/txlane-bench-presign"
[[ -x "$PRESIGN" ]] || txl_fail "$PRESIGN is missing (cmake --build build)"

# The bench's own anvil (killed on exit with the workers).
BENCH_ANVIL_PORT="${TXLANE_BENCH_ANVIL_PORT:-18645}"
mapfile -t anvil_cmd < <(TXLANE_STACK_BLOCK_TIME='' bash -c \
    'source "$1" && txl_settings_load && TXL_BLOCK_TIME="" && txl_anvil_cmd "$2"' _ \
    "$TXL_SRC/deploy/local/lib.sh" "$BENCH_ANVIL_PORT")
((${#anvil_cmd[@]} > 1)) || txl_fail "could not build the anvil command line"
mkdir -p "$TXL_SRC/.run/tests"
# The block gas limit: a main-net-like 30M (about 1,400 transfers a block) unless BLOCK_GAS says
# otherwise; the stack's own 300M lets blocks of many thousands of transactions form, whose
# receipts anvil serves in time growing with the square of the block's size.
for ((i = 0; i < ${#anvil_cmd[@]}; i++)); do
    [[ "${anvil_cmd[$i]}" == --gas-limit ]] && anvil_cmd[$((i + 1))]="$BLOCK_GAS"
done
"${anvil_cmd[@]}" --block-time "$BLOCK_TIME" >"$TXL_SRC/.run/tests/bench_pipeline-anvil.log" 2>&1 &
TXL_PIDS[bench_anvil]=$!
trap txl_cleanup EXIT
export TXLANE_RPC_URL="http://127.0.0.1:$BENCH_ANVIL_PORT"
anvil_up() { curl -sf -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$TXLANE_RPC_URL" >/dev/null; }
txl_wait_for 30 anvil_up || txl_fail "the bench's anvil did not start on port $BENCH_ANVIL_PORT"
e2e_init bench_pipeline "$LANES"
export TXLANE_LOG_LEVEL=warn
DB="txlane_bench_pipeline"
ms() { date +%s%3N; }

# (a) Pre-signed raws from lanes of other wallets (txlane's own lanes stay untouched), twice:
# anvil's rate varies from run to run, and its limit is the better of the two.
hexwei=0x3635c9adc5dea00000 # 1,000 ETH
# Four streams side by side, each over lanes of its own in nonce order (a lane's next nonce never
# reaches the node before the one under it).
send_stream() {
    local f
    for f in "$1/batch.$2".*.json; do
        curl -sf -o /dev/null -H 'content-type: application/json' --data @"$f" "$TXLANE_RPC_URL" || return 1
    done
}
mined_all() {
    local addr
    while read -r addr; do
        (($(txl_rpc eth_getTransactionCount "[\"$addr\",\"latest\"]" | tr -d '"') >= PER_LANE)) || return 1
    done <"$1"
}
ingest=0
for round in 1 2; do
    raw="$TXL_DIR/raw.$round"
    mkdir -p "$raw"
    printf 'bench-raw-%s-%s-%s' "$(date +%s)" "$RANDOM" "$round" >"$raw/passphrase"
    echo "(a) round $round: signing $N transfers over $LANES lanes (anvil mining a block every" \
        "$BLOCK_TIME s, block gas limit $BLOCK_GAS)..."
    "$PRESIGN" "$TXLANE_MNEMONIC_FILE" "$raw/passphrase" "$TXLANE_CHAIN_ID" "$LANES" \
        "$PER_LANE" 200 4 "$raw" "$(date +%s%N)" >"$raw/lanes" || txl_fail "pre-signing"
    while read -r addr; do
        txl_rpc anvil_setBalance "[\"$addr\",\"$hexwei\"]" >/dev/null
    done <"$raw/lanes"
    t0=$(ms)
    for s in 00 01 02 03; do send_stream "$raw" "$s" & done
    for s in 00 01 02 03; do wait -n || txl_fail "(a) sending the pre-signed transfers"; done
    last="$(tail -1 "$raw/lanes")"
    deadline=$((SECONDS + 300))
    while (($(txl_rpc eth_getTransactionCount "[\"$last\",\"latest\"]" | tr -d '"') < PER_LANE)); do
        ((SECONDS < deadline)) || txl_fail "(a) anvil did not mine the pre-signed transfers in 300 s"
        sleep 0.01
    done
    t1=$(ms)
    txl_wait_for 60 mined_all "$raw/lanes" || txl_fail "(a) not every pre-signed transfer was mined"
    rate=$((N * 1000 / (t1 - t0)))
    echo "(a) round $round: $N pre-signed transfers sent and mined in $((t1 - t0)) ms: $rate txs/s"
    ((rate > ingest)) && ingest=$rate
done
echo "(a) anvil ingest: $ingest txs/s (the better round)"

# (b) txlane end to end on the same anvil.
e2e_start allocator allocator 19391
e2e_start signer1 signer 19392
e2e_start signer2 signer 19393
e2e_start broadcaster broadcaster 19394
e2e_start watcher watcher 19395
for port in 19391 19392 19393 19394 19395; do
    txl_wait_ready "$port" 60 || txl_fail "worker on $port not ready"
done
# Start-up is not what (b) measures: the watcher reads (a)'s blocks (its lag gauge is 0 until it
# has read the head once, so wait for its processed block to reach the head), and one payout per
# lane warms every stage up (consumer groups settled, connections open).
caught_up() {
    local head processed
    head=$(($(txl_rpc eth_blockNumber '[]' | tr -d '"')))
    processed="$(txl_metric 19395 txlane_watcher_processed_block)"
    [[ -n "$processed" ]] && ((${processed%.*} >= head))
}
txl_wait_for 300 caught_up || txl_fail "the watcher did not catch up with the head"
echo "(b) warm-up: $LANES payouts..."
e2e_submit "$LANES"
e2e_wait "$LANES" 300
echo "(b) $N payouts at once..."
e2e_submit "$N"
B_SUBMIT=$E2E_SUBMITS
e2e_wait $((LANES + N)) 900
rates="$(txl_psql -d "$DB" -Atc "SELECT
    round(count(*) / extract(epoch FROM max(t.submitted_at) - min(r.received_at))::numeric),
    round(count(*) / extract(epoch FROM max(t.confirmed_at) - min(r.received_at))::numeric)
    FROM txs t JOIN requests r USING (request_id) WHERE r.request_id LIKE '$E2E_PREFIX-$B_SUBMIT-%'")"
IFS='|' read -r to_sub to_conf <<<"$rates"
echo "(b) txlane: $N payouts, $to_sub/s to submitted, $to_conf/s to confirmed" \
    "($((100 * to_sub / ingest)) % and $((100 * to_conf / ingest)) % of (a))"

# (c) latency at steady rates, 10 s each, one after the other (the pipeline drained in between).
done_n=$((LANES + N))
for rate in ${RATES//,/ }; do
    NC=$((rate * 10))
    echo "(c) $NC payouts at $rate/s..."
    E2E_SUBMITS=$((E2E_SUBMITS + 1))
    "$TXL_CLI" submit --count "$NC" --random-recipients --value 1000000000000 --rate "$rate" \
        --prefix "$E2E_PREFIX-$E2E_SUBMITS" --quiet >>"$TXL_DIR/submit.out" 2>&1 ||
        txl_fail "txlane submit: $(tail -2 "$TXL_DIR/submit.out")"
    done_n=$((done_n + NC))
    e2e_wait "$done_n" 900
    txl_psql -d "$DB" -Atc "SELECT
        round(count(*) / extract(epoch FROM max(r.received_at) - min(r.received_at))::numeric),
        round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.submitted_at - r.received_at))::numeric, 1),
        round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM t.submitted_at - r.received_at))::numeric, 1),
        round(1000 * extract(epoch FROM max(t.submitted_at - r.received_at))::numeric, 1),
        round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.confirmed_at - r.received_at))::numeric, 1),
        round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM t.confirmed_at - r.received_at))::numeric, 1)
        FROM txs t JOIN requests r USING (request_id) WHERE r.request_id LIKE '$E2E_PREFIX-$E2E_SUBMITS-%'" |
        {
            IFS='|' read -r got s50 s99 smax c50 c99
            echo "(c) at $got requests/s: request -> submitted p50 $s50 ms, p99 $s99 ms, max $smax ms;" \
                "-> confirmed p50 $c50 ms, p99 $c99 ms"
        }
done
e2e_audit
e2e_stop_all
echo "audit passed; figures above"
