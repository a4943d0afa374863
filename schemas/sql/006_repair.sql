-- txlane schema, version 6: the watcher's repair policies (DESIGN section 8).

-- Operator requests carried out by the watcher's leader (`txlane bump`, `txlane cancel`):
-- the CLI inserts a row, the watcher publishes the replacement and records the outcome.
CREATE TABLE repair_requests (
    id           bigserial PRIMARY KEY,
    request_id   text NOT NULL,
    action       text NOT NULL CHECK (action IN ('bump', 'cancel')),
    percent      integer CHECK (percent BETWEEN 10 AND 1000),
    requested_by text,
    requested_at timestamptz NOT NULL DEFAULT now(),
    done_at      timestamptz,
    ok           boolean,
    result       text
);
CREATE INDEX repair_requests_open_idx ON repair_requests (id) WHERE done_at IS NULL;

-- Failed payouts whose nonce still waits for its cancel to be mined (stuck, dropped, invalid).
CREATE INDEX txs_failed_open_idx ON txs (lane_id, nonce)
    WHERE state = 'failed' AND block_number IS NULL;
