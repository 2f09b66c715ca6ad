//! Payouts: a total amount of a payout asset shared among the registered users holding a
//! security at a record height, paid from the treasury in one or more transactions (batches).
//!
//! A payout is recorded before anything is paid (status `UNCONFIRMED`) with one line per
//! eligible holder: its holding, its share and, when the share is positive, the GAID, receiving
//! address and batch that pay it. Each paying transaction is recorded once by whichever comes
//! first, the confirm call or the chain follower ([`Store::record_payout_batch`], idempotent,
//! written once for distributions and payouts in [`crate::payments`]).

use amphora_core::event::EventData;
use chrono::{DateTime, Utc};

use crate::assignments::{begin_asset_lock, TREASURY_BALANCE};
use crate::distributions::{BatchRecorded, DistributionStatus, DistributionTx, PaidBatch};
use crate::payments::PaymentTables;
use crate::{with_pool, Conflict, PaymentKind, Result, Store, StoreError};

/// The payout tables, for what distributions and payouts share.
const PAYOUT_TABLES: PaymentTables = PaymentTables {
    kind: PaymentKind::Payout,
    parent: "payouts",
    asset_column: "payout_asset_uuid",
    transactions: "payout_transactions",
    lines: "payout_lines",
    key: "payout_uuid",
    line_paid: "",
    confirmed_event: EventData::PayoutConfirmed,
    cancelled_event: None,
};

/// A payout with its paying transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    /// Id, increasing with time.
    pub id: i64,
    /// UUID (the API's `payout_id`).
    pub uuid: String,
    /// Owning issuer.
    pub issuer_id: i64,
    /// The security whose holders are paid.
    pub asset_uuid: String,
    /// The asset paid (hex asset id).
    pub payout_asset_id: String,
    /// The platform's asset with that id, when the platform tracks it.
    pub payout_asset_uuid: Option<String>,
    /// Base units of the payout asset shared among the holders.
    pub total_amount: i64,
    /// The height whose holdings count.
    pub record_height: i64,
    /// Free text.
    pub description: String,
    /// Units of the security the treasury held at the record height (not paid).
    pub treasury_holding: i64,
    /// Units held by wallets of no registered user at the record height (not paid).
    pub unregistered_holding: i64,
    /// Status (distributions and payouts share the statuses).
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

/// One holder's line of a payout.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PayoutLine {
    /// Id.
    pub id: i64,
    /// The payout.
    pub payout_uuid: String,
    /// The registered user.
    pub registered_user_id: i64,
    /// The GAID it is paid to (`None` for a share of 0).
    pub gaid: Option<String>,
    /// Units of the security held at the record height.
    pub holding: i64,
    /// Its share, base units of the payout asset.
    pub amount: i64,
    /// The transaction (0-based) that pays it (`None` for a share of 0).
    pub batch: Option<i64>,
    /// A fresh confidential address of the GAID's wallet.
    pub receiving_address: Option<String>,
    /// The address's scriptPubKey (hex).
    pub script_pubkey: Option<String>,
    /// The paying transaction, once recorded.
    pub txid: Option<String>,
    /// The output paying it, once recorded.
    pub vout: Option<i64>,
}

/// A registered user's line of a payout, with what its summary shows of the payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPayoutLine {
    /// The security.
    pub asset_uuid: String,
    /// The asset paid (hex id).
    pub payout_asset_id: String,
    /// The payout's status.
    pub status: DistributionStatus,
    /// The payout's record height.
    pub record_height: i64,
    /// The line.
    pub line: PayoutLine,
}

/// A line of a new payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayoutLine {
    /// The registered user.
    pub registered_user_id: i64,
    /// Units held at the record height.
    pub holding: i64,
    /// Its share.
    pub amount: i64,
    /// How it is paid: (GAID, receiving address, scriptPubKey hex, batch); `None` for a share
    /// of 0.
    pub payment: Option<(String, String, String, i64)>,
}

/// A payout to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayout {
    /// UUID.
    pub uuid: String,
    /// Owning issuer.
    pub issuer_id: i64,
    /// The security.
    pub asset_uuid: String,
    /// The asset paid (hex id).
    pub payout_asset_id: String,
    /// The platform's asset with that id, if any: its treasury balance is checked.
    pub payout_asset_uuid: Option<String>,
    /// Units shared.
    pub total_amount: i64,
    /// The record height.
    pub record_height: i64,
    /// Free text.
    pub description: String,
    /// Units the treasury held.
    pub treasury_holding: i64,
    /// Units held by unregistered wallets.
    pub unregistered_holding: i64,
    /// Number of batches.
    pub batches: i64,
    /// One per eligible holder.
    pub lines: Vec<NewPayoutLine>,
}

