# shellcheck shell=bash
# lib.sh - functions behind deploy/local/stack.sh: the local txlane stack (Apache Kafka in KRaft
# mode, PostgreSQL, anvil) as plain processes on 127.0.0.1, with all state under .run/ at the
# project root.
#
# Source it; it defines txl_* functions and variables and changes no shell options. Every
# process it starts is recorded in .run/<component>.pid as "<pid> <start time>", and it only
# ever signals a pid whose /proc start time still matches that record, so a recycled pid (or
# anyone else's process) is never touched.
#
# Settings (environment, read when the stack is brought up; later commands use the values
# recorded in .run/stack.state):
#   TXLANE_STACK_KAFKA_PORT (19092)  TXLANE_STACK_KAFKA_CONTROLLER_PORT (19093)
#   TXLANE_STACK_PG_PORT (15432)     TXLANE_STACK_ANVIL_PORT (18545)
#   TXLANE_STACK_BLOCK_TIME          anvil block time in seconds; empty = automine
#   TXLANE_STACK_ANVIL_ACCOUNTS (10) funded dev accounts (= lanes 0..N-1 of the test mnemonic)
#   TXLANE_STACK_ANVIL_ARGS          extra anvil arguments (word-split)
#   TXLANE_STACK_KAFKA_HEAP (512m)   Kafka -Xmx/-Xms
#   TXLANE_STACK_PG_MAX_CONNECTIONS (300)

TXL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TXL_RUN="$TXL_ROOT/.run"
TXL_TOOLS="$TXL_ROOT/.tools"
TXL_KAFKA_LIB="$TXL_TOOLS/kafka/lib"
TXL_STATE="$TXL_RUN/stack.state"
TXL_ENV="$TXL_RUN/stack.env"
TXL_CHAIN_ID=31337
TXL_ANVIL_MNEMONIC="test test test test test test test test test test test junk"

txl_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
txl_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Settings: recorded state wins over the environment, so that down/status/restart-* act on
# what is actually running even when called with a different environment.
# With "fresh" (stack.sh up), recorded settings only count while a component still runs:
# a stack that is fully down starts again with the current environment.
txl_settings_load() {
    if [[ -f "$TXL_STATE" ]]; then
        if [[ "${1:-}" != fresh ]] || txl_alive kafka || txl_alive postgres || txl_alive anvil; then
            # shellcheck source=/dev/null
            source "$TXL_STATE"
        fi
    fi
    TXL_KAFKA_PORT="${TXL_KAFKA_PORT:-${TXLANE_STACK_KAFKA_PORT:-19092}}"
    TXL_KAFKA_CONTROLLER_PORT="${TXL_KAFKA_CONTROLLER_PORT:-${TXLANE_STACK_KAFKA_CONTROLLER_PORT:-19093}}"
    TXL_PG_PORT="${TXL_PG_PORT:-${TXLANE_STACK_PG_PORT:-15432}}"
    TXL_ANVIL_PORT="${TXL_ANVIL_PORT:-${TXLANE_STACK_ANVIL_PORT:-18545}}"
    TXL_BLOCK_TIME="${TXL_BLOCK_TIME-${TXLANE_STACK_BLOCK_TIME:-}}"
    TXL_ANVIL_ACCOUNTS="${TXL_ANVIL_ACCOUNTS:-${TXLANE_STACK_ANVIL_ACCOUNTS:-10}}"
    TXL_PG_BASE="${TXL_PG_BASE:-}"
    TXL_KAFKA_DIR="$TXL_RUN/kafka"
    TXL_ANVIL_DIR="$TXL_RUN/anvil"
    local p
    for p in "$TXL_KAFKA_PORT" "$TXL_KAFKA_CONTROLLER_PORT" "$TXL_PG_PORT" "$TXL_ANVIL_PORT" \
        "$TXL_ANVIL_ACCOUNTS"; do
        [[ "$p" =~ ^[0-9]+$ ]] || txl_die "not a number: '$p' (check TXLANE_STACK_* settings)"
    done
}

