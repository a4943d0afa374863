# shellcheck shell=bash
# lib_e2e.sh - the whole pipeline for end-to-end tests: source after lib_txlane.sh.
#
#   e2e_init NAME LANES          txl_test_init, migrate, topics, fund the lanes, common settings
#   e2e_start INSTANCE PROG PORT starts one worker instance (several per program are fine)
#   e2e_kill INSTANCE            SIGKILL; e2e_restart INSTANCE starts it again
#   e2e_stop INSTANCE            SIGTERM; it must exit 0 within 10 s
#   e2e_submit N                 N payouts to fresh random recipients (txlane submit)
#   e2e_wait N SECS              waits until N payouts are confirmed, printing progress
#   e2e_audit                    txlane audit --final --strict-recipients must pass
#   e2e_stop_all                 SIGTERM every instance; each must exit 0
declare -A E2E_PROG=() E2E_PORT=()
E2E_PREFIX=""
E2E_SUBMITS=0

e2e_init() {
    local name="$1" lanes="$2"
    txl_test_init "$name"
    export TXLANE_LANES="$lanes" TXLANE_CONFIRMATIONS=1 TXLANE_CHAIN_ID="$TXLANE_CHAIN_ID"
    "$TXL_CLI" migrate >/dev/null 2>&1 || txl_fail "migrate"
    "$TXL_CLI" topics >/dev/null 2>&1 || txl_fail "topics"
    txl_fund_lanes "$lanes"
    E2E_PREFIX="$name-$(date +%s)"
}

e2e_start() {
    local inst="$1" prog="$2" port="$3"
    E2E_PROG[$inst]="$prog"
    E2E_PORT[$inst]="$port"
    TXLANE_HTTP_PORT="$port" TXLANE_HTTP_BIND=127.0.0.1 \
        TXLANE_GROUP="${TXLANE_GROUP_PREFIX}.$prog" \
        "$TXL_BIN/txlane-$prog" >>"$TXL_DIR/$inst.out" 2>>"$TXL_DIR/$inst.log" &
    TXL_PIDS[$inst]=$!
}

e2e_kill() {
    kill -KILL "${TXL_PIDS[$1]}" 2>/dev/null || true
    wait "${TXL_PIDS[$1]}" 2>/dev/null || true
}

e2e_stop() {
    local pid="${TXL_PIDS[$1]}" i rc=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || rc=$?
    [[ $rc == 0 ]] || txl_fail "$1 exited $rc on SIGTERM"
}

e2e_restart() {
    e2e_start "$1" "${E2E_PROG[$1]}" "${E2E_PORT[$1]}"
}

e2e_submit() {
    E2E_SUBMITS=$((E2E_SUBMITS + 1))
    "$TXL_CLI" submit --count "$1" --random-recipients --value 1000000000000 \
        --prefix "$E2E_PREFIX-$E2E_SUBMITS" --quiet >>"$TXL_DIR/submit.out" 2>&1 ||
        txl_fail "txlane submit: $(tail -2 "$TXL_DIR/submit.out")"
}

e2e_counts() {
    txl_psql -d "txlane_$TXL_TEST" -Atc "SELECT count(*) FILTER (WHERE state = 'created')
        || ' ' || count(*) FILTER (WHERE state = 'pending')
        || ' ' || count(*) FILTER (WHERE state = 'submitted')
        || ' ' || count(*) FILTER (WHERE state = 'confirmed')
        || ' ' || count(*) FILTER (WHERE state IN ('failed', 'cancelled'))
        FROM txs WHERE request_id LIKE '$E2E_PREFIX-%'"
}

e2e_wait() {
    local n="$1" secs="$2" start=$SECONDS c p s conf bad last=-1
    while :; do
        read -r c p s conf bad <<<"$(e2e_counts)"
        if ((SECONDS != last)); then
            last=$SECONDS
            ((last % 5 == 0)) && echo "  $((SECONDS - start))s created $c pending $p submitted $s confirmed $conf/$n other $bad"
        fi
        ((conf >= n)) && return 0
        ((bad > 0)) && txl_fail "$bad payouts failed or were cancelled"
        ((SECONDS - start >= secs)) && txl_fail "only $conf of $n payouts confirmed after $secs s (created $c pending $p submitted $s)"
        sleep 0.5
    done
}

# One value (or rows, unaligned) from the test's database; e2e_has: whether the query returns any.
e2e_db() { txl_psql -d "txlane_$TXL_TEST" -Atc "$1"; }
e2e_has() { [[ -n "$(e2e_db "$1")" ]]; }

e2e_audit() {
    "$TXL_CLI" audit --final --strict-recipients >"$TXL_DIR/audit.out" 2>&1 ||
        txl_fail "txlane audit failed: $(grep -i fail "$TXL_DIR/audit.out" | head -5)"
}

e2e_stop_all() {
    local inst pid rc i
    for inst in "${!E2E_PROG[@]}"; do
        kill -TERM "${TXL_PIDS[$inst]}" 2>/dev/null || true
    done
    for inst in "${!E2E_PROG[@]}"; do
        pid="${TXL_PIDS[$inst]}"
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        unset "TXL_PIDS[$inst]"
        [[ $rc == 0 ]] || txl_fail "$inst exited $rc on SIGTERM"
    done
}
