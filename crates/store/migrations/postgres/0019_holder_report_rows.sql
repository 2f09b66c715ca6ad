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

ALTER TABLE asset_holder_balances ADD COLUMN registered_user_id BIGINT;
ALTER TABLE asset_holder_balances ADD COLUMN registered_user_name TEXT;
ALTER TABLE asset_holder_balances ADD COLUMN report_head TEXT NOT NULL DEFAULT '';
ALTER TABLE asset_holder_balances ADD COLUMN report_tail TEXT NOT NULL DEFAULT '';
ALTER TABLE asset_holder_balances ADD COLUMN report_entry TEXT NOT NULL DEFAULT '';

-- The texts of a row from its owner, GAID, user and amount (before every insert and update).
CREATE FUNCTION asset_holder_balances_texts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT g.registered_user_id, u.name INTO NEW.registered_user_id, NEW.registered_user_name
        FROM registered_user_gaids g JOIN assets a ON a.issuer_id = g.issuer_id
        JOIN registered_users u ON u.id = g.registered_user_id
        WHERE a.uuid = NEW.asset_uuid AND g.gaid = NEW.gaid;
    END IF;
    NEW.report_head := '{"owner":' || CASE WHEN NEW.owner = 'treasury' THEN '"ISSUER"'
        ELSE COALESCE(to_json(NEW.registered_user_name)::text, 'null') END || ',"amount":';
    NEW.report_tail := ',"GAID":' || CASE WHEN NEW.gaid = '' THEN 'null'
        ELSE to_json(NEW.gaid)::text END || ',"registered_user":'
        || CASE WHEN NEW.owner = 'treasury' OR NEW.registered_user_id IS NULL THEN 'null'
        ELSE NEW.registered_user_id::text END || '}';
    NEW.report_entry := NEW.report_head || NEW.amount::text || NEW.report_tail;
    RETURN NEW;
END;
$$;

CREATE TRIGGER asset_holder_balances_texts BEFORE INSERT OR UPDATE ON asset_holder_balances
FOR EACH ROW EXECUTE FUNCTION asset_holder_balances_texts();

INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
SELECT DISTINCT o.asset_uuid, o.owner, COALESCE(o.gaid, ''), 0 FROM asset_outputs o
WHERE NOT o.is_token AND o.owner <> 'burn'
ON CONFLICT DO NOTHING;

-- (the trigger sets the texts of every row)
UPDATE asset_holder_balances b SET (registered_user_id, registered_user_name) = (
    SELECT g.registered_user_id, u.name FROM registered_user_gaids g
    JOIN assets a ON a.issuer_id = g.issuer_id JOIN registered_users u ON u.id = g.registered_user_id
    WHERE a.uuid = b.asset_uuid AND g.gaid = b.gaid);

-- The ownerships report at the tip, in its order.
CREATE INDEX asset_holder_balances_report ON asset_holder_balances (asset_uuid, amount DESC, gaid)
    INCLUDE (report_entry);
-- A renamed user's holder rows.
CREATE INDEX asset_holder_balances_user ON asset_holder_balances (registered_user_id);

-- A GAID linked, unlinked or moved: the user of its rows in the issuer's assets, looked up
-- again (a GAID has at most one registered user per issuer).
CREATE FUNCTION registered_user_gaids_holders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE asset_holder_balances b SET (registered_user_id, registered_user_name) = (
            SELECT g.registered_user_id, u.name FROM registered_user_gaids g
            JOIN registered_users u ON u.id = g.registered_user_id
            WHERE g.issuer_id = OLD.issuer_id AND g.gaid = OLD.gaid)
        WHERE b.gaid = OLD.gaid
        AND b.asset_uuid IN (SELECT uuid FROM assets WHERE issuer_id = OLD.issuer_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE asset_holder_balances b SET (registered_user_id, registered_user_name) = (
            SELECT g.registered_user_id, u.name FROM registered_user_gaids g
            JOIN registered_users u ON u.id = g.registered_user_id
            WHERE g.issuer_id = NEW.issuer_id AND g.gaid = NEW.gaid)
        WHERE b.gaid = NEW.gaid
        AND b.asset_uuid IN (SELECT uuid FROM assets WHERE issuer_id = NEW.issuer_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER registered_user_gaids_holders AFTER INSERT OR DELETE
OR UPDATE OF registered_user_id, issuer_id, gaid ON registered_user_gaids
FOR EACH ROW EXECUTE FUNCTION registered_user_gaids_holders();

-- A user renamed: its rows' name.
CREATE FUNCTION registered_users_holders_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE asset_holder_balances SET registered_user_name = NEW.name
    WHERE registered_user_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER registered_users_holders_rename AFTER UPDATE OF name ON registered_users
FOR EACH ROW EXECUTE FUNCTION registered_users_holders_rename();
