-- Events (issue #17): every change to an issuer's data, written in the same transaction as the
-- change (an outbox). Never updated, never deleted: a reorg that undoes chain events adds a
-- chain.reorg event naming them. The id is monotonic (AUTOINCREMENT never reuses one) and, as
-- SQLite has one writer at a time, ids become visible in order: a reader resuming after id N
-- misses nothing.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- No foreign key (nor on asset_uuid): an event outlives what it reports.
    issuer_id    INTEGER NOT NULL,
    -- amphora_core::event::EventType::as_str, e.g. asset.issued.
    type         TEXT    NOT NULL,
    asset_uuid   TEXT,
    -- The block's height, for events reporting a confirmed transaction or a block.
    block_height INTEGER,
    created_at   TEXT    NOT NULL,
    -- The type's JSON data object (amphora_core::event).
    data         TEXT    NOT NULL
);
CREATE INDEX events_issuer ON events (issuer_id, id);
CREATE INDEX events_issuer_type ON events (issuer_id, type, id);
CREATE INDEX events_issuer_asset ON events (issuer_id, asset_uuid, id);
-- The reorg compensation finds the chain events above a height.
CREATE INDEX events_block_height ON events (block_height) WHERE block_height IS NOT NULL;
