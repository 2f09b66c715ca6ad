-- The SLIP-77 master blinding key of an asset's treasury wallet (dumpmasterblindingkey), posted
-- by the confirm client so the follower can open the treasury's own confidential outputs (its
-- change, the units of a reissuance). Accepted only when it opens the asset's issuance
-- destination, so there is at most one per asset. A view key: it cannot spend.
CREATE TABLE asset_treasury_view_keys (
    asset_uuid TEXT        PRIMARY KEY REFERENCES assets (uuid),
    view_key   TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
