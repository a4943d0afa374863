#!/usr/bin/env bash
# stack_components.sh - the local stack (deploy/local/stack.sh up) really answers: Kafka
# metadata, a PostgreSQL query as the txlane role, anvil's chain id, and `stack.sh status`
# reports the three components alive.
set -euo pipefail

SRC="${TXLANE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[[ -f "$SRC/.run/stack.env" ]] || fail "the local stack is not up (no .run/stack.env)"
# shellcheck source=/dev/null
source "$SRC/.run/stack.env"

for v in KAFKA_BOOTSTRAP_SERVERS TXLANE_PG_DSN TXLANE_RPC_URL TXLANE_CHAIN_ID; do
    [[ -n "${!v:-}" ]] || fail "stack.env does not set $v"
done
[[ "$TXLANE_CHAIN_ID" == 31337 ]] || fail "TXLANE_CHAIN_ID is $TXLANE_CHAIN_ID, expected 31337"

# Kafka: a metadata request lists one broker at the advertised address.
md="$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -L -J -m 10)" ||
    fail "kafka at $KAFKA_BOOTSTRAP_SERVERS does not answer metadata requests"
brokers="$(jq -r '[.brokers[] | "\(.name)"] | join(",")' <<<"$md")"
[[ "$brokers" == *"$KAFKA_BOOTSTRAP_SERVERS"* ]] ||
    fail "kafka metadata lists brokers '$brokers', expected $KAFKA_BOOTSTRAP_SERVERS"
echo "ok: kafka metadata from $brokers"

# PostgreSQL: the DSN connects as the txlane superuser.
got="$(psql "$TXLANE_PG_DSN" -X -tAc 'select current_user || $$/$$ || current_database() || $$/$$ || (select rolsuper from pg_roles where rolname = current_user)')" ||
    fail "postgresql query over $TXLANE_PG_DSN failed"
[[ "$got" == "txlane/txlane/true" ]] || fail "postgresql: expected txlane/txlane/superuser, got '$got'"
echo "ok: postgresql $(psql "$TXLANE_PG_DSN" -X -tAc 'show server_version')"

# anvil: chain id 31337 and the funded test accounts.
rpc() {
    curl -sS --max-time 5 -H 'Content-Type: application/json' \
        --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$TXLANE_RPC_URL"
}
chain="$(rpc eth_chainId '[]' | jq -r .result)" || fail "anvil at $TXLANE_RPC_URL does not answer"
[[ "$chain" == 0x7a69 ]] || fail "anvil eth_chainId is '$chain', expected 0x7a69"
# Lane 0 of the test mnemonic (m/44'/60'/0'/0/0) is funded.
bal="$(rpc eth_getBalance '["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","latest"]' | jq -r .result)"
[[ "$bal" =~ ^0x[0-9a-f]+$ && "$bal" != 0x0 ]] || fail "lane 0 of the test mnemonic has no funds ($bal)"
echo "ok: anvil chain id $chain"

# stack.sh status: three components, all alive.
status="$("$SRC/deploy/local/stack.sh" status)" || fail "stack.sh status exits non-zero:
$status"
for c in kafka postgresql anvil; do
    grep -Eq "^$c +[0-9]+ +[0-9]+ +alive " <<<"$status" || fail "stack.sh status does not report $c alive:
$status"
done
echo "ok: stack.sh status"
echo "PASS stack_components"
