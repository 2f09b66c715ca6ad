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
    amount     INTEGER NOT NULL,
    PRIMARY KEY (asset_uuid, owner, gaid)
);

CREATE TABLE asset_aggregates (
    asset_uuid           TEXT   PRIMARY KEY REFERENCES assets (uuid) ON DELETE CASCADE,
    issued               INTEGER NOT NULL DEFAULT 0,
    reissued             INTEGER NOT NULL DEFAULT 0,
    distributed          INTEGER NOT NULL DEFAULT 0,
    burned               INTEGER NOT NULL DEFAULT 0,
    blacklisted          INTEGER NOT NULL DEFAULT 0,
    reissuance_tokens    INTEGER NOT NULL DEFAULT 0,
    active_gaids         INTEGER NOT NULL DEFAULT 0,
    active_users         INTEGER NOT NULL DEFAULT 0,
    assigned             INTEGER NOT NULL DEFAULT 0,
    assigned_distributed INTEGER NOT NULL DEFAULT 0
);

-- Per asset and registered user of its issuer: how many of the user's GAIDs hold a positive
-- balance (active_users counts the users with at least one).
CREATE TABLE asset_user_active_gaids (
    asset_uuid         TEXT   NOT NULL REFERENCES assets (uuid) ON DELETE CASCADE,
    registered_user_id INTEGER NOT NULL,
    gaids              INTEGER NOT NULL,
    PRIMARY KEY (asset_uuid, registered_user_id)
);
CREATE INDEX asset_holder_balances_gaid ON asset_holder_balances (gaid);

-- Per issuer: its registered users.
CREATE TABLE issuer_aggregates (
    issuer_id        INTEGER PRIMARY KEY REFERENCES issuers (id) ON DELETE CASCADE,
    registered_users INTEGER NOT NULL DEFAULT 0
);

-- Backfill from the rows already there (the same computation as the history queries).
INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
SELECT asset_uuid, owner, COALESCE(gaid, ''), SUM(amount) FROM asset_outputs
WHERE is_token = 0 AND owner <> 'burn' AND spent_height IS NULL
GROUP BY asset_uuid, owner, COALESCE(gaid, '');

INSERT INTO asset_aggregates (asset_uuid) SELECT uuid FROM assets;

UPDATE asset_aggregates SET
    issued = (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = 0
              AND t.kind = 'issuance')
           - (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.spent_txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = 0
              AND t.kind = 'issuance'),
    reissued = (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = 0
              AND t.kind = 'reissuance')
           - (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.spent_txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = 0
              AND t.kind = 'reissuance'),
    distributed = (SELECT COALESCE(SUM(o.amount), 0) FROM asset_outputs o JOIN asset_txs t
              ON t.asset_uuid = o.asset_uuid AND t.txid = o.txid
              WHERE o.asset_uuid = asset_aggregates.asset_uuid AND o.is_token = 0
              AND o.owner = 'wallet' AND t.kind = 'distribution'),
    burned = (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs
              WHERE asset_uuid = asset_aggregates.asset_uuid AND is_token = 0
              AND owner = 'burn'),
    blacklisted = (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs
              WHERE asset_uuid = asset_aggregates.asset_uuid AND is_token = 0
              AND owner <> 'burn' AND spent_txid IS NULL AND is_blacklisted = 1),
    reissuance_tokens = (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs
              WHERE asset_uuid = asset_aggregates.asset_uuid AND is_token = 1
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
              AND is_distributed = 1);

INSERT INTO asset_user_active_gaids (asset_uuid, registered_user_id, gaids)
SELECT b.asset_uuid, g.registered_user_id, COUNT(*) FROM asset_holder_balances b
JOIN assets a ON a.uuid = b.asset_uuid
JOIN registered_user_gaids g ON g.gaid = b.gaid AND g.issuer_id = a.issuer_id
WHERE b.owner = 'wallet' AND b.amount > 0
GROUP BY b.asset_uuid, g.registered_user_id;

