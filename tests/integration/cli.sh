#!/usr/bin/env bash
# The operator commands against the real stack:
# - submit: one request from flags, a JSON-lines file and generated load reach the requests topic
#   as sent (keys = request ids, a pinned lane on partition lane mod P, the count printed = N);
#   bad flags exit 2 and send nothing; a missing topic exits 1.
# - status, lanes, lanes pause/resume on rows this test writes.
# - audit: passes on a consistent setup whose transactions were really signed (txlane sign) and
#   mined on anvil, and fails (exit 1, naming the invariant) for a request without a transaction,
#   a nonce hole, an attempt paying someone else, a backward event, a recipient holding less than
#   recorded, and a lane whose mined count txlane cannot account for.
source "$(dirname "$0")/lib_txlane.sh"
txl_test_init cli
T="$TXL_CLI"
DB="txlane_$TXL_TEST"
sql() { txl_psql -d "${SQL_DB:-$DB}" -At -c "$1"; }
random_address() { echo "0x$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"; }
expect_exit() { # expect_exit CODE WHAT CMD...
    local want="$1" what="$2" got=0
    shift 2
    "$@" >"$TXL_DIR/out" 2>"$TXL_DIR/err" || got=$?
    [[ $got == "$want" ]] || txl_fail "$what: exit $got, want $want ($(head -c 400 "$TXL_DIR/err"))"
}

"$T" migrate >/dev/null
TXLANE_PARTITIONS_REQUESTS=4 "$T" topics >/dev/null
P=4
export TXLANE_LANES=8

# ---------------------------------------------------------------------------------------------
# submit
to_ok="$(txl_lane_address 7)" # a valid EIP-55 address
expect_exit 0 "submit one" "$T" submit --to "$to_ok" --value 1.5gwei --request-id cli-one \
    --metadata '{"order": 7}'
grep -q '^request_id cli-one$' "$TXL_DIR/out" || txl_fail "submit did not print the request id"
grep -q '^accepted 1 of 1 request(s)' "$TXL_DIR/out" || txl_fail "submit one: $(cat "$TXL_DIR/out")"
expect_exit 0 "submit 2eth" "$T" submit --to "$to_ok" --value 2eth --request-id cli-eth
expect_exit 0 "submit hex wei" "$T" submit --to "$to_ok" --value 0x10 --request-id cli-hex
expect_exit 0 "submit pinned" "$T" submit --to "$to_ok" --value 5 --request-id cli-pinned \
    --lane 6 --gas-limit 30000
cat >"$TXL_DIR/payouts.jsonl" <<EOF
{"request_id":"cli-file-1","to":"$to_ok","value_wei":"11"}

{"request_id":"cli-file-2","to":"$to_ok","value_wei":"12","lane":5}
   
not json at all
{"request_id":"cli-file-3","to":"$to_ok","value_wei":"13","metadata":{"batch":"b1"}}
EOF
expect_exit 0 "submit --file" "$T" submit --file "$TXL_DIR/payouts.jsonl"
grep -q '^accepted 4 of 4 request(s)' "$TXL_DIR/out" || txl_fail "file: $(cat "$TXL_DIR/out")"
grep -q 'line 5: invalid JSON' "$TXL_DIR/err" || txl_fail "no warning for the invalid line"
N=300
expect_exit 0 "submit --count" "$T" submit --count "$N" --random-recipients --value 7 \
    --prefix cli-load --quiet
grep -q "^accepted $N of $N request(s)" "$TXL_DIR/out" || txl_fail "count: $(cat "$TXL_DIR/out")"
grep -q "^request ids cli-load-1 .. cli-load-$N$" "$TXL_DIR/out" || txl_fail "count: no id range"
expect_exit 0 "submit --count --rate" "$T" submit --count 20 --to "$to_ok" --rate 200 \
    --prefix cli-rated --quiet
txl_pass "submit: flags, file, generated load and throttled load accepted"

