//! The follower lease: exactly one replica indexes the chain.
//!
//! Several `amphora serve` replicas may share one database; each runs a follower, but only the
//! holder of the lease in `chain_follower_lease` indexes. The holder renews it on every loop; a
//! replica takes it over only once it has expired (or been released). Taking and renewing is one
//! conditional upsert (`INSERT … ON CONFLICT DO UPDATE … WHERE`), which PostgreSQL runs under
//! the row's lock and SQLite under its single writer, so two replicas can never both win.
//! Expiry is unix milliseconds of the replicas' clocks: keep them in sync to well within the
//! lease's time to live.

use std::time::Duration;

use chrono::Utc;

use crate::{with_pool, Result, Store};

/// The current holder of the follower lease.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FollowerLease {
    /// Holder id (one per replica process).
    pub holder: String,
    /// When it expires, unix milliseconds.
    pub expires_at_ms: i64,
}

/// Now, in unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// `ttl` in milliseconds, saturating.
pub(crate) fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2)
}

impl Store {
    /// Takes or renews the follower lease for `holder` for `ttl`. Returns true when `holder`
    /// holds it now: it held it already, or nobody did, or the previous holder's lease expired.
    /// Returns false (and changes nothing) while another holder's lease runs.
    pub async fn acquire_follower_lease(&self, holder: &str, ttl: Duration) -> Result<bool> {
        let now = now_ms();
        let sql =
            "INSERT INTO chain_follower_lease (id, holder, expires_at_ms) VALUES (1, $1, $2) \
                   ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, \
                   expires_at_ms = excluded.expires_at_ms \
                   WHERE chain_follower_lease.holder = excluded.holder \
                   OR chain_follower_lease.expires_at_ms <= $3 \
                   RETURNING holder";
        let won: Option<(String,)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(holder)
            .bind(now.saturating_add(ttl_ms(ttl)))
            .bind(now)
            .fetch_optional(pool)
            .await?);
        Ok(won.is_some_and(|(h,)| h == holder))
    }

    /// Gives the lease up (a clean shutdown), so another replica can take over at once.
    /// Does nothing if `holder` does not hold it.
    pub async fn release_follower_lease(&self, holder: &str) -> Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "DELETE FROM chain_follower_lease WHERE id = 1 AND holder = $1"
        )
        .bind(holder)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// The lease as stored (possibly expired), if any replica ever took it.
    pub async fn follower_lease(&self) -> Result<Option<FollowerLease>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT holder, expires_at_ms FROM chain_follower_lease WHERE id = 1"
        )
        .fetch_optional(pool)
        .await?))
    }
}
