#!/usr/bin/env bash
# demo.sh - the whole pipeline on this machine: installs what is missing, builds, starts the
# local stack, applies the migrations, creates the topics, starts the four workers, waits until
# each reports ready, prints a summary, then stops the workers (SIGTERM) and the stack.
#
#   deploy/local/demo.sh                 as above
#   deploy/local/demo.sh --keep-stack    leave the stack running at the end
#   deploy/local/demo.sh --no-build      use the existing build/
# (TXLANE_BUILD_DIR selects another build folder, TXLANE_DEMO_READY_TIMEOUT the wait, 60 s.)
#
# Worker logs (JSON lines) are in .run/demo/<program>.log. The steps are functions
# (demo_prepare, demo_start_workers, demo_wait_ready, demo_run, ...) so that later steps, such as
# submitting payouts, slot into demo_run.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD="${TXLANE_BUILD_DIR:-$TXL_ROOT/build}"
BIN="$BUILD/services"
DEMO="$TXL_RUN/demo"
READY_TIMEOUT="${TXLANE_DEMO_READY_TIMEOUT:-60}"
KEEP_STACK=0
DO_BUILD=1

# program -> HTTP port (the programs' defaults)
declare -A PORTS=([allocator]=9101 [signer]=9102 [broadcaster]=9103 [watcher]=9104)
WORKERS=(allocator signer broadcaster watcher)
declare -A PIDS=()
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
    for p in txlane "${WORKERS[@]/#/txlane-}"; do
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
    printf 'xpub %s\n' "$TXLANE_XPUB"
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
        "$BIN/txlane-$prog" </dev/null >>"$DEMO/$prog.log" 2>&1 &
    PIDS[$prog]=$!
    printf '%s\n' "${PIDS[$prog]}" >"$DEMO/$prog.pid"
    printf 'started txlane-%-12s pid %-7s http 127.0.0.1:%s\n' "$prog" "${PIDS[$prog]}" "$port"
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

# The demo proper. Later versions submit payouts here and follow them to confirmation.
demo_run() {
    :
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
        -h | --help)
            sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
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
    demo_prepare
    demo_migrate_topics
    demo_start_workers
    demo_wait_ready
    demo_run
    demo_summary
}

main "$@"