# bad input: exit 2, nothing sent
expect_exit 2 "too long --to" "$T" submit --to "${to_ok}0" --value 1
bad_case="$(python3 -c 'import sys
a = sys.argv[1]
i = next(i for i in range(2, 42) if a[i].isalpha())
print(a[:i] + a[i].swapcase() + a[i + 1:])' "$to_ok")"
expect_exit 2 "wrong EIP-55 case" "$T" submit --to "$bad_case" --value 1
grep -qi checksum "$TXL_DIR/err" || txl_fail "bad checksum: $(cat "$TXL_DIR/err")"
expect_exit 2 "short --to" "$T" submit --to 0x1234 --value 1
expect_exit 2 "bad --value" "$T" submit --to "$to_ok" --value -5
expect_exit 2 "a fraction of a wei" "$T" submit --to "$to_ok" --value 1.5wei
expect_exit 2 "more decimals than gwei has" "$T" submit --to "$to_ok" --value 1.0000000001gwei
expect_exit 2 "lane out of range" "$T" submit --to "$to_ok" --value 1 --lane 8
expect_exit 2 "token and data" "$T" submit --to "$to_ok" --value 1 --token "$to_ok" --data 0x00
expect_exit 2 "metadata not an object" "$T" submit --to "$to_ok" --value 1 --metadata '[1]'
expect_exit 2 "count without recipients" "$T" submit --count 3
expect_exit 1 "missing topic" env TXLANE_TOPIC_REQUESTS="$TXLANE_TOPIC_REQUESTS.absent" \
    "$T" submit --to "$to_ok" --value 1 --timeout 5
txl_pass "submit: bad flags exit 2, a missing topic exits 1"

txl_consume_all "$TXLANE_TOPIC_REQUESTS" >"$TXL_DIR/topic"
total=$((1 + 2 + 1 + 4 + N + 20))
[[ "$(wc -l <"$TXL_DIR/topic")" == "$total" ]] ||
    txl_fail "topic holds $(wc -l <"$TXL_DIR/topic") messages, want $total"
one="$(awk -F'\t' '$2 == "cli-one"' "$TXL_DIR/topic")"
[[ "$(cut -f3 <<<"$one" | jq -r '.to, .value_wei, .metadata.order' | paste -sd' ')" == \
    "$to_ok 1500000000 7" ]] || txl_fail "cli-one: $one"
