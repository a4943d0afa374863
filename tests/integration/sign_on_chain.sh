#!/usr/bin/env bash
# Transactions built by `txlane sign` are accepted and executed by a real node (anvil): an
# EIP-1559 and a legacy EIP-155 transfer from lane 0 of the test mnemonic are mined with
# status 1, the recipient receives exactly the value, and `txlane decode` recovers the sender.
source "$(dirname "$0")/lib_txlane.sh"
txl_test_init sign_on_chain

rpc() {
    curl -sf -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$TXLANE_RPC_URL"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# lane 0 of the test mnemonic, derived by txlane itself; its key from the known-answer vectors
from="$("$TXL_CLI" derive --mnemonic-file "$TXLANE_MNEMONIC_FILE" --index 0 | cut -d' ' -f2)"
key_file="$TXL_DIR/key"
umask 077
awk '$1 == "lane" && $2 == 0 { print "0x" $4 }' "$TXL_SRC/tests/vectors/hd_ethereum.txt" >"$key_file"
umask 022
[[ -s "$key_file" ]] || txl_fail "lane 0 key missing from tests/vectors/hd_ethereum.txt"
to="0x$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"
nonce="$(rpc eth_getTransactionCount "[\"$from\",\"pending\"]" | json_field "['result']")"
nonce=$((nonce))

send_and_check() {
    local kind="$1" value="$2" n="$3"
    shift 3
    local out raw hash sent receipt
    out="$("$TXL_CLI" sign --key-file "$key_file" --chain-id "$TXLANE_CHAIN_ID" --nonce "$n" \
        --to "$to" --value "$value" --gas-limit 21000 "$@")" || txl_fail "$kind: sign failed"
    raw="$(sed -n 1p <<<"$out")"
    hash="$(sed -n 2p <<<"$out")"
    decoded="$("$TXL_CLI" decode "$raw")" || txl_fail "$kind: decode failed"
    [[ "$(json_field "['from']" <<<"$decoded")" == "$from" ]] || txl_fail "$kind: decode recovered another sender"
    sent="$(rpc eth_sendRawTransaction "[\"$raw\"]")" || txl_fail "$kind: node unreachable"
    [[ "$(json_field "['result']" <<<"$sent" 2>/dev/null)" == "$hash" ]] ||
        txl_fail "$kind: node answered $sent, want hash $hash"
    for _ in $(seq 50); do
        receipt="$(rpc eth_getTransactionReceipt "[\"$hash\"]" | json_field "['result']")"
        [[ "$receipt" != None ]] && break
        rpc evm_mine '[]' >/dev/null
        sleep 0.1
    done
    [[ "$(rpc eth_getTransactionReceipt "[\"$hash\"]" | json_field "['result']['status']")" == 0x1 ]] ||
        txl_fail "$kind: not mined with status 1"
    txl_pass "$kind transfer mined"
}

send_and_check eip1559 1234567 "$nonce" --max-fee 100000000000 --priority-fee 1000000000
send_and_check legacy 7654321 "$((nonce + 1))" --legacy --gas-price 100000000000
balance="$(rpc eth_getBalance "[\"$to\",\"latest\"]" | json_field "['result']")"
[[ "$((balance))" == 8888888 ]] || txl_fail "recipient has $((balance)) wei, want 8888888"
txl_pass "recipient received exactly 8888888 wei"
