//! Distributions: the payment of ready assignments from the treasury, in one or more
//! transactions (batches).
//!
//! A distribution is recorded before anything is paid (status `UNCONFIRMED`): its assignments get
//! its uuid, a batch number, the GAID and the receiving address they are paid to. Each paying
//! transaction is recorded once, with the outputs it created, by whichever comes first: the
//! confirm call or the chain follower ([`Store::record_distribution_batch`], idempotent). When
//! every batch is paid the distribution is `CONFIRMED` and its assignments are distributed.

use std::collections::BTreeMap;

use amphora_core::event::{DistributionCancelled, DistributionCreated, EventData};
use chrono::{DateTime, Utc};

use crate::assignments::{begin_asset_lock, Assignment, ASSIGNMENT_COLUMNS, TREASURY_BALANCE};
use crate::events::{insert_event, NewEvent};
use crate::payments::PaymentTables;
use crate::{with_pool, Conflict, NewAssetOutput, PaymentKind, Result, Store, StoreError};

/// Where a distribution stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistributionStatus {
    /// Created; not every batch is paid by a confirmed transaction yet.
    Unconfirmed,
    /// Every batch is paid.
    Confirmed,
    /// Cancelled before any payment; its assignments were released.
    Cancelled,
}

impl DistributionStatus {
    /// The stored (and wire) name.
    pub fn as_str(self) -> &'static str {
        match self {
            DistributionStatus::Unconfirmed => "UNCONFIRMED",
            DistributionStatus::Confirmed => "CONFIRMED",
            DistributionStatus::Cancelled => "CANCELLED",
        }
    }

    pub(crate) fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "UNCONFIRMED" => DistributionStatus::Unconfirmed,
            "CONFIRMED" => DistributionStatus::Confirmed,
            "CANCELLED" => DistributionStatus::Cancelled,
            other => {
                return Err(StoreError::Database(sqlx::Error::Decode(
                    format!("unknown distribution status {other:?}").into(),
                )))
            }
        })
    }
}

/// A transaction that paid one batch of a distribution.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DistributionTx {
    /// The batch it paid.
    pub batch: i64,
    /// Transaction id.
    pub txid: String,
    /// Height of its block.
    pub included_blockheight: i64,
    /// Its block's time.
    pub confirmed_at: DateTime<Utc>,
    /// `confirm` (the confirm call) or `follower` (found on chain).
    pub recorded_by: String,
}

/// A distribution with its paying transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// Id, increasing with time.
    pub id: i64,
    /// UUID (the API's `distribution_uuid`).
    pub uuid: String,
    /// Owning issuer.
    pub issuer_id: i64,
    /// The asset.
    pub asset_uuid: String,
    /// Status.
    pub status: DistributionStatus,
    /// Number of transactions that pay it.
    pub batches: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its last batch was recorded.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The recorded transactions, by batch.
    pub transactions: Vec<DistributionTx>,
}

#[derive(sqlx::FromRow)]
struct DistributionRow {
    id: i64,
    uuid: String,
    issuer_id: i64,
    asset_uuid: String,
    status: String,
    batches: i64,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
}

const DISTRIBUTION_COLUMNS: &str =
    "id, uuid, issuer_id, asset_uuid, status, batches, created_at, confirmed_at";

/// An assignment a new distribution may pay, with its user's default GAID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibleAssignment {
    /// The assignment.
    pub assignment: Assignment,
    /// The registered user's default GAID now.
    pub default_gaid: Option<String>,
}

/// One assignment of a new distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionItem {
    /// The assignment.
    pub assignment_id: i64,
    /// The GAID it is paid to.
    pub gaid: String,
    /// A fresh confidential address of that GAID's wallet.
    pub receiving_address: String,
    /// The address's scriptPubKey (hex).
    pub script_pubkey: String,
    /// The transaction (0-based) that pays it.
    pub batch: i64,
}

/// A distribution to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDistribution {
    /// UUID.
    pub uuid: String,
    /// Owning issuer.
    pub issuer_id: i64,
    /// The asset.
    pub asset_uuid: String,
    /// Number of batches.
    pub batches: i64,
    /// What it pays.
    pub items: Vec<DistributionItem>,
}

/// A verified transaction paying one or more batches of a distribution (or a payout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidBatch {
    /// The distribution (or payout) it pays.
    pub uuid: String,
    /// The batches it pays (usually one).
    pub batches: Vec<i64>,
    /// Transaction id.
    pub txid: String,
    /// Height of its block.
    pub height: i64,
    /// Its block's time (unix seconds).
    pub block_time: i64,
    /// `confirm` or `follower`.
    pub recorded_by: String,
    /// The output paying each assignment of those batches: (assignment id, vout).
    pub payments: Vec<(i64, i64)>,
    /// Outputs to record in the chain index (recipients' wallets, treasury change).
    pub outputs: Vec<NewAssetOutput>,
}