INSERT INTO issuer_aggregates (issuer_id, registered_users)
SELECT i.id, (SELECT COUNT(*) FROM registered_users u WHERE u.issuer_id = i.id) FROM issuers i;

CREATE TRIGGER asset_outputs_aggregates_insert AFTER INSERT ON asset_outputs BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT NEW.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = NEW.asset_uuid);
    UPDATE asset_aggregates SET
        issued = issued + (1) * (CASE WHEN NEW.is_token = 0 THEN NEW.amount ELSE 0 END)
            * ((CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.txid) = 'issuance' THEN 1 ELSE 0 END)
               - (CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.spent_txid) = 'issuance' THEN 1 ELSE 0 END)),
        reissued = reissued + (1) * (CASE WHEN NEW.is_token = 0 THEN NEW.amount ELSE 0 END)
            * ((CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.txid) = 'reissuance' THEN 1 ELSE 0 END)
               - (CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.spent_txid) = 'reissuance' THEN 1 ELSE 0 END)),
        distributed = distributed + (1) * (CASE WHEN NEW.is_token = 0 AND NEW.owner = 'wallet'
            AND (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.txid) = 'distribution' THEN NEW.amount ELSE 0 END),
        burned = burned + (1) * (CASE WHEN NEW.is_token = 0 AND NEW.owner = 'burn'
            THEN NEW.amount ELSE 0 END),
        blacklisted = blacklisted + (1) * (CASE WHEN NEW.is_token = 0 AND NEW.owner <> 'burn'
            AND NEW.spent_txid IS NULL AND NEW.is_blacklisted = 1 THEN NEW.amount ELSE 0 END),
        reissuance_tokens = reissuance_tokens + (1) * (CASE WHEN NEW.is_token = 1
            AND NEW.owner <> 'burn' AND NEW.spent_txid IS NULL THEN NEW.amount ELSE 0 END)
    WHERE asset_uuid = NEW.asset_uuid;
    INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
        SELECT NEW.asset_uuid, NEW.owner, COALESCE(NEW.gaid, ''), 0 WHERE NEW.is_token = 0 AND NEW.owner <> 'burn' AND NEW.spent_height IS NULL
        AND NOT EXISTS (SELECT 1 FROM asset_holder_balances WHERE asset_uuid = NEW.asset_uuid
            AND owner = NEW.owner AND gaid = COALESCE(NEW.gaid, ''));
    UPDATE asset_holder_balances SET amount = amount + (1) * NEW.amount
    WHERE NEW.is_token = 0 AND NEW.owner <> 'burn' AND NEW.spent_height IS NULL AND asset_uuid = NEW.asset_uuid AND owner = NEW.owner
        AND gaid = COALESCE(NEW.gaid, '');
END;

CREATE TRIGGER asset_outputs_aggregates_delete AFTER DELETE ON asset_outputs BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT OLD.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = OLD.asset_uuid);
    UPDATE asset_aggregates SET
        issued = issued + (-1) * (CASE WHEN OLD.is_token = 0 THEN OLD.amount ELSE 0 END)
            * ((CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.txid) = 'issuance' THEN 1 ELSE 0 END)
               - (CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.spent_txid) = 'issuance' THEN 1 ELSE 0 END)),
        reissued = reissued + (-1) * (CASE WHEN OLD.is_token = 0 THEN OLD.amount ELSE 0 END)
            * ((CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.txid) = 'reissuance' THEN 1 ELSE 0 END)
               - (CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.spent_txid) = 'reissuance' THEN 1 ELSE 0 END)),
        distributed = distributed + (-1) * (CASE WHEN OLD.is_token = 0 AND OLD.owner = 'wallet'
            AND (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.txid) = 'distribution' THEN OLD.amount ELSE 0 END),
        burned = burned + (-1) * (CASE WHEN OLD.is_token = 0 AND OLD.owner = 'burn'
            THEN OLD.amount ELSE 0 END),
        blacklisted = blacklisted + (-1) * (CASE WHEN OLD.is_token = 0 AND OLD.owner <> 'burn'
            AND OLD.spent_txid IS NULL AND OLD.is_blacklisted = 1 THEN OLD.amount ELSE 0 END),
        reissuance_tokens = reissuance_tokens + (-1) * (CASE WHEN OLD.is_token = 1
            AND OLD.owner <> 'burn' AND OLD.spent_txid IS NULL THEN OLD.amount ELSE 0 END)
    WHERE asset_uuid = OLD.asset_uuid;
    INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
        SELECT OLD.asset_uuid, OLD.owner, COALESCE(OLD.gaid, ''), 0 WHERE OLD.is_token = 0 AND OLD.owner <> 'burn' AND OLD.spent_height IS NULL
        AND NOT EXISTS (SELECT 1 FROM asset_holder_balances WHERE asset_uuid = OLD.asset_uuid
            AND owner = OLD.owner AND gaid = COALESCE(OLD.gaid, ''));
    UPDATE asset_holder_balances SET amount = amount + (-1) * OLD.amount
    WHERE OLD.is_token = 0 AND OLD.owner <> 'burn' AND OLD.spent_height IS NULL AND asset_uuid = OLD.asset_uuid AND owner = OLD.owner
        AND gaid = COALESCE(OLD.gaid, '');
