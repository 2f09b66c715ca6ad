//! Assignments: amounts of an asset allocated to registered users, and the rules checked when
//! one is created (see `amphora_core::assignment`; the create itself is in
//! `assignment_create`).

use amphora_core::assignment::AssignmentInput;
use amphora_core::event::{AssignmentChange, EventData};
use chrono::{DateTime, Utc};

use crate::error::expect_found;
use crate::events::{insert_event, NewEvent};
use crate::{with_pool, Conflict, Engine, Result, Store, StoreError};

/// An assignment as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Assignment {
    /// Id (unique on the platform).
    pub id: i64,
    /// Owning issuer.
    pub issuer_id: i64,
    /// The asset.
    pub asset_uuid: String,
    /// The registered user it is for.
    pub registered_user_id: i64,
    /// Base units.
    pub amount: i64,
    /// Picked up by the next distribution (when unlocked and vested).
    pub ready_for_distribution: bool,
    /// Locked: excluded from distributions until unlocked.
    pub is_locked: bool,
    /// Unix seconds before which it is not distributed.
    pub vesting_timestamp: Option<i64>,
    /// The manager that created it; `None` when the issuer did.
    pub creator_manager_id: Option<i64>,
    /// The distribution that includes it.
    pub distribution_uuid: Option<String>,
    /// Which transaction of the distribution pays it (0-based).
    pub batch: Option<i64>,
    /// The GAID it is paid to (the user's default GAID when the distribution was created).
    pub gaid: Option<String>,
    /// The confidential address it is paid to.
    pub receiving_address: Option<String>,
    /// The address's scriptPubKey (hex).
    pub script_pubkey: Option<String>,
    /// The transaction that paid it.
    pub txid: Option<String>,
    /// The output that paid it.
    pub vout: Option<i64>,
    /// Paid by a confirmed transaction.
    pub is_distributed: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// The columns of [`Assignment`], in order.
pub(crate) const ASSIGNMENT_COLUMNS: &str = "id, issuer_id, asset_uuid, registered_user_id, \
     amount, ready_for_distribution, is_locked, vesting_timestamp, creator_manager_id, \
     distribution_uuid, batch, gaid, receiving_address, script_pubkey, txid, vout, \
     is_distributed, created_at";

/// A requested assignment, validated (`amphora_core::assignment::validate_assignment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssignment {
    /// Owning issuer.
    pub issuer_id: i64,
    /// The asset.
    pub asset_uuid: String,
    /// The fields asked for.
    pub input: AssignmentInput,
    /// The manager creating it; `None` for the issuer.
    pub creator_manager_id: Option<i64>,
}

/// Assignments that are neither deleted nor distributed, in SQL.
pub(crate) const OPEN: &str = "deleted_at IS NULL AND is_distributed = FALSE";

/// The data of `assignment.created` / `assignment.deleted`.
pub(crate) fn assignment_change(assignment: &Assignment) -> AssignmentChange {
    AssignmentChange {
        assignment_id: assignment.id,
        registered_user_id: assignment.registered_user_id,
        amount: assignment.amount,
        ready_for_distribution: assignment.ready_for_distribution,
        vesting_timestamp: assignment.vesting_timestamp,
    }
}

/// Begins a transaction on `$pool` (the pool of `$store`'s engine, bound by `with_pool!`) that
/// holds the lock of the live asset `$uuid` of issuer `$issuer_id` (see [`Store::lock_clause`]),
/// and evaluates to it; returns [`StoreError::NotFound`](crate::StoreError::NotFound) when the
/// issuer has no such asset. A macro because the transaction's type is the engine's.
macro_rules! begin_asset_lock {
    ($store:expr, $pool:expr, $uuid:expr, $issuer_id:expr) => {{
        let (begin, for_update) = $store.lock_clause();
        let mut tx = $pool.begin_with(begin).await?;
        let locked: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT uuid FROM assets WHERE uuid = $1 AND issuer_id = $2 \
             AND deleted_at IS NULL{for_update}"
        ))
        .bind($uuid)
        .bind($issuer_id)
        .fetch_optional(&mut *tx)
        .await?;
        locked.ok_or($crate::StoreError::NotFound)?;
        tx
    }};
}
pub(crate) use begin_asset_lock;

