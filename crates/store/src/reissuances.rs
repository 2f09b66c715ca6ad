//! Reissuances (burns are in `burns`, which shares the request rows and completions defined
//! here): the request the issuer took a confirm file for, and its completion once the
//! transaction is checked on chain.
//!
//! A request is recorded when the file is handed out (`requested`). Completing it (`confirmed`)
//! records the transaction, its block, who completed it, and the outputs the platform verified,
//! all in one database transaction. Completing again with the same transaction answers the
//! completed row (confirm calls are idempotent); a request completed by another transaction is a
//! [`StoreError::Conflict`] and changes nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::chain::NewAssetOutput;
use crate::output_insert::{insert_output, OnIndexed};
use crate::supply_events::supply_event;
use crate::supply_requests::SupplyRequest;
use crate::{with_pool, Conflict, Result, Store, StoreError};

/// An output named in a confirm file (`reissuance_utxos`, `utxos`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtxoRef {
    /// Transaction id.
    pub txid: String,
    /// Output index.
    pub vout: i64,
}

/// Who completed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletedBy {
    /// The confirm call (`reissue-confirm`, `burn-confirm`).
    Confirm,
    /// The chain follower, which recognised the transaction without a confirm call.
    Follower,
}

impl CompletedBy {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CompletedBy::Confirm => "confirm",
            CompletedBy::Follower => "follower",
        }
    }

    fn parse(value: &str) -> Result<Self> {
        match value {
            "confirm" => Ok(CompletedBy::Confirm),
            "follower" => Ok(CompletedBy::Follower),
            other => Err(decode_error(format!("unknown completion {other:?}"))),
        }
    }
}

/// The confirmed transaction of a reissuance or burn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Transaction id.
    pub txid: String,
    /// Hash of the block that confirmed it; `""` when the follower completed it before it
    /// wrote the block (the block at `height` of the chain index then has it), until a confirm
    /// call fills it in.
    pub block_hash: String,
    /// Height of that block.
    pub height: i64,
    /// Who completed the request.
    pub completed_by: CompletedBy,
    /// When (set by the store).
    pub confirmed_at: DateTime<Utc>,
}

/// A reissuance: requested, and once confirmed, its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reissuance {
    /// Row id.
    pub id: i64,
    /// The asset.
    pub asset_uuid: String,
    /// Base units to create.
    pub amount: i64,
    /// The reissuance-token outputs the request file named.
    pub reissuance_utxos: Vec<UtxoRef>,
    /// When the request was made.
    pub created_at: DateTime<Utc>,
    /// The confirmed transaction; `None` while requested.
    pub completion: Option<Completion>,
    /// The input carrying the reissuance, once confirmed.
    pub vin: Option<i64>,
    /// The output holding the new units, once known.
    pub vout: Option<i64>,
    /// That output's address, once known.
    pub destination_address: Option<String>,
}

/// What completes a reissuance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReissuanceCompletion {
    /// Transaction id.
    pub txid: String,
    /// Input carrying the reissuance.
    pub vin: i64,
    /// Output holding the new units, when known.
    pub vout: Option<i64>,
    /// Its address, when known.
    pub destination_address: Option<String>,
    /// Block hash.
    pub block_hash: String,
    /// Block height.
    pub height: i64,
    /// Who completes it.
    pub completed_by: CompletedBy,
}

/// Confirmed totals of an asset, in base units (the summary's `reissued` and `burned`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReissueBurnTotals {
    /// Units created by confirmed reissuances.
    pub reissued: i64,
    /// Units destroyed by confirmed burns.
    pub burned: i64,
}

fn decode_error(message: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(message.into()))
}

pub(crate) fn utxos_to_text(utxos: &[UtxoRef]) -> String {
    serde_json::to_string(utxos).expect("outpoints serialize")
}

pub(crate) fn utxos_from_text(text: &str) -> Result<Vec<UtxoRef>> {
    serde_json::from_str(text).map_err(|e| decode_error(format!("stored outpoints: {e}")))
}

/// The columns reissuances and burns share.
#[derive(sqlx::FromRow)]
pub(crate) struct RequestRow {
    pub(crate) id: i64,
    pub(crate) asset_uuid: String,
    pub(crate) amount: i64,
    pub(crate) utxos: String,
    pub(crate) status: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) txid: Option<String>,
    pub(crate) block_hash: Option<String>,
    pub(crate) height: Option<i64>,
    pub(crate) completed_by: Option<String>,
    pub(crate) confirmed_at: Option<DateTime<Utc>>,
}

