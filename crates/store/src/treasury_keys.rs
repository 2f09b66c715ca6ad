//! The treasury view key of each asset (migration `0016_treasury_view_keys`): the SLIP-77 master
//! blinding key of the wallet its issuance paid, which the follower uses to open the
//! treasury's own confidential outputs. The caller checks the key opens the asset's destination
//! (`amphora_core::treasury_key`), so an asset has at most one.

use chrono::Utc;

use crate::{with_pool, Result, Store};

impl Store {
    /// Records the treasury view key of `asset_uuid`. Returns `false` when the asset already
    /// had one (it is kept: only the treasury's own key is ever accepted, so both are the same).
    pub async fn set_treasury_view_key(&self, asset_uuid: &str, view_key: &str) -> Result<bool> {
        let sql = "INSERT INTO asset_treasury_view_keys (asset_uuid, view_key, created_at) \
                   VALUES ($1, $2, $3) ON CONFLICT (asset_uuid) DO NOTHING";
        let done = with_pool!(self, |pool| sqlx::query(sql)
            .bind(asset_uuid)
            .bind(view_key)
            .bind(Utc::now())
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done == 1)
    }

    /// Whether `asset_uuid` has a treasury view key.
    pub async fn has_treasury_view_key(&self, asset_uuid: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM asset_treasury_view_keys WHERE asset_uuid = $1";
        let (n,): (i64,) = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(asset_uuid)
            .fetch_one(pool)
            .await?);
        Ok(n > 0)
    }
}
