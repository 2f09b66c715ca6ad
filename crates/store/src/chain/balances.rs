//! Reads over the chain index that other areas build on: confirmations of a managed asset's
//! transactions and the treasury's confirmed holdings.
//!
//! Confirmations count from the follower's tip (`chain_cursor`), not the node's: a transaction
//! in block `h` has `tip - h + 1` confirmations once the follower indexed block `h`, and none
//! (`None`) before.

use crate::chain::{AssetOutput, OutputRow, OUTPUT_COLUMNS};
use crate::{with_pool, Result, Store};

/// The treasury-holding rule shared by [`Store::treasury_balance`] and
/// [`Store::treasury_outputs`]: owner treasury, unspent, not lost, confirmed at least `$3`
/// times. Blacklisted outputs still count: blacklisting stops the co-signer from spending an
/// output, it does not move the units out of the treasury.
const TREASURY_HOLDS: &str = "o.asset_uuid = $1 AND o.is_token = $2 AND o.owner = 'treasury' \
     AND o.spent_txid IS NULL AND o.is_lost = FALSE AND c.height - o.height + 1 >= $3";

impl Store {
    /// Confirmations of `txid` as a transaction of `asset_uuid` (`tip - height + 1`), or
    /// `None` when the follower has not indexed it (unconfirmed, unknown, or reorged out).
    pub async fn asset_tx_confirmations(
        &self,
        asset_uuid: &str,
        txid: &str,
    ) -> Result<Option<i64>> {
        let sql = "SELECT c.height - t.height + 1 FROM asset_txs t, chain_cursor c \
                   WHERE c.id = 1 AND t.asset_uuid = $1 AND t.txid = $2";
        let row: Option<(i64,)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(asset_uuid)
            .bind(txid)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|(confirmations,)| confirmations))
    }

    /// Confirmations of `txid` as a transaction of any managed asset, or `None` when the
    /// follower has not indexed it.
    pub async fn tx_confirmations(&self, txid: &str) -> Result<Option<i64>> {
        let sql = "SELECT c.height - t.height + 1 FROM asset_txs t, chain_cursor c \
                   WHERE c.id = 1 AND t.txid = $1 LIMIT 1";
        let row: Option<(i64,)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(txid)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|(confirmations,)| confirmations))
    }

    /// Units of `asset_uuid` (not its token) the treasury holds in outputs with at least
    /// `min_confirmations` confirmations: owner treasury, unspent, not lost. Blacklisted
    /// outputs are counted (see [`TREASURY_HOLDS`]). Outputs whose amount the platform does not
    /// know are not indexed and so not counted. Zero before the follower indexed anything.
    pub async fn treasury_balance(&self, asset_uuid: &str, min_confirmations: i64) -> Result<i64> {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(o.amount), 0) AS BIGINT) FROM asset_outputs o, \
             chain_cursor c WHERE c.id = 1 AND {TREASURY_HOLDS}"
        );
        let (sum,): (i64,) = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .bind(false)
            .bind(min_confirmations)
            .fetch_one(pool)
            .await?);
        Ok(sum)
    }

    /// The treasury's outputs of `asset_uuid` (`is_token = false`) or of its reissuance token
    /// (`is_token = true`) that count under the rule of [`Store::treasury_balance`], oldest
    /// first.
    pub async fn treasury_outputs(
        &self,
        asset_uuid: &str,
        is_token: bool,
        min_confirmations: i64,
    ) -> Result<Vec<AssetOutput>> {
        let columns = OUTPUT_COLUMNS
            .split(", ")
            .map(|c| format!("o.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM asset_outputs o, chain_cursor c WHERE c.id = 1 AND \
             {TREASURY_HOLDS} ORDER BY o.height, o.txid, o.vout"
        );
        let rows: Vec<OutputRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .bind(is_token)
            .bind(min_confirmations)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(OutputRow::into_output).collect()
    }
}
