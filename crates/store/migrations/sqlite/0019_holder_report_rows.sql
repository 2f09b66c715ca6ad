-- The holder rows carry what the ownerships report shows of them (issue #15).
--
-- asset_holder_balances (0014) gains, per (asset, holder): the asset issuer's registered user
-- holding the row's GAID (registered_user_id, registered_user_name: what Store::holdings
-- returns, so no join per request), and the holder's object of the ownerships report as JSON
-- text: report_head ('{"owner":…,"amount":'), report_tail (',"GAID":…,"registered_user":…}')
-- and report_entry (head, amount, tail: the object at the tip). The owner is "ISSUER" for the
-- treasury (Store's TREASURY_OWNER), else the user's name or null.
--
-- Triggers keep them in the transaction of every write: a new holder row (the user looked up),
-- a balance change (the entry), a GAID linked to or unlinked from a user (a user's deletion
-- unlinks its GAIDs), a user renamed. So the ownerships report at the tip concatenates the
-- entries in the report's order, read from one index (asset_holder_balances_report), and at a
-- past height joins the sums from history to the holder rows for the text around each amount.
--
-- Every (asset, owner, GAID) with a non-token, non-burn output has a holder row: 0014's
-- triggers add one for every output recorded unspent (the only way outputs are recorded), and
-- the backfill below adds the holders whose outputs were all spent before 0014 (amount 0), so
-- every holder at a past height has one.

ALTER TABLE asset_holder_balances ADD COLUMN registered_user_id INTEGER;
ALTER TABLE asset_holder_balances ADD COLUMN registered_user_name TEXT;
ALTER TABLE asset_holder_balances ADD COLUMN report_head TEXT NOT NULL DEFAULT '';
ALTER TABLE asset_holder_balances ADD COLUMN report_tail TEXT NOT NULL DEFAULT '';
ALTER TABLE asset_holder_balances ADD COLUMN report_entry TEXT NOT NULL DEFAULT '';

INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
SELECT DISTINCT o.asset_uuid, o.owner, COALESCE(o.gaid, ''), 0 FROM asset_outputs o
WHERE o.is_token = 0 AND o.owner <> 'burn' AND NOT EXISTS (SELECT 1 FROM asset_holder_balances b
    WHERE b.asset_uuid = o.asset_uuid AND b.owner = o.owner AND b.gaid = COALESCE(o.gaid, ''));

UPDATE asset_holder_balances SET
    registered_user_id = (SELECT g.registered_user_id FROM registered_user_gaids g
        JOIN assets a ON a.issuer_id = g.issuer_id
        WHERE a.uuid = asset_holder_balances.asset_uuid AND g.gaid = asset_holder_balances.gaid),
    registered_user_name = (SELECT u.name FROM registered_user_gaids g
        JOIN assets a ON a.issuer_id = g.issuer_id JOIN registered_users u ON u.id = g.registered_user_id
        WHERE a.uuid = asset_holder_balances.asset_uuid AND g.gaid = asset_holder_balances.gaid);

UPDATE asset_holder_balances SET
    report_head = '{"owner":' || CASE WHEN owner = 'treasury' THEN '"ISSUER"'
        ELSE json_quote(registered_user_name) END || ',"amount":',
    report_tail = ',"GAID":' || CASE WHEN gaid = '' THEN 'null' ELSE json_quote(gaid) END
        || ',"registered_user":' || CASE WHEN owner = 'treasury' OR registered_user_id IS NULL
        THEN 'null' ELSE registered_user_id END || '}';
UPDATE asset_holder_balances SET report_entry = report_head || amount || report_tail;

-- The ownerships report at the tip, in its order, without reading the table.
CREATE INDEX asset_holder_balances_report ON asset_holder_balances
    (asset_uuid, amount DESC, gaid, report_entry);
-- A renamed user's holder rows.
CREATE INDEX asset_holder_balances_user ON asset_holder_balances (registered_user_id);

-- A new holder row: the registered user of its GAID (which sets the texts, below).
CREATE TRIGGER asset_holder_balances_user_insert AFTER INSERT ON asset_holder_balances BEGIN
    UPDATE asset_holder_balances SET
        registered_user_id = (SELECT g.registered_user_id FROM registered_user_gaids g
            JOIN assets a ON a.issuer_id = g.issuer_id
            WHERE a.uuid = NEW.asset_uuid AND g.gaid = NEW.gaid),
        registered_user_name = (SELECT u.name FROM registered_user_gaids g
            JOIN assets a ON a.issuer_id = g.issuer_id
            JOIN registered_users u ON u.id = g.registered_user_id
            WHERE a.uuid = NEW.asset_uuid AND g.gaid = NEW.gaid)
    WHERE asset_uuid = NEW.asset_uuid AND owner = NEW.owner AND gaid = NEW.gaid;
END;

-- The row's user set or changed: its texts.
CREATE TRIGGER asset_holder_balances_user_texts AFTER UPDATE OF registered_user_id,
registered_user_name ON asset_holder_balances BEGIN
    UPDATE asset_holder_balances SET
        report_head = '{"owner":' || CASE WHEN NEW.owner = 'treasury' THEN '"ISSUER"'
            ELSE json_quote(NEW.registered_user_name) END || ',"amount":',
        report_tail = ',"GAID":' || CASE WHEN NEW.gaid = '' THEN 'null' ELSE json_quote(NEW.gaid) END
            || ',"registered_user":' || CASE WHEN NEW.owner = 'treasury'
            OR NEW.registered_user_id IS NULL THEN 'null' ELSE NEW.registered_user_id END || '}',
        report_entry = '{"owner":' || CASE WHEN NEW.owner = 'treasury' THEN '"ISSUER"'
            ELSE json_quote(NEW.registered_user_name) END || ',"amount":' || NEW.amount
            || ',"GAID":' || CASE WHEN NEW.gaid = '' THEN 'null' ELSE json_quote(NEW.gaid) END
            || ',"registered_user":' || CASE WHEN NEW.owner = 'treasury'
            OR NEW.registered_user_id IS NULL THEN 'null' ELSE NEW.registered_user_id END || '}'
    WHERE asset_uuid = NEW.asset_uuid AND owner = NEW.owner AND gaid = NEW.gaid;
END;

-- The balance changed: the entry.
CREATE TRIGGER asset_holder_balances_entry AFTER UPDATE OF amount ON asset_holder_balances BEGIN
    UPDATE asset_holder_balances SET report_entry = report_head || NEW.amount || report_tail
    WHERE asset_uuid = NEW.asset_uuid AND owner = NEW.owner AND gaid = NEW.gaid;
END;

-- A GAID linked, unlinked or moved: the user of its rows in the issuer's assets, looked up
-- again (a GAID has at most one registered user per issuer).
CREATE TRIGGER registered_user_gaids_holders_insert AFTER INSERT ON registered_user_gaids BEGIN
    UPDATE asset_holder_balances SET
        registered_user_id = (SELECT g.registered_user_id FROM registered_user_gaids g
            WHERE g.issuer_id = NEW.issuer_id AND g.gaid = NEW.gaid),
        registered_user_name = (SELECT u.name FROM registered_user_gaids g
            JOIN registered_users u ON u.id = g.registered_user_id
            WHERE g.issuer_id = NEW.issuer_id AND g.gaid = NEW.gaid)
    WHERE gaid = NEW.gaid AND asset_uuid IN (SELECT uuid FROM assets WHERE issuer_id = NEW.issuer_id);
END;

CREATE TRIGGER registered_user_gaids_holders_delete AFTER DELETE ON registered_user_gaids BEGIN
    UPDATE asset_holder_balances SET
        registered_user_id = (SELECT g.registered_user_id FROM registered_user_gaids g
            WHERE g.issuer_id = OLD.issuer_id AND g.gaid = OLD.gaid),
        registered_user_name = (SELECT u.name FROM registered_user_gaids g
            JOIN registered_users u ON u.id = g.registered_user_id
            WHERE g.issuer_id = OLD.issuer_id AND g.gaid = OLD.gaid)
    WHERE gaid = OLD.gaid AND asset_uuid IN (SELECT uuid FROM assets WHERE issuer_id = OLD.issuer_id);
END;

CREATE TRIGGER registered_user_gaids_holders_update AFTER UPDATE OF registered_user_id, issuer_id,
gaid ON registered_user_gaids BEGIN
    UPDATE asset_holder_balances SET
        registered_user_id = (SELECT g.registered_user_id FROM registered_user_gaids g
            WHERE g.issuer_id = OLD.issuer_id AND g.gaid = OLD.gaid),
        registered_user_name = (SELECT u.name FROM registered_user_gaids g
            JOIN registered_users u ON u.id = g.registered_user_id
            WHERE g.issuer_id = OLD.issuer_id AND g.gaid = OLD.gaid)
    WHERE gaid = OLD.gaid AND asset_uuid IN (SELECT uuid FROM assets WHERE issuer_id = OLD.issuer_id);
    UPDATE asset_holder_balances SET
        registered_user_id = (SELECT g.registered_user_id FROM registered_user_gaids g
            WHERE g.issuer_id = NEW.issuer_id AND g.gaid = NEW.gaid),
        registered_user_name = (SELECT u.name FROM registered_user_gaids g
            JOIN registered_users u ON u.id = g.registered_user_id
            WHERE g.issuer_id = NEW.issuer_id AND g.gaid = NEW.gaid)
    WHERE gaid = NEW.gaid AND asset_uuid IN (SELECT uuid FROM assets WHERE issuer_id = NEW.issuer_id);
END;

-- A user renamed: its rows' name.
CREATE TRIGGER registered_users_holders_rename AFTER UPDATE OF name ON registered_users BEGIN
    UPDATE asset_holder_balances SET registered_user_name = NEW.name
    WHERE registered_user_id = NEW.id;
END;
