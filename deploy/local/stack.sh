#!/usr/bin/env bash
# stack.sh - the local txlane stack: Apache Kafka (KRaft, one node), PostgreSQL and anvil as
# processes on 127.0.0.1, state under .run/ at the project root. See usage() below and
# deploy/local/lib.sh for the settings.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<'EOF'
usage: deploy/local/stack.sh <command>

  up              start Kafka, PostgreSQL and anvil (what is not running yet), wait until each
                  answers, write .run/stack.env; a no-op health check when already up
  down            stop exactly the processes 'up' started and remove the run state
                  (logs are kept in .run/last-logs/)
  status          component, pid, port, alive/dead (exit 1 unless all three are alive)
  env             print .run/stack.env (source it: eval "$(deploy/local/stack.sh env)")
  logs            print the log file of each component

  restart-kafka [--kill]   stop Kafka (SIGTERM, or SIGKILL with --kill) and start it again
  stop-kafka [--kill]      stop Kafka only          start-kafka   start it again and wait
  stop-pg                  stop PostgreSQL (fast)   start-pg      start it again and wait
  stop-node                freeze anvil (SIGSTOP)   cont-node     resume it (SIGCONT)
  kafka-topics <args>      Kafka's TopicCommand against the stack (e.g. --list, --describe)
  kafka-groups <args>      Kafka's ConsumerGroupCommand (e.g. --describe --group G: lag)

settings (environment, taken at 'up'): TXLANE_STACK_KAFKA_PORT (19092),
TXLANE_STACK_KAFKA_CONTROLLER_PORT (19093), TXLANE_STACK_PG_PORT (15432),
TXLANE_STACK_ANVIL_PORT (18545), TXLANE_STACK_BLOCK_TIME (seconds; empty = automine),
TXLANE_STACK_ANVIL_ACCOUNTS (10), TXLANE_STACK_ANVIL_ARGS, TXLANE_STACK_KAFKA_HEAP (512m)
EOF
}

KAFKA_WAIT=60
PG_WAIT=30
ANVIL_WAIT=30

# Components started by this invocation, stopped again if 'up' fails.
STARTED=()

stop_started() {
    local c
    for c in "${STARTED[@]}"; do
        case "$c" in
        kafka) txl_kafka_stop 10 ;;
        postgres) txl_pg_stop ;;
        anvil) txl_anvil_stop ;;
        esac
    done
    STARTED=()
}

fail_up() {
    printf 'error: %s; stopping what this command started\n' "$1" >&2
    stop_started
    exit 1
}

start_kafka() {
    if ! txl_alive kafka; then
        txl_log "kafka: starting on 127.0.0.1:$TXL_KAFKA_PORT (controller $TXL_KAFKA_CONTROLLER_PORT)"
        (txl_kafka_start) || fail_up "kafka did not start"
        STARTED+=(kafka)
    fi
}

wait_kafka() {
    txl_wait kafka "$KAFKA_WAIT" txl_kafka_ready "$TXL_KAFKA_DIR/kafka.log" kafka ||
        fail_up "kafka is not answering"
}

start_pg() {
    if ! txl_alive postgres; then
        txl_log "postgresql: starting on 127.0.0.1:$TXL_PG_PORT"
        # Runs in this shell: it may choose (and record) the data directory.
        txl_pg_choose_base || fail_up "postgresql has no data directory"
        txl_settings_save
        (txl_pg_start) || fail_up "postgresql did not start"
        STARTED+=(postgres)
    fi
}

wait_pg() {
    txl_wait postgresql "$PG_WAIT" txl_pg_ready "$(txl_pg_log)" postgres ||
        fail_up "postgresql is not answering"
    txl_pg_bootstrap || fail_up "postgresql: could not create role/database txlane"
}

start_anvil() {
    if ! txl_alive anvil; then
        txl_log "anvil: starting on 127.0.0.1:$TXL_ANVIL_PORT (block time: ${TXL_BLOCK_TIME:-automine})"
        (txl_anvil_start) || fail_up "anvil did not start"
        STARTED+=(anvil)
    fi
}

wait_anvil() {
    txl_wait anvil "$ANVIL_WAIT" txl_anvil_ready "$TXL_ANVIL_DIR/anvil.log" anvil ||
        fail_up "anvil is not answering"
}

