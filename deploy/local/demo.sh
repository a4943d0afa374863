#!/usr/bin/env bash
# demo.sh - the whole pipeline on this machine: installs what is missing, builds, starts the
# local stack, applies the migrations, creates the topics, funds the lanes on anvil, starts one
# allocator, two signers, one broadcaster and one watcher, submits payouts to random recipients,
# shows their progress (created / pending / submitted / confirmed, rate), prints throughput and
# latency, runs `txlane audit`, then stops everything it started.
#
#   deploy/local/demo.sh [--payouts N] [--lanes L]   N payouts (2000) over L lanes (32)
#   deploy/local/demo.sh --keep-stack                leave the stack running at the end
#   deploy/local/demo.sh --no-build                  use the existing build/
# (TXLANE_BUILD_DIR selects another build folder, TXLANE_DEMO_READY_TIMEOUT the wait for the
# workers, 60 s, TXLANE_DEMO_TIMEOUT the wait for confirmations, 600 s.)
#
# Exit status 0 only when every payout is confirmed and the audit passes. Worker logs (JSON
# lines) are in .run/demo/<program>.log.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD="${TXLANE_BUILD_DIR:-$TXL_ROOT/build}"
BIN="$BUILD/services"
DEMO="$TXL_RUN/demo"
READY_TIMEOUT="${TXLANE_DEMO_READY_TIMEOUT:-60}"
RUN_TIMEOUT="${TXLANE_DEMO_TIMEOUT:-600}"
KEEP_STACK=0
DO_BUILD=1
PAYOUTS=2000
LANES=32

# worker -> HTTP port (the programs' defaults; the second signer next to them) and program
declare -A PORTS=([allocator]=9101 [signer]=9102 [signer2]=9112 [broadcaster]=9103 [watcher]=9104)
declare -A PROGRAM=([allocator]=allocator [signer]=signer [signer2]=signer
    [broadcaster]=broadcaster [watcher]=watcher)
WORKERS=(allocator signer signer2 broadcaster watcher)
declare -A PIDS=()
DEMO_GROUP_PREFIX=txlane
STACK_STARTED=0

say() { printf '\n== %s\n' "$*"; }

# --- steps ----------------------------------------------------------------------------------

demo_install() {
    say "install"
    "$TXL_ROOT/deploy/local/install.sh"
}

demo_build() {
    say "build"
    cmake -S "$TXL_ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j2
}

demo_stack_up() {
    say "stack up"
    if ! "$TXL_ROOT/deploy/local/stack.sh" status >/dev/null 2>&1; then
        STACK_STARTED=1
    fi
    "$TXL_ROOT/deploy/local/stack.sh" up
    # shellcheck source=/dev/null
    source "$TXL_ENV"
}

# The programs this demo needs; false (with a note) while they are not built yet.
demo_programs_present() {
    local p missing=()
    for p in txlane txlane-allocator txlane-signer txlane-broadcaster txlane-watcher; do
        [[ -x "$BIN/$p" ]] || missing+=("$p")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        printf 'not built yet: %s (in %s)\n' "${missing[*]}" "${BIN#"$TXL_ROOT"/}" >&2
        return 1
    fi
}

# Demo key material: anvil's public test mnemonic (its accounts are funded), never a real one.
demo_prepare() {
    say "prepare .run/demo"
    rm -rf "$DEMO"
    mkdir -p "$DEMO"
    (
        umask 077
        printf '%s\n' "$TXL_ANVIL_MNEMONIC" >"$DEMO/mnemonic"
    )
    export TXLANE_MNEMONIC_FILE="$DEMO/mnemonic"
    TXLANE_XPUB="$("$BIN/txlane" xpub --mnemonic-file "$TXLANE_MNEMONIC_FILE")"
    export TXLANE_XPUB
    # A database, topics and consumer groups of this run's own: a demo never picks up an
    # earlier run's state (anvil's chain starts afresh with the stack, PostgreSQL's does not).
    local run="demo$(date +%s)" t
    psql -X -q -v ON_ERROR_STOP=1 "$TXLANE_PG_DSN" -c "CREATE DATABASE $run" >/dev/null
    TXLANE_PG_DSN="${TXLANE_PG_DSN%/*}/$run"
    export TXLANE_PG_DSN
    for t in requests allocated signed status dlq; do
        export "TXLANE_TOPIC_${t^^}=$run.$t"
    done
    DEMO_GROUP_PREFIX="$run"
    printf 'database %s, topics %s.*\n' "$run" "$run"
    # Every worker agrees on the lanes; anvil mines each tx at once, so one block confirms.
    export TXLANE_LANES="$LANES" TXLANE_CONFIRMATIONS=1 TXLANE_CHAIN_ID="$TXL_CHAIN_ID"
    printf 'xpub %s\n%s lanes, %s payouts\n' "$TXLANE_XPUB" "$LANES" "$PAYOUTS"
}

