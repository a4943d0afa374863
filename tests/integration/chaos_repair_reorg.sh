#!/usr/bin/env bash
# chaos_repair_reorg.sh - a reorganisation of confirmed payouts: with TXLANE_CONFIRMATIONS=1, once
# the watcher has processed the chain head, anvil_reorg replaces the blocks from two before our
# last payout to the head with empty ones (their transactions leave the chain). The watcher walks
# back to the common ancestor (txlane_watcher_reorgs_total, _reorg_depth_blocks equal to that
# depth, _reorg_reverted_total; a tx_events row confirmed -> submitted with reason "reorg" for each
# payout of those blocks), the dropped policy sends again what the node no longer knows, every
# affected payout confirms again, the lanes keep moving with new payouts, nothing is paid twice
# (audit --final --strict-recipients).
# Prints the time from the reorg to the last affected payout confirmed again.
source "$(dirname "$0")/lib_txlane.sh"
source "$(dirname "$0")/lib_e2e.sh"
e2e_init chaos_repair_reorg 12
export TXLANE_REORG_DEPTH=16 TXLANE_DROPPED_AFTER_MS=1000 TXLANE_POLL_MS=200
export TXLANE_BUMP_AFTER_MS=600000 TXLANE_GAP_AFTER_MS=600000
e2e_start allocator allocator 19601
e2e_start signer signer 19602
e2e_start broadcaster broadcaster 19603
e2e_start watcher watcher 19604
e2e_submit 120
e2e_wait 120 90

# The reorganisation must take payouts of ours out: anvil's automine can follow a block of several
# transactions with empty blocks (one per transaction that arrived in the same batch), so the depth
# is counted from the head back to the block of our last payout, plus the two blocks before it.
head=0
last=0
at_head() {
    head="$(($(txl_rpc eth_blockNumber | tr -d '"')))"
    last="$(e2e_db "SELECT coalesce(max(block_number), 0) FROM txs")"
    ((last > 0)) && [[ "$(e2e_db "SELECT max(number) FROM chain_blocks")" == "$head" ]]
}
txl_wait_for 30 at_head || txl_fail "the watcher did not process the head: head $head," \
    "last payout in block $last, watcher at block $(e2e_db "SELECT max(number) FROM chain_blocks")"
depth=$((head - last + 3))
((depth <= TXLANE_REORG_DEPTH)) || txl_fail "head $head is $((head - last)) blocks past our last payout"
ancestor=$((head - depth))
affected="$(e2e_db "SELECT string_agg(tx_id::text, ',' ORDER BY tx_id) FROM txs WHERE block_number > $ancestor")"
n_affected="$(e2e_db "SELECT count(*) FROM txs WHERE block_number > $ancestor")"
((n_affected > 0)) || txl_fail "no payout of ours in the last $depth blocks"
echo "  head $head: reorg of depth $depth takes $n_affected payout(s) out of blocks $((ancestor + 1))..$head"
block_of() { txl_rpc eth_getBlockByNumber "[\"$(printf '0x%x' "$1")\",false]"; }
declare -A old_hash=()
for ((b = ancestor + 1; b <= head; b++)); do old_hash[$b]="$(block_of "$b" | jq -r .hash)"; done
fault_ms="$(e2e_db "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")"
txl_rpc anvil_reorg "[$depth, []]" >/dev/null
for ((b = ancestor + 1; b <= head; b++)); do
    [[ "$(block_of "$b" | jq '.transactions | length')" == 0 ]] ||
        txl_fail "block $b still has transactions after anvil_reorg"
done
# An empty block replaced by an empty one on the same parent is the same block (same hash): the
# chains part above the last such block.
while ((ancestor < head)) && [[ "$(block_of $((ancestor + 1)) | jq -r .hash)" == "${old_hash[$((ancestor + 1))]}" ]]; do
    ancestor=$((ancestor + 1))
done
depth=$((head - ancestor))
echo "  common ancestor $ancestor (depth $depth)"
txl_rpc evm_mine '[]' >/dev/null # a block on the new chain: the watcher sees it does not link

walked_back() { [[ "$(txl_metric 19604 txlane_watcher_reorgs_total)" -ge 1 ]]; }
txl_wait_for 30 walked_back || txl_fail "the watcher did not detect the reorganisation"
reconfirmed() { [[ "$(e2e_db "SELECT count(*) FROM txs WHERE tx_id IN ($affected) AND state = 'confirmed'
    AND block_number IS NOT NULL")" == "$n_affected" ]]; }
txl_wait_for 60 reconfirmed ||
    txl_fail "affected payouts not confirmed again: $(e2e_db "SELECT string_agg(tx_id || ' ' || state, ', ') FROM txs WHERE tx_id IN ($affected)")"
back_ms="$(e2e_db "SELECT max((extract(epoch FROM confirmed_at) * 1000)::bigint) - $fault_ms FROM txs WHERE tx_id IN ($affected)")"

[[ "$(txl_metric 19604 txlane_watcher_reorg_depth_blocks)" == "$depth" ]] ||
    txl_fail "txlane_watcher_reorg_depth_blocks is $(txl_metric 19604 txlane_watcher_reorg_depth_blocks), expected $depth"
reverted="$(txl_metric 19604 txlane_watcher_reorg_reverted_total)"
[[ "${reverted%.*}" -ge "$n_affected" ]] || txl_fail "reorg_reverted_total $reverted < $n_affected"
missing="$(e2e_db "SELECT string_agg(t.tx_id::text, ',') FROM txs t WHERE t.tx_id IN ($affected)
    AND NOT EXISTS (SELECT 1 FROM tx_events e WHERE e.tx_id = t.tx_id AND e.from_state = 'confirmed'
      AND e.to_state = 'submitted' AND e.program = 'watcher' AND e.detail->>'reason' = 'reorg'
      AND (e.detail->>'common_ancestor')::bigint = $ancestor)")"
[[ -z "$missing" ]] || txl_fail "no reorg event (confirmed -> submitted) for tx(s) $missing"
[[ "$(e2e_db "SELECT count(*) FROM tx_events WHERE detail->>'reason' = 'reorg' AND tx_id NOT IN ($affected)")" == 0 ]] ||
    txl_fail "payouts outside the reorganised blocks were walked back"
[[ "$(e2e_db "SELECT count(*) FROM txs WHERE tx_id IN ($affected) AND block_number <= $ancestor")" == 0 ]] ||
    txl_fail "an affected payout confirmed at or below the common ancestor"
resent="$(txl_metric 19604 txlane_watcher_resent_total)"

# The lanes move on: new payouts after the reorg confirm too.
E2E_PREFIX="$E2E_PREFIX-after"
e2e_submit 60
e2e_wait 60 60
e2e_audit
e2e_stop_all
echo "  figures: $n_affected payout(s) reorganised out, ${resent%.*} sent again by the dropped policy;" \
    "reorg to the last of them confirmed again ${back_ms} ms"
txl_pass "reorg of depth $depth: walked back to the ancestor, affected payouts confirmed again once, audit passes"
