-- Foundation: issuer accounts, API tokens, registered AMP2 wallets, registered users and
-- categories. Later migrations add assets, assignments, distributions, ownership, activities,
-- managers and the audit log; every issuer-owned table carries issuer_id.

CREATE TABLE issuers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);

-- Only the SHA-256 of a token is stored; the token itself is shown to its owner once.
CREATE TABLE auth_tokens (
    token_hash TEXT    PRIMARY KEY,
    issuer_id  INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX auth_tokens_issuer ON auth_tokens (issuer_id);

-- AMP2 wallets registered with the platform's co-signer. Platform-wide: a wallet is not owned
-- by an issuer; issuers link its GAID to their registered users.
CREATE TABLE registered_wallets (
    wid        TEXT PRIMARY KEY,
    descriptor TEXT NOT NULL UNIQUE,
    gaid       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE registered_users (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id    INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    is_company   INTEGER NOT NULL,
    default_gaid TEXT    REFERENCES registered_wallets (gaid),
    created_at   TEXT    NOT NULL
);
CREATE INDEX registered_users_issuer ON registered_users (issuer_id);

-- A GAID belongs to at most one registered user of an issuer.
CREATE TABLE registered_user_gaids (
    registered_user_id INTEGER NOT NULL REFERENCES registered_users (id) ON DELETE CASCADE,
    issuer_id          INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    gaid               TEXT    NOT NULL REFERENCES registered_wallets (gaid),
    created_at         TEXT    NOT NULL,
    PRIMARY KEY (registered_user_id, gaid),
    UNIQUE (issuer_id, gaid)
);

CREATE TABLE categories (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id   INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);
CREATE INDEX categories_issuer ON categories (issuer_id);

CREATE TABLE category_registered_users (
    category_id        INTEGER NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    registered_user_id INTEGER NOT NULL REFERENCES registered_users (id) ON DELETE CASCADE,
    PRIMARY KEY (category_id, registered_user_id)
);
CREATE INDEX category_registered_users_user ON category_registered_users (registered_user_id);
