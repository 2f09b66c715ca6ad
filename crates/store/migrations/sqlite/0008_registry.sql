-- Asset registrations: what the platform submitted to an asset registry for an asset, and
-- where. `registry` is 'own' for the platform's own registry (served at /registry/{asset_id})
-- or the URL of the external registry the contract was submitted to. `entry_json` is the
-- registry record (same shape as Blockstream's registry: asset_id, contract, issuance_txin,
-- issuance_prevout, name, ticker, precision, entity, version, issuer_pubkey). One row per asset:
-- the primary key makes a second registration of the same asset a conflict.
CREATE TABLE asset_registrations (
    asset_uuid    TEXT        PRIMARY KEY REFERENCES assets (uuid) ON DELETE CASCADE,
    asset_id      TEXT        NOT NULL UNIQUE,
    registry      TEXT        NOT NULL,
    entry_json    TEXT        NOT NULL,
    registered_at TEXT        NOT NULL
);
