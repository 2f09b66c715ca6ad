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

CREATE TRIGGER asset_holder_balances_version_insert AFTER INSERT ON asset_holder_balances BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT NEW.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = NEW.asset_uuid);
    UPDATE asset_aggregates SET holders_version = holders_version + 1
    WHERE asset_uuid = NEW.asset_uuid;
END;

CREATE TRIGGER asset_holder_balances_version_update AFTER UPDATE OF amount, report_head,
report_tail, report_entry ON asset_holder_balances BEGIN
    UPDATE asset_aggregates SET holders_version = holders_version + 1
    WHERE asset_uuid = NEW.asset_uuid;
END;

-- (no row is added here: the asset itself may be going, its aggregates with it)
CREATE TRIGGER asset_holder_balances_version_delete AFTER DELETE ON asset_holder_balances BEGIN
    UPDATE asset_aggregates SET holders_version = holders_version + 1
    WHERE asset_uuid = OLD.asset_uuid;
END;
