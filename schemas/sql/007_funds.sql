-- txlane schema, version 7: lane funds (top-ups and sweeps) and payouts moved off
-- nonces that were used outside txlane. See services/watcher/funds.c and external.c.

-- Top-up and sweep requests the watcher created: the allocator accepts a request
-- pinned to the treasury lane, and records txs.kind topup/sweep, only for a
-- request_id listed here (a message on txlane.requests alone proves nothing).
CREATE TABLE funds_requests (
    request_id text PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('topup', 'sweep')),
    lane_id    integer NOT NULL,            -- the lane topped up, or swept
    episode    bigint NOT NULL,             -- lanes.funds_episode / sweep_episode it belongs to
    amount_wei numeric(78, 0) NOT NULL CHECK (amount_wei > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Payouts whose nonce was used by a transaction txlane did not send, detected by
-- the watcher (evidence: the lane's mined count at a confirmed block passed the
-- nonce, and no attempt of the payout has a receipt). The allocator that owns the
-- lane moves the txs row to a fresh nonce and fills new_nonce.
CREATE TABLE reallocations (
    tx_id          bigint NOT NULL,
    old_nonce      bigint NOT NULL,
    lane_id        integer NOT NULL,
    request_id     text,
    evidence       text NOT NULL,
    detected_at    timestamptz NOT NULL DEFAULT now(),
    new_nonce      bigint,
    reallocated_at timestamptz,
    PRIMARY KEY (tx_id, old_nonce)
);
CREATE INDEX reallocations_open_idx ON reallocations (tx_id) WHERE new_nonce IS NULL;

ALTER TABLE lanes
    ADD COLUMN funds_episode    bigint NOT NULL DEFAULT 0,  -- low-funds episodes so far
    ADD COLUMN sweep_episode    bigint NOT NULL DEFAULT 0,  -- sweeps so far
    ADD COLUMN funds_needed_wei numeric(78, 0),             -- what the open txs need
    ADD COLUMN balance_at       timestamptz;                -- when balance_wei was read
