#!/usr/bin/env bash
# Foundation behaviour every operator relies on: migrate and topics are idempotent; each worker
# becomes ready against the real stack, serves metrics, stops cleanly on SIGTERM (exit 0 within
# 5 s); invalid configuration exits with status 2 and names the variable.
source "$(dirname "$0")/lib_txlane.sh"
txl_test_init lifecycle

XPUB="$("$TXL_CLI" xpub --mnemonic-file "$TXLANE_MNEMONIC_FILE")"
export TXLANE_XPUB="$XPUB"

# migrate: first run applies, second is a no-op
out="$("$TXL_CLI" migrate)" || txl_fail "migrate failed: $out"
[[ "$out" == applied* ]] || txl_fail "first migrate did not apply: $out"
out="$("$TXL_CLI" migrate)" || txl_fail "second migrate failed: $out"
[[ "$out" == "schema up to date"* ]] || txl_fail "second migrate was not a no-op: $out"
n="$(txl_psql -d "txlane_$TXL_TEST" -Atc "SELECT count(*) FROM schema_migrations")"
[[ "$n" -ge 1 ]] || txl_fail "schema_migrations empty"
for t in lanes requests txs tx_attempts tx_events chain_blocks; do
    txl_psql -d "txlane_$TXL_TEST" -Atc "SELECT 1 FROM $t LIMIT 0" >/dev/null ||
        txl_fail "table $t missing"
done
txl_pass "migrate twice"

# topics: first run creates 5, second creates none; partition counts as configured
out="$("$TXL_CLI" topics)" || txl_fail "topics failed: $out"
grep -q "created 5 topic(s)" <<<"$out" || txl_fail "first topics run: $out"
out="$("$TXL_CLI" topics)" || txl_fail "second topics run failed: $out"
grep -q "created 0 topic(s)" <<<"$out" || txl_fail "second topics run not idempotent: $out"
md="$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -L -t "$TXLANE_TOPIC_REQUESTS" 2>&1)"
grep -q "with 12 partitions" <<<"$md" || txl_fail "requests topic has not 12 partitions: $md"
md="$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -L -t "$TXLANE_TOPIC_DLQ" 2>&1)"
grep -q "with 3 partitions" <<<"$md" || txl_fail "dlq topic has not 3 partitions: $md"
txl_pass "topics twice"

# every worker: ready, metrics, SIGTERM -> 0
port=29101
for prog in allocator signer broadcaster watcher; do
    txl_start_worker "$prog" "$port"
    txl_wait_ready "$port" 60 || txl_fail "$prog not ready within 60 s: $(tail -5 "$TXL_DIR/$prog.log")"
    metrics="$(curl -sf "http://127.0.0.1:$port/metrics")" || txl_fail "$prog /metrics failed"
    grep -q "^txlane_build_info{program=\"$prog\"" <<<"$metrics" || txl_fail "$prog build info missing"
    grep -q '^txlane_dependency_up{dependency="kafka"} 1' <<<"$metrics" ||
        txl_fail "$prog kafka gauge not 1"
    grep -q '^process_resident_memory_bytes [1-9]' <<<"$metrics" || txl_fail "$prog rss missing"
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" == 200 ]] ||
        txl_fail "$prog /healthz not 200"
    # every log line is a JSON object with ts, level, program and msg
    python3 - "$TXL_DIR/$prog.log" "$prog" <<'PY' || txl_fail "$prog log lines are not JSON"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
for l in lines:
    o = json.loads(l)
    assert {"ts", "level", "program", "msg"} <= o.keys(), l
    assert o["program"] == sys.argv[2], l
PY
    txl_stop_worker "$prog"
    [[ "$TXL_EXIT" == 0 ]] || txl_fail "$prog exited $TXL_EXIT on SIGTERM (want 0 within 5 s)"
    txl_pass "$prog ready, metrics, clean stop"
    port=$((port + 1))
done

# bad configuration -> exit 2 and the variable named
check_bad_config() {
    local prog="$1" var="$2" rc=0 err
    shift 2
    err="$(env "$@" "$TXL_BIN/txlane-$prog" 2>&1 >/dev/null)" || rc=$?
    [[ "$rc" == 2 ]] || txl_fail "$prog with $*: exit $rc, want 2"
    [[ "$(wc -l <<<"$err")" == 1 ]] || txl_fail "$prog with $*: want one line, got: $err"
    grep -q "$var" <<<"$err" || txl_fail "$prog with $*: message does not name $var: $err"
}
for prog in allocator signer broadcaster watcher; do
    check_bad_config "$prog" TXLANE_HTTP_PORT TXLANE_HTTP_PORT=abc
    check_bad_config "$prog" TXLANE_HTTP_PORT TXLANE_HTTP_PORT=70000
    check_bad_config "$prog" KAFKA_NO_SUCH_PROPERTY KAFKA_NO_SUCH_PROPERTY=1
    check_bad_config "$prog" TXLANE_LOG_LEVEL TXLANE_LOG_LEVEL=loud
done
for prog in allocator broadcaster watcher; do
    check_bad_config "$prog" TXLANE_PG_DSN -u TXLANE_PG_DSN
done
txl_pass "bad configuration exits 2 naming the variable"
echo "workers_lifecycle: all checks passed"
