//! Fresh receiving addresses of registered wallets: a per-wallet counter of the next unused
//! receive derivation index, and the record of every address handed out.
//!
//! The counter moves with one atomic upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), so
//! two requests — on one replica or on several sharing the database — never get the same index.
//! A request that fails after taking an index leaves a gap, never a duplicate.

use chrono::{DateTime, Utc};

use crate::{with_pool, RegisteredWallet, Result, Store, StoreError};

/// An address the platform handed out for a registered wallet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WalletAddress {
    /// The wallet id.
    pub wid: String,
    /// Receive-chain derivation index of the address.
    pub address_index: i64,
    /// The confidential address.
    pub address: String,
    /// When it was handed out.
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Takes the next unused receive derivation index of wallet `wid` (0 for the first call) and
    /// advances the counter, atomically. [`StoreError::NotFound`] if the wallet is not
    /// registered.
    pub async fn take_wallet_address_index(&self, wid: &str) -> Result<u32> {
        // One statement, no read before the write: a deferred SQLite transaction that read
        // first could not upgrade to a write lock under concurrency (SQLITE_BUSY).
        let taken: i64 = with_pool!(self, |pool| sqlx::query_scalar(
            "INSERT INTO wallet_address_counters (wid, next_index) VALUES ($1, 1) \
             ON CONFLICT (wid) DO UPDATE \
             SET next_index = wallet_address_counters.next_index + 1 \
             RETURNING next_index - 1"
        )
        .bind(wid)
        .fetch_one(pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
            _ => StoreError::Database(e),
        })?);
        u32::try_from(taken)
            .ok()
            .filter(|i| *i < 1 << 31)
            .ok_or_else(|| {
                StoreError::Conflict(format!("wallet {wid} has no unhardened receive index left"))
            })
    }

    /// Records the address derived at `address_index` for wallet `wid`. Recording the same
    /// address again is a no-op; a different address at a taken index or the same address for
    /// another index is a [`StoreError::Conflict`].
    pub async fn record_wallet_address(
        &self,
        wid: &str,
        address_index: u32,
        address: &str,
    ) -> Result<WalletAddress> {
        let stored: WalletAddress = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO wallet_addresses (wid, address_index, address, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(wid)
            .bind(i64::from(address_index))
            .bind(address)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
            let stored = sqlx::query_as(
                "SELECT wid, address_index, address, created_at FROM wallet_addresses \
                 WHERE address = $1",
            )
            .bind(address)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            stored.ok_or_else(|| {
                StoreError::Conflict(format!(
                    "index {address_index} of wallet {wid} already has another address"
                ))
            })?
        });
        if stored.wid != wid || stored.address_index != i64::from(address_index) {
            return Err(StoreError::Conflict(format!(
                "address {address} was already handed out for another wallet index"
            )));
        }
        Ok(stored)
    }

    /// The address handed out as `address`, if any.
    pub async fn wallet_address(&self, address: &str) -> Result<Option<WalletAddress>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT wid, address_index, address, created_at FROM wallet_addresses \
             WHERE address = $1"
        )
        .bind(address)
        .fetch_optional(pool)
        .await?))
    }

    /// For every wallet that was handed addresses: `(wid, next unused receive index)`. Wallet
    /// indexes (co-signer, chain follower) derive scripts up to these indexes plus their
    /// look-ahead, so payments to handed-out addresses are always recognised.
    pub async fn wallet_address_counters(&self) -> Result<Vec<(String, u32)>> {
        let rows: Vec<(String, i64)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT wid, next_index FROM wallet_address_counters ORDER BY wid"
        )
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(wid, next)| (wid, u32::try_from(next).unwrap_or(u32::MAX)))
            .collect())
    }

    /// Number of registered wallets (the co-signer reloads its wallet index when it grows).
    pub async fn registered_wallet_count(&self) -> Result<i64> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM registered_wallets"
        )
        .fetch_one(pool)
        .await?))
    }

    /// Every registered wallet, by wallet id (what the co-signer indexes).
    pub async fn cosigner_wallets(&self) -> Result<Vec<RegisteredWallet>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT wid, descriptor, gaid, created_at FROM registered_wallets ORDER BY wid"
        )
        .fetch_all(pool)
        .await?))
    }
}
