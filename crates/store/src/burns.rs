//! Burns: the request naming the treasury outputs to destroy, and its completion once the
//! transaction is checked on chain (the request rows and completions are shared with
//! reissuances, see `reissuances`).

use chrono::{DateTime, Utc};

use crate::chain::NewAssetOutput;
use crate::output_insert::{insert_output, OnIndexed};
use crate::reissuances::{
    request_asset, utxos_from_text, CompletedBy, Completion, RequestRow, UtxoRef,
};
use crate::supply_events::supply_event;
use crate::supply_requests::SupplyRequest;
use crate::{with_pool, Conflict, Result, Store, StoreError};

/// A burn: requested, and once confirmed, its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burn {
    /// Row id.
    pub id: i64,
    /// The asset.
    pub asset_uuid: String,
    /// Base units to destroy.
    pub amount: i64,
    /// The treasury outputs the request file named.
    pub utxos: Vec<UtxoRef>,
    /// When the request was made.
    pub created_at: DateTime<Utc>,
    /// The confirmed transaction; `None` while requested.
    pub completion: Option<Completion>,
}

/// What completes a burn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BurnCompletion {
    /// Transaction id.
    pub txid: String,
    /// Block hash.
    pub block_hash: String,
    /// Block height.
    pub height: i64,
    /// Who completes it.
    pub completed_by: CompletedBy,
}

impl RequestRow {
    fn into_burn(self) -> Result<Burn> {
        let completion = self.completion()?;
        Ok(Burn {
            id: self.id,
            asset_uuid: self.asset_uuid,
            amount: self.amount,
            utxos: utxos_from_text(&self.utxos)?,
            created_at: self.created_at,
            completion,
        })
    }
}

impl SupplyRequest for Burn {
    const TABLE: &'static str = "burns";
    const UTXOS_COLUMN: &'static str = "utxos";
    const COLUMNS: &'static str = "id, asset_uuid, amount, utxos, status, created_at, txid, \
         block_hash, height, completed_by, confirmed_at";
    type Row = RequestRow;

    fn from_row(row: RequestRow) -> Result<Burn> {
        row.into_burn()
    }
}

impl Store {
    /// Records a burn request of `amount` base units naming the treasury outputs `utxos`.
    pub async fn create_burn_request(
        &self,
        asset_uuid: &str,
        amount: i64,
        utxos: &[UtxoRef],
    ) -> Result<Burn> {
        self.create_supply_request(asset_uuid, amount, utxos).await
    }

    /// The asset's burns, oldest first; with `confirmed_only`, only the completed ones.
    pub async fn burns(&self, asset_uuid: &str, confirmed_only: bool) -> Result<Vec<Burn>> {
        self.supply_requests(asset_uuid, confirmed_only).await
    }

    /// The asset's burn completed by transaction `txid`, if any.
    pub async fn burn_of_tx(&self, asset_uuid: &str, txid: &str) -> Result<Option<Burn>> {
        let sql = format!(
            "SELECT {} FROM burns WHERE asset_uuid = $1 AND txid = $2",
            Burn::COLUMNS
        );
        let row: Option<RequestRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .bind(txid)
            .fetch_optional(pool)
            .await?);
        row.map(RequestRow::into_burn).transpose()
    }

    /// The oldest burn request of the asset still waiting for its transaction; with `amount`,
    /// the oldest one of exactly that amount.
    pub async fn pending_burn(
        &self,
        asset_uuid: &str,
        amount: Option<i64>,
    ) -> Result<Option<Burn>> {
        self.pending_supply_request(asset_uuid, amount).await
    }

    /// Completes burn request `id` with its transaction and records the verified `outputs`
    /// (the burnt outputs and the treasury's change), in one transaction. If the asset already
    /// has a burn completed by this transaction, that one is returned (and `outputs` are
    /// recorded). A request that another transaction completed is a [`StoreError::Conflict`].
    pub async fn complete_burn(
        &self,
        id: i64,
        completion: &BurnCompletion,
        outputs: &[NewAssetOutput],
    ) -> Result<Burn> {
        let id = with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let asset_uuid = request_asset!(tx, "burns", id);
            let existing: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM burns WHERE asset_uuid = $1 AND txid = $2")
                    .bind(&asset_uuid)
                    .bind(&completion.txid)
                    .fetch_optional(&mut *tx)
                    .await?;
            let (target, completed) = match existing {
                Some((done,)) => {
                    sqlx::query(
                        "UPDATE burns SET block_hash = $2 WHERE id = $1 AND block_hash = ''",
                    )
                    .bind(done)
                    .bind(&completion.block_hash)
                    .execute(&mut *tx)
                    .await?;
                    (done, false)
                }
                None => {
                    let updated = sqlx::query(
                        "UPDATE burns SET status = 'confirmed', txid = $2, block_hash = $3, \
                         height = $4, completed_by = $5, confirmed_at = $6 \
                         WHERE id = $1 AND status = 'requested'",
                    )
                    .bind(id)
                    .bind(&completion.txid)
                    .bind(&completion.block_hash)
                    .bind(completion.height)
                    .bind(completion.completed_by.as_str())
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::conflict_on_unique(e, Conflict::BurnRecorded))?
                    .rows_affected();
                    if updated == 0 {
                        return Err(StoreError::Conflict(Conflict::BurnRequestCompleted { id }));
                    }
                    (id, true)
                }
            };
            for output in outputs {
                insert_output!(&mut *tx, output, OnIndexed::Keep);
            }
            if completed {
                supply_event!(self, tx, "burns", target, completion, BurnConfirmed);
            }
            tx.commit().await?;
            target
        });
        self.events_written();
        self.supply_request(id).await
    }
}