txl_settings_save() {
    mkdir -p "$TXL_RUN"
    {
        printf 'TXL_KAFKA_PORT=%q\n' "$TXL_KAFKA_PORT"
        printf 'TXL_KAFKA_CONTROLLER_PORT=%q\n' "$TXL_KAFKA_CONTROLLER_PORT"
        printf 'TXL_PG_PORT=%q\n' "$TXL_PG_PORT"
        printf 'TXL_ANVIL_PORT=%q\n' "$TXL_ANVIL_PORT"
        printf 'TXL_BLOCK_TIME=%q\n' "$TXL_BLOCK_TIME"
        printf 'TXL_ANVIL_ACCOUNTS=%q\n' "$TXL_ANVIL_ACCOUNTS"
        printf 'TXL_PG_BASE=%q\n' "$TXL_PG_BASE"
    } >"$TXL_STATE.tmp"
    mv -f "$TXL_STATE.tmp" "$TXL_STATE"
}

# One stack command at a time per checkout (fd 9 stays open until the calling script exits).
txl_lock() {
    mkdir -p "$TXL_RUN"
    exec 9>"$TXL_RUN/.lock"
    if ! flock -w 300 9; then
        txl_die "another stack.sh command holds $TXL_RUN/.lock"
    fi
}

# ---------------------------------------------------------------------------------------------
# Process records

# Prints the start time (clock ticks since boot) of a pid, or nothing if it does not exist or
# is a zombie (a dead child nobody has reaped yet).
txl_proc_start() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
    stat="${stat##*) }"
    # After "pid (comm) ": field 1 is the state, field 20 the start time (stat fields 3, 22).
    awk '$1 != "Z" && $1 != "X" {print $20}' <<<"$stat"
}

# txl_pid_record <name> <pid>: remembers a process this library started.
txl_pid_record() {
    local start
    start="$(txl_proc_start "$2")"
    [[ -n "$start" ]] || return 1
    printf '%s %s\n' "$2" "$start" >"$TXL_RUN/$1.pid"
}

# txl_pid_get <name>: prints the recorded pid if that very process is still alive.
txl_pid_get() {
    local file="$TXL_RUN/$1.pid" pid start
    [[ -f "$file" ]] || return 1
    read -r pid start <"$file" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ "$(txl_proc_start "$pid")" == "$start" ]] || return 1
    printf '%s\n' "$pid"
}

txl_alive() { txl_pid_get "$1" >/dev/null; }

# txl_pid_signal <name> <signal>: signals the recorded process if it is still ours.
txl_pid_signal() {
    local pid
    pid="$(txl_pid_get "$1")" || return 1
    kill "-$2" "$pid" 2>/dev/null
}

# txl_pid_stop <name> <seconds>: SIGTERM (after SIGCONT, in case it was paused), wait up to
# <seconds>, then SIGKILL. Removes the record.
txl_pid_stop() {
    local name="$1" bound="$2" pid i
    if pid="$(txl_pid_get "$name")"; then
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < bound * 10; i++)); do
            txl_alive "$name" || break
            sleep 0.1
        done
        if txl_alive "$name"; then
            txl_log "$name: still running after ${bound}s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                txl_alive "$name" || break
                sleep 0.1
            done
        fi
    fi
    rm -f "$TXL_RUN/$name.pid"
}

# txl_spawn <name> <log> <cmd...>: starts a command detached (own session, stdin /dev/null,
# output to <log>) and records its pid.
txl_spawn() {
    local name="$1" log="$2" pidtmp="$TXL_RUN/$1.pid.new" pid="" i
    shift 2
    rm -f "$pidtmp"
    # The inner shell writes its own pid and then execs the command, so the pid stays right
    # whether or not setsid had to fork.
    # shellcheck disable=SC2016
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' txl-spawn "$pidtmp" "$@" \
        </dev/null >>"$log" 2>&1 9>&- &
    for ((i = 0; i < 50; i++)); do
        [[ -s "$pidtmp" ]] && break
        sleep 0.05
    done
    read -r pid <"$pidtmp" 2>/dev/null || true
    rm -f "$pidtmp"
    [[ -n "$pid" ]] || txl_die "$name: could not start $1"
    if ! txl_pid_record "$name" "$pid"; then
        sleep 0.2
        txl_show_log "$name" "$log"
        txl_die "$name: exited at once (log: $log)"
    fi
}