impl RequestRow {
    pub(crate) fn completion(&self) -> Result<Option<Completion>> {
        if self.status == "requested" {
            return Ok(None);
        }
        match (
            &self.txid,
            &self.block_hash,
            self.height,
            &self.completed_by,
            self.confirmed_at,
        ) {
            (Some(txid), Some(hash), Some(height), Some(by), Some(at)) => Ok(Some(Completion {
                txid: txid.clone(),
                block_hash: hash.clone(),
                height,
                completed_by: CompletedBy::parse(by)?,
                confirmed_at: at,
            })),
            _ => Err(decode_error(format!("request {} is incomplete", self.id))),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReissuanceRow {
    #[sqlx(flatten)]
    request: RequestRow,
    vin: Option<i64>,
    vout: Option<i64>,
    destination_address: Option<String>,
}

impl ReissuanceRow {
    fn into_reissuance(self) -> Result<Reissuance> {
        let completion = self.request.completion()?;
        let r = self.request;
        Ok(Reissuance {
            id: r.id,
            asset_uuid: r.asset_uuid,
            amount: r.amount,
            reissuance_utxos: utxos_from_text(&r.utxos)?,
            created_at: r.created_at,
            completion,
            vin: self.vin,
            vout: self.vout,
            destination_address: self.destination_address,
        })
    }
}

impl SupplyRequest for Reissuance {
    const TABLE: &'static str = "reissuances";
    const UTXOS_COLUMN: &'static str = "reissuance_utxos";
    const COLUMNS: &'static str = "id, asset_uuid, amount, reissuance_utxos AS utxos, status, \
         created_at, txid, block_hash, height, completed_by, confirmed_at, vin, vout, \
         destination_address";
    type Row = ReissuanceRow;

    fn from_row(row: ReissuanceRow) -> Result<Reissuance> {
        row.into_reissuance()
    }
}

/// The asset of request `$id` of `$table` (`reissuances` or `burns`), read in the transaction
/// `$tx`; [`StoreError::NotFound`] when there is no such request.
macro_rules! request_asset {
    ($tx:expr, $table:literal, $id:expr) => {{
        let asset_uuid: Option<(String,)> =
            sqlx::query_as(concat!("SELECT asset_uuid FROM ", $table, " WHERE id = $1"))
                .bind($id)
                .fetch_optional(&mut *$tx)
                .await?;
        asset_uuid.ok_or($crate::StoreError::NotFound)?.0
    }};
}
pub(crate) use request_asset;

impl Store {
    /// Records a reissue request of `amount` base units naming the token outputs `utxos`.
    pub async fn create_reissue_request(
        &self,
        asset_uuid: &str,
        amount: i64,
        utxos: &[UtxoRef],
    ) -> Result<Reissuance> {
        self.create_supply_request(asset_uuid, amount, utxos).await
    }

    /// The asset's reissuances, oldest first; with `confirmed_only`, only the completed ones.
    pub async fn reissuances(
        &self,
        asset_uuid: &str,
        confirmed_only: bool,
    ) -> Result<Vec<Reissuance>> {
        self.supply_requests(asset_uuid, confirmed_only).await
    }

    /// The asset's reissuance completed by transaction `txid` (input `vin`), if any.
    pub async fn reissuance_of_tx(
        &self,
        asset_uuid: &str,
        txid: &str,
        vin: i64,
    ) -> Result<Option<Reissuance>> {
        let sql = format!(
            "SELECT {} FROM reissuances WHERE asset_uuid = $1 AND txid = $2 AND vin = $3",
            Reissuance::COLUMNS
        );
        let row: Option<ReissuanceRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .bind(txid)
            .bind(vin)
            .fetch_optional(pool)
            .await?);
        row.map(ReissuanceRow::into_reissuance).transpose()
    }

    /// The oldest reissue request of the asset still waiting for its transaction; with
    /// `amount`, the oldest one of exactly that amount.
    pub async fn pending_reissuance(
        &self,
        asset_uuid: &str,
        amount: Option<i64>,
    ) -> Result<Option<Reissuance>> {
        self.pending_supply_request(asset_uuid, amount).await
    }

    /// Completes reissue request `id` with its transaction and records the verified `outputs`,
    /// in one transaction. If the asset already has a reissuance completed by this transaction
    /// and input, that one is returned instead (its unknown output and address are filled in,
    /// and `outputs` are recorded): a repeated confirm changes nothing else. A request that
    /// another transaction completed is a [`StoreError::Conflict`].
    pub async fn complete_reissuance(
        &self,
        id: i64,
        completion: &ReissuanceCompletion,
        outputs: &[NewAssetOutput],
    ) -> Result<Reissuance> {
        let id = with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let asset_uuid = request_asset!(tx, "reissuances", id);
            let existing: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM reissuances WHERE asset_uuid = $1 AND txid = $2 AND vin = $3",
            )
            .bind(&asset_uuid)
            .bind(&completion.txid)
            .bind(completion.vin)
            .fetch_optional(&mut *tx)
            .await?;
            let (target, completed) = match existing {
                Some((done,)) => {
                    sqlx::query(
                        "UPDATE reissuances SET vout = COALESCE(vout, $2), \
                         destination_address = COALESCE(destination_address, $3), \
                         block_hash = CASE WHEN block_hash = '' THEN $4 ELSE block_hash END \
                         WHERE id = $1",
                    )
                    .bind(done)
                    .bind(completion.vout)
                    .bind(&completion.destination_address)
                    .bind(&completion.block_hash)
                    .execute(&mut *tx)
                    .await?;
                    (done, false)
                }
                None => {
                    let updated = sqlx::query(
                        "UPDATE reissuances SET status = 'confirmed', txid = $2, vin = $3, \
                         vout = $4, destination_address = $5, block_hash = $6, height = $7, \
                         completed_by = $8, confirmed_at = $9 \
                         WHERE id = $1 AND status = 'requested'",
                    )
                    .bind(id)
                    .bind(&completion.txid)
                    .bind(completion.vin)
                    .bind(completion.vout)
                    .bind(&completion.destination_address)
                    .bind(&completion.block_hash)
                    .bind(completion.height)
                    .bind(completion.completed_by.as_str())
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::conflict_on_unique(e, Conflict::ReissuanceRecorded))?
                    .rows_affected();
                    if updated == 0 {
                        return Err(StoreError::Conflict(Conflict::ReissueRequestCompleted {
                            id,
                        }));
                    }
                    (id, true)
                }
            };
            for output in outputs {
                insert_output!(&mut *tx, output, OnIndexed::Keep);
            }
            if completed {
                supply_event!(
                    self,
                    tx,
                    "reissuances",
                    target,
                    completion,
                    ReissuanceConfirmed
                );
            }
            tx.commit().await?;
            target
        });
        self.events_written();
        self.supply_request(id).await
    }
}
