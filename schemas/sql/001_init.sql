-- txlane schema, version 1: lanes, requests, transactions, attempts, the event
-- ledger and the watcher's chain cursor. See DESIGN.md section 4.

CREATE TABLE lanes (
    id                 integer PRIMARY KEY CHECK (id >= 0),   -- BIP-44 index i of m/44'/60'/0'/0/i
    address            text NOT NULL UNIQUE,                  -- EIP-55
    status             text NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'paused', 'low_funds', 'draining')),
    is_treasury        boolean NOT NULL DEFAULT false,
    next_nonce         bigint NOT NULL DEFAULT 0 CHECK (next_nonce >= 0),
    first_nonce        bigint NOT NULL DEFAULT 0 CHECK (first_nonce >= 0),
    chain_nonce        bigint,                               -- mined count last read from the node
    owner_epoch        bigint NOT NULL DEFAULT 0,             -- fencing token of the owning allocator
    owner              text,
    balance_wei        numeric(78, 0),
    external_use_count bigint NOT NULL DEFAULT 0,
    status_reason      text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE requests (
    request_id       text PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 128),
    payload          jsonb NOT NULL,
    source_partition integer,
    source_offset    bigint,
    received_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE txs (
    tx_id                    bigserial PRIMARY KEY,
    request_id               text UNIQUE REFERENCES requests (request_id),
    kind                     text NOT NULL DEFAULT 'payout'
                             CHECK (kind IN ('payout', 'cancel', 'topup', 'sweep')),
    lane_id                  integer NOT NULL REFERENCES lanes (id),
    nonce                    bigint NOT NULL CHECK (nonce >= 0),
    state                    text NOT NULL DEFAULT 'created'
                             CHECK (state IN ('created', 'pending', 'submitted', 'confirmed',
                                              'cancelled', 'failed')),
    from_address             text NOT NULL,
    to_address               text NOT NULL,
    value_wei                numeric(78, 0) NOT NULL CHECK (value_wei >= 0),
    token                    text,
    data                     bytea NOT NULL DEFAULT '\x',
    gas_limit                bigint NOT NULL CHECK (gas_limit > 0),
    max_fee_per_gas          numeric(78, 0) NOT NULL,
    max_priority_fee_per_gas numeric(78, 0) NOT NULL,
    chain_id                 bigint NOT NULL,
    attempt                  integer NOT NULL DEFAULT 0,
    tx_hash                  text,
    raw                      bytea,
    block_number             bigint,
    block_hash               text,
    receipt_status           smallint,
    gas_used                 bigint,
    fail_reason              text,
    created_at               timestamptz NOT NULL DEFAULT now(),
    pending_at               timestamptz,
    submitted_at             timestamptz,
    confirmed_at             timestamptz,
    UNIQUE (lane_id, nonce)
);
CREATE INDEX txs_open_idx ON txs (lane_id, nonce) WHERE state IN ('created', 'pending', 'submitted');
CREATE INDEX txs_hash_idx ON txs (tx_hash);

CREATE TABLE tx_attempts (
    tx_id                    bigint NOT NULL REFERENCES txs (tx_id),
    attempt                  integer NOT NULL,
    tx_hash                  text NOT NULL,
    max_fee_per_gas          numeric(78, 0) NOT NULL,
    max_priority_fee_per_gas numeric(78, 0) NOT NULL,
    is_cancel                boolean NOT NULL DEFAULT false,
    raw                      bytea NOT NULL,
    sent_at                  timestamptz,
    result                   text,
    PRIMARY KEY (tx_id, attempt)
);
CREATE INDEX tx_attempts_hash_idx ON tx_attempts (tx_hash);

-- Append-only ledger of every transition; never updated or deleted.
CREATE TABLE tx_events (
    event_id   bigserial PRIMARY KEY,
    tx_id      bigint,
    request_id text,
    from_state text,
    to_state   text NOT NULL,
    program    text NOT NULL,
    detail     jsonb,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tx_events_tx_idx ON tx_events (tx_id);

CREATE RULE tx_events_no_update AS ON UPDATE TO tx_events DO INSTEAD NOTHING;
CREATE RULE tx_events_no_delete AS ON DELETE TO tx_events DO INSTEAD NOTHING;

-- The watcher's position on the chain and the recent block hashes it saw (reorg detection).
CREATE TABLE chain_blocks (
    number      bigint PRIMARY KEY,
    hash        text NOT NULL,
    parent_hash text NOT NULL,
    seen_at     timestamptz NOT NULL DEFAULT now()
);
