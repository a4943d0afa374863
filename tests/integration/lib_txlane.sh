# shellcheck shell=bash
# lib_txlane.sh - helpers for integration tests that run txlane programs against the local stack
# (deploy/local/stack.sh up). Source it from a test script; it sets `set -euo pipefail`.
#
# Each test gets its own PostgreSQL database and its own topic names (a unique prefix), so tests
# never see each other's data, and its own work folder under .run/tests/<test>/ for logs.
#
#   txl_test_init NAME          database txlane_NAME, topics NAME.*, folder; exports the env
#   txl_start_worker PROG PORT  starts build/services/txlane-PROG in the background (log in folder);
#                               its consumer group is the test's own (TXLANE_GROUP overrides)
#   txl_wait_ready PORT [SECS]  waits for /readyz to answer 200
#   txl_stop_worker PROG        SIGTERM, waits (5 s bound), sets TXL_EXIT to the exit status
#   txl_fail MSG                prints "FAIL: MSG" and exits 1
#   txl_lane_address I          EIP-55 address of lane I of this test's wallet
#   txl_fund_lanes N [WEI]      anvil_setBalance for lanes 0..N-1 (default 1000 ETH)
#   txl_rpc METHOD PARAMS       one JSON-RPC call to the node; prints the result (jq -c)
#   txl_produce TOPIC FILE      produces FILE's lines to TOPIC (kcat; "key<TAB>value" with -K)
#   txl_consume TOPIC N [SECS]  prints the first N messages of TOPIC as "partition key value"
#
# Every test's wallet is the test mnemonic with a passphrase of its own, so its lanes are addresses
# no other test (or earlier run) has used on the shared anvil chain.
set -eEuo pipefail
# A command that fails outside a condition ends the test: say which one.
trap 'echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \"$BASH_COMMAND\" exited with status $?" >&2' ERR

TXL_SRC="${TXLANE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TXL_BUILD="${TXLANE_BUILD_DIR:-$TXL_SRC/build}"
TXL_BIN="$TXL_BUILD/services"
TXL_CLI="$TXL_BIN/txlane"
TXL_TEST_MNEMONIC="test test test test test test test test test test test junk"

if [[ ! -f "$TXL_SRC/.run/stack.env" ]]; then
    echo "FAIL: the local stack is not up (run deploy/local/stack.sh up)" >&2
    exit 1
fi
# shellcheck source=/dev/null
source "$TXL_SRC/.run/stack.env"

declare -A TXL_PIDS=()

txl_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

txl_pass() {
    echo "ok: $*"
}

txl_psql() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TXLANE_STACK_PG_PORT" -U txlane "$@"
}

# Creates a fresh database and topic prefix for test NAME and exports the programs' settings.
txl_test_init() {
    local name="$1"
    TXL_TEST="$name"
    TXL_DIR="$TXL_SRC/.run/tests/$name"
    rm -rf "$TXL_DIR"
    mkdir -p "$TXL_DIR"
    txl_psql -d txlane -c "DROP DATABASE IF EXISTS txlane_$name WITH (FORCE)" >/dev/null
    txl_psql -d txlane -c "CREATE DATABASE txlane_$name" >/dev/null
    export TXLANE_PG_DSN="postgresql://txlane@127.0.0.1:$TXLANE_STACK_PG_PORT/txlane_$name"
    local run_id
    run_id="$name.$(date +%s%N | tail -c 7)"
    export TXLANE_TOPIC_REQUESTS="$run_id.requests"
    export TXLANE_TOPIC_ALLOCATED="$run_id.allocated"
    export TXLANE_TOPIC_SIGNED="$run_id.signed"
    export TXLANE_TOPIC_STATUS="$run_id.status"
    export TXLANE_TOPIC_DLQ="$run_id.dlq"
    export TXLANE_GROUP_PREFIX="$run_id"
    # A killed worker leaves the group only when its session times out: keep that short.
    export KAFKA_SESSION_TIMEOUT_MS=6000 KAFKA_HEARTBEAT_INTERVAL_MS=1000
    umask 077
    printf '%s\n' "$TXL_TEST_MNEMONIC" >"$TXL_DIR/mnemonic"
    umask 022
    export TXLANE_MNEMONIC_FILE="$TXL_DIR/mnemonic"
    head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TXL_DIR/passphrase"
    export TXLANE_PASSPHRASE_FILE="$TXL_DIR/passphrase"
    TXLANE_XPUB="$("$TXL_CLI" xpub --mnemonic-file "$TXLANE_MNEMONIC_FILE" \
        --passphrase-file "$TXLANE_PASSPHRASE_FILE")"
    export TXLANE_XPUB
    trap txl_cleanup EXIT
}

txl_start_worker() {
    local prog="$1" port="$2"
    shift 2
    TXLANE_HTTP_PORT="$port" TXLANE_HTTP_BIND=127.0.0.1 \
        TXLANE_GROUP="${TXLANE_GROUP:-$TXLANE_GROUP_PREFIX.$prog}" \
        "$TXL_BIN/txlane-$prog" "$@" >>"$TXL_DIR/$prog.out" 2>>"$TXL_DIR/$prog.log" &
    TXL_PIDS[$prog]=$!
}

