//! The events of completed reissuances and burns (`reissuance.confirmed`, `burn.confirmed`),
//! written in the completing transaction, and the confirmed totals.

use crate::{with_pool, ReissueBurnTotals, Result, Store};

/// Records the `$variant` event (`ReissuanceConfirmed` or `BurnConfirmed`) of request `$id`
/// of `$table` (`reissuances` or `burns`), completed by `$completion` (a
/// `ReissuanceCompletion` or `BurnCompletion`), inside the transaction `$tx` of `$store`.
macro_rules! supply_event {
    ($store:expr, $tx:expr, $table:literal, $id:expr, $completion:expr, $variant:ident) => {{
        let (issuer_id, asset_uuid, amount): (i64, String, i64) = sqlx::query_as(concat!(
            "SELECT a.issuer_id, r.asset_uuid, r.amount FROM ",
            $table,
            " r JOIN assets a ON a.uuid = r.asset_uuid WHERE r.id = $1"
        ))
        .bind($id)
        .fetch_one(&mut *$tx)
        .await?;
        let data =
            amphora_core::event::EventData::$variant(amphora_core::event::SupplyChangeConfirmed {
                request_id: $id,
                txid: $completion.txid.clone(),
                amount,
                completed_by: $completion.completed_by.as_str().to_owned(),
            });
        let event = $crate::events::NewEvent::new(issuer_id, Some(&asset_uuid), data)
            .at_height($completion.height);
        $crate::events::insert_event!($store, $tx, &event);
    }};
}
pub(crate) use supply_event;

impl Store {
    /// The asset's confirmed reissued and burnt totals (the summary's `reissued` and `burned`).
    pub async fn reissue_burn_totals(&self, asset_uuid: &str) -> Result<ReissueBurnTotals> {
        let sql = "SELECT \
             (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM reissuances \
              WHERE asset_uuid = $1 AND status = 'confirmed'), \
             (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM burns \
              WHERE asset_uuid = $1 AND status = 'confirmed')";
        let (reissued, burned): (i64, i64) = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(asset_uuid)
            .fetch_one(pool)
            .await?);
        Ok(ReissueBurnTotals { reissued, burned })
    }
}
