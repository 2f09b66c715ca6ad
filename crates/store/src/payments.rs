//! What distributions and payouts share: a payment from the treasury recorded before it is
//! paid, split into batches (transactions), each batch recorded once with the outputs its
//! transaction created, and the whole `CONFIRMED` once every batch is paid.
//!
//! The two differ only in their tables, described by a [`PaymentTables`]; the recording, the
//! cancellation and the look-ups below are written once for both.

use chrono::{DateTime, Utc};

use amphora_core::event::{EventData, PaymentConfirmed};

use crate::distributions::{BatchRecorded, DistributionStatus, DistributionTx, PaidBatch};
use crate::events::{insert_event, NewEvent};
use crate::output_insert::{insert_output, OnIndexed};
use crate::{with_pool, Conflict, PaymentKind, Result, Store, StoreError};

/// The tables of one kind of payment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PaymentTables {
    /// Which payment these are the tables of (refusals name it).
    pub kind: PaymentKind,
    /// The payments (`uuid`, `status`, `batches`, `confirmed_at`, `cancelled_at`).
    pub parent: &'static str,
    /// The column of `parent` naming the platform asset the paid units are of (its index rows
    /// become kind `distribution`), or `NULL` when it has none.
    pub asset_column: &'static str,
    /// One row per paid batch (`batch`, `txid`, `included_blockheight`, `confirmed_at`,
    /// `recorded_by`) and its column naming the payment.
    pub transactions: &'static str,
    /// The paid lines (`id`, `txid`, `vout`) and their column naming the payment.
    pub lines: &'static str,
    /// The column of `transactions` and `lines` naming the payment.
    pub key: &'static str,
    /// Extra assignments of `lines` when a line is paid (`, is_distributed = TRUE`).
    pub line_paid: &'static str,
    /// The data of the event emitted when the payment is confirmed.
    pub confirmed_event: fn(PaymentConfirmed) -> EventData,
    /// The data of the event emitted when the payment is cancelled (uuid), if any.
    pub cancelled_event: Option<fn(String) -> EventData>,
}

#[derive(sqlx::FromRow)]
struct TxRow {
    batch: i64,
    txid: String,
    included_blockheight: i64,
    confirmed_at: DateTime<Utc>,
    recorded_by: String,
}