# txl_show_log <component> <log>: the failure report of a component.
txl_show_log() {
    printf '\n--- last lines of %s (%s) ---\n' "$1" "$2" >&2
    tail -n 40 "$2" >&2 2>/dev/null || printf '(no log)\n' >&2
    printf -- '--- end of %s ---\n\n' "$2" >&2
}

# txl_port_busy <port>: true if something listens on 127.0.0.1:<port> (or any address).
txl_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# Kafka (KRaft, one node acting as broker and controller)

txl_java() { printf '%s\n' "${JAVA:-java}"; }

txl_kafka_write_config() {
    local dir="$TXL_KAFKA_DIR"
    mkdir -p "$dir/data"
    cat >"$dir/server.properties" <<EOF
# Generated by deploy/local/lib.sh: single-node KRaft Kafka for the local txlane stack.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$TXL_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$TXL_KAFKA_PORT,CONTROLLER://127.0.0.1:$TXL_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$TXL_KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
    cat >"$dir/log4j.properties" <<EOF
# Generated by deploy/local/lib.sh: Kafka logs to $dir/kafka.log (reload4j).
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$dir/kafka.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.storage.internals.log.LogCleaner=WARN
EOF
}

# A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (what
# "StorageTool random-uuid" prints), without the JVM start-up. Ids starting with '-' are avoided.
txl_kafka_cluster_id() {
    local id
    while :; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ "$id" == -* ]] || break
    done
    printf '%s\n' "$id"
}