cmd_up() {
    local t0=$SECONDS
    txl_settings_save
    # Kafka first: its JVM takes longest, the others start while it boots.
    start_kafka
    start_pg
    start_anvil
    wait_pg
    wait_anvil
    wait_kafka
    txl_env_write
    STARTED=()
    txl_log "stack up in $((SECONDS - t0))s; environment: $TXL_ENV"
    cmd_status
}

cmd_down() {
    local d logs="$TXL_RUN/last-logs"
    txl_anvil_stop
    txl_kafka_stop 30
    txl_pg_stop
    # Keep the logs of the last run for post-mortems, drop everything else.
    rm -rf "$logs"
    mkdir -p "$logs"
    for d in "$TXL_KAFKA_DIR/kafka.log" "$TXL_KAFKA_DIR/kafka.out" "$(txl_pg_log)" \
        "$TXL_ANVIL_DIR/anvil.log"; do
        if [[ -f "$d" ]]; then
            cp -f "$d" "$logs/" 2>/dev/null || true
        fi
    done
    rm -rf "$TXL_KAFKA_DIR" "$TXL_ANVIL_DIR" "$TXL_RUN/pg"
    if [[ -n "$TXL_PG_BASE" && "$TXL_PG_BASE" != "$TXL_RUN/pg" && "$TXL_PG_BASE" == */txlane-pg-* ]]; then
        rm -rf "$TXL_PG_BASE"
    fi
    rm -f "$TXL_ENV" "$TXL_STATE" "$TXL_RUN"/*.pid "$TXL_RUN/kafka-tools-log4j.properties"
    txl_log "stack down (logs of this run: $logs)"
}

# status_line <component> <pid-name> <port> <log>
status_line() {
    local pid state="dead"
    if pid="$(txl_pid_get "$2")"; then
        state="alive"
        if [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" == T* ]]; then
            state="stopped"
        fi
    else
        pid="-"
    fi
    printf '%-11s %-8s %-7s %-8s %s\n' "$1" "$pid" "$3" "$state" "$4"
    [[ "$state" != dead ]]
}

cmd_status() {
    local rc=0
    printf '%-11s %-8s %-7s %-8s %s\n' component pid port state log
    status_line kafka kafka "$TXL_KAFKA_PORT" "$TXL_KAFKA_DIR/kafka.log" || rc=1
    status_line postgresql postgres "$TXL_PG_PORT" "$(txl_pg_log)" || rc=1
    status_line anvil anvil "$TXL_ANVIL_PORT" "$TXL_ANVIL_DIR/anvil.log" || rc=1
    return "$rc"
}

cmd_env() {
    [[ -f "$TXL_ENV" ]] || txl_die "the stack is not up (no $TXL_ENV); run deploy/local/stack.sh up"
    cat "$TXL_ENV"
}

require_up() {
    [[ -f "$TXL_STATE" ]] || txl_die "the stack is not up; run deploy/local/stack.sh up"
}

stop_kafka() {
    if [[ "${1:-}" == --kill ]]; then
        txl_pid_signal kafka KILL || true
        txl_kafka_stop 10
    else
        txl_kafka_stop 30
    fi
}

main() {
    local cmd="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$cmd" in
    up | down | restart-kafka | stop-kafka | start-kafka | stop-pg | start-pg) txl_lock ;;
    esac
    if [[ "$cmd" == up ]]; then
        txl_settings_load fresh
    else
        txl_settings_load
    fi
    case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    logs)
        printf 'kafka      %s\npostgresql %s\nanvil      %s\n' "$TXL_KAFKA_DIR/kafka.log" \
            "$(txl_pg_log)" "$TXL_ANVIL_DIR/anvil.log"
        ;;
    restart-kafka)
        require_up
        stop_kafka "${1:-}"
        start_kafka
        wait_kafka
        ;;
    stop-kafka) require_up && stop_kafka "${1:-}" ;;
    start-kafka) require_up && start_kafka && wait_kafka ;;
    stop-pg) require_up && txl_pg_stop ;;
    start-pg) require_up && start_pg && wait_pg ;;
    stop-node)
        require_up
        txl_pid_signal anvil STOP || txl_die "anvil is not running"
        ;;
    cont-node)
        require_up
        txl_pid_signal anvil CONT || txl_die "anvil is not running"
        ;;
    kafka-topics) require_up && txl_kafka_tool org.apache.kafka.tools.TopicCommand "$@" ;;
    kafka-groups)
        require_up && txl_kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@"
        ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