END;

CREATE TRIGGER asset_outputs_aggregates_update AFTER UPDATE OF asset_uuid, txid, amount, is_token, owner, gaid, spent_txid, spent_height, is_blacklisted
ON asset_outputs BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT OLD.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = OLD.asset_uuid);
    UPDATE asset_aggregates SET
        issued = issued + (-1) * (CASE WHEN OLD.is_token = 0 THEN OLD.amount ELSE 0 END)
            * ((CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.txid) = 'issuance' THEN 1 ELSE 0 END)
               - (CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.spent_txid) = 'issuance' THEN 1 ELSE 0 END)),
        reissued = reissued + (-1) * (CASE WHEN OLD.is_token = 0 THEN OLD.amount ELSE 0 END)
            * ((CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.txid) = 'reissuance' THEN 1 ELSE 0 END)
               - (CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.spent_txid) = 'reissuance' THEN 1 ELSE 0 END)),
        distributed = distributed + (-1) * (CASE WHEN OLD.is_token = 0 AND OLD.owner = 'wallet'
            AND (SELECT kind FROM asset_txs WHERE asset_uuid = OLD.asset_uuid AND txid = OLD.txid) = 'distribution' THEN OLD.amount ELSE 0 END),
        burned = burned + (-1) * (CASE WHEN OLD.is_token = 0 AND OLD.owner = 'burn'
            THEN OLD.amount ELSE 0 END),
        blacklisted = blacklisted + (-1) * (CASE WHEN OLD.is_token = 0 AND OLD.owner <> 'burn'
            AND OLD.spent_txid IS NULL AND OLD.is_blacklisted = 1 THEN OLD.amount ELSE 0 END),
        reissuance_tokens = reissuance_tokens + (-1) * (CASE WHEN OLD.is_token = 1
            AND OLD.owner <> 'burn' AND OLD.spent_txid IS NULL THEN OLD.amount ELSE 0 END)
    WHERE asset_uuid = OLD.asset_uuid;
    INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
        SELECT OLD.asset_uuid, OLD.owner, COALESCE(OLD.gaid, ''), 0 WHERE OLD.is_token = 0 AND OLD.owner <> 'burn' AND OLD.spent_height IS NULL
        AND NOT EXISTS (SELECT 1 FROM asset_holder_balances WHERE asset_uuid = OLD.asset_uuid
            AND owner = OLD.owner AND gaid = COALESCE(OLD.gaid, ''));
    UPDATE asset_holder_balances SET amount = amount + (-1) * OLD.amount
    WHERE OLD.is_token = 0 AND OLD.owner <> 'burn' AND OLD.spent_height IS NULL AND asset_uuid = OLD.asset_uuid AND owner = OLD.owner
        AND gaid = COALESCE(OLD.gaid, '');
    INSERT INTO asset_aggregates (asset_uuid) SELECT NEW.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = NEW.asset_uuid);
    UPDATE asset_aggregates SET
        issued = issued + (1) * (CASE WHEN NEW.is_token = 0 THEN NEW.amount ELSE 0 END)
            * ((CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.txid) = 'issuance' THEN 1 ELSE 0 END)
               - (CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.spent_txid) = 'issuance' THEN 1 ELSE 0 END)),
        reissued = reissued + (1) * (CASE WHEN NEW.is_token = 0 THEN NEW.amount ELSE 0 END)
            * ((CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.txid) = 'reissuance' THEN 1 ELSE 0 END)
               - (CASE WHEN (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.spent_txid) = 'reissuance' THEN 1 ELSE 0 END)),
        distributed = distributed + (1) * (CASE WHEN NEW.is_token = 0 AND NEW.owner = 'wallet'
            AND (SELECT kind FROM asset_txs WHERE asset_uuid = NEW.asset_uuid AND txid = NEW.txid) = 'distribution' THEN NEW.amount ELSE 0 END),
        burned = burned + (1) * (CASE WHEN NEW.is_token = 0 AND NEW.owner = 'burn'
            THEN NEW.amount ELSE 0 END),
        blacklisted = blacklisted + (1) * (CASE WHEN NEW.is_token = 0 AND NEW.owner <> 'burn'
            AND NEW.spent_txid IS NULL AND NEW.is_blacklisted = 1 THEN NEW.amount ELSE 0 END),
        reissuance_tokens = reissuance_tokens + (1) * (CASE WHEN NEW.is_token = 1
            AND NEW.owner <> 'burn' AND NEW.spent_txid IS NULL THEN NEW.amount ELSE 0 END)
    WHERE asset_uuid = NEW.asset_uuid;
    INSERT INTO asset_holder_balances (asset_uuid, owner, gaid, amount)
        SELECT NEW.asset_uuid, NEW.owner, COALESCE(NEW.gaid, ''), 0 WHERE NEW.is_token = 0 AND NEW.owner <> 'burn' AND NEW.spent_height IS NULL
        AND NOT EXISTS (SELECT 1 FROM asset_holder_balances WHERE asset_uuid = NEW.asset_uuid
            AND owner = NEW.owner AND gaid = COALESCE(NEW.gaid, ''));
    UPDATE asset_holder_balances SET amount = amount + (1) * NEW.amount
    WHERE NEW.is_token = 0 AND NEW.owner <> 'burn' AND NEW.spent_height IS NULL AND asset_uuid = NEW.asset_uuid AND owner = NEW.owner
        AND gaid = COALESCE(NEW.gaid, '');