# Gives every lane 10,000 ETH on anvil (one JSON-RPC batch), and checks that each call took.
demo_fund_lanes() {
    say "fund $LANES lanes on anvil"
    local batch="[" id=0 addr answer
    while read -r _ addr; do
        ((id > 0)) && batch+=","
        batch+="{\"jsonrpc\":\"2.0\",\"id\":$id,\"method\":\"anvil_setBalance\",\"params\":[\"$addr\",\"0x21e19e0c9bab2400000\"]}"
        id=$((id + 1))
    done < <("$BIN/txlane" derive --xpub "$TXLANE_XPUB" --index 0 --count "$LANES")
    batch+="]"
    answer="$(curl -sf --max-time 10 -H 'Content-Type: application/json' --data "$batch" \
        "$TXLANE_RPC_URL")" || txl_die "anvil did not answer at $TXLANE_RPC_URL"
    [[ "$(jq '[.[] | select(has("result"))] | length' <<<"$answer")" == "$LANES" ]] ||
        txl_die "anvil refused to fund the lanes: $(jq -c '[.[] | .error // empty][0]' <<<"$answer")"
    printf 'funded lanes 0..%s\n' "$((LANES - 1))"
}

demo_migrate_topics() {
    say "txlane migrate"
    "$BIN/txlane" migrate
    say "txlane topics"
    "$BIN/txlane" topics
}

# demo_start_worker <program>: starts build/services/txlane-<program> in the background with
# the stack's environment; log in .run/demo/<program>.log.
demo_start_worker() {
    local prog="$1" port="${PORTS[$1]}"
    if txl_port_busy "$port"; then
        txl_die "$prog: port $port is in use (another txlane-$prog running?)"
    fi
    TXLANE_HTTP_PORT="$port" TXLANE_HTTP_BIND=127.0.0.1 \
        TXLANE_GROUP="$DEMO_GROUP_PREFIX.${PROGRAM[$prog]}" \
        "$BIN/txlane-${PROGRAM[$prog]}" </dev/null >>"$DEMO/$prog.log" 2>&1 &
    PIDS[$prog]=$!
    printf '%s\n' "${PIDS[$prog]}" >"$DEMO/$prog.pid"
    printf 'started %-20s pid %-7s http 127.0.0.1:%s\n' "txlane-${PROGRAM[$prog]}" "${PIDS[$prog]}" "$port"
}

demo_start_workers() {
    say "start workers"
    local p
    for p in "${WORKERS[@]}"; do
        demo_start_worker "$p"
    done
}

demo_http_code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1$2" 2>/dev/null || true
}

# Polls every worker's /readyz until all answer 200; one progress line per second.
demo_wait_ready() {
    say "wait for /readyz (up to ${READY_TIMEOUT}s)"
    local start=$SECONDS p code line ready
    while :; do
        ready=0
        line=""
        for p in "${WORKERS[@]}"; do
            if ! kill -0 "${PIDS[$p]}" 2>/dev/null; then
                printf '\ntxlane-%s exited; last lines of %s:\n' "$p" "$DEMO/$p.log" >&2
                tail -n 20 "$DEMO/$p.log" >&2
                return 1
            fi
            code="$(demo_http_code "${PORTS[$p]}" /readyz)"
            [[ "$code" == 200 ]] && ready=$((ready + 1))
            line+=" $p=${code:-000}"
        done
        printf '%3ss ready %d/%d:%s\n' "$((SECONDS - start))" "$ready" \
            "${#WORKERS[@]}" "$line"
        ((ready == ${#WORKERS[@]})) && return 0
        if ((SECONDS - start >= READY_TIMEOUT)); then
            printf 'not all workers ready after %ss (logs in %s)\n' "$READY_TIMEOUT" "$DEMO" >&2
            return 1
        fi
        sleep 1
    done
}

demo_sql() {
    psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 "$TXLANE_PG_DSN" -c "$1"
}

# The demo proper: submit, follow to confirmation, report, audit.
demo_run() {
    local prefix start now counts created pending submitted confirmed failed other rate p
    prefix="demo-$(date +%s)"
    say "submit $PAYOUTS payouts (txlane submit --count $PAYOUTS --random-recipients)"
    "$BIN/txlane" submit --count "$PAYOUTS" --random-recipients --value 1000000000000000 \
        --prefix "$prefix" --quiet
    say "progress"
    start=$SECONDS
    while :; do
        for p in "${WORKERS[@]}"; do
            if ! kill -0 "${PIDS[$p]}" 2>/dev/null; then
                printf '\n%s exited; last lines of %s:\n' "$p" "$DEMO/$p.log" >&2
                tail -n 20 "$DEMO/$p.log" >&2
                return 1
            fi
        done
        counts="$(demo_sql "SELECT count(*) FILTER (WHERE state = 'created'),
            count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'submitted'),
            count(*) FILTER (WHERE state = 'confirmed'),
            count(*) FILTER (WHERE state IN ('failed', 'cancelled'))
            FROM txs WHERE request_id LIKE '$prefix-%'")"
        read -r created pending submitted confirmed failed <<<"$counts"
        now=$((SECONDS - start))
        rate=$((now > 0 ? confirmed / now : confirmed))
        printf '%4ss  created %6s  pending %6s  submitted %6s  confirmed %6s/%s  failed %s  %s/s\n' \
            "$now" "$created" "$pending" "$submitted" "$confirmed" "$PAYOUTS" "$failed" "$rate"
        ((confirmed + failed >= PAYOUTS)) && break
        if ((now >= RUN_TIMEOUT)); then
            printf 'only %s of %s payouts confirmed after %ss (logs in %s)\n' "$confirmed" \
                "$PAYOUTS" "$RUN_TIMEOUT" "$DEMO" >&2
            return 1
        fi
        sleep 1
    done
    say "figures"
    demo_sql "SELECT count(*),
        round(extract(epoch FROM max(t.confirmed_at) - min(r.received_at))::numeric, 2),
        round(count(*) / extract(epoch FROM max(t.submitted_at) - min(r.received_at))::numeric),
        round(count(*) / extract(epoch FROM max(t.confirmed_at) - min(r.received_at))::numeric),
        round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.submitted_at - r.received_at))::numeric),
        round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM t.submitted_at - r.received_at))::numeric),
        round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.confirmed_at - r.received_at))::numeric),
        round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM t.confirmed_at - r.received_at))::numeric)
        FROM txs t JOIN requests r USING (request_id) WHERE r.request_id LIKE '$prefix-%'" |
        while read -r n secs rsub rconf s50 s99 c50 c99; do
            printf '%s payouts confirmed in %s s: %s/s to submitted, %s/s to confirmed\n' \
                "$n" "$secs" "$rsub" "$rconf"
            printf 'latency request -> submitted: p50 %s ms, p99 %s ms\n' "$s50" "$s99"
            printf 'latency request -> confirmed: p50 %s ms, p99 %s ms\n' "$c50" "$c99"
        done
    ((failed == 0)) || { printf '%s payouts did not confirm\n' "$failed" >&2; return 1; }
    say "txlane audit --final"
    "$BIN/txlane" audit --final
}

