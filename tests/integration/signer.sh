#!/usr/bin/env bash
# txlane-signer against the real stack: every allocated message of several lanes is signed once
# (EIP-1559, then a legacy EIP-155 run that resumes from the committed offsets); each raw
# transaction recovers to its lane address, carries exactly the allocated fields and hashes to
# the message's hash; anvil mines one of each type. A foreign `from`, a lane mismatch, garbage,
# another chain, an invalid fee pair and a signed message too large for Kafka land in the DLQ with
# their reasons (plus "rejected" status events) while the signer keeps signing. A group-readable mnemonic file is refused (exit 2, one
# line), and no 64-hex-digit secret ever reaches the signer's log.
source "$(dirname "$0")/lib_txlane.sh"
txl_test_init signer

"$TXL_CLI" topics >/dev/null || txl_fail "could not create the topics"
export TXLANE_LANES=8
export TXLANE_CHAIN_ID
export TXLANE_LOG_LEVEL=debug # every signed tx logged: the secret check below sees the most
PORT=29201
lanes_file="$TXL_DIR/lanes.txt"
"$TXL_CLI" derive --xpub "$TXLANE_XPUB" --index 0 --count 12 >"$lanes_file"

# allocated messages "<expected outcome>\t<key>\t<value>" for lanes [first, last), nonces 0-5,
# with and without calldata; in the EIP-1559 run the bad ones come in the middle
cat >"$TXL_DIR/gen.py" <<'PY'
import json, sys, os
lanes = dict((int(i), a) for i, a in (l.split() for l in open(sys.argv[1])))
chain, first, last, tag = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
tx_id = 1000 if tag == "eip1559" else 2000
def msg(lane, nonce, **kw):
    global tx_id
    tx_id += 1
    m = {"tx_id": tx_id, "request_id": f"{tag}-{lane}-{nonce}-{tx_id}", "kind": "payout", "lane": lane,
         "from": lanes[lane], "nonce": nonce, "to": "0x" + os.urandom(20).hex(),
         "value_wei": str(10**15 + tx_id), "data": "0x", "gas_limit": 21000,
         "max_fee_per_gas": "100000000000", "max_priority_fee_per_gas": "1000000000",
         "chain_id": chain, "attempt": 0, "created_ms": 1700000000000 + tx_id}
    m.update(kw)
    return m
out = []
for nonce in range(6):
    for lane in range(first, last):
        extra = {}
        if nonce % 2 == 1:  # an ERC-20 transfer call as calldata, more gas
            extra = {"data": "0xa9059cbb" + "00" * 12 + os.urandom(20).hex() + "%064x" % nonce,
                     "gas_limit": 90000, "value_wei": "0", "attempt": nonce,
                     "max_priority_fee_per_gas": str(2 * 10**9 + nonce)}
        out.append(("good", msg(lane, nonce, **extra)))
    if nonce == 2 and tag == "eip1559":
        out.append(("unknown_lane", msg(3, 99, **{"from": lanes[11]})))
        out.append(("lane_mismatch", msg(3, 99, **{"from": lanes[2]})))
        out.append(("bad_message", "this is not JSON {\"request_id\": \"garbage\""))
        out.append(("wrong_chain", msg(4, 99, chain_id=chain + 1)))
        out.append(("invalid_tx", msg(4, 98, max_priority_fee_per_gas="200000000000")))
    if nonce == 2 and tag == "legacy":  # signed, it would exceed KAFKA_MESSAGE_MAX_BYTES=10000
        out.append(("oversized", msg(5, 97, data="0x" + "ab" * 4800, gas_limit=200000)))
for kind, m in out:
    key = m["from"] if isinstance(m, dict) else "garbage"
    text = json.dumps(m) if isinstance(m, dict) else m
    print(f"{kind}\t{key}\t{text}")