END;

CREATE TRIGGER asset_txs_aggregates_insert AFTER INSERT ON asset_txs BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT NEW.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = NEW.asset_uuid);
    UPDATE asset_aggregates SET
        issued = issued + (1) * (CASE WHEN NEW.kind = 'issuance'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = NEW.txid AND asset_uuid = NEW.asset_uuid AND is_token = 0) - (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE asset_uuid = NEW.asset_uuid AND is_token = 0 AND spent_txid = NEW.txid) ELSE 0 END),
        reissued = reissued + (1) * (CASE WHEN NEW.kind = 'reissuance'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = NEW.txid AND asset_uuid = NEW.asset_uuid AND is_token = 0) - (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE asset_uuid = NEW.asset_uuid AND is_token = 0 AND spent_txid = NEW.txid) ELSE 0 END),
        distributed = distributed + (1) * (CASE WHEN NEW.kind = 'distribution'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = NEW.txid AND asset_uuid = NEW.asset_uuid AND is_token = 0 AND owner = 'wallet') ELSE 0 END)
    WHERE asset_uuid = NEW.asset_uuid AND NEW.kind IN ('issuance', 'reissuance', 'distribution');
END;

CREATE TRIGGER asset_txs_aggregates_delete AFTER DELETE ON asset_txs BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT OLD.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = OLD.asset_uuid);
    UPDATE asset_aggregates SET
        issued = issued + (-1) * (CASE WHEN OLD.kind = 'issuance'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = OLD.txid AND asset_uuid = OLD.asset_uuid AND is_token = 0) - (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE asset_uuid = OLD.asset_uuid AND is_token = 0 AND spent_txid = OLD.txid) ELSE 0 END),
        reissued = reissued + (-1) * (CASE WHEN OLD.kind = 'reissuance'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = OLD.txid AND asset_uuid = OLD.asset_uuid AND is_token = 0) - (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE asset_uuid = OLD.asset_uuid AND is_token = 0 AND spent_txid = OLD.txid) ELSE 0 END),
        distributed = distributed + (-1) * (CASE WHEN OLD.kind = 'distribution'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = OLD.txid AND asset_uuid = OLD.asset_uuid AND is_token = 0 AND owner = 'wallet') ELSE 0 END)
    WHERE asset_uuid = OLD.asset_uuid AND OLD.kind IN ('issuance', 'reissuance', 'distribution');
