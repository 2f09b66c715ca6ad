-- Which replica owns an issuance in flight (crates/store/src/issuance_lease.rs): the owner
-- renews its lease while it builds and broadcasts the transaction; issuance recovery only
-- takes over issuances whose owner's lease has expired (or that have none: rows written before
-- this migration, or by a process that died), so a replica never fails another live replica's
-- in-flight issuance.
ALTER TABLE assets ADD COLUMN issuance_owner TEXT;
ALTER TABLE assets ADD COLUMN issuance_lease_expires_ms BIGINT;