PY
python3 "$TXL_DIR/gen.py" "$lanes_file" "$TXLANE_CHAIN_ID" 0 5 eip1559 >"$TXL_DIR/run1.tsv"
good1="$(grep -c '^good' "$TXL_DIR/run1.tsv")"
bad1="$(grep -vc '^good' "$TXL_DIR/run1.tsv")"
cut -f2- "$TXL_DIR/run1.tsv" >"$TXL_DIR/run1.kv"
txl_produce "$TXLANE_TOPIC_ALLOCATED" "$TXL_DIR/run1.kv" -K $'\t' || txl_fail "produce run 1"

# refused: a mnemonic file that group and others may read
cp "$TXLANE_MNEMONIC_FILE" "$TXL_DIR/mnemonic.open"
chmod 0644 "$TXL_DIR/mnemonic.open"
rc=0
err="$(TXLANE_MNEMONIC_FILE="$TXL_DIR/mnemonic.open" TXLANE_HTTP_PORT=0 \
    "$TXL_BIN/txlane-signer" 2>&1 >/dev/null)" || rc=$?
[[ "$rc" == 2 ]] || txl_fail "signer with a 0644 mnemonic file exited $rc, want 2"
[[ "$(wc -l <<<"$err")" == 1 ]] || txl_fail "want one line for the 0644 mnemonic file, got: $err"
grep -q "TXLANE_MNEMONIC_FILE" <<<"$err" && grep -q "group or others" <<<"$err" ||
    txl_fail "the refusal does not name the problem: $err"
txl_pass "0644 mnemonic file refused: $err"

# run 1: EIP-1559
txl_start_worker signer "$PORT"
txl_wait_ready "$PORT" 60 || txl_fail "signer not ready: $(tail -3 "$TXL_DIR/signer.log")"
txl_consume "$TXLANE_TOPIC_SIGNED" "$good1" 60 >/dev/null ||
    txl_fail "fewer than $good1 signed messages within 60 s"
txl_consume "$TXLANE_TOPIC_DLQ" "$bad1" 30 >/dev/null || txl_fail "fewer than $bad1 DLQ entries"
metrics="$(curl -sf "http://127.0.0.1:$PORT/metrics")"
grep -q "^txlane_signer_signed_total $good1\$" <<<"$metrics" ||
    txl_fail "signed_total is not $good1: $(grep signed_total <<<"$metrics")"
grep -q '^txlane_signer_lanes 8$' <<<"$metrics" || txl_fail "lanes gauge is not 8"
for reason in unknown_lane lane_mismatch bad_message wrong_chain invalid_tx; do
    grep -q "^txlane_signer_rejected_total{reason=\"$reason\"} 1\$" <<<"$metrics" ||
        txl_fail "rejected_total{$reason} is not 1"
done
kill -0 "${TXL_PIDS[signer]}" || txl_fail "signer died on bad input"
txl_stop_worker signer
[[ "$TXL_EXIT" == 0 ]] || txl_fail "signer exited $TXL_EXIT on SIGTERM"
txl_pass "run 1: $good1 signed, $bad1 rejected, clean stop"

# run 2: legacy, lanes 5-7, the same group: resumes after the committed offsets; with a small
# Kafka message size a signed message too large to produce goes to the DLQ instead of stalling
python3 "$TXL_DIR/gen.py" "$lanes_file" "$TXLANE_CHAIN_ID" 5 8 legacy >"$TXL_DIR/run2.tsv"
good2="$(grep -c '^good' "$TXL_DIR/run2.tsv")"
cut -f2- "$TXL_DIR/run2.tsv" >"$TXL_DIR/run2.kv"
txl_produce "$TXLANE_TOPIC_ALLOCATED" "$TXL_DIR/run2.kv" -K $'\t' || txl_fail "produce run 2"
TXLANE_TX_TYPE=legacy KAFKA_MESSAGE_MAX_BYTES=10000 txl_start_worker signer "$PORT"
txl_wait_ready "$PORT" 60 || txl_fail "legacy signer not ready"
total=$((good1 + good2))
txl_consume "$TXLANE_TOPIC_SIGNED" "$total" 60 >/dev/null ||
    txl_fail "fewer than $total signed messages within 60 s"
