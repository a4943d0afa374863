-- txlane schema, version 9: the invalid-payout policy (services/watcher/invalid.c, every turn)
-- finds its candidates through indexes of their own instead of reading every transaction not
-- yet in a block: with thousands in flight that read took the watcher hundreds of milliseconds
-- of PostgreSQL time each turn.

-- Attempts the node refused for good ("invalid/<reason>: <message>", written by the
-- broadcaster): few, each one a payout that will fail.
CREATE INDEX tx_attempts_invalid_idx ON tx_attempts (tx_id) WHERE result LIKE 'invalid/%';