txl_kafka_start() {
    local dir="$TXL_KAFKA_DIR" java heap="${TXLANE_STACK_KAFKA_HEAP:-512m}"
    java="$(txl_java)"
    if txl_alive kafka; then
        return 0
    fi
    compgen -G "$TXL_KAFKA_LIB/kafka_2.13-*.jar" >/dev/null ||
        txl_die "kafka: no jars in $TXL_KAFKA_LIB (run deploy/local/install.sh)"
    command -v "$java" >/dev/null || txl_die "kafka: java not found (run deploy/local/install.sh)"
    if txl_port_busy "$TXL_KAFKA_PORT" || txl_port_busy "$TXL_KAFKA_CONTROLLER_PORT"; then
        txl_die "kafka: port $TXL_KAFKA_PORT or $TXL_KAFKA_CONTROLLER_PORT is already in use" \
            "(set TXLANE_STACK_KAFKA_PORT / TXLANE_STACK_KAFKA_CONTROLLER_PORT)"
    fi
    txl_kafka_write_config
    if [[ ! -f "$dir/data/meta.properties" ]]; then
        if ! "$java" -Xmx256m -cp "$TXL_KAFKA_LIB/*" \
            -Dlog4j.configuration="file:$dir/log4j.properties" \
            kafka.tools.StorageTool format -t "$(txl_kafka_cluster_id)" \
            -c "$dir/server.properties" >>"$dir/format.log" 2>&1; then
            txl_show_log kafka "$dir/format.log"
            txl_die "kafka: formatting the storage in $dir/data failed"
        fi
    fi
    txl_spawn kafka "$dir/kafka.out" "$java" "-Xmx$heap" "-Xms$heap" \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$dir/log4j.properties" \
        -Dkafka.logs.dir="$dir" \
        -cp "$TXL_KAFKA_LIB/*" kafka.Kafka "$dir/server.properties"
}

# Kafka answers metadata requests with its broker listed.
txl_kafka_ready() {
    local out
    out="$(kcat -b "127.0.0.1:$TXL_KAFKA_PORT" -L -J -m 3 2>/dev/null)" || return 1
    [[ "$(jq '.brokers | length' <<<"$out" 2>/dev/null)" -ge 1 ]]
}

txl_kafka_stop() { txl_pid_stop kafka "${1:-30}"; }

# txl_kafka_tool <class> <args...>: runs a Kafka admin tool (org.apache.kafka.tools.TopicCommand,
# ...consumer.group.ConsumerGroupCommand) against the local broker; warnings to stderr.
txl_kafka_tool() {
    local class="$1" conf="$TXL_RUN/kafka-tools-log4j.properties"
    shift
    mkdir -p "$TXL_RUN"
    if [[ ! -f "$conf" ]]; then
        cat >"$conf" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=%p %m (%c)%n
EOF
    fi
    "$(txl_java)" -Xmx256m -Dlog4j.configuration="file:$conf" -cp "$TXL_KAFKA_LIB/*" "$class" \
        --bootstrap-server "127.0.0.1:$TXL_KAFKA_PORT" "$@"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

txl_pg_bin() {
    local d
    if [[ -n "${TXLANE_STACK_PG_BIN:-}" ]]; then
        printf '%s\n' "$TXLANE_STACK_PG_BIN"
        return
    fi
    for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [[ -x "$d/initdb" ]]; then
            printf '%s\n' "$d"
            return
        fi
    done
    txl_die "postgresql: initdb not found (run deploy/local/install.sh)"
}

# Runs a PostgreSQL server binary as the postgres user when we are root (it refuses root).
txl_as_pg() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Chooses where the cluster lives: .run/pg, unless the postgres user cannot reach it (checkout
# under a directory it may not traverse), then a folder under /var/tmp (or /tmp) named after a
# hash of the project path. The choice is kept in .run/stack.state.
txl_pg_choose_base() {
    [[ -n "$TXL_PG_BASE" ]] && return 0
    local base="$TXL_RUN/pg" hash tmp
    mkdir -p "$base"
    [[ $EUID -eq 0 ]] && chown postgres: "$base"
    if txl_as_pg test -w "$base" -a -x "$base"; then
        TXL_PG_BASE="$base"
        return 0
    fi
    hash="$(printf '%s' "$TXL_ROOT" | sha256sum | cut -c1-12)"
    for tmp in /var/tmp /tmp; do
        base="$tmp/txlane-pg-$hash"
        mkdir -p "$base"
        chmod 700 "$base"
        [[ $EUID -eq 0 ]] && chown postgres: "$base"
        if txl_as_pg test -w "$base" -a -x "$base"; then
            TXL_PG_BASE="$base"
            txl_log "postgresql: postgres cannot reach $TXL_RUN/pg, using $base"
            printf '%s\n' "$base" >"$TXL_RUN/pg/location"
            return 0
        fi
    done
    printf 'error: postgresql: found no directory the postgres user can write\n' >&2
    return 1
}

txl_pg_log() { printf '%s\n' "${TXL_PG_BASE:-$TXL_RUN/pg}/postgres.log"; }

txl_psql() {
    local bin
    bin="$(txl_pg_bin)"
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TXL_PG_PORT" "$@"
}

txl_pg_start() {
    local bin data log pid
    bin="$(txl_pg_bin)"
    if txl_alive postgres; then
        return 0
    fi
    txl_pg_choose_base
    data="$TXL_PG_BASE/data"
    log="$(txl_pg_log)"
    if txl_port_busy "$TXL_PG_PORT"; then
        txl_die "postgresql: port $TXL_PG_PORT is already in use (set TXLANE_STACK_PG_PORT)"
    fi
    if [[ ! -f "$data/PG_VERSION" ]]; then
        rm -rf "$data"
        txl_as_pg mkdir -p "$data" "$TXL_PG_BASE/socket"
        if ! txl_as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale \
            >"$TXL_PG_BASE/initdb.log" 2>&1; then
            txl_show_log postgresql "$TXL_PG_BASE/initdb.log"
            txl_die "postgresql: initdb failed"
        fi
        txl_as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF

# txlane local stack (deploy/local/lib.sh)
listen_addresses = '127.0.0.1'
port = $TXL_PG_PORT
unix_socket_directories = '$TXL_PG_BASE/socket'
max_connections = ${TXLANE_STACK_PG_MAX_CONNECTIONS:-300}
shared_buffers = 128MB
log_min_duration_statement = 1000
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    fi
    txl_as_pg mkdir -p "$TXL_PG_BASE/socket"
    txl_as_pg touch "$log"
    # fd 9 (the stack lock) must not leak into the server.
    # Port and socket on the command line too: they win over a postgresql.conf written with
    # other settings by an earlier run.
    if ! txl_as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 30 \
        -o "-p $TXL_PG_PORT -k $TXL_PG_BASE/socket" start >/dev/null 2>&1 9>&-; then
        txl_show_log postgresql "$log"
        txl_die "postgresql: pg_ctl start failed"
    fi
    pid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null)"
    txl_pid_record postgres "$pid" || txl_die "postgresql: no postmaster, see $log"
}

txl_pg_ready() {
    local bin
    bin="$(txl_pg_bin)"
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$TXL_PG_PORT" -t 2 || return 1
    txl_psql -U postgres -d postgres -c 'select 1' >/dev/null 2>&1
}

# The txlane superuser and its database (idempotent).
txl_pg_bootstrap() {
    txl_psql -U postgres -d postgres <<'EOF' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'txlane') THEN
    CREATE ROLE txlane LOGIN SUPERUSER;
  END IF;
END $$;
EOF
    if [[ "$(txl_psql -U postgres -d postgres -tAc \
        "select 1 from pg_database where datname = 'txlane'")" != 1 ]]; then
        txl_psql -U postgres -d postgres -c 'CREATE DATABASE txlane OWNER txlane' >/dev/null
    fi
    txl_psql -U txlane -d txlane -c 'select 1' >/dev/null
}

txl_pg_stop() {
    local bin data
    bin="$(txl_pg_bin)"
    if txl_alive postgres && [[ -n "$TXL_PG_BASE" ]]; then
        data="$TXL_PG_BASE/data"
        txl_pid_signal postgres CONT || true
        txl_as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    # pg_ctl failed or timed out: fall back to signals on the recorded postmaster.
    txl_pid_stop postgres 10
}

# ---------------------------------------------------------------------------------------------
# anvil

txl_anvil_bin() {
    local b="$TXL_TOOLS/npm/node_modules/.bin/anvil"
    if [[ -x "$b" ]]; then
        printf '%s\n' "$b"
    elif command -v anvil >/dev/null; then
        command -v anvil
    else
        txl_die "anvil: not installed (run deploy/local/install.sh)"
    fi
}

# txl_anvil_cmd PORT: the stack's anvil command line (binary, then arguments, one per line), for
# the stack's node and for benchmarks that want a fresh chain with the same settings.
txl_anvil_cmd() {
    local port="$1" bin
    local -a args extra=()
    bin="$(txl_anvil_bin)"
    # Test chain for a payout pipeline: the default test mnemonic (lane i = dev account i),
    # a block gas limit far above what the pipeline can fill (300M gas = 14k transfers per
    # block, so interval mining never leaves payouts waiting for block space), no request body
    # limit for large JSON-RPC batches, and no colours in the log. Only the last 64 block
    # states stay in memory: anvil keeps a snapshot of the whole state per block, and with
    # automine (a block per tx) and thousands of fresh recipients a full history grows by
    # gigabytes per thousand payouts (with 512 kept, a full test run took anvil past 6 GB).
    # 64 blocks still cover the reorg tests (depth <= 16) and the audit.
    args=(--host 127.0.0.1 --port "$port" --chain-id "$TXL_CHAIN_ID"
        --mnemonic "$TXL_ANVIL_MNEMONIC" --accounts "$TXL_ANVIL_ACCOUNTS"
        --gas-limit 300000000 --no-request-size-limit --prune-history 64 --color never)
    if [[ -n "$TXL_BLOCK_TIME" ]]; then
        args+=(--block-time "$TXL_BLOCK_TIME")
    fi
    if [[ -n "${TXLANE_STACK_ANVIL_ARGS:-}" ]]; then
        read -r -a extra <<<"$TXLANE_STACK_ANVIL_ARGS"
        args+=("${extra[@]}")
    fi
    printf '%s\n' "$bin" "${args[@]}"
}

txl_anvil_start() {
    local dir="$TXL_ANVIL_DIR" cmd
    local -a argv
    if txl_alive anvil; then
        return 0
    fi
    if txl_port_busy "$TXL_ANVIL_PORT"; then
        txl_die "anvil: port $TXL_ANVIL_PORT is already in use (set TXLANE_STACK_ANVIL_PORT)"
    fi
    mkdir -p "$dir"
    cmd="$(txl_anvil_cmd "$TXL_ANVIL_PORT")" || exit 1
    mapfile -t argv <<<"$cmd"
    txl_spawn anvil "$dir/anvil.log" "${argv[@]}"
}

txl_rpc() {
    curl -sS --max-time "${2:-3}" -H 'Content-Type: application/json' \
        --data "$1" "http://127.0.0.1:$TXL_ANVIL_PORT"
}

txl_anvil_ready() {
    local out
    out="$(txl_rpc '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' 2 2>/dev/null)" ||
        return 1
    [[ "$(jq -r '.result' <<<"$out" 2>/dev/null)" == "0x7a69" ]]
}

txl_anvil_stop() { txl_pid_stop anvil 10; }

# ---------------------------------------------------------------------------------------------
# Waiting and the environment file

# txl_wait <component> <seconds> <ready-fn> <log> <pid-name>: polls until ready; false if the
# bound passes or the process dies first.
txl_wait() {
    local name="$1" bound="$2" fn="$3" log="$4" pidname="$5" deadline
    deadline=$((SECONDS + bound))
    while ((SECONDS < deadline)); do
        if "$fn"; then
            return 0
        fi
        if ! txl_alive "$pidname"; then
            printf 'error: %s exited while starting (log: %s)\n' "$name" "$log" >&2
            txl_show_log "$name" "$log"
            return 1
        fi
        sleep 0.25
    done
    printf 'error: %s did not answer within %ss (log: %s)\n' "$name" "$bound" "$log" >&2
    txl_show_log "$name" "$log"
    return 1
}

txl_env_write() {
    cat >"$TXL_ENV.tmp" <<EOF
# txlane local stack (deploy/local/stack.sh); source this file.
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$TXL_KAFKA_PORT
export TXLANE_PG_DSN=postgresql://txlane@127.0.0.1:$TXL_PG_PORT/txlane
export TXLANE_RPC_URL=http://127.0.0.1:$TXL_ANVIL_PORT
export TXLANE_CHAIN_ID=$TXL_CHAIN_ID
export TXLANE_STACK_KAFKA_PORT=$TXL_KAFKA_PORT
export TXLANE_STACK_KAFKA_CONTROLLER_PORT=$TXL_KAFKA_CONTROLLER_PORT
export TXLANE_STACK_PG_PORT=$TXL_PG_PORT
export TXLANE_STACK_ANVIL_PORT=$TXL_ANVIL_PORT
export TXLANE_STACK_BLOCK_TIME=$(printf '%q' "$TXL_BLOCK_TIME")
export TXLANE_STACK_ANVIL_ACCOUNTS=$TXL_ANVIL_ACCOUNTS
export TXLANE_STACK_RUN_DIR=$(printf '%q' "$TXL_RUN")
export TXLANE_STACK_PG_DATA=$(printf '%q' "$TXL_PG_BASE/data")
export TXLANE_STACK_KAFKA_LOG=$(printf '%q' "$TXL_KAFKA_DIR/kafka.log")
export TXLANE_STACK_PG_LOG=$(printf '%q' "$(txl_pg_log)")
export TXLANE_STACK_ANVIL_LOG=$(printf '%q' "$TXL_ANVIL_DIR/anvil.log")
export TXLANE_STACK_ANVIL_MNEMONIC=$(printf '%q' "$TXL_ANVIL_MNEMONIC")
EOF
    mv -f "$TXL_ENV.tmp" "$TXL_ENV"
}
