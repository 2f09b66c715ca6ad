-- Reissuances and burns of managed assets.
--
-- A row is written when the issuer asks for the confirm file (`reissue-request`,
-- `burn-request`: status 'requested', the amount and the outputs the file names) and completed
-- once the transaction is checked on chain with 2 confirmations (status 'confirmed', the
-- transaction, its block and who completed it: 'confirm' for the confirm call, 'follower' when
-- the chain follower recognised the transaction before any confirm call). A completed row is
-- never completed again: repeating a confirm call answers the same row.

CREATE TABLE reissuances (
    id                 BIGSERIAL   PRIMARY KEY,
    asset_uuid         TEXT        NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    amount             BIGINT      NOT NULL CHECK (amount > 0),
    -- JSON array of {"txid","vout"}: the reissuance-token outputs the request file named.
    reissuance_utxos   TEXT        NOT NULL,
    status             TEXT        NOT NULL CHECK (status IN ('requested', 'confirmed')),
    created_at         TIMESTAMPTZ NOT NULL,
    txid               TEXT,
    vin                BIGINT,
    -- The output holding the new units and its address, once known (confirm call).
    vout               BIGINT,
    destination_address TEXT,
    block_hash         TEXT,
    height             BIGINT,
    completed_by       TEXT CHECK (completed_by IN ('confirm', 'follower')),
    confirmed_at       TIMESTAMPTZ,
    UNIQUE (txid, vin)
);
CREATE INDEX reissuances_asset ON reissuances (asset_uuid, status);

CREATE TABLE burns (
    id           BIGSERIAL   PRIMARY KEY,
    asset_uuid   TEXT        NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    amount       BIGINT      NOT NULL CHECK (amount > 0),
    -- JSON array of {"txid","vout"}: the treasury outputs the request file named.
    utxos        TEXT        NOT NULL,
    status       TEXT        NOT NULL CHECK (status IN ('requested', 'confirmed')),
    created_at   TIMESTAMPTZ NOT NULL,
    txid         TEXT        UNIQUE,
    block_hash   TEXT,
    height       BIGINT,
    completed_by TEXT CHECK (completed_by IN ('confirm', 'follower')),
    confirmed_at TIMESTAMPTZ
);
CREATE INDEX burns_asset ON burns (asset_uuid, status);