bad2="$(grep -vc '^good' "$TXL_DIR/run2.tsv")"
txl_consume "$TXLANE_TOPIC_DLQ" "$((bad1 + bad2))" 30 >/dev/null ||
    txl_fail "fewer than $((bad1 + bad2)) DLQ entries"
metrics="$(curl -sf "http://127.0.0.1:$PORT/metrics")"
grep -q '^txlane_signer_rejected_total{reason="oversized"} 1$' <<<"$metrics" ||
    txl_fail "rejected_total{oversized} is not 1"
grep -q "^txlane_signer_signed_total $good2\$" <<<"$metrics" ||
    txl_fail "legacy run signed_total is not $good2 (offsets not resumed?)"
txl_stop_worker signer
[[ "$TXL_EXIT" == 0 ]] || txl_fail "legacy signer exited $TXL_EXIT on SIGTERM"
txl_pass "run 2 (legacy): $good2 signed after resuming"

# every message now on the topics (-e: up to the current end)
dump() { kcat -C -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$1" -o beginning -e -q -f '%k\t%s\n'; }
dump "$TXLANE_TOPIC_SIGNED" >"$TXL_DIR/signed.tsv"
dump "$TXLANE_TOPIC_DLQ" >"$TXL_DIR/dlq.tsv"
dump "$TXLANE_TOPIC_STATUS" >"$TXL_DIR/status.tsv"

# each signed raw decoded by `txlane decode`, checked against its allocated message
while IFS=$'\t' read -r _ value; do
    raw="$(jq -r .raw <<<"$value")"
    printf '%s\t%s\t%s\n' "$("$TXL_CLI" decode "$raw")" "$("$TXL_CLI" keccak "$raw")" "$value"
done <"$TXL_DIR/signed.tsv" >"$TXL_DIR/decoded.tsv"
python3 - "$TXL_DIR" "$lanes_file" <<'PY' || txl_fail "signed messages do not match the allocated ones"
import json, sys
d = sys.argv[1]
lanes = dict((int(i), a) for i, a in (l.split() for l in open(sys.argv[2])))
want, bad = {}, {}
for run, typ in (("run1", 2), ("run2", 0)):
    for line in open(f"{d}/{run}.tsv"):
        kind, key, text = line.rstrip("\n").split("\t", 2)
        if kind == "good":
            m = json.loads(text)
            want[m["tx_id"]] = (m, typ)
        else:
            bad[kind] = text
keys = [l.split("\t", 1)[0] for l in open(f"{d}/signed.tsv")]
seen = {}
for line, key in zip(open(f"{d}/decoded.tsv"), keys):
    dec, hash_, val = line.rstrip("\n").split("\t", 2)
    dec, s = json.loads(dec), json.loads(val)
    assert s["tx_id"] not in seen, f"tx_id {s['tx_id']} signed twice"
    seen[s["tx_id"]] = s
    m, typ = want[s["tx_id"]]
    lane_addr = lanes[m["lane"]]
    assert dec["from"] == lane_addr == s["from"] == key, (dec["from"], lane_addr, key)
    assert dec["type"] == typ, (s["tx_id"], dec["type"])
    assert dec["hash"] == s["hash"] == hash_, "hash is not keccak(raw)"
    for f in ("nonce", "chain_id", "gas_limit", "to", "data"):
        assert str(dec[f]).lower() == str(m[f]).lower(), (f, dec[f], m[f])
    assert dec["value"] == m["value_wei"]
    if typ == 2:
        assert dec["max_fee_per_gas"] == m["max_fee_per_gas"]
        assert dec["max_priority_fee_per_gas"] == m["max_priority_fee_per_gas"]
    else:
        assert dec["gas_price"] == m["max_fee_per_gas"]
    for f in ("request_id", "kind", "lane", "nonce", "attempt", "created_ms",
              "max_fee_per_gas", "max_priority_fee_per_gas"):
        assert s[f] == m[f], (f, s[f], m[f])
assert set(seen) == set(want), f"signed {len(seen)} of {len(want)}: missing {set(want) - set(seen)}"
dlq = {}
for line in open(f"{d}/dlq.tsv"):
    e = json.loads(line.split("\t", 1)[1])
    dlq[e["reason"]] = e
assert set(dlq) == set(bad), f"DLQ reasons {sorted(dlq)}, want {sorted(bad)}"
for reason, e in dlq.items():
    assert e["raw"] == bad[reason][:4096], (reason, e["raw"])
    assert e["truncated"] is (len(bad[reason]) > 4096) and e["raw_len"] == len(bad[reason]), e
    assert e["program"] == "signer" and e["detail"], e
    assert e["topic"].endswith(".allocated") and e["offset"] >= 0 and e["partition"] >= 0, e
assert "not one of the 8 lanes" in dlq["unknown_lane"]["detail"], dlq["unknown_lane"]
assert "chain" in dlq["wrong_chain"]["detail"]
rejected = {}
for line in open(f"{d}/status.tsv"):
    key, text = line.rstrip("\n").split("\t", 1)
    st = json.loads(text)
    assert st["state"] == "rejected" and key == st["request_id"], st
    rejected[st["request_id"]] = st["reason"]
want_rej = {json.loads(t)["request_id"]: r for r, t in bad.items() if r != "bad_message"}
assert rejected == want_rej, (rejected, want_rej)
print(f"{len(seen)} signed messages verified, {len(dlq)} DLQ entries, {len(rejected)} rejections")
PY
txl_pass "every raw recovers to its lane and carries exactly the allocated fields"

# nothing secret in the log: no 64-hex-digit word without 0x, no mnemonic word
[[ "$(grep -c '"msg":"signed".*"tx_hash":"0x' "$TXL_DIR/signer.log")" == "$total" ]] ||
    txl_fail "want one debug line per signed tx in the log"
if grep -Eo '(^|[^0-9A-Fa-fx])[0-9A-Fa-f]{64}([^0-9A-Fa-f]|$)' "$TXL_DIR/signer.log"; then
    txl_fail "a 64-hex-digit word (key material?) in the signer log"
fi
grep -q junk "$TXL_DIR/signer.log" && txl_fail "a mnemonic word in the signer log"
txl_pass "no key material in the log"

# anvil accepts and mines a signed EIP-1559 and a signed legacy transaction (nonce 0 lanes)
txl_fund_lanes 8
for lane in 0 5; do
    raw="$(python3 - "$TXL_DIR/signed.tsv" "$lane" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    s = json.loads(line.split("\t", 1)[1])
    if s["lane"] == int(sys.argv[2]) and s["nonce"] == 0:
        print(s["raw"], s["hash"])
        break
PY
)"
    read -r raw hash <<<"$raw"
    [[ -n "$hash" ]] || txl_fail "no signed nonce-0 message for lane $lane"
    sent="$(txl_rpc eth_sendRawTransaction "[\"$raw\"]")"
    [[ "$sent" == "\"$hash\"" ]] || txl_fail "anvil answered $sent, want $hash"
    status=null
    for _ in $(seq 50); do
        status="$(txl_rpc eth_getTransactionReceipt "[\"$hash\"]" | jq -r '.status // "null"')"
        [[ "$status" != null ]] && break
        txl_rpc evm_mine '[]' >/dev/null
    done
    [[ "$status" == 0x1 ]] || txl_fail "lane $lane tx $hash: receipt status $status, want 0x1"
    txl_pass "anvil mined the signed tx of lane $lane ($hash)"
done
