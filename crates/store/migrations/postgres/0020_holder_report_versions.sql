-- A version of each asset's holder rows (issue #15): asset_aggregates.holders_version goes up
-- in the transaction of every write to one of the asset's rows in asset_holder_balances (0014,
-- 0019): a row added or removed, its amount or its texts changed (a balance change rewrites
-- report_entry, a user's rename or relink rewrites the three texts). The ownerships report,
-- at the tip and at every past height, is a function of those rows and of the outputs, and
-- every recorded, spent, unspent or removed output changes the amount of its holder's row; so
-- two reads that see the same version see the same report, and the server may answer the
-- second from the first one's text (`Store::holdings_version`, `Store::holdings_json`).
-- Writes rolled back take their increments with them.

ALTER TABLE asset_aggregates ADD COLUMN holders_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION asset_holder_balances_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- (no row is added here: the asset itself may be going, its aggregates with it)
        UPDATE asset_aggregates SET holders_version = holders_version + 1
        WHERE asset_uuid = OLD.asset_uuid;
    ELSE
        INSERT INTO asset_aggregates (asset_uuid, holders_version) VALUES (NEW.asset_uuid, 1)
        ON CONFLICT (asset_uuid)
        DO UPDATE SET holders_version = asset_aggregates.holders_version + 1;
    END IF;
    RETURN NULL;
END;
$$;

-- (every update: here the texts are set by a BEFORE trigger, not by statements naming them)
CREATE TRIGGER asset_holder_balances_version AFTER INSERT OR DELETE OR UPDATE
ON asset_holder_balances FOR EACH ROW EXECUTE FUNCTION asset_holder_balances_version();
