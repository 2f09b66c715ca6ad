-- Issued assets, the categories they require, and their treasury addresses.
--
-- An issuance is recorded before the node is asked for anything (status 'pending'), gets its
-- signed transaction before broadcasting ('broadcasting') and its final state after
-- ('broadcast'), so a crash in between is recovered on restart; an issuance that never got a
-- signed transaction is marked 'failed'. A deleted asset keeps its row (deleted_at set).
CREATE TABLE assets (
    uuid                          TEXT    PRIMARY KEY,
    issuer_id                     INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    name                          TEXT    NOT NULL,
    amount                        INTEGER NOT NULL,
    destination_address           TEXT    NOT NULL,
    domain                        TEXT    NOT NULL,
    ticker                        TEXT    NOT NULL,
    pubkey                        TEXT    NOT NULL,
    asset_precision               INTEGER NOT NULL,
    is_confidential               INTEGER NOT NULL,
    is_reissuable                 INTEGER NOT NULL,
    reissuance_amount             INTEGER NOT NULL,
    reissuance_address            TEXT    NOT NULL,
    transfer_restricted           INTEGER NOT NULL,
    issuer_authorization_endpoint TEXT,
    contract_json                 TEXT    NOT NULL,
    contract_hash                 TEXT    NOT NULL,
    status                        TEXT    NOT NULL,
    failure                       TEXT,
    asset_id                      TEXT,
    reissuance_token_id           TEXT,
    tx_hex                        TEXT,
    txid                          TEXT,
    vin                           INTEGER,
    asset_vout                    INTEGER,
    reissuance_vout               INTEGER,
    issuance_assetblinder         TEXT,
    issuance_tokenblinder         TEXT,
    is_registered                 INTEGER NOT NULL DEFAULT 0,
    is_authorized                 INTEGER NOT NULL DEFAULT 0,
    is_locked                     INTEGER NOT NULL DEFAULT 0,
    memo                          TEXT    NOT NULL DEFAULT '',
    created_at                    TEXT    NOT NULL,
    deleted_at                    TEXT
);
CREATE INDEX assets_issuer ON assets (issuer_id, created_at);
CREATE INDEX assets_status ON assets (status);

-- Categories an asset requires of its holders (Asset.requirements).
CREATE TABLE asset_categories (
    asset_uuid  TEXT    NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    category_id INTEGER NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    PRIMARY KEY (asset_uuid, category_id)
);
CREATE INDEX asset_categories_category ON asset_categories (category_id);

-- Issuer-wallet addresses whose outputs count as treasury holdings.
CREATE TABLE asset_treasury_addresses (
    asset_uuid TEXT NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (asset_uuid, address)
);
