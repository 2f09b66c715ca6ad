-- The chain index: what the chain follower learnt from the blocks of the platform's node.
--
-- The follower applies one block at a time, in one database transaction: the block's rows, the
-- outputs it created, the spends it made and the cursor move together, so a crash leaves the
-- index at a block boundary. A reorg deletes every row above the fork point (rows carry their
-- block height) and clears the spends made above it, then the follower indexes the new branch.

-- Where the follower is: exactly one row (id = 1) once the follower has started.
CREATE TABLE chain_cursor (
    id         INTEGER      PRIMARY KEY CHECK (id = 1),
    height     INTEGER      NOT NULL,
    block_hash TEXT        NOT NULL,
    updated_at TEXT        NOT NULL
);

-- Which replica runs the follower: a lease that its holder renews and others may take once it
-- has expired (several `amphora serve` replicas share one database; exactly one follows).
-- expires_at_ms is unix milliseconds, so the take-over is one conditional upsert comparing
-- integers on both engines.
CREATE TABLE chain_follower_lease (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    holder        TEXT    NOT NULL,
    expires_at_ms INTEGER NOT NULL
);

-- Every indexed block of the best chain, to detect reorgs (prev_hash) and to date rows.
CREATE TABLE chain_blocks (
    height     INTEGER PRIMARY KEY,
    block_hash TEXT   NOT NULL UNIQUE,
    prev_hash  TEXT   NOT NULL,
    block_time INTEGER NOT NULL
);

-- Every confirmed transaction that touches a managed asset or its reissuance token.
-- kind: issuance | reissuance | distribution | transfer | burn | unknown.
CREATE TABLE asset_txs (
    asset_uuid TEXT   NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    txid       TEXT   NOT NULL,
    height     INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    kind       TEXT   NOT NULL,
    PRIMARY KEY (asset_uuid, txid)
);
CREATE INDEX asset_txs_order ON asset_txs (asset_uuid, height, position);
CREATE INDEX asset_txs_height ON asset_txs (height);

-- Every output of a managed asset (is_token = false) or of its reissuance token (is_token =
-- true) whose amount the platform knows, with its owner:
--   treasury - the issuer's wallet (issuance and reissuance destinations, change, treasury
--              addresses); gaid and wid are NULL;
--   wallet   - a wallet registered at /amp2/wallets/register (wid, gaid set); unblinded with
--              the wallet's view key;
--   burn     - a provably unspendable (OP_RETURN) output: destroyed units.
-- Blinders are hex, "00"*32 while unknown. An output spent by a transaction the platform could
-- not attribute is lost (is_lost), and its amount no longer counts for its owner.
CREATE TABLE asset_outputs (
    txid           TEXT    NOT NULL,
    vout           INTEGER  NOT NULL,
    asset_uuid     TEXT    NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    is_token       INTEGER NOT NULL,
    amount         INTEGER  NOT NULL,
    script_pubkey  TEXT    NOT NULL,
    owner          TEXT    NOT NULL,
    wid            TEXT,
    gaid           TEXT,
    asset_blinder  TEXT    NOT NULL,
    amount_blinder TEXT    NOT NULL,
    height         INTEGER  NOT NULL,
    spent_txid     TEXT,
    spent_vin      INTEGER,
    spent_height   INTEGER,
    is_lost        INTEGER NOT NULL DEFAULT 0,
    is_blacklisted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (txid, vout)
);
CREATE INDEX asset_outputs_asset ON asset_outputs (asset_uuid, is_token, spent_txid);
CREATE INDEX asset_outputs_height ON asset_outputs (height);
CREATE INDEX asset_outputs_spent_height ON asset_outputs (spent_height);
CREATE INDEX asset_outputs_gaid ON asset_outputs (gaid);
