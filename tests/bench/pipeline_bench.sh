#!/usr/bin/env bash
# pipeline_bench.sh - the whole pipeline against anvil's own limit, in one run:
#   (a) anvil's ingest limit: N pre-signed raw txs over L lanes sent straight to it in JSON-RPC
#       batches (200 per batch, 4 in flight), txs/s until all are mined;
#   (b) txlane end to end on the same anvil: N payouts submitted at once, rate to submitted and
#       to confirmed (first request received to last submitted / confirmed);
#   (c) latency at a steady 1,000 requests/s: p50/p99 request -> submitted and -> confirmed.
# Signer throughput alone: tests/bench/signer_bench.sh.
#
#   deploy/local/stack.sh up && tests/bench/pipeline_bench.sh [N] [LANES]
#
# Prints figures; it is not a pass/fail test.
source "$(dirname "$0")/../integration/lib_txlane.sh"
source "$(dirname "$0")/../integration/lib_e2e.sh"
N="${1:-3200}"
LANES="${2:-32}"
PER_LANE=$(((N + LANES - 1) / LANES))
N=$((PER_LANE * LANES))
e2e_init bench_pipeline "$LANES"
export TXLANE_LOG_LEVEL=warn
DB="txlane_bench_pipeline"

# (a) Pre-signed raws from lanes of a second wallet (so txlane's own lanes stay untouched).
printf 'bench-raw-%s' "$RANDOM" >"$TXL_DIR/raw_passphrase"
RAW_XPUB="$("$TXL_CLI" xpub --mnemonic-file "$TXLANE_MNEMONIC_FILE" --passphrase-file "$TXL_DIR/raw_passphrase")"
hexwei="$(python3 -c "print(hex(10**21))")"
while read -r _ addr; do
    txl_rpc anvil_setBalance "[\"$addr\",\"$hexwei\"]" >/dev/null
done < <("$TXL_CLI" derive --xpub "$RAW_XPUB" --index 0 --count "$LANES")
echo "signing $N raw transactions for (a)..."
: >"$TXL_DIR/raws"
for ((lane = 0; lane < LANES; lane++)); do
    for ((nonce = 0; nonce < PER_LANE; nonce++)); do
        "$TXL_CLI" sign --mnemonic-file "$TXLANE_MNEMONIC_FILE" --passphrase-file "$TXL_DIR/raw_passphrase" \
            --lane "$lane" --chain-id "$TXLANE_CHAIN_ID" --nonce "$nonce" \
            --to 0x000000000000000000000000000000000000dEaD --value 1 --gas-limit 21000 \
            --max-fee 100000000000 --priority-fee 1000000000 | head -1 >>"$TXL_DIR/raws"
    done
done
# Nonce-major order: every lane's nonce 0 first, so no batch waits on a later one.
python3 - "$TXL_DIR" "$LANES" "$PER_LANE" <<'PY'
import json, sys
d, lanes, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
raws = [l.strip() for l in open(f"{d}/raws") if l.strip()]
order = [raws[lane * per + nonce] for nonce in range(per) for lane in range(lanes)]
for b in range(0, len(order), 200):
    with open(f"{d}/batch.{b // 200:05d}.json", "w") as f:
        json.dump([{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [r]}
                   for i, r in enumerate(order[b:b + 200])], f)
PY
last_addr="$("$TXL_CLI" derive --xpub "$RAW_XPUB" --index $((LANES - 1)) | awk '{print $2}')"
t0=$(date +%s.%N)
ls "$TXL_DIR"/batch.*.json | xargs -P 4 -I{} curl -s -o /dev/null -H 'content-type: application/json' \
    --data @{} "$TXLANE_RPC_URL"
while [[ $(($(txl_rpc eth_getTransactionCount "[\"$last_addr\",\"latest\"]" | tr -d '"'))) -lt $PER_LANE ]]; do
    sleep 0.05
done
t1=$(date +%s.%N)
ingest=$(echo "$N / ($t1 - $t0)" | bc)
echo "(a) anvil ingest: $N pre-signed txs mined in $(echo "$t1 - $t0" | bc) s: $ingest txs/s"

# (b) txlane end to end on the same anvil.
e2e_start allocator allocator 19391
e2e_start signer1 signer 19392
e2e_start signer2 signer 19393
e2e_start broadcaster broadcaster 19394
e2e_start watcher watcher 19395
for port in 19391 19392 19393 19394 19395; do txl_wait_ready "$port" 30 || txl_fail "worker on $port not ready"; done
e2e_submit "$N"
e2e_wait "$N" 600 >/dev/null
rates="$(txl_psql -d "$DB" -Atc "SELECT
    round(count(*) / extract(epoch FROM max(t.submitted_at) - min(r.received_at))::numeric),
    round(count(*) / extract(epoch FROM max(t.confirmed_at) - min(r.received_at))::numeric)
    FROM txs t JOIN requests r USING (request_id) WHERE r.request_id LIKE '$E2E_PREFIX-1-%'")"
IFS='|' read -r to_sub to_conf <<<"$rates"
echo "(b) txlane: $N payouts, $to_sub/s to submitted, $to_conf/s to confirmed ($((100 * to_sub / ingest)) % and $((100 * to_conf / ingest)) % of (a))"

# (c) latency at a steady 1,000 requests/s.
E2E_SUBMITS=$((E2E_SUBMITS + 1))
"$TXL_CLI" submit --count "$N" --random-recipients --value 1000000000000 --rate 1000 \
    --prefix "$E2E_PREFIX-$E2E_SUBMITS" --quiet >>"$TXL_DIR/submit.out" 2>&1
e2e_wait $((2 * N)) 600 >/dev/null
txl_psql -d "$DB" -Atc "SELECT
    round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.submitted_at - r.received_at))::numeric, 1),
    round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM t.submitted_at - r.received_at))::numeric, 1),
    round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.confirmed_at - r.received_at))::numeric, 1),
    round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM t.confirmed_at - r.received_at))::numeric, 1)
    FROM txs t JOIN requests r USING (request_id) WHERE r.request_id LIKE '$E2E_PREFIX-$E2E_SUBMITS-%'" |
    { IFS='|' read -r s50 s99 c50 c99
      echo "(c) at 1,000 requests/s: request -> submitted p50 $s50 ms, p99 $s99 ms; -> confirmed p50 $c50 ms, p99 $c99 ms"; }
e2e_stop_all
