-- Assignments (amounts of an asset allocated to registered users) and distributions (the
-- transactions that pay them from the treasury).
--
-- A distribution is recorded before the issuer's node pays it (status UNCONFIRMED): its
-- assignments carry its uuid, the GAID and the receiving address they will be paid to, and the
-- batch (transaction) that pays them. A confirm call or the chain follower records each paying
-- transaction; once every batch is paid the distribution is CONFIRMED. A cancelled distribution
-- keeps its row (status CANCELLED) and releases its assignments.

CREATE TABLE distributions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid         TEXT        NOT NULL UNIQUE,
    issuer_id    INTEGER     NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    asset_uuid   TEXT        NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    status       TEXT        NOT NULL,
    batches      INTEGER     NOT NULL,
    created_at   TEXT        NOT NULL,
    confirmed_at TEXT,
    cancelled_at TEXT
);
CREATE INDEX distributions_asset ON distributions (asset_uuid, id);
CREATE INDEX distributions_status ON distributions (status);

-- One row per paid batch of a distribution: the transaction that paid it (one transaction may
-- pay several batches).
CREATE TABLE distribution_transactions (
    distribution_uuid    TEXT        NOT NULL REFERENCES distributions (uuid) ON DELETE CASCADE,
    batch                INTEGER     NOT NULL,
    txid                 TEXT        NOT NULL,
    included_blockheight INTEGER     NOT NULL,
    confirmed_at         TEXT        NOT NULL,
    recorded_by          TEXT        NOT NULL,
    PRIMARY KEY (distribution_uuid, batch)
);
CREATE INDEX distribution_transactions_txid ON distribution_transactions (txid);

CREATE TABLE assignments (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id              INTEGER     NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    asset_uuid             TEXT        NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    registered_user_id     INTEGER     NOT NULL REFERENCES registered_users (id) ON DELETE CASCADE,
    amount                 INTEGER     NOT NULL,
    ready_for_distribution INTEGER     NOT NULL,
    is_locked              INTEGER     NOT NULL DEFAULT 0,
    vesting_timestamp      INTEGER,
    creator_manager_id     INTEGER     REFERENCES managers (id) ON DELETE SET NULL,
    distribution_uuid      TEXT        REFERENCES distributions (uuid),
    batch                  INTEGER,
    gaid                   TEXT,
    receiving_address      TEXT,
    script_pubkey          TEXT,
    txid                   TEXT,
    vout                   INTEGER,
    is_distributed         INTEGER     NOT NULL DEFAULT 0,
    created_at             TEXT        NOT NULL,
    deleted_at             TEXT
);
CREATE INDEX assignments_asset ON assignments (asset_uuid, id);
CREATE INDEX assignments_user ON assignments (registered_user_id);
CREATE INDEX assignments_distribution ON assignments (distribution_uuid, batch);
-- At most one ready, undistributed assignment per user and asset.
CREATE UNIQUE INDEX assignments_one_ready ON assignments (asset_uuid, registered_user_id)
    WHERE ready_for_distribution = 1 AND is_distributed = 0 AND deleted_at IS NULL;