/// What [`Store::record_distribution_batch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchRecorded {
    /// Recorded now; `confirmed` when it was the last unpaid batch.
    Recorded {
        /// The distribution is now confirmed.
        confirmed: bool,
    },
    /// The same transaction was already recorded for this batch: nothing changed.
    AlreadyRecorded,
}

/// An unpaid batch of an unconfirmed distribution, for the chain follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingBatch {
    /// The distribution.
    pub distribution_uuid: String,
    /// The asset.
    pub asset_uuid: String,
    /// The batch.
    pub batch: i64,
    /// Its assignments (receiving address, script, GAID and amount set).
    pub assignments: Vec<Assignment>,
}

/// The distribution tables, for what distributions and payouts share.
pub(crate) const DISTRIBUTION_TABLES: PaymentTables = PaymentTables {
    kind: PaymentKind::Distribution,
    parent: "distributions",
    asset_column: "asset_uuid",
    transactions: "distribution_transactions",
    lines: "assignments",
    key: "distribution_uuid",
    line_paid: ", is_distributed = TRUE",
    confirmed_event: EventData::DistributionConfirmed,
    cancelled_event: Some(cancelled_event),
};

fn cancelled_event(distribution_uuid: String) -> EventData {
    EventData::DistributionCancelled(DistributionCancelled { distribution_uuid })
}

