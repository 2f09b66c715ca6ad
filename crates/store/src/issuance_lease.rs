//! Which replica owns an issuance in flight, so that issuance recovery never touches another
//! live replica's issuance.
//!
//! An issuance is created owned by the replica that runs it, with a lease
//! ([`Store::create_owned_issuance`]) the owner renews while it builds and broadcasts the
//! transaction ([`Store::renew_issuance_lease`]). Recovery takes over only unfinished issuances
//! whose lease has expired or that have no owner ([`Store::claim_orphaned_issuances`]): the
//! claim is one conditional `UPDATE`, which PostgreSQL runs under the row's lock and SQLite
//! under its single writer, so two replicas never both win. Expiry is unix milliseconds of the
//! replicas' clocks, as for the follower lease.

use std::time::Duration;

use crate::assets::{Asset, NewAsset};
use crate::chain::lease::{now_ms, ttl_ms};
use crate::{with_pool, Result, Store, StoreError};

/// Statuses of an issuance that is not known to be finished.
const UNFINISHED: &str = "status IN ('pending', 'broadcasting')";

/// The lease is free: nobody owns the issuance, or the owner's lease expired (`now` is the
/// placeholder of the current time; parameters are numbered in order of appearance, as SQLite
/// needs).
fn orphaned(now: &str) -> String {
    format!(
        "(issuance_owner IS NULL OR issuance_lease_expires_ms IS NULL \
         OR issuance_lease_expires_ms <= {now})"
    )
}

impl Store {
    /// Records an issuance (status pending) owned by `holder` for `ttl`: recovery leaves it
    /// alone while `holder` renews the lease.
    pub async fn create_owned_issuance(
        &self,
        asset: &NewAsset,
        holder: &str,
        ttl: Duration,
    ) -> Result<Asset> {
        self.insert_asset(asset, Some(holder), now_ms().saturating_add(ttl_ms(ttl)))
            .await
    }

    /// Extends `holder`'s lease on the issuance `uuid` by `ttl`. Returns false (and changes
    /// nothing) when `holder` does not own it (any more) or it is finished.
    pub async fn renew_issuance_lease(
        &self,
        uuid: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE assets SET issuance_lease_expires_ms = $1 \
             WHERE uuid = $2 AND issuance_owner = $3 AND {UNFINISHED}"
        );
        let done = with_pool!(self, |pool| sqlx::query(&sql)
            .bind(now_ms().saturating_add(ttl_ms(ttl)))
            .bind(uuid)
            .bind(holder)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done == 1)
    }

    /// Lets the lease of `holder` on `uuid` expire now, so that recovery (of any replica) may
    /// take the issuance over at once; does nothing if `holder` does not own it.
    pub async fn release_issuance_lease(&self, uuid: &str, holder: &str) -> Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE assets SET issuance_lease_expires_ms = 0 \
             WHERE uuid = $1 AND issuance_owner = $2"
        )
        .bind(uuid)
        .bind(holder)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Takes over, for `holder` and `ttl`, every unfinished issuance no live replica owns, and
    /// returns them (oldest first). An issuance another replica holds a running lease on is
    /// never returned.
    pub async fn claim_orphaned_issuances(
        &self,
        holder: &str,
        ttl: Duration,
    ) -> Result<Vec<Asset>> {
        let now = now_ms();
        let candidates = format!(
            "SELECT uuid FROM assets WHERE {UNFINISHED} AND {} ORDER BY created_at, uuid",
            orphaned("$1")
        );
        let uuids: Vec<(String,)> = with_pool!(self, |pool| sqlx::query_as(&candidates)
            .bind(now)
            .fetch_all(pool)
            .await?);
        let claim = format!(
            "UPDATE assets SET issuance_owner = $1, issuance_lease_expires_ms = $2 \
             WHERE uuid = $3 AND {UNFINISHED} AND {}",
            orphaned("$4")
        );
        let mut claimed = Vec::new();
        for (uuid,) in uuids {
            let won = with_pool!(self, |pool| sqlx::query(&claim)
                .bind(holder)
                .bind(now.saturating_add(ttl_ms(ttl)))
                .bind(&uuid)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected());
            if won == 1 {
                claimed.push(self.asset_row(&uuid).await?.ok_or(StoreError::NotFound)?);
            }
        }
        Ok(claimed)
    }

    /// The owner of the issuance `uuid`, if any (also after its lease expired).
    pub async fn issuance_owner(&self, uuid: &str) -> Result<Option<String>> {
        let owner: Option<(Option<String>,)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT issuance_owner FROM assets WHERE uuid = $1"
        )
        .bind(uuid)
        .fetch_optional(pool)
        .await?);
        Ok(owner.and_then(|(o,)| o))
    }
}