END;

CREATE TRIGGER asset_txs_aggregates_update AFTER UPDATE OF asset_uuid, txid, kind ON asset_txs
WHEN OLD.kind IS NOT NEW.kind OR OLD.txid IS NOT NEW.txid OR OLD.asset_uuid IS NOT NEW.asset_uuid
BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT OLD.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = OLD.asset_uuid);
    UPDATE asset_aggregates SET
        issued = issued + (-1) * (CASE WHEN OLD.kind = 'issuance'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = OLD.txid AND asset_uuid = OLD.asset_uuid AND is_token = 0) - (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE asset_uuid = OLD.asset_uuid AND is_token = 0 AND spent_txid = OLD.txid) ELSE 0 END),
        reissued = reissued + (-1) * (CASE WHEN OLD.kind = 'reissuance'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = OLD.txid AND asset_uuid = OLD.asset_uuid AND is_token = 0) - (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE asset_uuid = OLD.asset_uuid AND is_token = 0 AND spent_txid = OLD.txid) ELSE 0 END),
        distributed = distributed + (-1) * (CASE WHEN OLD.kind = 'distribution'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = OLD.txid AND asset_uuid = OLD.asset_uuid AND is_token = 0 AND owner = 'wallet') ELSE 0 END)
    WHERE asset_uuid = OLD.asset_uuid AND OLD.kind IN ('issuance', 'reissuance', 'distribution');
    INSERT INTO asset_aggregates (asset_uuid) SELECT NEW.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = NEW.asset_uuid);
    UPDATE asset_aggregates SET
        issued = issued + (1) * (CASE WHEN NEW.kind = 'issuance'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = NEW.txid AND asset_uuid = NEW.asset_uuid AND is_token = 0) - (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE asset_uuid = NEW.asset_uuid AND is_token = 0 AND spent_txid = NEW.txid) ELSE 0 END),
        reissued = reissued + (1) * (CASE WHEN NEW.kind = 'reissuance'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = NEW.txid AND asset_uuid = NEW.asset_uuid AND is_token = 0) - (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE asset_uuid = NEW.asset_uuid AND is_token = 0 AND spent_txid = NEW.txid) ELSE 0 END),
        distributed = distributed + (1) * (CASE WHEN NEW.kind = 'distribution'
            THEN (SELECT COALESCE(SUM(amount), 0) FROM asset_outputs WHERE txid = NEW.txid AND asset_uuid = NEW.asset_uuid AND is_token = 0 AND owner = 'wallet') ELSE 0 END)
    WHERE asset_uuid = NEW.asset_uuid AND NEW.kind IN ('issuance', 'reissuance', 'distribution');
END;

