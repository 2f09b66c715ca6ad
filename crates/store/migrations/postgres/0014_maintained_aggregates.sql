-- Maintained aggregates for the current-state reports (issue #15).
--
-- asset_holder_balances: per (asset, holder) the units of the asset (not its token) in unspent,
-- not burnt outputs: what Store::holdings at the tip returns (gaid '' for the treasury).
-- asset_aggregates: per asset the figures of Store::asset_totals (issued, reissued, distributed,
-- burned, blacklisted, reissuance tokens, active GAIDs, active registered users) and the
-- assignment sums (not deleted; not deleted and distributed); issuer_aggregates: per issuer
-- its registered users.
--
-- They are kept by triggers on asset_outputs, asset_txs, asset_holder_balances,
-- asset_user_active_gaids, registered_user_gaids, registered_users and assignments, so every
-- writer (the follower's blocks and reorg rollbacks, confirm calls that
-- record outputs, blacklisting, payments marking a transaction a distribution, assignment
-- creates, edits and deletes, registered users and their GAIDs) changes them in its own transaction, and a rollback of that
-- transaction undoes them with it. Each trigger adds the new row's contribution and removes
-- the old row's, reading only the other table, so the aggregates always equal the computation
-- from history (Store::holdings_from_history, Store::asset_totals_from_history); the tables
-- are filled from the existing rows below before the triggers exist.

CREATE TABLE asset_holder_balances (
    asset_uuid TEXT   NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    owner      TEXT   NOT NULL,
    gaid       TEXT   NOT NULL,
    amount     BIGINT NOT NULL,
    PRIMARY KEY (asset_uuid, owner, gaid)
);

CREATE TABLE asset_aggregates (
    asset_uuid           TEXT   PRIMARY KEY REFERENCES assets (uuid) ON DELETE CASCADE,
    issued               BIGINT NOT NULL DEFAULT 0,
    reissued             BIGINT NOT NULL DEFAULT 0,
    distributed          BIGINT NOT NULL DEFAULT 0,
    burned               BIGINT NOT NULL DEFAULT 0,
    blacklisted          BIGINT NOT NULL DEFAULT 0,
    reissuance_tokens    BIGINT NOT NULL DEFAULT 0,
    active_gaids         BIGINT NOT NULL DEFAULT 0,
    active_users         BIGINT NOT NULL DEFAULT 0,
    assigned             BIGINT NOT NULL DEFAULT 0,
    assigned_distributed BIGINT NOT NULL DEFAULT 0
);

-- Per asset and registered user of its issuer: how many of the user's GAIDs hold a positive
-- balance (active_users counts the users with at least one).
CREATE TABLE asset_user_active_gaids (
    asset_uuid         TEXT   NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    registered_user_id BIGINT NOT NULL,
    gaids              BIGINT NOT NULL,
    PRIMARY KEY (asset_uuid, registered_user_id)
);
CREATE INDEX asset_holder_balances_gaid ON asset_holder_balances (gaid);

-- Per issuer: its registered users.
CREATE TABLE issuer_aggregates (
    issuer_id        BIGINT PRIMARY KEY REFERENCES issuers (id) ON DELETE CASCADE,
    registered_users BIGINT NOT NULL DEFAULT 0
);

-- Backfill from the rows already there (the same computation as the history queries).
INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
SELECT asset_uuid, owner, COALESCE(gaid, ''), SUM(amount) FROM asset_outputs
WHERE is_token = FALSE AND owner <> 'burn' AND spent_height IS NULL
GROUP BY asset_uuid, owner, COALESCE(gaid, '');

INSERT INTO asset_aggregates (asset_uuid) SELECT uuid FROM assets;

UPDATE asset_aggregates SET
    issued = (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = FALSE
              AND t.kind = 'issuance')
           - (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.spent_txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = FALSE
              AND t.kind = 'issuance'),
    reissued = (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = FALSE
              AND t.kind = 'reissuance')
           - (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.spent_txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = FALSE
              AND t.kind = 'reissuance'),
    distributed = (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = FALSE
              AND o.owner = 'wallet' AND t.kind = 'distribution'),
    burned = (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs
              WHERE asset_uuid = asset_aggregates.asset_uuid AND is_token = FALSE
              AND owner = 'burn'),
    blacklisted = (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs
              WHERE asset_uuid = asset_aggregates.asset_uuid AND is_token = FALSE
              AND owner <> 'burn' AND spent_txid IS NULL AND is_blacklisted = TRUE),
    reissuance_tokens = (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs
              WHERE asset_uuid = asset_aggregates.asset_uuid AND is_token = TRUE
              AND owner <> 'burn' AND spent_txid IS NULL),
    active_gaids = (SELECT COUNT(*) FROM asset_holder_balances b
              WHERE b.asset_uuid = asset_aggregates.asset_uuid AND b.owner = 'wallet'
              AND b.amount > 0),
    active_users = (SELECT COUNT(DISTINCT g.registered_user_id) FROM asset_holder_balances b
              JOIN assets a ON a.uuid = b.asset_uuid
              JOIN registered_user_gaids g ON g.gaid = b.gaid AND g.issuer_id = a.issuer_id
              WHERE b.asset_uuid = asset_aggregates.asset_uuid AND b.owner = 'wallet'
              AND b.amount > 0),
    assigned = (SELECT COALESCE(SUM(amount), 0) FROM assignments
              WHERE asset_uuid = asset_aggregates.asset_uuid AND deleted_at IS NULL),
    assigned_distributed = (SELECT COALESCE(SUM(amount), 0) FROM assignments
              WHERE asset_uuid = asset_aggregates.asset_uuid AND deleted_at IS NULL
              AND is_distributed = TRUE);

INSERT INTO asset_user_active_gaids (asset_uuid, registered_user_id, gaids)
SELECT b.asset_uuid, g.registered_user_id, COUNT(*) FROM asset_holder_balances b
JOIN assets a ON a.uuid = b.asset_uuid
JOIN registered_user_gaids g ON g.gaid = b.gaid AND g.issuer_id = a.issuer_id
WHERE b.owner = 'wallet' AND b.amount > 0
GROUP BY b.asset_uuid, g.registered_user_id;

INSERT INTO issuer_aggregates (issuer_id, registered_users)
SELECT i.id, (SELECT COUNT(*) FROM registered_users u WHERE u.issuer_id = i.id) FROM issuers i;

CREATE FUNCTION asset_outputs_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    created_kind TEXT;
    spent_kind   TEXT;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
    SELECT kind INTO created_kind FROM asset_txs
        WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.txid;
    SELECT kind INTO spent_kind FROM asset_txs
        WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.spent_txid;
    INSERT INTO asset_aggregates (asset_uuid) VALUES (OLD.asset_uuid) ON CONFLICT DO NOTHING;
    UPDATE asset_aggregates SET
        issued = issued + (-1) * (CASE WHEN NOT OLD.is_token THEN OLD.amount ELSE 0 END)
            * ((CASE WHEN created_kind = 'issuance' THEN 1 ELSE 0 END)
               - (CASE WHEN spent_kind = 'issuance' THEN 1 ELSE 0 END)),
        reissued = reissued + (-1) * (CASE WHEN NOT OLD.is_token THEN OLD.amount ELSE 0 END)
            * ((CASE WHEN created_kind = 'reissuance' THEN 1 ELSE 0 END)
               - (CASE WHEN spent_kind = 'reissuance' THEN 1 ELSE 0 END)),
        distributed = distributed + (-1) * (CASE WHEN NOT OLD.is_token AND OLD.owner = 'wallet'
            AND created_kind = 'distribution' THEN OLD.amount ELSE 0 END),
        burned = burned + (-1) * (CASE WHEN NOT OLD.is_token AND OLD.owner = 'burn'
            THEN OLD.amount ELSE 0 END),
        blacklisted = blacklisted + (-1) * (CASE WHEN NOT OLD.is_token AND OLD.owner <> 'burn'
            AND OLD.spent_txid IS NULL AND OLD.is_blacklisted THEN OLD.amount ELSE 0 END),
        reissuance_tokens = reissuance_tokens + (-1) * (CASE WHEN OLD.is_token
            AND OLD.owner <> 'burn' AND OLD.spent_txid IS NULL THEN OLD.amount ELSE 0 END)
    WHERE asset_uuid = OLD.asset_uuid;
    IF NOT OLD.is_token AND OLD.owner <> 'burn' AND OLD.spent_height IS NULL THEN
        INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
        VALUES (OLD.asset_uuid, OLD.owner, COALESCE(OLD.gaid, ''), 0) ON CONFLICT DO NOTHING;
        UPDATE asset_holder_balances SET amount = amount + (-1) * OLD.amount
        WHERE asset_uuid = OLD.asset_uuid AND owner = OLD.owner AND gaid = COALESCE(OLD.gaid, '');
    END IF;
    END IF;
    created_kind := NULL;
    spent_kind := NULL;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT kind INTO created_kind FROM asset_txs
        WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.txid;
    SELECT kind INTO spent_kind FROM asset_txs
        WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.spent_txid;
    INSERT INTO asset_aggregates (asset_uuid) VALUES (NEW.asset_uuid) ON CONFLICT DO NOTHING;
    UPDATE asset_aggregates SET
        issued = issued + (1) * (CASE WHEN NOT NEW.is_token THEN NEW.amount ELSE 0 END)
            * ((CASE WHEN created_kind = 'issuance' THEN 1 ELSE 0 END)
               - (CASE WHEN spent_kind = 'issuance' THEN 1 ELSE 0 END)),
        reissued = reissued + (1) * (CASE WHEN NOT NEW.is_token THEN NEW.amount ELSE 0 END)
            * ((CASE WHEN created_kind = 'reissuance' THEN 1 ELSE 0 END)
               - (CASE WHEN spent_kind = 'reissuance' THEN 1 ELSE 0 END)),
        distributed = distributed + (1) * (CASE WHEN NOT NEW.is_token AND NEW.owner = 'wallet'
            AND created_kind = 'distribution' THEN NEW.amount ELSE 0 END),
        burned = burned + (1) * (CASE WHEN NOT NEW.is_token AND NEW.owner = 'burn'
            THEN NEW.amount ELSE 0 END),
        blacklisted = blacklisted + (1) * (CASE WHEN NOT NEW.is_token AND NEW.owner <> 'burn'
            AND NEW.spent_txid IS NULL AND NEW.is_blacklisted THEN NEW.amount ELSE 0 END),
        reissuance_tokens = reissuance_tokens + (1) * (CASE WHEN NEW.is_token
            AND NEW.owner <> 'burn' AND NEW.spent_txid IS NULL THEN NEW.amount ELSE 0 END)
    WHERE asset_uuid = NEW.asset_uuid;
    IF NOT NEW.is_token AND NEW.owner <> 'burn' AND NEW.spent_height IS NULL THEN
        INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
        VALUES (NEW.asset_uuid, NEW.owner, COALESCE(NEW.gaid, ''), 0) ON CONFLICT DO NOTHING;
        UPDATE asset_holder_balances SET amount = amount + (1) * NEW.amount
        WHERE asset_uuid = NEW.asset_uuid AND owner = NEW.owner AND gaid = COALESCE(NEW.gaid, '');
    END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER asset_outputs_aggregates_insert_delete AFTER INSERT OR DELETE ON asset_outputs
FOR EACH ROW EXECUTE FUNCTION asset_outputs_aggregates();
CREATE TRIGGER asset_outputs_aggregates_update AFTER UPDATE OF asset_uuid, txid, amount, is_token, owner, gaid, spent_txid, spent_height, is_blacklisted
ON asset_outputs FOR EACH ROW EXECUTE FUNCTION asset_outputs_aggregates();

CREATE FUNCTION asset_txs_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    created BIGINT;
    paid    BIGINT;
    spent   BIGINT;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
    IF OLD.kind IN ('issuance', 'reissuance', 'distribution') THEN
        SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(CASE WHEN owner = 'wallet' THEN amount
            ELSE 0 END), 0) INTO created, paid FROM asset_outputs
            WHERE txid = OLD.txid AND asset_uuid = OLD.asset_uuid AND NOT is_token;
        SELECT COALESCE(SUM(amount), 0) INTO spent FROM asset_outputs
            WHERE asset_uuid = OLD.asset_uuid AND NOT is_token AND spent_txid = OLD.txid;
        INSERT INTO asset_aggregates (asset_uuid) VALUES (OLD.asset_uuid) ON CONFLICT DO NOTHING;
        UPDATE asset_aggregates SET
            issued = issued + (-1) * (CASE WHEN OLD.kind = 'issuance' THEN created - spent ELSE 0 END),
            reissued = reissued + (-1) * (CASE WHEN OLD.kind = 'reissuance' THEN created - spent ELSE 0 END),
            distributed = distributed + (-1) * (CASE WHEN OLD.kind = 'distribution' THEN paid ELSE 0 END)
        WHERE asset_uuid = OLD.asset_uuid;
    END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
    IF NEW.kind IN ('issuance', 'reissuance', 'distribution') THEN
        SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(CASE WHEN owner = 'wallet' THEN amount
            ELSE 0 END), 0) INTO created, paid FROM asset_outputs
            WHERE txid = NEW.txid AND asset_uuid = NEW.asset_uuid AND NOT is_token;
        SELECT COALESCE(SUM(amount), 0) INTO spent FROM asset_outputs
            WHERE asset_uuid = NEW.asset_uuid AND NOT is_token AND spent_txid = NEW.txid;
        INSERT INTO asset_aggregates (asset_uuid) VALUES (NEW.asset_uuid) ON CONFLICT DO NOTHING;
        UPDATE asset_aggregates SET
            issued = issued + (1) * (CASE WHEN NEW.kind = 'issuance' THEN created - spent ELSE 0 END),
            reissued = reissued + (1) * (CASE WHEN NEW.kind = 'reissuance' THEN created - spent ELSE 0 END),
            distributed = distributed + (1) * (CASE WHEN NEW.kind = 'distribution' THEN paid ELSE 0 END)
        WHERE asset_uuid = NEW.asset_uuid;
    END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER asset_txs_aggregates_insert_delete AFTER INSERT OR DELETE ON asset_txs