txl_wait_ready() {
    local port="$1" secs="${2:-30}" i
    for ((i = 0; i < secs * 10; i++)); do
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" == 200 ]]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# SIGTERM the worker and wait at most 5 s; sets TXL_EXIT to its exit status (124 when it did
# not exit in time). Call it directly, not in $(...): only this shell can wait for the worker.
txl_stop_worker() {
    local prog="$1" pid="${TXL_PIDS[$1]}" i
    kill -TERM "$pid" 2>/dev/null || true
    TXL_EXIT=124
    for ((i = 0; i < 50; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            TXL_EXIT=0
            wait "$pid" || TXL_EXIT=$?
            unset "TXL_PIDS[$prog]"
            return 0
        fi
        sleep 0.1
    done
}

txl_cleanup() {
    local prog
    for prog in "${!TXL_PIDS[@]}"; do
        kill -KILL "${TXL_PIDS[$prog]}" 2>/dev/null || true
    done
}

txl_lane_address() {
    "$TXL_CLI" derive --xpub "$TXLANE_XPUB" --index "$1" | awk '{print $2}'
}

txl_rpc() {
    local method="$1" params="${2:-[]}" answer
    answer="$(curl -sf -H 'content-type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}" \
        "$TXLANE_RPC_URL")" || txl_fail "rpc $method: node unreachable"
    if [[ "$(jq -r 'has("error")' <<<"$answer")" == true ]]; then
        txl_fail "rpc $method: $(jq -c .error <<<"$answer")"
    fi
    jq -c .result <<<"$answer"
}

txl_fund_lanes() {
    local n="$1" wei="${2:-1000000000000000000000}" addr idx=0 hexwei
    hexwei="$(python3 -c "print(hex($wei))")"
    while read -r _ addr; do
        txl_rpc anvil_setBalance "[\"$addr\",\"$hexwei\"]" >/dev/null
        idx=$((idx + 1))
    done < <("$TXL_CLI" derive --xpub "$TXLANE_XPUB" --index 0 --count "$n")
    [[ $idx == "$n" ]] || txl_fail "funded $idx of $n lanes"
}

txl_produce() {
    local topic="$1" file="$2"
    shift 2
    kcat -P -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$topic" -X partitioner=murmur2_random "$@" -l "$file"
}

txl_consume() {
    local topic="$1" n="$2" secs="${3:-30}"
    timeout "$secs" kcat -C -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$topic" -o beginning -c "$n" \
        -f '%p %k %s\n' -q
}

# Helpers for tests that read whole topics or send lane transactions themselves:
#   txl_consume_all TOPIC           every message of TOPIC now, as "partition<TAB>key<TAB>value"
#   txl_lane_transfer LANE NONCE TO WEI
#                                   signs (txlane sign, this test's wallet) an EIP-1559 21000-gas
#                                   transfer from lane LANE at twice the gas price, sends it, waits
#                                   until mined; prints "hash raw block_number block_hash status"
txl_consume_all() {
    local topic="$1"
    timeout 60 kcat -C -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$topic" -o beginning -e \
        -f '%p\t%k\t%s\n' -q
}

txl_lane_transfer() {
    local lane="$1" nonce="$2" to="$3" wei="$4" gas_price out raw hash receipt i
    gas_price="$(txl_rpc eth_gasPrice | tr -d '"')"
    out="$("$TXL_CLI" sign --mnemonic-file "$TXLANE_MNEMONIC_FILE" \
        --passphrase-file "$TXLANE_PASSPHRASE_FILE" --lane "$lane" --chain-id "$TXLANE_CHAIN_ID" \
        --nonce "$nonce" --to "$to" --value "$wei" --gas-limit 21000 \
        --max-fee "$((gas_price * 2 + 1000000000))" --priority-fee 1000000000)" ||
        txl_fail "txlane sign failed for lane $lane nonce $nonce"
    raw="$(sed -n 1p <<<"$out")"
    hash="$(sed -n 2p <<<"$out")"
    [[ "$(txl_rpc eth_sendRawTransaction "[\"$raw\"]")" == "\"$hash\"" ]] ||
        txl_fail "node did not accept lane $lane nonce $nonce"
    for ((i = 0; i < 50; i++)); do
        receipt="$(txl_rpc eth_getTransactionReceipt "[\"$hash\"]")"
        [[ "$receipt" != null ]] && break
        txl_rpc evm_mine '[]' >/dev/null
        sleep 0.1
    done
    [[ "$receipt" != null ]] || txl_fail "lane $lane nonce $nonce not mined"
    echo "$hash $raw $(($(jq -r .blockNumber <<<"$receipt"))) $(jq -r .blockHash <<<"$receipt")" \
        "$(($(jq -r .status <<<"$receipt")))"
}

# txl_start_named NAME PROG PORT [ARGS]  like txl_start_worker for one of several instances of a
# program: the instance is NAME in TXL_PIDS (txl_stop_worker NAME), its log is NAME.log.
txl_start_named() {
    local name="$1" prog="$2" port="$3"
    shift 3
    TXLANE_HTTP_PORT="$port" TXLANE_HTTP_BIND=127.0.0.1 \
        TXLANE_GROUP="${TXLANE_GROUP:-$TXLANE_GROUP_PREFIX.$prog}" \
        "$TXL_BIN/txlane-$prog" "$@" >>"$TXL_DIR/$name.out" 2>>"$TXL_DIR/$name.log" &
    TXL_PIDS[$name]=$!
}

# txl_metric PORT NAME_WITH_LABELS  prints the value of that line of /metrics (empty if absent).
txl_metric() {
    # awk reads to the end: leaving early could fail curl on a closed pipe (pipefail).
    curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m && !found { print $2; found = 1 }'
}

# txl_wait_for SECS CMD...  runs CMD every 0.2 s until it succeeds; fails (status 1) after SECS.
txl_wait_for() {
    local secs="$1" i
    shift
    for ((i = 0; i < secs * 5; i++)); do
        if "$@"; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}