impl Store {
    /// How a transaction takes an asset's lock: the statement that begins it (`BEGIN
    /// IMMEDIATE` takes SQLite's write lock at once) and the clause appended to the `SELECT`
    /// of the asset row (`FOR UPDATE` on PostgreSQL). [`begin_asset_lock!`] takes the lock of
    /// the issuer's live asset row; other rows are locked with the same clause.
    pub(crate) fn lock_clause(&self) -> (&'static str, &'static str) {
        match self.engine() {
            Engine::Sqlite => ("BEGIN IMMEDIATE", ""),
            Engine::Postgres => ("BEGIN", " FOR UPDATE"),
        }
    }

    /// The asset's assignments that are not deleted, by id; `distributed` filters on
    /// `is_distributed`.
    pub async fn assignments(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        distributed: Option<bool>,
    ) -> Result<Vec<Assignment>> {
        let filter = match distributed {
            None => "",
            Some(true) => " AND is_distributed = TRUE",
            Some(false) => " AND is_distributed = FALSE",
        };
        let sql = format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE issuer_id = $1 \
             AND asset_uuid = $2 AND deleted_at IS NULL{filter} ORDER BY id"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?))
    }

    /// One assignment of the asset (not deleted).
    pub async fn assignment(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        id: i64,
    ) -> Result<Option<Assignment>> {
        let sql = format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE issuer_id = $1 \
             AND asset_uuid = $2 AND id = $3 AND deleted_at IS NULL"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(asset_uuid)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// Locks (excludes from distributions) or unlocks an assignment. One that is part of a
    /// distribution cannot change: [`StoreError::Conflict`].
    pub async fn set_assignment_locked(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        id: i64,
        locked: bool,
    ) -> Result<Assignment> {
        self.assignment_not_in_distribution(issuer_id, asset_uuid, id)
            .await?;
        let sql = format!(
            "UPDATE assignments SET is_locked = $4 WHERE issuer_id = $1 AND asset_uuid = $2 \
             AND id = $3 AND deleted_at IS NULL AND distribution_uuid IS NULL \
             RETURNING {ASSIGNMENT_COLUMNS}"
        );
        let row: Option<Assignment> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(asset_uuid)
            .bind(id)
            .bind(locked)
            .fetch_optional(pool)
            .await?);
        row.ok_or_else(|| in_distribution(id))
    }

    /// Deletes an assignment (soft: the row stays, hidden), emitting `assignment.deleted` in
    /// the same transaction. One that is part of a distribution cannot be deleted:
    /// [`StoreError::Conflict`].
    pub async fn delete_assignment(&self, issuer_id: i64, asset_uuid: &str, id: i64) -> Result<()> {
        let assignment = self
            .assignment_not_in_distribution(issuer_id, asset_uuid, id)
            .await?;
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let affected = sqlx::query(
                "UPDATE assignments SET deleted_at = $4 WHERE issuer_id = $1 AND asset_uuid = $2 \
                 AND id = $3 AND deleted_at IS NULL AND distribution_uuid IS NULL",
            )
            .bind(issuer_id)
            .bind(asset_uuid)
            .bind(id)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            expect_found(affected).map_err(|_| in_distribution(id))?;
            let event = NewEvent::new(
                issuer_id,
                Some(asset_uuid),
                EventData::AssignmentDeleted(assignment_change(&assignment)),
            );
            insert_event!(self, tx, &event);
            tx.commit().await?;
        });
        self.events_written();
        Ok(())
    }

    async fn assignment_not_in_distribution(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        id: i64,
    ) -> Result<Assignment> {
        let assignment = self
            .assignment(issuer_id, asset_uuid, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if assignment.distribution_uuid.is_some() {
            return Err(in_distribution(id));
        }
        Ok(assignment)
    }

    /// The treasury's confirmed balance of an asset: unspent, not lost treasury outputs of the
    /// asset (not its token) in indexed blocks. Blacklisted outputs still count.
    pub async fn treasury_confirmed_balance(&self, asset_uuid: &str) -> Result<i64> {
        let (balance,): (i64,) = with_pool!(self, |pool| sqlx::query_as(TREASURY_BALANCE)
            .bind(asset_uuid)
            .fetch_one(pool)
            .await?);
        Ok(balance)
    }
}

