#!/usr/bin/env bash
# allocator_bench.sh - allocator throughput: pre-loads N payout requests (default 200,000) into a
# fresh 12-partition requests topic, starts one allocator, and reports requests/s from the topic
# to committed allocations (from the first allocation in PostgreSQL until the offset of every
# request is committed, i.e. its allocation and status event are delivered) and the batch
# latency p50/p99 (from its txlane_allocator_batch_seconds histogram: parse, one PostgreSQL
# transaction, the messages queued; their delivery overlaps the next batches).
#
#   deploy/local/stack.sh up && tests/bench/allocator_bench.sh [N] [LANES]
#
# Prints figures; it is not a pass/fail test.
source "$(dirname "$0")/../integration/lib_txlane.sh"
N="${1:-200000}"
LANES="${2:-64}"
txl_test_init bench_allocator
"$TXL_CLI" migrate >/dev/null 2>&1
TXLANE_PARTITIONS_REQUESTS=12 "$TXL_CLI" topics >/dev/null 2>&1
export TXLANE_LANES="$LANES" TXLANE_LOG_LEVEL=warn
DB="txlane_bench_allocator"
PORT=19290
python3 "$TXL_SRC/tests/integration/alloc_load.py" gen "$TXL_DIR/load" --count "$N" --partitions 12 \
    --lanes "$LANES" --dup-pct 0 --bad-pct 0 --prefix bench >/dev/null
t0=$(date +%s.%N)
txl_produce "$TXLANE_TOPIC_REQUESTS" "$TXL_DIR/load/requests.txt" -K '	' -X message.max.bytes=2000000 \
    -X linger.ms=50
t1=$(date +%s.%N)
echo "pre-loaded $N requests in $(echo "$t1 - $t0" | bc) s"
txl_start_worker allocator "$PORT"
txl_wait_ready "$PORT" 30 || txl_fail "allocator not ready"
want="$(python3 -c "import json; print(len(json.load(open('$TXL_DIR/load/expected.json'))['ids']))")"
# Done when every request's offset is committed: its allocation and status event delivered.
while :; do
    got="$(txl_metric "$PORT" txlane_stream_committed_total)"
    [[ "${got:-0}" -ge "$want" ]] && break
    sleep 0.1
done
t_done=$(date +%s%3N)
metrics="$(curl -s "http://127.0.0.1:$PORT/metrics")"
rss_kb="$(ps -o rss= -p "${TXL_PIDS[allocator]}")"
cpu_ticks="$(awk '{print $14 + $15}' "/proc/${TXL_PIDS[allocator]}/stat")"
txl_stop_worker allocator
txl_psql -d "$DB" -Atc "SELECT round($want / ($t_done / 1000.0 - extract(epoch FROM min(created_at)))),
    round(($t_done / 1000.0 - extract(epoch FROM min(created_at)))::numeric, 2),
    round($want / extract(epoch FROM max(created_at) - min(created_at))) FROM txs" |
    {
        IFS='|' read -r rate secs pg_rate
        echo "allocated $want requests in $secs s (first allocation to the last offset committed," \
            "every allocation delivered): $rate requests/s; PostgreSQL commits alone: $pg_rate requests/s"
    }
python3 - "$metrics" <<'PY'
import re, sys
text = sys.argv[1]
buckets = [(float("inf") if m.group(1) == "+Inf" else float(m.group(1)), float(m.group(2)))
           for m in re.finditer(r'^txlane_allocator_batch_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M)]
count = float(re.search(r"^txlane_allocator_batch_seconds_count (\S+)$", text, re.M).group(1))
size = re.search(r"^txlane_stream_batch_messages_sum (\S+)$", text, re.M)
def quantile(q):
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= q * count:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (q * count - prev_c) / max(c - prev_c, 1)
        prev_le, prev_c = le, c
print(f"batches: {int(count)}, {float(size.group(1)) / count:.0f} requests per batch on average")
print(f"batch latency p50 {quantile(0.5) * 1000:.1f} ms, p99 {quantile(0.99) * 1000:.1f} ms")
PY
echo "allocator resident memory: $((rss_kb / 1024)) MiB; its CPU time: $(echo "scale=2; $cpu_ticks / $(getconf CLK_TCK)" | bc) s"
