-- txlane schema, version 8: the watcher reaches the rows it works on through partial indexes
-- over the open rows (or its own events), never through a scan of the whole, ever growing
-- history of txs or tx_events. See services/watcher/confirm.c, stuck.c and publish.c; the plans
-- were checked with EXPLAIN ANALYZE on a database holding half a million finished payouts.
--
-- Building an index reads txs once and holds writes to it meanwhile (SHARE lock; migrations run
-- in a transaction, so not CONCURRENTLY): on a large table, migrate while the allocator is idle.

-- Included transactions waiting for enough confirmations (confirm.c, the promotion's "due"
-- step, once per processed range): a failed payout stays open until the cancel of its nonce is
-- mined, so 'failed' is one of the states the step asks for. Without it in the index the step
-- scanned every txs row on every range.
DROP INDEX txs_included_idx;
CREATE INDEX txs_included_idx ON txs (block_number)
    WHERE block_number IS NOT NULL AND state IN ('created', 'pending', 'submitted', 'failed');

-- Open transactions in no block yet, per lane in nonce order: the lowest of each lane (stuck.c,
-- every turn), the submitted ones and the failed ones waiting for their cancel (dropped.c).
CREATE INDEX txs_unmined_idx ON txs (lane_id, nonce)
    WHERE block_number IS NULL AND state IN ('created', 'pending', 'submitted', 'failed');

-- The status outbox (publish.c, every turn): the watcher's events after the delivered one, in id
-- order. tx_events_program_idx (program, event_id) was meant for it, but the planner preferred
-- the primary key (an index led by program has a poorly correlated first column) and filtered
-- every other program's events after the position: all of them, each turn, while the watcher
-- had none to publish (a stalled chain). This index holds only the watcher's events, in id order;
-- nothing else read the old one, which every event insert had to maintain.
DROP INDEX tx_events_program_idx;
CREATE INDEX tx_events_watcher_idx ON tx_events (event_id) WHERE program = 'watcher';