FOR EACH ROW EXECUTE FUNCTION asset_txs_aggregates();
CREATE TRIGGER asset_txs_aggregates_update AFTER UPDATE OF asset_uuid, txid, kind ON asset_txs
FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.txid IS DISTINCT FROM NEW.txid
    OR OLD.asset_uuid IS DISTINCT FROM NEW.asset_uuid)
EXECUTE FUNCTION asset_txs_aggregates();

-- Active GAIDs and registered users: wallet balances going from zero to positive and back.
CREATE FUNCTION asset_holder_balances_active() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta BIGINT := 0;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.owner = 'wallet' AND OLD.amount > 0 THEN
        delta := delta - 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.owner = 'wallet' AND NEW.amount > 0 THEN
        delta := delta + 1;
    END IF;
    IF delta <> 0 AND TG_OP = 'DELETE' THEN
        UPDATE asset_aggregates SET active_gaids = active_gaids + delta
        WHERE asset_uuid = OLD.asset_uuid;
        IF delta > 0 THEN
            INSERT INTO asset_user_active_gaids (asset_uuid, registered_user_id, gaids)
            SELECT OLD.asset_uuid, g.registered_user_id, 0 FROM registered_user_gaids g
            WHERE g.gaid = OLD.gaid
            AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = OLD.asset_uuid)
            ON CONFLICT DO NOTHING;
        END IF;
        UPDATE asset_user_active_gaids SET gaids = gaids + delta
        WHERE asset_uuid = OLD.asset_uuid AND registered_user_id IN (SELECT g.registered_user_id
            FROM registered_user_gaids g WHERE g.gaid = OLD.gaid
            AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = OLD.asset_uuid));
    ELSIF delta <> 0 THEN
        UPDATE asset_aggregates SET active_gaids = active_gaids + delta
        WHERE asset_uuid = NEW.asset_uuid;
        IF delta > 0 THEN
            INSERT INTO asset_user_active_gaids (asset_uuid, registered_user_id, gaids)
            SELECT NEW.asset_uuid, g.registered_user_id, 0 FROM registered_user_gaids g
            WHERE g.gaid = NEW.gaid
            AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = NEW.asset_uuid)
            ON CONFLICT DO NOTHING;
        END IF;
        UPDATE asset_user_active_gaids SET gaids = gaids + delta
        WHERE asset_uuid = NEW.asset_uuid AND registered_user_id IN (SELECT g.registered_user_id
            FROM registered_user_gaids g WHERE g.gaid = NEW.gaid
            AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = NEW.asset_uuid));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER asset_holder_balances_active AFTER INSERT OR DELETE OR UPDATE OF amount
