-- Investment managers (delegated accounts of an issuer), their asset grants, manager tokens,
-- the creator of registered users, and the audit log of every write.

-- A manager logs in through the same obtain_token as issuers, so a username is unique across
-- issuers and managers (the store checks the issuers table in the same transaction).
CREATE TABLE managers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id     INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    is_locked     INTEGER NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX managers_issuer ON managers (issuer_id);

-- Assets a manager may see. Keyed by asset uuid; the assets table arrives with a later
-- migration, which validates grants against it.
CREATE TABLE manager_assets (
    manager_id INTEGER NOT NULL REFERENCES managers (id) ON DELETE CASCADE,
    asset_uuid TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (manager_id, asset_uuid)
);

-- A token with a manager_id authenticates that manager (issuer_id is the manager's issuer);
-- without one it authenticates the issuer.
ALTER TABLE auth_tokens ADD COLUMN manager_id INTEGER REFERENCES managers (id) ON DELETE CASCADE;
CREATE INDEX auth_tokens_manager ON auth_tokens (manager_id);

-- The manager that created a registered user (NULL: the issuer did).
ALTER TABLE registered_users ADD COLUMN creator_manager_id INTEGER
    REFERENCES managers (id) ON DELETE SET NULL;

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id      INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    actor_role     TEXT    NOT NULL,
    actor_id       INTEGER NOT NULL,
    actor_username TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    route          TEXT    NOT NULL,
    object_ids     TEXT    NOT NULL,
    status         INTEGER NOT NULL,
    created_at     TEXT    NOT NULL
);
CREATE INDEX audit_log_issuer ON audit_log (issuer_id, id);