demo_summary() {
    say "summary"
    local p pid
    printf '%-20s %-8s %-22s %-7s %-7s %s\n' program pid http healthz readyz log
    for p in "${WORKERS[@]}"; do
        pid="${PIDS[$p]:--}"
        printf '%-20s %-8s %-22s %-7s %-7s %s\n' "txlane-$p" "$pid" "127.0.0.1:${PORTS[$p]}" \
            "$(demo_http_code "${PORTS[$p]}" /healthz)" "$(demo_http_code "${PORTS[$p]}" /readyz)" \
            "${DEMO#"$TXL_ROOT"/}/$p.log"
    done
    printf '\nstack:\n'
    "$TXL_ROOT/deploy/local/stack.sh" status || true
}

# SIGTERM to every worker still running, SIGKILL after 15 s; reports each exit status.
demo_stop_workers() {
    local p pid rc i
    [[ ${#PIDS[@]} -gt 0 ]] || return 0
    say "stop workers"
    for p in "${!PIDS[@]}"; do
        kill -TERM "${PIDS[$p]}" 2>/dev/null || true
    done
    for p in "${WORKERS[@]}"; do
        pid="${PIDS[$p]:-}"
        [[ -n "$pid" ]] || continue
        for ((i = 0; i < 150; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            printf 'txlane-%s: no exit 15s after SIGTERM, sending SIGKILL\n' "$p" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        printf 'txlane-%-12s exit %s\n' "$p" "$rc"
        rm -f "$DEMO/$p.pid"
    done
    PIDS=()
}

demo_stack_down() {
    if [[ $STACK_STARTED == 1 && $KEEP_STACK == 0 ]]; then
        say "stack down"
        "$TXL_ROOT/deploy/local/stack.sh" down || true
    elif [[ $STACK_STARTED == 1 ]]; then
        printf '\nstack left running (deploy/local/stack.sh down to stop it)\n'
    fi
}

# shellcheck disable=SC2317  # called by the EXIT trap
demo_cleanup() {
    local rc=$?
    demo_stop_workers || true
    demo_stack_down
    exit "$rc"
}

main() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --keep-stack) KEEP_STACK=1 ;;
        --no-build) DO_BUILD=0 ;;
        --payouts)
            PAYOUTS="${2:?--payouts needs a number}"
            shift
            ;;
        --lanes)
            LANES="${2:?--lanes needs a number}"
            shift
            ;;
        -h | --help)
            sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "demo.sh: unknown argument '$1' (see --help)" >&2
            exit 2
            ;;
        esac
        shift
    done
    demo_install
    if [[ $DO_BUILD == 1 ]]; then
        demo_build
    fi
    trap demo_cleanup EXIT
    demo_stack_up
    if ! demo_programs_present; then
        printf 'the stack runs; the worker part of the demo needs the programs above\n'
        return 0
    fi
    [[ "$PAYOUTS" =~ ^[1-9][0-9]*$ && "$LANES" =~ ^[1-9][0-9]*$ ]] ||
        { echo "demo.sh: --payouts and --lanes take positive integers" >&2; exit 2; }
    demo_prepare
    demo_migrate_topics
    demo_fund_lanes
    demo_start_workers
    demo_wait_ready
    demo_run
    demo_summary
}

main "$@"
