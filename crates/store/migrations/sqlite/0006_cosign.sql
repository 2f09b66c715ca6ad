-- The co-signer: fresh receiving addresses of registered wallets and every co-signing decision.

-- Next unused receive (external chain) derivation index per registered wallet. Incremented with
-- one atomic upsert, so two requests (also on two replicas) never get the same index.
CREATE TABLE wallet_address_counters (
    wid        TEXT   PRIMARY KEY REFERENCES registered_wallets (wid),
    next_index BIGINT NOT NULL CHECK (next_index >= 0)
);

-- Every address handed out by the platform (GET /api/gaids/{gaid}/address, distributions).
CREATE TABLE wallet_addresses (
    wid           TEXT        NOT NULL REFERENCES registered_wallets (wid),
    address_index BIGINT      NOT NULL CHECK (address_index >= 0),
    address       TEXT        NOT NULL UNIQUE,
    created_at    TEXT        NOT NULL,
    PRIMARY KEY (wid, address_index)
);

-- One row per POST /amp2/wallets/sign request: approved or refused, why, and what it moved.
-- txid is NULL when the PSET could not be understood at all.
CREATE TABLE cosign_decisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    decided_at  TEXT        NOT NULL,
    txid        TEXT,
    approved    INTEGER     NOT NULL,
    -- JSON array of reason codes (amphora_core::policy::ReasonCode), empty when approved.
    reasons     TEXT        NOT NULL,
    -- The error message returned to the client, NULL when approved.
    error       TEXT,
    sender_wid  TEXT,
    sender_gaid TEXT,
    -- JSON array of the GAIDs of the registered wallets the transaction pays (other than change).
    recipient_gaids TEXT    NOT NULL
);
CREATE INDEX cosign_decisions_txid ON cosign_decisions (txid);

-- The managed assets a decision was about (none when the PSET moved no managed asset or could
-- not be understood). No foreign key: decisions outlive deleted assets.
CREATE TABLE cosign_decision_assets (
    decision_id BIGINT NOT NULL REFERENCES cosign_decisions (id) ON DELETE CASCADE,
    asset_uuid  TEXT   NOT NULL,
    issuer_id   BIGINT NOT NULL,
    asset_id    TEXT   NOT NULL,
    -- Base units of the asset the transaction pays to others than the sender (change excluded).
    amount      BIGINT NOT NULL,
    PRIMARY KEY (decision_id, asset_uuid)
);
CREATE INDEX cosign_decision_assets_asset ON cosign_decision_assets (asset_uuid, decision_id);
