-- txlane schema, version 4: the watcher's status outbox position and the indexes its
-- queries need. See services/watcher/watcher.h.

-- Single row: the last tx_events row of program 'watcher' whose txlane.status event was
-- delivered (publish.c). Events after it are produced again by the next leader.
CREATE TABLE watcher_state (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    status_event_id bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO watcher_state DEFAULT VALUES;

-- The outbox scan: one program's events in id order.
CREATE INDEX tx_events_program_idx ON tx_events (program, event_id);

-- Included transactions waiting for enough confirmations.
CREATE INDEX txs_included_idx ON txs (block_number)
    WHERE block_number IS NOT NULL AND state IN ('created', 'pending', 'submitted');