-- Active GAIDs: wallet balances going from zero to positive and back.
-- Active GAIDs and registered users: wallet balances going from zero to positive and back.
CREATE TRIGGER asset_holder_balances_active_insert AFTER INSERT ON asset_holder_balances
WHEN NEW.owner = 'wallet' AND NEW.amount > 0 BEGIN
    UPDATE asset_aggregates SET active_gaids = active_gaids + 1 WHERE asset_uuid = NEW.asset_uuid;
    INSERT INTO asset_user_active_gaids (asset_uuid, registered_user_id, gaids)
        SELECT NEW.asset_uuid, g.registered_user_id, 0 FROM registered_user_gaids g
        WHERE g.gaid = NEW.gaid AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = NEW.asset_uuid)
        AND NOT EXISTS (SELECT 1 FROM asset_user_active_gaids x
            WHERE x.asset_uuid = NEW.asset_uuid AND x.registered_user_id = g.registered_user_id);
    UPDATE asset_user_active_gaids SET gaids = gaids + (1)
    WHERE asset_uuid = NEW.asset_uuid AND registered_user_id IN (SELECT g.registered_user_id
        FROM registered_user_gaids g WHERE g.gaid = NEW.gaid AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = NEW.asset_uuid));
END;

CREATE TRIGGER asset_holder_balances_active_delete AFTER DELETE ON asset_holder_balances
WHEN OLD.owner = 'wallet' AND OLD.amount > 0 BEGIN
    UPDATE asset_aggregates SET active_gaids = active_gaids - 1 WHERE asset_uuid = OLD.asset_uuid;
    UPDATE asset_user_active_gaids SET gaids = gaids + (-1)
    WHERE asset_uuid = OLD.asset_uuid AND registered_user_id IN (SELECT g.registered_user_id
        FROM registered_user_gaids g WHERE g.gaid = OLD.gaid AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = OLD.asset_uuid));
END;

CREATE TRIGGER asset_holder_balances_active_up AFTER UPDATE OF amount ON asset_holder_balances
WHEN NEW.owner = 'wallet' AND OLD.amount <= 0 AND NEW.amount > 0 BEGIN
    UPDATE asset_aggregates SET active_gaids = active_gaids + 1 WHERE asset_uuid = NEW.asset_uuid;
    INSERT INTO asset_user_active_gaids (asset_uuid, registered_user_id, gaids)
        SELECT NEW.asset_uuid, g.registered_user_id, 0 FROM registered_user_gaids g
        WHERE g.gaid = NEW.gaid AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = NEW.asset_uuid)
        AND NOT EXISTS (SELECT 1 FROM asset_user_active_gaids x
            WHERE x.asset_uuid = NEW.asset_uuid AND x.registered_user_id = g.registered_user_id);
    UPDATE asset_user_active_gaids SET gaids = gaids + (1)
    WHERE asset_uuid = NEW.asset_uuid AND registered_user_id IN (SELECT g.registered_user_id
        FROM registered_user_gaids g WHERE g.gaid = NEW.gaid AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = NEW.asset_uuid));
END;

CREATE TRIGGER asset_holder_balances_active_down AFTER UPDATE OF amount ON asset_holder_balances
WHEN NEW.owner = 'wallet' AND OLD.amount > 0 AND NEW.amount <= 0 BEGIN
    UPDATE asset_aggregates SET active_gaids = active_gaids - 1 WHERE asset_uuid = NEW.asset_uuid;
    UPDATE asset_user_active_gaids SET gaids = gaids + (-1)
    WHERE asset_uuid = NEW.asset_uuid AND registered_user_id IN (SELECT g.registered_user_id
        FROM registered_user_gaids g WHERE g.gaid = NEW.gaid AND g.issuer_id = (SELECT issuer_id FROM assets WHERE uuid = NEW.asset_uuid));
END;

CREATE TRIGGER asset_user_active_gaids_insert AFTER INSERT ON asset_user_active_gaids
WHEN NEW.gaids > 0 BEGIN
    UPDATE asset_aggregates SET active_users = active_users + 1 WHERE asset_uuid = NEW.asset_uuid;
END;

CREATE TRIGGER asset_user_active_gaids_delete AFTER DELETE ON asset_user_active_gaids
WHEN OLD.gaids > 0 BEGIN
    UPDATE asset_aggregates SET active_users = active_users - 1 WHERE asset_uuid = OLD.asset_uuid;