impl Store {
    /// The recorded transactions of payment `uuid`, by batch.
    pub(crate) async fn payment_transactions(
        &self,
        tables: &PaymentTables,
        uuid: &str,
    ) -> Result<Vec<DistributionTx>> {
        let sql = format!(
            "SELECT batch, txid, included_blockheight, confirmed_at, recorded_by FROM {} \
             WHERE {} = $1 ORDER BY batch",
            tables.transactions, tables.key
        );
        let rows: Vec<TxRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(uuid)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| DistributionTx {
                batch: r.batch,
                txid: r.txid,
                included_blockheight: r.included_blockheight,
                confirmed_at: r.confirmed_at,
                recorded_by: r.recorded_by,
            })
            .collect())
    }

    /// The batches a transaction paid, as recorded: (payment uuid, batch).
    pub(crate) async fn payment_batches_paid_by(
        &self,
        tables: &PaymentTables,
        txid: &str,
    ) -> Result<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT {key}, batch FROM {} WHERE txid = $1 ORDER BY {key}, batch",
            tables.transactions,
            key = tables.key
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(txid)
            .fetch_all(pool)
            .await?))
    }

    /// Cancels payment `uuid` of the issuer's asset when no transaction paid it yet, running
    /// `release` (bound to the uuid) in the same transaction. [`StoreError::Conflict`] when it
    /// is confirmed, already cancelled or partly paid.
    pub(crate) async fn cancel_payment(
        &self,
        tables: &PaymentTables,
        issuer_id: i64,
        asset_uuid: &str,
        uuid: &str,
        release: Option<&str>,
    ) -> Result<()> {
        let (begin, for_update) = self.lock_clause();
        let kind = tables.kind;
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(begin).await?;
            let row: Option<(String,)> = sqlx::query_as(&format!(
                "SELECT status FROM {} WHERE issuer_id = $1 AND asset_uuid = $2 \
                 AND uuid = $3{for_update}",
                tables.parent
            ))
            .bind(issuer_id)
            .bind(asset_uuid)
            .bind(uuid)
            .fetch_optional(&mut *tx)
            .await?;
            let (status,) = row.ok_or(StoreError::NotFound)?;
            match DistributionStatus::parse(&status)? {
                DistributionStatus::Unconfirmed => {}
                DistributionStatus::Confirmed => {
                    return Err(StoreError::Conflict(Conflict::PaymentConfirmed(kind)))
                }
                DistributionStatus::Cancelled => {
                    return Err(StoreError::Conflict(Conflict::PaymentAlreadyCancelled(
                        kind,
                    )))
                }
            }
            let (paid,): (i64,) = sqlx::query_as(&format!(
                "SELECT COUNT(*) FROM {} WHERE {} = $1",
                tables.transactions, tables.key
            ))
            .bind(uuid)
            .fetch_one(&mut *tx)
            .await?;
            if paid > 0 {
                return Err(StoreError::Conflict(Conflict::PaymentPartlyPaid {
                    kind,
                    paid,
                }));
            }
            if let Some(release) = release {
                sqlx::query(release).bind(uuid).execute(&mut *tx).await?;
            }
            sqlx::query(&format!(
                "UPDATE {} SET status = 'CANCELLED', cancelled_at = $2 WHERE uuid = $1",
                tables.parent
            ))
            .bind(uuid)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
            if let Some(cancelled) = tables.cancelled_event {
                let event = NewEvent::new(issuer_id, Some(asset_uuid), cancelled(uuid.to_owned()));
                insert_event!(self, tx, &event);
            }
            tx.commit().await?;
        });
        if tables.cancelled_event.is_some() {
            self.events_written();
        }
        Ok(())
    }

    /// Records a verified transaction paying one or more batches of payment `paid.uuid`, in
    /// one database transaction: its outputs (already indexed ones keep their row; unknown
    /// blinders are filled), the batch rows, the paid lines, the status, and the attribution of
    /// the transaction (its spends of tracked outputs are not lost; its index rows become kind
    /// `distribution`). Repeating it with the same transaction changes nothing
    /// ([`BatchRecorded::AlreadyRecorded`]); another transaction for a paid batch, or a
    /// cancelled payment, is a [`StoreError::Conflict`].
    pub(crate) async fn record_paid_batch(
        &self,
        tables: &PaymentTables,
        paid: &PaidBatch,
    ) -> Result<BatchRecorded> {
        let (begin, for_update) = self.lock_clause();
        let block_time = DateTime::<Utc>::from_timestamp(paid.block_time, 0).unwrap_or_default();
        let (kind, key, txs) = (tables.kind, tables.key, tables.transactions);
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(begin).await?;
            let row: Option<(String, i64, i64, String)> = sqlx::query_as(&format!(
                "SELECT status, batches, issuer_id, asset_uuid FROM {} \
                 WHERE uuid = $1{for_update}",
                tables.parent
            ))
            .bind(&paid.uuid)
            .fetch_optional(&mut *tx)
            .await?;
            let (status, batches, issuer_id, asset_uuid) = row.ok_or(StoreError::NotFound)?;
            if DistributionStatus::parse(&status)? == DistributionStatus::Cancelled {
                return Err(StoreError::Conflict(Conflict::PaymentCancelled(kind)));
            }
            let mut missing = Vec::new();
            for batch in &paid.batches {
                let existing: Option<(String,)> = sqlx::query_as(&format!(
                    "SELECT txid FROM {txs} WHERE {key} = $1 AND batch = $2"
                ))
                .bind(&paid.uuid)
                .bind(batch)
                .fetch_optional(&mut *tx)
                .await?;
                match existing {
                    None => missing.push(*batch),
                    Some((txid,)) if txid == paid.txid => {}
                    Some((txid,)) => {
                        return Err(StoreError::Conflict(Conflict::BatchPaidBy { kind, txid }))
                    }
                }
            }
            for output in &paid.outputs {
                insert_output!(&mut *tx, output, OnIndexed::FillBlinders);
            }
            sqlx::query("UPDATE asset_outputs SET is_lost = FALSE WHERE spent_txid = $1")
                .bind(&paid.txid)
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!(
                "UPDATE asset_txs SET kind = 'distribution' WHERE txid = $1 \
                 AND asset_uuid = (SELECT {} FROM {} WHERE uuid = $2)",
                tables.asset_column, tables.parent
            ))
            .bind(&paid.txid)
            .bind(&paid.uuid)
            .execute(&mut *tx)
            .await?;
            if missing.is_empty() {
                tx.commit().await?;
                return Ok(BatchRecorded::AlreadyRecorded);
            }
            for batch in &missing {
                sqlx::query(&format!(
                    "INSERT INTO {txs} ({key}, batch, txid, included_blockheight, confirmed_at, \
                     recorded_by) VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(&paid.uuid)
                .bind(batch)
                .bind(&paid.txid)
                .bind(paid.height)
                .bind(block_time)
                .bind(&paid.recorded_by)
                .execute(&mut *tx)
                .await?;
            }
            for (line, vout) in &paid.payments {
                let result = sqlx::query(&format!(
                    "UPDATE {} SET txid = $1, vout = $2{} WHERE id = $3 AND {key} = $4",
                    tables.lines, tables.line_paid
                ))
                .bind(&paid.txid)
                .bind(vout)
                .bind(line)
                .bind(&paid.uuid)
                .execute(&mut *tx)
                .await?;
                if result.rows_affected() != 1 {
                    return Err(StoreError::Conflict(Conflict::LineNotInPayment {
                        kind,
                        line: *line,
                    }));
                }
            }
            let (recorded,): (i64,) =
                sqlx::query_as(&format!("SELECT COUNT(*) FROM {txs} WHERE {key} = $1"))
                    .bind(&paid.uuid)
                    .fetch_one(&mut *tx)
                    .await?;
            let confirmed = recorded >= batches;
            if confirmed {
                sqlx::query(&format!(
                    "UPDATE {} SET status = 'CONFIRMED', confirmed_at = $2 WHERE uuid = $1",
                    tables.parent
                ))
                .bind(&paid.uuid)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
                let paying: Vec<(String, i64)> = sqlx::query_as(&format!(
                    "SELECT txid, included_blockheight FROM {txs} WHERE {key} = $1 ORDER BY batch"
                ))
                .bind(&paid.uuid)
                .fetch_all(&mut *tx)
                .await?;
                let height = paying.iter().map(|(_, h)| *h).max().unwrap_or(paid.height);
                let data = (tables.confirmed_event)(PaymentConfirmed {
                    uuid: paid.uuid.clone(),
                    txids: paying.into_iter().map(|(txid, _)| txid).collect(),
                    recorded_by: paid.recorded_by.clone(),
                });
                let event = NewEvent::new(issuer_id, Some(&asset_uuid), data).at_height(height);
                insert_event!(self, tx, &event);
            }
            tx.commit().await?;
            if confirmed {
                self.events_written();
            }
            Ok(BatchRecorded::Recorded { confirmed })
        })
    }
}