ON asset_holder_balances FOR EACH ROW EXECUTE FUNCTION asset_holder_balances_active();

CREATE FUNCTION asset_user_active_gaids_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta BIGINT := 0;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.gaids > 0 THEN
        delta := delta - 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.gaids > 0 THEN
        delta := delta + 1;
    END IF;
    IF delta <> 0 THEN
        UPDATE asset_aggregates SET active_users = active_users + delta
        WHERE asset_uuid = (CASE WHEN TG_OP = 'DELETE' THEN OLD.asset_uuid ELSE NEW.asset_uuid END);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER asset_user_active_gaids_count AFTER INSERT OR DELETE OR UPDATE OF gaids
ON asset_user_active_gaids FOR EACH ROW EXECUTE FUNCTION asset_user_active_gaids_count();

-- A GAID linked to (or unlinked from) a registered user counts in every asset of the issuer
-- where it holds a positive balance.
CREATE FUNCTION registered_user_gaids_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE asset_user_active_gaids SET gaids = gaids - 1
        WHERE registered_user_id = OLD.registered_user_id AND asset_uuid IN (
            SELECT b.asset_uuid FROM asset_holder_balances b JOIN assets a ON a.uuid = b.asset_uuid
            WHERE b.gaid = OLD.gaid AND b.owner = 'wallet' AND b.amount > 0
            AND a.issuer_id = OLD.issuer_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO asset_user_active_gaids (asset_uuid, registered_user_id, gaids)
        SELECT b.asset_uuid, NEW.registered_user_id, 0 FROM asset_holder_balances b
        JOIN assets a ON a.uuid = b.asset_uuid
        WHERE b.gaid = NEW.gaid AND b.owner = 'wallet' AND b.amount > 0
        AND a.issuer_id = NEW.issuer_id
        ON CONFLICT DO NOTHING;
        UPDATE asset_user_active_gaids SET gaids = gaids + 1
        WHERE registered_user_id = NEW.registered_user_id AND asset_uuid IN (
            SELECT b.asset_uuid FROM asset_holder_balances b JOIN assets a ON a.uuid = b.asset_uuid
            WHERE b.gaid = NEW.gaid AND b.owner = 'wallet' AND b.amount > 0
            AND a.issuer_id = NEW.issuer_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER registered_user_gaids_active AFTER INSERT OR DELETE
OR UPDATE OF registered_user_id, issuer_id, gaid ON registered_user_gaids
FOR EACH ROW EXECUTE FUNCTION registered_user_gaids_active();

CREATE FUNCTION registered_users_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE issuer_aggregates SET registered_users = registered_users - 1
        WHERE issuer_id = OLD.issuer_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO issuer_aggregates (issuer_id) VALUES (NEW.issuer_id) ON CONFLICT DO NOTHING;
        UPDATE issuer_aggregates SET registered_users = registered_users + 1
        WHERE issuer_id = NEW.issuer_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER registered_users_count AFTER INSERT OR DELETE OR UPDATE OF issuer_id
ON registered_users FOR EACH ROW EXECUTE FUNCTION registered_users_count();

CREATE FUNCTION assignments_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
    INSERT INTO asset_aggregates (asset_uuid) VALUES (OLD.asset_uuid) ON CONFLICT DO NOTHING;
    UPDATE asset_aggregates SET
        assigned = assigned + (-1) * (CASE WHEN OLD.deleted_at IS NULL THEN OLD.amount ELSE 0 END),
        assigned_distributed = assigned_distributed + (-1) * (CASE WHEN OLD.deleted_at IS NULL
            AND OLD.is_distributed THEN OLD.amount ELSE 0 END)
    WHERE asset_uuid = OLD.asset_uuid;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO asset_aggregates (asset_uuid) VALUES (NEW.asset_uuid) ON CONFLICT DO NOTHING;
    UPDATE asset_aggregates SET
        assigned = assigned + (1) * (CASE WHEN NEW.deleted_at IS NULL THEN NEW.amount ELSE 0 END),
        assigned_distributed = assigned_distributed + (1) * (CASE WHEN NEW.deleted_at IS NULL
            AND NEW.is_distributed THEN NEW.amount ELSE 0 END)
    WHERE asset_uuid = NEW.asset_uuid;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER assignments_aggregates_insert_delete AFTER INSERT OR DELETE ON assignments
FOR EACH ROW EXECUTE FUNCTION assignments_aggregates();
CREATE TRIGGER assignments_aggregates_update AFTER UPDATE OF asset_uuid, amount, is_distributed,
deleted_at ON assignments FOR EACH ROW EXECUTE FUNCTION assignments_aggregates();