pub(crate) use crate::aggregates::TREASURY_BALANCE;

fn in_distribution(id: i64) -> StoreError {
    StoreError::Conflict(Conflict::AssignmentDistributed { id })
}

/// One asset's figures for a registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAssetSummary {
    /// The asset.
    pub asset_uuid: String,
    /// Its asset id (hex), once issued.
    pub asset_id: Option<String>,
    /// Sum of the user's assignments (not deleted), base units.
    pub assignments_sum: i64,
    /// Sum of the user's distributed assignments, base units.
    pub distributions_sum: i64,
    /// Unspent, not lost outputs of the asset held by the user's GAIDs, base units.
    pub balance: i64,
}

impl Store {
    /// Per-asset figures of a registered user of the issuer: every asset of the issuer in
    /// which the user has assignments or a balance, by asset uuid.
    pub async fn registered_user_summary(
        &self,
        issuer_id: i64,
        user_id: i64,
    ) -> Result<Vec<UserAssetSummary>> {
        let assigned: Vec<(String, i64, i64)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT asset_uuid, CAST(SUM(amount) AS BIGINT), \
             CAST(SUM(CASE WHEN is_distributed = TRUE THEN amount ELSE 0 END) AS BIGINT) \
             FROM assignments WHERE issuer_id = $1 AND registered_user_id = $2 \
             AND deleted_at IS NULL GROUP BY asset_uuid"
        )
        .bind(issuer_id)
        .bind(user_id)
        .fetch_all(pool)
        .await?);
        let held: Vec<(String, i64)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT o.asset_uuid, CAST(SUM(o.amount) AS BIGINT) FROM asset_outputs o \
             JOIN registered_user_gaids g ON g.gaid = o.gaid \
             JOIN assets a ON a.uuid = o.asset_uuid \
             WHERE g.registered_user_id = $2 AND a.issuer_id = $1 AND o.owner = 'wallet' \
             AND o.is_token = FALSE AND o.spent_txid IS NULL AND o.is_lost = FALSE \
             GROUP BY o.asset_uuid"
        )
        .bind(issuer_id)
        .bind(user_id)
        .fetch_all(pool)
        .await?);
        let mut by_asset: std::collections::BTreeMap<String, UserAssetSummary> =
            std::collections::BTreeMap::new();
        let blank = |uuid: &str| UserAssetSummary {
            asset_uuid: uuid.to_string(),
            asset_id: None,
            assignments_sum: 0,
            distributions_sum: 0,
            balance: 0,
        };
        for (uuid, sum, distributed) in assigned {
            let entry = by_asset.entry(uuid.clone()).or_insert_with(|| blank(&uuid));
            entry.assignments_sum = sum;
            entry.distributions_sum = distributed;
        }
        for (uuid, balance) in held {
            by_asset
                .entry(uuid.clone())
                .or_insert_with(|| blank(&uuid))
                .balance = balance;
        }
        for summary in by_asset.values_mut() {
            let id: Option<(Option<String>,)> = with_pool!(self, |pool| sqlx::query_as(
                "SELECT asset_id FROM assets WHERE uuid = $1"
            )
            .bind(&summary.asset_uuid)
            .fetch_optional(pool)
            .await?);
            summary.asset_id = id.and_then(|(id,)| id);
        }
        Ok(by_asset.into_values().collect())
    }
}