END;

CREATE TRIGGER asset_user_active_gaids_update AFTER UPDATE OF gaids ON asset_user_active_gaids
WHEN (OLD.gaids > 0) <> (NEW.gaids > 0) BEGIN
    UPDATE asset_aggregates SET active_users = active_users
        + (CASE WHEN NEW.gaids > 0 THEN 1 ELSE -1 END) WHERE asset_uuid = NEW.asset_uuid;
END;

-- A GAID linked to (or unlinked from) a registered user counts in every asset of the issuer
-- where it holds a positive balance.
CREATE TRIGGER registered_user_gaids_active_insert AFTER INSERT ON registered_user_gaids BEGIN
    INSERT INTO asset_user_active_gaids (asset_uuid, registered_user_id, gaids)
        SELECT h.asset_uuid, NEW.registered_user_id, 0 FROM (SELECT b.asset_uuid FROM asset_holder_balances b JOIN assets a ON a.uuid = b.asset_uuid
        WHERE b.gaid = NEW.gaid AND b.owner = 'wallet' AND b.amount > 0 AND a.issuer_id = NEW.issuer_id) h
        WHERE NOT EXISTS (SELECT 1 FROM asset_user_active_gaids x
            WHERE x.asset_uuid = h.asset_uuid AND x.registered_user_id = NEW.registered_user_id);
    UPDATE asset_user_active_gaids SET gaids = gaids + (1)
    WHERE registered_user_id = NEW.registered_user_id AND asset_uuid IN (SELECT b.asset_uuid FROM asset_holder_balances b JOIN assets a ON a.uuid = b.asset_uuid
        WHERE b.gaid = NEW.gaid AND b.owner = 'wallet' AND b.amount > 0 AND a.issuer_id = NEW.issuer_id);
END;

CREATE TRIGGER registered_user_gaids_active_delete AFTER DELETE ON registered_user_gaids BEGIN
    UPDATE asset_user_active_gaids SET gaids = gaids + (-1)
    WHERE registered_user_id = OLD.registered_user_id AND asset_uuid IN (SELECT b.asset_uuid FROM asset_holder_balances b JOIN assets a ON a.uuid = b.asset_uuid
        WHERE b.gaid = OLD.gaid AND b.owner = 'wallet' AND b.amount > 0 AND a.issuer_id = OLD.issuer_id);
END;

CREATE TRIGGER registered_user_gaids_active_update AFTER UPDATE OF registered_user_id, issuer_id,
gaid ON registered_user_gaids BEGIN
    UPDATE asset_user_active_gaids SET gaids = gaids + (-1)
    WHERE registered_user_id = OLD.registered_user_id AND asset_uuid IN (SELECT b.asset_uuid FROM asset_holder_balances b JOIN assets a ON a.uuid = b.asset_uuid
        WHERE b.gaid = OLD.gaid AND b.owner = 'wallet' AND b.amount > 0 AND a.issuer_id = OLD.issuer_id);
    INSERT INTO asset_user_active_gaids (asset_uuid, registered_user_id, gaids)
        SELECT h.asset_uuid, NEW.registered_user_id, 0 FROM (SELECT b.asset_uuid FROM asset_holder_balances b JOIN assets a ON a.uuid = b.asset_uuid
        WHERE b.gaid = NEW.gaid AND b.owner = 'wallet' AND b.amount > 0 AND a.issuer_id = NEW.issuer_id) h
        WHERE NOT EXISTS (SELECT 1 FROM asset_user_active_gaids x
            WHERE x.asset_uuid = h.asset_uuid AND x.registered_user_id = NEW.registered_user_id);
    UPDATE asset_user_active_gaids SET gaids = gaids + (1)
    WHERE registered_user_id = NEW.registered_user_id AND asset_uuid IN (SELECT b.asset_uuid FROM asset_holder_balances b JOIN assets a ON a.uuid = b.asset_uuid
        WHERE b.gaid = NEW.gaid AND b.owner = 'wallet' AND b.amount > 0 AND a.issuer_id = NEW.issuer_id);