[[ "$(awk -F'\t' '$2 == "cli-eth" || $2 == "cli-hex"' "$TXL_DIR/topic" | cut -f3 |
    jq -r .value_wei | sort | paste -sd' ')" == "16 2000000000000000000" ]] ||
    txl_fail "amounts with units"
pinned="$(awk -F'\t' '$2 == "cli-pinned"' "$TXL_DIR/topic")"
[[ "$(cut -f1 <<<"$pinned")" == $((6 % P)) ]] || txl_fail "pinned lane 6 on partition ${pinned%%$'\t'*}"
[[ "$(cut -f3 <<<"$pinned" | jq -c '[.lane, .gas_limit]')" == '[6,"30000"]' ]] ||
    txl_fail "cli-pinned: $pinned"
file2="$(awk -F'\t' '$2 == "cli-file-2"' "$TXL_DIR/topic")"
[[ "$(cut -f1 <<<"$file2")" == $((5 % P)) ]] || txl_fail "file line with lane 5: $file2"
for line in 1 3 6; do
    want="$(sed -n "${line}p" "$TXL_DIR/payouts.jsonl")"
    grep -qxF "$want" <(cut -f3 "$TXL_DIR/topic") || txl_fail "file line $line not sent as is"
done
awk -F'\t' '$2 == "" && $3 == "not json at all"' "$TXL_DIR/topic" | grep -q . ||
    txl_fail "the invalid line was not sent unkeyed and unchanged"
awk -F'\t' '$2 ~ /^cli-load-/' "$TXL_DIR/topic" >"$TXL_DIR/load"
[[ "$(cut -f2 "$TXL_DIR/load" | sort -u | wc -l)" == "$N" ]] || txl_fail "load ids not distinct"
[[ "$(cut -f3 "$TXL_DIR/load" | jq -r .to | sort -u | wc -l)" == "$N" ]] ||
    txl_fail "load recipients not distinct"
[[ "$(cut -f3 "$TXL_DIR/load" | jq -r .value_wei | sort -u)" == 7 ]] || txl_fail "load values"
for n in 1 $N; do
    grep -q "^[0-9]*"$'\t'"cli-load-$n"$'\t' "$TXL_DIR/load" || txl_fail "cli-load-$n missing"
done
# every key stays on one partition (the partitioner is keyed)
[[ "$(cut -f1,2 "$TXL_DIR/topic" | awk -F'\t' '$2 != ""' | sort -u | cut -f2 | uniq -d | wc -l)" \
    == 0 ]] || txl_fail "a key on two partitions"
txl_pass "topic: $total messages as sent, keyed by request id, pinned lanes on lane mod $P"

# ---------------------------------------------------------------------------------------------
# a consistent setup: lanes 0 and 1 pay real transactions on anvil; lane 5 is idle
txl_fund_lanes 2
declare -A addr
for i in 0 1 5; do addr[$i]="$(txl_lane_address "$i")"; done
for i in 0 1; do
    [[ "$(txl_rpc eth_getTransactionCount "[\"${addr[$i]}\",\"latest\"]")" == '"0x0"' ]] ||
        txl_fail "lane $i of this test's wallet was used before"
done
sql "INSERT INTO lanes (id, address, next_nonce) VALUES (0, '${addr[0]}', 3), (1, '${addr[1]}', 3),
     (5, '${addr[5]}', 0);
     UPDATE lanes SET owner = 'allocator-test', owner_epoch = 4 WHERE id = 0" >/dev/null

# record_tx REQUEST LANE NONCE STATE TO VALUE ATTEMPTS... (each attempt "hash:raw:is_cancel"):
# the request, the txs row (mined fields from MINED="block_number block_hash status" if set),
# its attempts and the events created -> pending -> submitted -> STATE.
record_tx() {
    local req="$1" lane="$2" nonce="$3" state="$4" to="$5" value="$6" n=0 att hash raw cancel
    shift 6
    local bn=NULL bh=NULL st=NULL last_hash last_raw
    if [[ -n "${MINED:-}" ]]; then
        read -r bn bh st <<<"$MINED"
        bh="'$bh'"
    fi
    local q="INSERT INTO requests (request_id, payload) VALUES ('$req',
        jsonb_build_object('request_id', '$req', 'to', '$to', 'value_wei', '$value'));"
    for att in "$@"; do
        IFS=: read -r last_hash last_raw _ <<<"$att"
    done
    q+="INSERT INTO txs (request_id, lane_id, nonce, state, from_address, to_address, value_wei,
          gas_limit, max_fee_per_gas, max_priority_fee_per_gas, chain_id, attempt, tx_hash, raw,
          block_number, block_hash, receipt_status, gas_used, pending_at, submitted_at,
          confirmed_at)
        VALUES ('$req', $lane, $nonce, '$state', '${addr[$lane]}', '$to', $value, 21000,
          100000000000, 1000000000, $TXLANE_CHAIN_ID, $(($# - 1)), '$last_hash',
          decode('${last_raw#0x}', 'hex'), $bn, $bh, $st, 21000, now(), now(), now());"
    for att in "$@"; do
        IFS=: read -r hash raw cancel <<<"$att"
        q+="INSERT INTO tx_attempts (tx_id, attempt, tx_hash, max_fee_per_gas,
              max_priority_fee_per_gas, is_cancel, raw, sent_at, result)
            SELECT tx_id, $n, '$hash', 100000000000, 1000000000, $cancel,
              decode('${raw#0x}', 'hex'), now(), 'accepted' FROM txs WHERE request_id = '$req';"
        n=$((n + 1))
    done
    q+="INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program)
        SELECT tx_id, request_id, f, t, 'cli-test' FROM txs,
          (VALUES (1, NULL, 'created'), (2, 'created', 'pending'), (3, 'pending', 'submitted'),
                  (4, 'submitted', '$state')) AS e(i, f, t)
        WHERE request_id = '$req' ORDER BY i;"
    sql "$q" >/dev/null
}

# sign_only LANE NONCE TO WEI: a signed transaction that is never sent; prints "hash raw"
sign_only() {
    local out
    out="$("$T" sign --mnemonic-file "$TXLANE_MNEMONIC_FILE" --passphrase-file \
        "$TXLANE_PASSPHRASE_FILE" --lane "$1" --chain-id "$TXLANE_CHAIN_ID" --nonce "$2" \
        --to "$3" --value "$4" --gas-limit 21000 --max-fee 100000000000 \
        --priority-fee 1000000000)" || txl_fail "sign lane $1 nonce $2"
    echo "$(sed -n 2p <<<"$out") $(sed -n 1p <<<"$out")"
}

r_twice="$(random_address)" # paid twice by lane 0
r_once="$(random_address)"
r_cancelled="$(random_address)" # its payout was cancelled: never paid
declare -A mined
pay() { # pay REQUEST LANE NONCE TO VALUE: sends it on anvil and records it confirmed
    local h raw bn bh st
    read -r h raw bn bh st <<<"$(txl_lane_transfer "$2" "$3" "$4" "$5")"
    [[ $st == 1 ]] || txl_fail "$1 reverted"
    MINED="$bn $bh $st" record_tx "$1" "$2" "$3" confirmed "$4" "$5" "$h:$raw:false"
    mined[$1]="$h $bn $bh"
}
pay cli-a-0 0 0 "$r_twice" 1000
pay cli-a-1 0 1 "$r_twice" 2000
pay cli-a-2 0 2 "$r_once" 3000
pay cli-b-0 1 0 "$r_once" 4000
pay cli-b-1 1 1 "$r_twice" 5000
# lane 1 nonce 2: a payout whose cancel (0-value self-transfer) took the nonce
read -r p_hash p_raw <<<"$(sign_only 1 2 "$r_cancelled" 6000)"
read -r c_hash c_raw c_bn c_bh c_st <<<"$(txl_lane_transfer 1 2 "${addr[1]}" 0)"
MINED="$c_bn $c_bh $c_st" record_tx cli-b-2 1 2 cancelled "$r_cancelled" 6000 \
    "$p_hash:$p_raw:false" "$c_hash:$c_raw:true"

expect_exit 0 "audit of a consistent setup" "$T" audit
for inv in 1 2 3 4 6 7a 7b 7c; do
    grep -q "^\[PASS\] $inv " "$TXL_DIR/out" || txl_fail "audit: $inv not PASS: $(cat "$TXL_DIR/out")"
done
grep -q '^\[SKIP\] 5 ' "$TXL_DIR/out" || txl_fail "audit: invariant 5 not reported as SKIP"
grep -q '2 recipient(s) of plain ETH payouts.*2 hold exactly' "$TXL_DIR/out" ||
    txl_fail "audit: recipients not compared: $(grep -A1 '7c' "$TXL_DIR/out")"
expect_exit 0 "audit --final" "$T" audit --final --json
[[ "$(jq -r '.ok, (.checks | length), ([.checks[] | select(.status == "pass")] | length)' \
    "$TXL_DIR/out" | paste -sd' ')" == "true 9 8" ]] || txl_fail "audit --json: $(cat "$TXL_DIR/out")"
txl_pass "audit passes on 6 mined transactions (5 payouts, 1 cancelled), also with --final"

# ---------------------------------------------------------------------------------------------
# status
expect_exit 0 "status" "$T" status cli-a-1
read -r a1_hash a1_bn a1_bh <<<"${mined[cli-a-1]}"
grep -Eq "^state +confirmed$" "$TXL_DIR/out" || txl_fail "status: $(cat "$TXL_DIR/out")"
grep -Eq "^tx_hash +$a1_hash$" "$TXL_DIR/out" || txl_fail "status: no tx hash"
grep -Eq "^block_number +$a1_bn$" "$TXL_DIR/out" || txl_fail "status: no block number"
grep -q "^events (4):" "$TXL_DIR/out" || txl_fail "status: events"
expect_exit 0 "status --json" "$T" status cli-a-1 --json
[[ "$(jq -c '[.transaction.state, .transaction.lane, .transaction.nonce,
        .transaction.block_number, .transaction.block_hash, .transaction.receipt_status,
        .transaction.value_wei, (.attempts | length), [.events[].to_state]]' "$TXL_DIR/out")" == \
    "[\"confirmed\",0,1,$a1_bn,\"$a1_bh\",1,\"2000\",1,[\"created\",\"pending\",\"submitted\",\"confirmed\"]]" ]] ||
    txl_fail "status --json: $(cat "$TXL_DIR/out")"
expect_exit 0 "status --hash" "$T" status --hash "$c_hash" --json
[[ "$(jq -c '[.transaction.request_id, .transaction.state, [.attempts[].is_cancel]]' \
    "$TXL_DIR/out")" == '["cli-b-2","cancelled",[false,true]]' ]] ||
    txl_fail "status --hash of a cancel attempt: $(cat "$TXL_DIR/out")"
expect_exit 0 "status --lane --nonce" "$T" status --lane 0 --nonce 2 --json
[[ "$(jq -r .transaction.request_id "$TXL_DIR/out")" == cli-a-2 ]] || txl_fail "status by nonce"
expect_exit 1 "status of an unknown request" "$T" status no-such-request
grep -q "not found" "$TXL_DIR/err" || txl_fail "status: no 'not found'"
expect_exit 2 "status without a request" "$T" status
txl_pass "status: text and JSON by request id, hash and lane/nonce; unknown exits 1"

# ---------------------------------------------------------------------------------------------
# lanes, pause, resume
expect_exit 0 "lanes" "$T" lanes
grep -Eq "^0 +${addr[0]} +active +3 +- +0 +4 +allocator-test" "$TXL_DIR/out" ||
    txl_fail "lanes: $(cat "$TXL_DIR/out")"
grep -q "^3 lane(s): 3 active" "$TXL_DIR/out" || txl_fail "lanes summary"
expect_exit 0 "lanes --json --chain" "$T" lanes --json --chain
[[ "$(jq -c '[.[] | [.lane, .next_nonce, .in_flight, .chain_mined_now]]' "$TXL_DIR/out")" == \
    '[[0,3,0,"3"],[1,3,0,"3"],[5,0,0,"0"]]' ]] || txl_fail "lanes --json: $(cat "$TXL_DIR/out")"
expect_exit 0 "pause" "$T" lanes pause 5 --reason maintenance
grep -q "^lane 5 ${addr[5]}: active -> paused$" "$TXL_DIR/out" || txl_fail "pause: $(cat "$TXL_DIR/out")"
grep -q '"msg":"lane status changed".*"from":"active","to":"paused"' "$TXL_DIR/err" ||
    txl_fail "pause logged nothing: $(cat "$TXL_DIR/err")"
[[ "$(sql "SELECT status, status_reason FROM lanes WHERE id = 5")" == "paused|maintenance" ]] ||
    txl_fail "pause did not reach the database"
expect_exit 0 "pause again" "$T" lanes pause 5
grep -q "already paused" "$TXL_DIR/out" || txl_fail "pause twice"
"$T" lanes | grep -Eq "^5 .* paused .* maintenance$" || txl_fail "lanes shows no paused lane"
expect_exit 0 "resume" "$T" lanes resume 5
[[ "$(sql "SELECT status, coalesce(status_reason, '-') FROM lanes WHERE id = 5")" == "active|-" ]] ||
    txl_fail "resume did not reach the database"
sql "UPDATE lanes SET status = 'low_funds' WHERE id = 5" >/dev/null
expect_exit 0 "resume low_funds" "$T" lanes resume 5
sql "UPDATE lanes SET status = 'draining' WHERE id = 5" >/dev/null
expect_exit 1 "resume draining" "$T" lanes resume 5
grep -q "lane 5 is draining" "$TXL_DIR/err" || txl_fail "resume draining: $(cat "$TXL_DIR/err")"
sql "UPDATE lanes SET status = 'active' WHERE id = 5" >/dev/null
expect_exit 1 "pause unknown lane" "$T" lanes pause 42
expect_exit 2 "pause bad index" "$T" lanes pause x
expect_exit 2 "unknown action" "$T" lanes stop 1
txl_pass "lanes: listing (text, JSON, live chain), pause/resume guarded and logged"

# ---------------------------------------------------------------------------------------------
# audit failures, each on a copy of the consistent database
scenario() { # scenario NAME SQL: a copy of the database with SQL applied; sets SQL_DB
    SQL_DB="${DB}_$1"
    txl_psql -d txlane -c "DROP DATABASE IF EXISTS $SQL_DB WITH (FORCE)" >/dev/null
    txl_psql -d txlane -c "CREATE DATABASE $SQL_DB TEMPLATE $DB" >/dev/null
    sql "$2" >/dev/null
}
audit_in() { # audit_in CODE WHAT ARGS...: audit the scenario database
    local code="$1" what="$2"
    shift 2
    expect_exit "$code" "$what" env TXLANE_PG_DSN="${TXLANE_PG_DSN%/*}/$SQL_DB" "$T" audit "$@"
}
expect_fail() { # expect_fail INVARIANT TEXT
    grep -q "^\[FAIL\] $1 " "$TXL_DIR/out" || txl_fail "invariant $1 not FAIL: $(cat "$TXL_DIR/out")"
    grep -qF -- "$2" "$TXL_DIR/out" || txl_fail "no '$2' in: $(cat "$TXL_DIR/out")"
}

scenario orphan "INSERT INTO requests (request_id, payload) VALUES ('cli-orphan', '{}')"
audit_in 1 "request without a transaction"
expect_fail 1 "request cli-orphan has no transaction"
expect_exit 1 "status of a request without a tx" env TXLANE_PG_DSN="${TXLANE_PG_DSN%/*}/$SQL_DB" \
    "$T" status cli-orphan
grep -q "has no transaction" "$TXL_DIR/err" || txl_fail "status cli-orphan: $(cat "$TXL_DIR/err")"

scenario hole "UPDATE lanes SET next_nonce = 5 WHERE id = 0;
    INSERT INTO requests (request_id, payload) VALUES ('cli-late', '{}');
    INSERT INTO txs (request_id, lane_id, nonce, from_address, to_address, value_wei, gas_limit,
      max_fee_per_gas, max_priority_fee_per_gas, chain_id)
      VALUES ('cli-late', 0, 4, '${addr[0]}', '$r_once', 1, 21000, 1, 1, $TXLANE_CHAIN_ID);
    INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program)
      SELECT tx_id, request_id, NULL, 'created', 'cli-test' FROM txs WHERE request_id = 'cli-late'"
audit_in 1 "nonce hole"
expect_fail 2 "lane 0: nonce 3 without a transaction"
for inv in 1 3 4 6 7a 7b 7c; do
    grep -q "^\[PASS\] $inv " "$TXL_DIR/out" || txl_fail "hole: $inv not PASS: $(cat "$TXL_DIR/out")"
done
TXLANE_PG_DSN="${TXLANE_PG_DSN%/*}/${DB}_hole" "$T" lanes --json |
    jq -e '.[] | select(.lane == 0) | .in_flight == 1 and .next_nonce == 5' >/dev/null ||
    txl_fail "lanes: in-flight count"
audit_in 1 "hole with --final" --final
expect_fail 1 "tx "
expect_fail 4 "lane 0: nonces 3..4 allocated but not mined"

read -r x_hash x_raw <<<"$(sign_only 0 0 "$(random_address)" 1000)"
scenario attempt "INSERT INTO tx_attempts (tx_id, attempt, tx_hash, max_fee_per_gas,
      max_priority_fee_per_gas, raw)
    SELECT tx_id, 1, '$x_hash', 100000000000, 1000000000, decode('${x_raw#0x}', 'hex')
    FROM txs WHERE request_id = 'cli-a-0'"
audit_in 1 "an attempt paying someone else"
expect_fail 3 "attempt #1 sends 1000 wei to"

scenario backward "INSERT INTO tx_events (tx_id, request_id, from_state, to_state, program)
    SELECT tx_id, request_id, 'confirmed', 'pending', 'cli-test' FROM txs
    WHERE request_id = 'cli-b-0'"
audit_in 1 "a backward event"
expect_fail 6 "moves confirmed -> pending"
grep -q "is confirmed but its last event says pending" "$TXL_DIR/out" || txl_fail "ledger end"

scenario reorged "UPDATE txs SET block_hash = '0x$(printf '%064d' 7)'
    WHERE request_id = 'cli-a-2'"
audit_in 1 "a confirmation in another block"
expect_fail 7b "cli-a-2"
txl_pass "audit fails for a missing tx (1), a hole (2, 1 and 4 with --final), a foreign attempt (3),
  a backward event (6), a wrong block (7b)"

# on chain: a recipient holding less than recorded, then the lane used outside txlane
SQL_DB="$DB"
hex() { python3 -c "print(hex($1))"; }
txl_rpc anvil_setBalance "[\"$r_once\",\"$(hex 6999)\"]" >/dev/null
expect_exit 1 "a recipient paid less" "$T" audit
expect_fail 7c "recipient ${r_once,,} holds 6999 wei, less than the 7000 wei of its 2"
for inv in 1 2 3 4 6 7a 7b; do
    grep -q "^\[PASS\] $inv " "$TXL_DIR/out" || txl_fail "7c: $inv not PASS: $(cat "$TXL_DIR/out")"
done
txl_rpc anvil_setBalance "[\"$r_once\",\"$(hex 7001)\"]" >/dev/null
expect_exit 0 "a recipient with other income" "$T" audit
grep -q "1 recipient(s) hold more" "$TXL_DIR/out" || txl_fail "7c note: $(cat "$TXL_DIR/out")"
expect_exit 1 "--strict-recipients" "$T" audit --strict-recipients
expect_fail 7c "holds 7001 wei, more than"
txl_rpc anvil_setBalance "[\"$r_once\",\"$(hex 7000)\"]" >/dev/null

txl_lane_transfer 1 3 "$(random_address)" 1 >/dev/null
expect_exit 1 "a lane used outside txlane" "$T" audit
expect_fail 7a "lane 1 ${addr[1]}: 4 nonce(s) mined from first_nonce 0, txlane accounts for 3"
txl_pass "audit fails for a recipient holding less (7c; more only with --strict-recipients) and a
  lane used outside txlane (7a)"

for s in orphan hole attempt backward reorged; do
    txl_psql -d txlane -c "DROP DATABASE IF EXISTS ${DB}_$s WITH (FORCE)" >/dev/null
done
