-- Payouts (record-date corporate actions: dividends, coupons): a total amount of a payout
-- asset (L-BTC, an issued asset of the platform, or any other) shared among the registered
-- users holding a security at a record height, pro rata (crates/core/src/payout.rs).
--
-- Like a distribution, a payout is recorded before the issuer's node pays it (status
-- UNCONFIRMED): each line names the registered user, the GAID and fresh receiving address it is
-- paid to, its holding, its share and the batch (transaction) that pays it. A line whose share
-- rounds to 0 is kept (it shows the holding) but has no address and is not paid. A confirm call
-- or the chain follower records each paying transaction; once every batch is paid the payout is
-- CONFIRMED. A cancelled payout keeps its rows (status CANCELLED).

CREATE TABLE payouts (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid                TEXT        NOT NULL UNIQUE,
    issuer_id           INTEGER     NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    asset_uuid          TEXT        NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    payout_asset_id     TEXT        NOT NULL,
    -- The platform's asset whose id payout_asset_id is, when the platform tracks it.
    payout_asset_uuid   TEXT        REFERENCES assets (uuid) ON DELETE SET NULL,
    total_amount        INTEGER     NOT NULL,
    record_height       INTEGER     NOT NULL,
    description         TEXT        NOT NULL,
    treasury_holding    INTEGER     NOT NULL,
    unregistered_holding INTEGER    NOT NULL,
    status              TEXT        NOT NULL,
    batches             INTEGER     NOT NULL,
    created_at          TEXT        NOT NULL,
    confirmed_at        TEXT,
    cancelled_at        TEXT
);
CREATE INDEX payouts_asset ON payouts (asset_uuid, id);
CREATE INDEX payouts_status ON payouts (status);

CREATE TABLE payout_lines (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    payout_uuid        TEXT        NOT NULL REFERENCES payouts (uuid) ON DELETE CASCADE,
    registered_user_id INTEGER     NOT NULL REFERENCES registered_users (id) ON DELETE CASCADE,
    gaid               TEXT,
    holding            INTEGER     NOT NULL,
    amount             INTEGER     NOT NULL,
    batch              INTEGER,
    receiving_address  TEXT,
    script_pubkey      TEXT,
    txid               TEXT,
    vout               INTEGER
);
CREATE INDEX payout_lines_payout ON payout_lines (payout_uuid, batch);
CREATE INDEX payout_lines_user ON payout_lines (registered_user_id);

-- One row per paid batch of a payout (one transaction may pay several batches).
CREATE TABLE payout_transactions (
    payout_uuid          TEXT        NOT NULL REFERENCES payouts (uuid) ON DELETE CASCADE,
    batch                INTEGER     NOT NULL,
    txid                 TEXT        NOT NULL,
    included_blockheight INTEGER     NOT NULL,
    confirmed_at         TEXT        NOT NULL,
    recorded_by          TEXT        NOT NULL,
    PRIMARY KEY (payout_uuid, batch)
);
CREATE INDEX payout_transactions_txid ON payout_transactions (txid);
