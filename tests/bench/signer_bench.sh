#!/usr/bin/env bash
# signer_bench.sh - throughput of txlane-signer alone: N allocated messages (default 20000) over
# 32 lanes are loaded into a fresh allocated topic first, then one signer is started and timed
# until its txlane_stream_committed_total metric reaches N (every signed message delivered to the
# signed topic and every input offset committed). Prints figures; not a pass/fail test. Needs the
# local stack (deploy/local/stack.sh up) and a build.
#
#   tests/bench/signer_bench.sh [N]
#   TXLANE_BATCH_MAX=1000 tests/bench/signer_bench.sh 50000     # any signer setting applies
source "$(dirname "$0")/../integration/lib_txlane.sh"
N="${1:-20000}"
LANES=32
PORT=29291
txl_test_init signer_bench
"$TXL_CLI" topics >/dev/null || txl_fail "could not create the topics"
export TXLANE_LANES="$LANES"

"$TXL_CLI" derive --xpub "$TXLANE_XPUB" --index 0 --count "$LANES" >"$TXL_DIR/lanes.txt"
python3 - "$TXL_DIR/lanes.txt" "$TXLANE_CHAIN_ID" "$N" >"$TXL_DIR/allocated.kv" <<'PY'
import json, os, sys
lanes = [l.split()[1] for l in open(sys.argv[1])]
chain, n = int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    lane = i % len(lanes)
    m = {"tx_id": i + 1, "request_id": f"bench-{i}", "kind": "payout", "lane": lane,
         "from": lanes[lane], "nonce": i // len(lanes), "to": "0x" + os.urandom(20).hex(),
         "value_wei": str(10**15 + i), "data": "0x", "gas_limit": 21000,
         "max_fee_per_gas": "100000000000", "max_priority_fee_per_gas": "1000000000",
         "chain_id": chain, "attempt": 0, "created_ms": 1700000000000}
    print(f"{lanes[lane]}\t{json.dumps(m, separators=(',', ':'))}")
PY
txl_produce "$TXLANE_TOPIC_ALLOCATED" "$TXL_DIR/allocated.kv" -K $'\t' ||
    txl_fail "could not load the allocated topic"
echo "loaded $N allocated messages over $LANES lanes into $TXLANE_TOPIC_ALLOCATED"

# Messages done: signed, their signed message delivered and their offset committed.
signed() {
    { curl -sf "http://127.0.0.1:$PORT/metrics" 2>/dev/null || true; } |
        awk '$1 == "txlane_stream_committed_total" { printf "%d", $2 }'
}
now() { date +%s.%N; }

t_start="$(now)"
txl_start_worker signer "$PORT"
t_first="" count=0
deadline=$(($(date +%s) + 600))
while ((count < N)); do
    ((($(date +%s) < deadline))) || txl_fail "only $count of $N signed within 600 s"
    kill -0 "${TXL_PIDS[signer]}" 2>/dev/null || txl_fail "the signer exited: $(tail -3 "$TXL_DIR/signer.log")"
    count="$(signed)"
    count="${count:-0}"
    if [[ -z "$t_first" && "$count" -gt 0 ]]; then
        t_first="$(now)" first_count="$count"
    fi
    sleep 0.02
done
t_end="$(now)"
curl -sf "http://127.0.0.1:$PORT/metrics" >"$TXL_DIR/metrics.txt"
txl_stop_worker signer
python3 - "$N" "$t_start" "$t_first" "$first_count" "$t_end" "$TXL_DIR/metrics.txt" <<'PY'
import sys
n, start, first = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
first_n, end = int(sys.argv[4]), float(sys.argv[5])
metrics = dict(l.rsplit(" ", 1) for l in open(sys.argv[6]) if l[0] != "#" and " " in l)
print(f"signed {n} messages")
print(f"  wall time from process start: {end - start:.2f} s ({n / (end - start):.0f} signed messages/s,"
      " including start-up and joining the group)")
if end > first:
    print(f"  steady rate (first committed batch to the last): {(n - first_n) / (end - first):.0f} "
          "signed messages/s")
batches = float(metrics.get("txlane_signer_batch_seconds_count", 0))
if batches:
    busy = float(metrics["txlane_signer_batch_seconds_sum"])
    print(f"  {batches:.0f} batches of {n / batches:.0f} messages on average, "
          f"{1000 * busy / batches:.1f} ms each (sign + queue; delivery overlaps the next batch), "
          f"{busy:.2f} s in all")
cpu = float(metrics.get("process_cpu_seconds_total", 0))
if cpu:
    print(f"  signer CPU time: {cpu:.2f} s ({1e6 * cpu / n:.0f} us per message, start-up included)")
PY
