-- Webhooks (issue #17): issuers' HTTP endpoints that receive their events, and every delivery
-- attempt. Times the worker compares (next attempt, lease) are unix milliseconds.
CREATE TABLE webhook_endpoints (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id         INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    url               TEXT    NOT NULL,
    -- amphora_core::webhook::EventSelection::to_stored: '*' or type names separated by commas.
    event_types       TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    -- The signing secret, AES-256-GCM encrypted (hex of nonce || ciphertext).
    secret_encrypted  TEXT    NOT NULL,
    -- 'active', or 'failing' once a delivery exhausted its retry schedule (since failing_since).
    state             TEXT    NOT NULL CHECK (state IN ('active', 'failing')),
    failing_since     TEXT,
    created_at        TEXT    NOT NULL,
    -- The delivery cursor: the last event (id) queued for this endpoint. Events are queued one
    -- at a time, the next only once the previous one is delivered, so order is kept.
    event_cursor      INTEGER NOT NULL,
    -- The per-endpoint lease: the replica making this endpoint's delivery attempt, until when.
    lease_owner       TEXT,
    lease_until_ms    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_endpoints_issuer ON webhook_endpoints (issuer_id, id);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- The event delivered; NULL for a test delivery (webhook.test).
    event_id         INTEGER,
    event_type       TEXT    NOT NULL,
    -- 1 for the first attempt of this event at this endpoint, then 2, 3 …
    attempt          INTEGER NOT NULL,
    -- The attempt where the current retry schedule started (a re-enabled endpoint restarts it).
    schedule_start   INTEGER NOT NULL,
    -- 'pending' (due at next_attempt_ms), 'succeeded', 'failed' (retried in a later row) or
    -- 'abandoned' (the schedule ended: the endpoint was marked failing).
    status           TEXT    NOT NULL
                     CHECK (status IN ('pending', 'succeeded', 'failed', 'abandoned')),
    next_attempt_ms  INTEGER NOT NULL,
    http_status      INTEGER,
    latency_ms       INTEGER,
    error            TEXT,
    created_at       TEXT    NOT NULL,
    attempted_at     TEXT,
    UNIQUE (endpoint_id, event_id, attempt)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_ms)
    WHERE status = 'pending';