impl Store {
    /// Assignments the next distribution pays: ready, unlocked, vested at `now`, in no
    /// distribution, not distributed nor deleted; by id.
    pub async fn eligible_assignments(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<EligibleAssignment>> {
        let columns = ASSIGNMENT_COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, u.default_gaid FROM assignments a \
             JOIN registered_users u ON u.id = a.registered_user_id \
             WHERE a.issuer_id = $1 AND a.asset_uuid = $2 AND a.deleted_at IS NULL \
             AND a.is_distributed = FALSE AND a.distribution_uuid IS NULL \
             AND a.ready_for_distribution = TRUE AND a.is_locked = FALSE \
             AND (a.vesting_timestamp IS NULL OR a.vesting_timestamp <= $3) ORDER BY a.id"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            assignment: Assignment,
            default_gaid: Option<String>,
        }
        let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(asset_uuid)
            .bind(now.timestamp())
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| EligibleAssignment {
                assignment: r.assignment,
                default_gaid: r.default_gaid,
            })
            .collect())
    }

    /// Records a distribution and stamps its assignments, under the asset's lock. Fails with
    /// [`StoreError::Conflict`] (and changes nothing) when an assignment stopped being eligible
    /// meanwhile or the treasury's confirmed balance does not cover the total.
    pub async fn create_distribution(&self, new: &NewDistribution) -> Result<Distribution> {
        let now = Utc::now();
        with_pool!(self, |pool| {
            let mut tx = begin_asset_lock!(self, pool, &new.asset_uuid, new.issuer_id);
            sqlx::query(
                "INSERT INTO distributions (uuid, issuer_id, asset_uuid, status, batches, \
                 created_at) VALUES ($1, $2, $3, 'UNCONFIRMED', $4, $5)",
            )
            .bind(&new.uuid)
            .bind(new.issuer_id)
            .bind(&new.asset_uuid)
            .bind(new.batches)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let mut total: i64 = 0;
            for item in &new.items {
                let amount: Option<(i64,)> = sqlx::query_as(
                    "UPDATE assignments SET distribution_uuid = $1, batch = $2, gaid = $3, \
                     receiving_address = $4, script_pubkey = $5 \
                     WHERE id = $6 AND asset_uuid = $7 AND deleted_at IS NULL \
                     AND is_distributed = FALSE AND distribution_uuid IS NULL \
                     AND ready_for_distribution = TRUE AND is_locked = FALSE RETURNING amount",
                )
                .bind(&new.uuid)
                .bind(item.batch)
                .bind(&item.gaid)
                .bind(&item.receiving_address)
                .bind(&item.script_pubkey)
                .bind(item.assignment_id)
                .bind(&new.asset_uuid)
                .fetch_optional(&mut *tx)
                .await?;
                let (amount,) = amount.ok_or_else(|| {
                    StoreError::Conflict(Conflict::AssignmentChanged {
                        id: item.assignment_id,
                    })
                })?;
                total = total.saturating_add(amount);
            }
            let (treasury,): (i64,) = sqlx::query_as(TREASURY_BALANCE)
                .bind(&new.asset_uuid)
                .fetch_one(&mut *tx)
                .await?;
            if total > treasury {
                return Err(StoreError::Conflict(Conflict::InsufficientFunds {
                    kind: PaymentKind::Distribution,
                    pays: total,
                    balance: treasury,
                }));
            }
            let data = EventData::DistributionCreated(DistributionCreated {
                distribution_uuid: new.uuid.clone(),
                batches: new.batches,
                assignment_ids: new.items.iter().map(|i| i.assignment_id).collect(),
                amount: total,
            });
            let event = NewEvent::new(new.issuer_id, Some(&new.asset_uuid), data);
            insert_event!(self, tx, &event);
            tx.commit().await?;
        });
        self.events_written();
        self.distribution(new.issuer_id, &new.asset_uuid, &new.uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The asset's distributions that were not cancelled, oldest first, with their
    /// transactions.
    pub async fn distributions(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
    ) -> Result<Vec<Distribution>> {
        let sql = format!(
            "SELECT {DISTRIBUTION_COLUMNS} FROM distributions WHERE issuer_id = $1 \
             AND asset_uuid = $2 AND status <> 'CANCELLED' ORDER BY id"
        );
        let rows: Vec<DistributionRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?);
        let txs: Vec<(String, DistributionTxRow)> = with_pool!(self, |pool| {
            let rows: Vec<DistributionTxRow> = sqlx::query_as(
                "SELECT t.distribution_uuid, t.batch, t.txid, t.included_blockheight, \
                 t.confirmed_at, t.recorded_by FROM distribution_transactions t \
                 JOIN distributions d ON d.uuid = t.distribution_uuid \
                 WHERE d.issuer_id = $1 AND d.asset_uuid = $2 ORDER BY t.batch",
            )
            .bind(issuer_id)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|r| (r.distribution_uuid.clone(), r))
                .collect()
        });
        let mut by_uuid: BTreeMap<String, Vec<DistributionTx>> = BTreeMap::new();
        for (uuid, row) in txs {
            by_uuid.entry(uuid).or_default().push(row.into_tx());
        }
        rows.into_iter()
            .map(|row| {
                let txs = by_uuid.remove(&row.uuid).unwrap_or_default();
                row.into_distribution(txs)
            })
            .collect()
    }

    /// One distribution of the asset, whatever its status.
    pub async fn distribution(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        uuid: &str,
    ) -> Result<Option<Distribution>> {
        let sql = format!(
            "SELECT {DISTRIBUTION_COLUMNS} FROM distributions WHERE issuer_id = $1 \
             AND asset_uuid = $2 AND uuid = $3"
        );
        let row: Option<DistributionRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(asset_uuid)
            .bind(uuid)
            .fetch_optional(pool)
            .await?);
        let Some(row) = row else { return Ok(None) };
        let txs = self
            .payment_transactions(&DISTRIBUTION_TABLES, uuid)
            .await?;
        row.into_distribution(txs).map(Some)
    }

    /// The assignments a distribution pays (also after they were distributed), by batch then
    /// id.
    pub async fn distribution_assignments(&self, uuid: &str) -> Result<Vec<Assignment>> {
        let sql = format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE distribution_uuid = $1 \
             ORDER BY batch, id"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(uuid)
            .fetch_all(pool)
            .await?))
    }

    /// Cancels a distribution that no transaction has paid yet and releases its assignments
    /// (they become ready for the next distribution). [`StoreError::Conflict`] when it is
    /// confirmed, already cancelled, or partly paid.
    pub async fn cancel_distribution(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        uuid: &str,
    ) -> Result<Distribution> {
        self.cancel_payment(
            &DISTRIBUTION_TABLES,
            issuer_id,
            asset_uuid,
            uuid,
            Some(
                "UPDATE assignments SET distribution_uuid = NULL, batch = NULL, gaid = NULL, \
                 receiving_address = NULL, script_pubkey = NULL WHERE distribution_uuid = $1",
            ),
        )
        .await?;
        self.distribution(issuer_id, asset_uuid, uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Records a verified transaction paying one or more batches, in one database
    /// transaction: its outputs (already indexed ones keep their row; unknown blinders are
    /// filled), the batch rows, the paid assignments, the distribution's status, and the
    /// attribution of the transaction (its spends of tracked outputs are not lost; its index
    /// rows become kind `distribution`). Repeating it with the same transaction changes nothing
    /// ([`BatchRecorded::AlreadyRecorded`]); another transaction for a paid batch, or a
    /// cancelled distribution, is a [`StoreError::Conflict`].
    pub async fn record_distribution_batch(&self, paid: &PaidBatch) -> Result<BatchRecorded> {
        self.record_paid_batch(&DISTRIBUTION_TABLES, paid).await
    }

    /// The distribution batches a transaction paid, as recorded: (distribution uuid, batch).
    pub async fn distribution_batches_paid_by(&self, txid: &str) -> Result<Vec<(String, i64)>> {
        self.payment_batches_paid_by(&DISTRIBUTION_TABLES, txid)
            .await
    }

    /// The unpaid batches of unconfirmed distributions of `asset_uuid` with a recipient on one
    /// of `scripts` (hex scriptPubKeys): those a transaction with these outputs may pay, as
    /// [`Store::outstanding_distribution_batches`] gives them. The chain follower reads these
    /// for each transaction spending a treasury's outputs, not every outstanding assignment.
    pub async fn outstanding_distribution_batches_to(
        &self,
        asset_uuid: &str,
        scripts: &[String],
    ) -> Result<Vec<OutstandingBatch>> {
        let mut keys: std::collections::BTreeSet<(i64, String, i64)> = Default::default();
        for chunk in scripts.chunks(crate::chain::sources::IN_CHUNK) {
            let placeholders = (2..=chunk.len() + 1)
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT DISTINCT d.id, a.distribution_uuid, a.batch FROM assignments a \
                 JOIN distributions d ON d.uuid = a.distribution_uuid \
                 WHERE d.status = 'UNCONFIRMED' AND d.asset_uuid = $1 \
                 AND a.is_distributed = FALSE AND a.script_pubkey IN ({placeholders}) \
                 AND NOT EXISTS (SELECT 1 FROM distribution_transactions t \
                 WHERE t.distribution_uuid = d.uuid AND t.batch = a.batch)"
            );
            let rows: Vec<(i64, String, i64)> = with_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql).bind(asset_uuid);
                for script in chunk {
                    query = query.bind(script);
                }
                query.fetch_all(pool).await?
            });
            keys.extend(rows);
        }
        let sql = format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE distribution_uuid = $1 \
             AND batch = $2 AND is_distributed = FALSE ORDER BY id"
        );
        let mut batches = Vec::with_capacity(keys.len());
        for (_, uuid, batch) in keys {
            let assignments: Vec<Assignment> = with_pool!(self, |pool| sqlx::query_as(&sql)
                .bind(&uuid)
                .bind(batch)
                .fetch_all(pool)
                .await?);
            batches.push(OutstandingBatch {
                distribution_uuid: uuid,
                asset_uuid: asset_uuid.to_string(),
                batch,
                assignments,
            });
        }
        Ok(batches)
    }

    /// Every unpaid batch of every unconfirmed distribution (of one asset, or all), for the
    /// chain follower to recognise distributions paid without a confirm call.
    pub async fn outstanding_distribution_batches(
        &self,
        asset_uuid: Option<&str>,
    ) -> Result<Vec<OutstandingBatch>> {
        let columns = ASSIGNMENT_COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM assignments a JOIN distributions d \
             ON d.uuid = a.distribution_uuid WHERE d.status = 'UNCONFIRMED' \
             AND ($1 IS NULL OR d.asset_uuid = $1) AND a.is_distributed = FALSE \
             AND NOT EXISTS (SELECT 1 FROM distribution_transactions t \
             WHERE t.distribution_uuid = d.uuid AND t.batch = a.batch) \
             ORDER BY d.id, a.batch, a.id"
        );
        let rows: Vec<Assignment> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?);
        let mut batches: Vec<OutstandingBatch> = Vec::new();
        for assignment in rows {
            let uuid = assignment.distribution_uuid.clone().unwrap_or_default();
            let batch = assignment.batch.unwrap_or_default();
            match batches.last_mut() {
                Some(last) if last.distribution_uuid == uuid && last.batch == batch => {
                    last.assignments.push(assignment)
                }
                _ => batches.push(OutstandingBatch {
                    distribution_uuid: uuid,
                    asset_uuid: assignment.asset_uuid.clone(),
                    batch,
                    assignments: vec![assignment],
                }),
            }
        }
        Ok(batches)
    }
}

#[derive(sqlx::FromRow)]
struct DistributionTxRow {
    distribution_uuid: String,
    batch: i64,
    txid: String,
    included_blockheight: i64,
    confirmed_at: DateTime<Utc>,
    recorded_by: String,
}

impl DistributionTxRow {
    fn into_tx(self) -> DistributionTx {
        DistributionTx {
            batch: self.batch,
            txid: self.txid,
            included_blockheight: self.included_blockheight,
            confirmed_at: self.confirmed_at,
            recorded_by: self.recorded_by,
        }
    }
}

impl DistributionRow {
    fn into_distribution(self, transactions: Vec<DistributionTx>) -> Result<Distribution> {
        Ok(Distribution {
            id: self.id,
            status: DistributionStatus::parse(&self.status)?,
            uuid: self.uuid,
            issuer_id: self.issuer_id,
            asset_uuid: self.asset_uuid,
            batches: self.batches,
            created_at: self.created_at,
            confirmed_at: self.confirmed_at,
            transactions,
        })
    }
}