END;

CREATE TRIGGER registered_users_count_insert AFTER INSERT ON registered_users BEGIN
    INSERT INTO issuer_aggregates (issuer_id) SELECT NEW.issuer_id
        WHERE NOT EXISTS (SELECT 1 FROM issuer_aggregates WHERE issuer_id = NEW.issuer_id);
    UPDATE issuer_aggregates SET registered_users = registered_users + (1)
    WHERE issuer_id = NEW.issuer_id;
END;

CREATE TRIGGER registered_users_count_delete AFTER DELETE ON registered_users BEGIN
    UPDATE issuer_aggregates SET registered_users = registered_users + (-1)
    WHERE issuer_id = OLD.issuer_id;
END;

CREATE TRIGGER registered_users_count_update AFTER UPDATE OF issuer_id ON registered_users BEGIN
    UPDATE issuer_aggregates SET registered_users = registered_users + (-1)
    WHERE issuer_id = OLD.issuer_id;
    INSERT INTO issuer_aggregates (issuer_id) SELECT NEW.issuer_id
        WHERE NOT EXISTS (SELECT 1 FROM issuer_aggregates WHERE issuer_id = NEW.issuer_id);
    UPDATE issuer_aggregates SET registered_users = registered_users + (1)
    WHERE issuer_id = NEW.issuer_id;
END;

CREATE TRIGGER assignments_aggregates_insert AFTER INSERT ON assignments BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT NEW.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = NEW.asset_uuid);
    UPDATE asset_aggregates SET
        assigned = assigned + (1) * (CASE WHEN NEW.deleted_at IS NULL THEN NEW.amount ELSE 0 END),
        assigned_distributed = assigned_distributed + (1) * (CASE WHEN NEW.deleted_at IS NULL
            AND NEW.is_distributed = 1 THEN NEW.amount ELSE 0 END)
    WHERE asset_uuid = NEW.asset_uuid;
END;

CREATE TRIGGER assignments_aggregates_delete AFTER DELETE ON assignments BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT OLD.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = OLD.asset_uuid);
    UPDATE asset_aggregates SET
        assigned = assigned + (-1) * (CASE WHEN OLD.deleted_at IS NULL THEN OLD.amount ELSE 0 END),
        assigned_distributed = assigned_distributed + (-1) * (CASE WHEN OLD.deleted_at IS NULL
            AND OLD.is_distributed = 1 THEN OLD.amount ELSE 0 END)
    WHERE asset_uuid = OLD.asset_uuid;
END;

CREATE TRIGGER assignments_aggregates_update AFTER UPDATE OF asset_uuid, amount, is_distributed,
deleted_at ON assignments BEGIN
    INSERT INTO asset_aggregates (asset_uuid) SELECT OLD.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = OLD.asset_uuid);
    UPDATE asset_aggregates SET
        assigned = assigned + (-1) * (CASE WHEN OLD.deleted_at IS NULL THEN OLD.amount ELSE 0 END),
        assigned_distributed = assigned_distributed + (-1) * (CASE WHEN OLD.deleted_at IS NULL
            AND OLD.is_distributed = 1 THEN OLD.amount ELSE 0 END)
    WHERE asset_uuid = OLD.asset_uuid;
    INSERT INTO asset_aggregates (asset_uuid) SELECT NEW.asset_uuid
        WHERE NOT EXISTS (SELECT 1 FROM asset_aggregates WHERE asset_uuid = NEW.asset_uuid);
    UPDATE asset_aggregates SET
        assigned = assigned + (1) * (CASE WHEN NEW.deleted_at IS NULL THEN NEW.amount ELSE 0 END),
        assigned_distributed = assigned_distributed + (1) * (CASE WHEN NEW.deleted_at IS NULL
            AND NEW.is_distributed = 1 THEN NEW.amount ELSE 0 END)
    WHERE asset_uuid = NEW.asset_uuid;
END;