/// An unpaid batch of an unconfirmed payout, for the chain follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingPayoutBatch {
    /// The payout.
    pub payout_uuid: String,
    /// The asset paid (hex id).
    pub payout_asset_id: String,
    /// The batch.
    pub batch: i64,
    /// Its lines (all with a receiving address, script and GAID).
    pub lines: Vec<PayoutLine>,
}

#[derive(sqlx::FromRow)]
struct PayoutRow {
    id: i64,
    uuid: String,
    issuer_id: i64,
    asset_uuid: String,
    payout_asset_id: String,
    payout_asset_uuid: Option<String>,
    total_amount: i64,
    record_height: i64,
    description: String,
    treasury_holding: i64,
    unregistered_holding: i64,
    status: String,
    batches: i64,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
}

const PAYOUT_COLUMNS: &str = "id, uuid, issuer_id, asset_uuid, payout_asset_id, \
     payout_asset_uuid, total_amount, record_height, description, treasury_holding, \
     unregistered_holding, status, batches, created_at, confirmed_at";

const LINE_COLUMNS: &str = "id, payout_uuid, registered_user_id, gaid, holding, amount, batch, \
     receiving_address, script_pubkey, txid, vout";

impl Store {
    /// Records a payout with its lines, under the security's lock. When the payout asset is
    /// the platform's, fails with [`StoreError::Conflict`] (and changes nothing) if the
    /// treasury's confirmed balance of it does not cover the total.
    pub async fn create_payout(&self, new: &NewPayout) -> Result<Payout> {
        let now = Utc::now();
        with_pool!(self, |pool| {
            let mut tx = begin_asset_lock!(self, pool, &new.asset_uuid, new.issuer_id);
            if let Some(paid_asset) = &new.payout_asset_uuid {
                let (treasury,): (i64,) = sqlx::query_as(TREASURY_BALANCE)
                    .bind(paid_asset)
                    .fetch_one(&mut *tx)
                    .await?;
                if new.total_amount > treasury {
                    return Err(StoreError::Conflict(Conflict::InsufficientFunds {
                        kind: PaymentKind::Payout,
                        pays: new.total_amount,
                        balance: treasury,
                    }));
                }
            }
            sqlx::query(
                "INSERT INTO payouts (uuid, issuer_id, asset_uuid, payout_asset_id, \
                 payout_asset_uuid, total_amount, record_height, description, treasury_holding, \
                 unregistered_holding, status, batches, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'UNCONFIRMED', $11, $12)",
            )
            .bind(&new.uuid)
            .bind(new.issuer_id)
            .bind(&new.asset_uuid)
            .bind(&new.payout_asset_id)
            .bind(&new.payout_asset_uuid)
            .bind(new.total_amount)
            .bind(new.record_height)
            .bind(&new.description)
            .bind(new.treasury_holding)
            .bind(new.unregistered_holding)
            .bind(new.batches)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for line in &new.lines {
                let (gaid, address, script, batch) = match &line.payment {
                    Some((gaid, address, script, batch)) => {
                        (Some(gaid), Some(address), Some(script), Some(*batch))
                    }
                    None => (None, None, None, None),
                };
                sqlx::query(
                    "INSERT INTO payout_lines (payout_uuid, registered_user_id, gaid, holding, \
                     amount, batch, receiving_address, script_pubkey) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&new.uuid)
                .bind(line.registered_user_id)
                .bind(gaid)
                .bind(line.holding)
                .bind(line.amount)
                .bind(batch)
                .bind(address)
                .bind(script)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        self.payout(new.issuer_id, &new.asset_uuid, &new.uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The asset's payouts that were not cancelled, oldest first, with their transactions.
    pub async fn payouts(&self, issuer_id: i64, asset_uuid: &str) -> Result<Vec<Payout>> {
        let sql = format!(
            "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE issuer_id = $1 AND asset_uuid = $2 \
             AND status <> 'CANCELLED' ORDER BY id"
        );
        let rows: Vec<PayoutRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?);
        let mut payouts = Vec::with_capacity(rows.len());
        for row in rows {
            payouts.push(self.with_transactions(row).await?);
        }
        Ok(payouts)
    }

    /// One payout of the asset, whatever its status.
    pub async fn payout(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        uuid: &str,
    ) -> Result<Option<Payout>> {
        let sql = format!(
            "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE issuer_id = $1 AND asset_uuid = $2 \
             AND uuid = $3"
        );
        let row: Option<PayoutRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(asset_uuid)
            .bind(uuid)
            .fetch_optional(pool)
            .await?);
        match row {
            Some(row) => Ok(Some(self.with_transactions(row).await?)),
            None => Ok(None),
        }
    }

    async fn with_transactions(&self, row: PayoutRow) -> Result<Payout> {
        let transactions = self.payment_transactions(&PAYOUT_TABLES, &row.uuid).await?;
        Ok(Payout {
            status: DistributionStatus::parse(&row.status)?,
            id: row.id,
            uuid: row.uuid,
            issuer_id: row.issuer_id,
            asset_uuid: row.asset_uuid,
            payout_asset_id: row.payout_asset_id,
            payout_asset_uuid: row.payout_asset_uuid,
            total_amount: row.total_amount,
            record_height: row.record_height,
            description: row.description,
            treasury_holding: row.treasury_holding,
            unregistered_holding: row.unregistered_holding,
            batches: row.batches,
            created_at: row.created_at,
            confirmed_at: row.confirmed_at,
            transactions,
        })
    }

    /// The lines of a payout, by registered user id.
    pub async fn payout_lines(&self, uuid: &str) -> Result<Vec<PayoutLine>> {
        let sql = format!(
            "SELECT {LINE_COLUMNS} FROM payout_lines WHERE payout_uuid = $1 \
             ORDER BY registered_user_id, id"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(uuid)
            .fetch_all(pool)
            .await?))
    }

    /// The registered user's lines in the issuer's payouts that were not cancelled, oldest
    /// first, each with its payout's security, payout asset, status and record height.
    pub async fn registered_user_payout_lines(
        &self,
        issuer_id: i64,
        registered_user_id: i64,
    ) -> Result<Vec<UserPayoutLine>> {
        let columns = LINE_COLUMNS
            .split(", ")
            .map(|c| format!("l.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT p.asset_uuid, p.payout_asset_id, p.status, p.record_height, {columns} \
             FROM payout_lines l JOIN payouts p ON p.uuid = l.payout_uuid \
             WHERE p.issuer_id = $1 AND l.registered_user_id = $2 AND p.status <> 'CANCELLED' \
             ORDER BY p.id"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            asset_uuid: String,
            payout_asset_id: String,
            status: String,
            record_height: i64,
            #[sqlx(flatten)]
            line: PayoutLine,
        }
        let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(registered_user_id)
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|r| {
                Ok(UserPayoutLine {
                    asset_uuid: r.asset_uuid,
                    payout_asset_id: r.payout_asset_id,
                    status: DistributionStatus::parse(&r.status)?,
                    record_height: r.record_height,
                    line: r.line,
                })
            })
            .collect()
    }

    /// Cancels a payout no transaction has paid yet. [`StoreError::Conflict`] when it is
    /// confirmed, already cancelled or partly paid.
    pub async fn cancel_payout(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        uuid: &str,
    ) -> Result<Payout> {
        self.cancel_payment(&PAYOUT_TABLES, issuer_id, asset_uuid, uuid, None)
            .await?;
        self.payout(issuer_id, asset_uuid, uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Records a verified transaction paying batches of payout `paid.uuid` (see
    /// [`Store::record_distribution_batch`], which this shares; `payments` name payout lines).
    pub async fn record_payout_batch(&self, paid: &PaidBatch) -> Result<BatchRecorded> {
        self.record_paid_batch(&PAYOUT_TABLES, paid).await
    }

    /// The payout batches a transaction paid, as recorded: (payout uuid, batch).
    pub async fn payout_batches_paid_by(&self, txid: &str) -> Result<Vec<(String, i64)>> {
        self.payment_batches_paid_by(&PAYOUT_TABLES, txid).await
    }

    /// Every unpaid batch of every unconfirmed payout, for the chain follower to recognise
    /// payouts paid without a confirm call.
    pub async fn outstanding_payout_batches(&self) -> Result<Vec<OutstandingPayoutBatch>> {
        let columns = LINE_COLUMNS
            .split(", ")
            .map(|c| format!("l.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT p.payout_asset_id, {columns} FROM payout_lines l JOIN payouts p \
             ON p.uuid = l.payout_uuid WHERE p.status = 'UNCONFIRMED' AND l.batch IS NOT NULL \
             AND l.txid IS NULL AND NOT EXISTS (SELECT 1 FROM payout_transactions t \
             WHERE t.payout_uuid = p.uuid AND t.batch = l.batch) \
             ORDER BY p.id, l.batch, l.id"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            payout_asset_id: String,
            #[sqlx(flatten)]
            line: PayoutLine,
        }
        let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        let mut batches: Vec<OutstandingPayoutBatch> = Vec::new();
        for Row {
            payout_asset_id,
            line,
        } in rows
        {
            let batch = line.batch.unwrap_or_default();
            match batches.last_mut() {
                Some(last) if last.payout_uuid == line.payout_uuid && last.batch == batch => {
                    last.lines.push(line)
                }
                _ => batches.push(OutstandingPayoutBatch {
                    payout_uuid: line.payout_uuid.clone(),
                    payout_asset_id,
                    batch,
                    lines: vec![line],
                }),
            }
        }
        Ok(batches)
    }
}
