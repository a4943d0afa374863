-- txlane schema, version 2: nonces a lane used outside txlane.
--
-- When the allocator takes a lane over and the chain's mined nonce count is
-- ahead of next_nonce, something else spent from the lane's address: the
-- allocator moves next_nonce up to the chain and records the skipped range
-- here, so "per lane, allocated nonces are exactly [first_nonce, next_nonce)"
-- reads "minus these ranges" (they have no txs row by design).
CREATE TABLE lane_external_nonces (
    lane_id     integer NOT NULL REFERENCES lanes (id),
    nonce_from  bigint NOT NULL CHECK (nonce_from >= 0),
    nonce_to    bigint NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now(),
    detected_by text NOT NULL,
    PRIMARY KEY (lane_id, nonce_from),
    CHECK (nonce_to > nonce_from)
);

-- The allocator's hot path inserts thousands of txs rows per transaction. Row-by-row foreign-key
-- checks made up a third of that insert: the allocator writes requests and txs in the same
-- transaction, lanes are never deleted, and `txlane audit` checks invariant 1 (one tx per
-- request) and the lanes of every tx, so the checks move there. Hashes are looked up only once
-- a tx has one.
ALTER TABLE txs DROP CONSTRAINT txs_request_id_fkey, DROP CONSTRAINT txs_lane_id_fkey;
DROP INDEX txs_hash_idx;
CREATE INDEX txs_hash_idx ON txs (tx_hash) WHERE tx_hash IS NOT NULL;
