//! Fresh receiving addresses of registered wallets: a per-wallet counter of the next unused
//! receive derivation index, and the record of every address handed out.
//!
//! The counter moves with one atomic upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), so
//! two requests — on one replica or on several sharing the database — never get the same index.
//! A request that fails after taking an index leaves a gap, never a duplicate.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::{with_pool, Conflict, RegisteredWallet, Result, Store, StoreError};

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
    /// registered. A one-element [`Store::take_wallet_address_indexes`].
    pub async fn take_wallet_address_index(&self, wid: &str) -> Result<u32> {
        Ok(self.take_wallet_address_indexes(&[wid]).await?[0])
    }

    /// Takes one unused receive derivation index per element of `wids`, in the same order (a
    /// wallet listed k times gets k consecutive indexes), in ONE database transaction: two
    /// concurrent batches never share an index, and a failed batch takes none.
    /// [`StoreError::NotFound`] if a wallet is not registered; [`StoreError::Conflict`] if a
    /// wallet would run out of unhardened indexes.
    pub async fn take_wallet_address_indexes<W: AsRef<str>>(&self, wids: &[W]) -> Result<Vec<u32>> {
        let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
        for wid in wids {
            *counts.entry(wid.as_ref()).or_default() += 1;
        }
        // Rows in wid order (one lock order for every batch: no deadlock between batches on
        // PostgreSQL), each wallet once per statement (PostgreSQL refuses to upsert a row twice
        // in one statement). Every statement writes before it reads, so a SQLite transaction
        // takes the write lock at once (no SQLITE_BUSY upgrade).
        let rows: Vec<(&str, i64)> = counts.iter().map(|(w, n)| (*w, *n)).collect();
        let mut next: BTreeMap<String, i64> = BTreeMap::new();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let values = placeholders(chunk.len(), 2);
                let sql = format!(
                    "INSERT INTO wallet_address_counters (wid, next_index) VALUES {values} \
                     ON CONFLICT (wid) DO UPDATE \
                     SET next_index = wallet_address_counters.next_index + excluded.next_index \
                     RETURNING wid, next_index"
                );
                let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
                for (wid, count) in chunk {
                    query = query.bind(*wid).bind(*count);
                }
                let taken = query.fetch_all(&mut *tx).await.map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                        StoreError::NotFound
                    }
                    _ => StoreError::Database(e),
                })?;
                next.extend(taken);
            }
            // Checked before the commit: a batch that runs out of indexes takes none.
            if let Some((wid, _)) = next.iter().find(|(_, n)| **n > 1 << 31) {
                return Err(StoreError::Conflict(Conflict::ReceiveIndexesExhausted {
                    wid: wid.clone(),
                }));
            }
            tx.commit().await?;
        });
        // Hand each wallet's reserved range [next - count, next) out in request order.
        let mut cursor: BTreeMap<&str, i64> = BTreeMap::new();
        for (wid, count) in &counts {
            let end = *next.get(*wid).ok_or_else(|| {
                StoreError::Conflict(Conflict::ReceiveIndexNotReserved {
                    wid: wid.to_string(),
                })
            })?;
            cursor.insert(wid, end - count);
        }
        wids.iter()
            .map(|wid| {
                let at = cursor.get_mut(wid.as_ref()).expect("every wid was counted");
                let index = u32::try_from(*at).map_err(|_| {
                    StoreError::Conflict(Conflict::NegativeReceiveCounter {
                        wid: wid.as_ref().to_string(),
                    })
                })?;
                *at += 1;
                Ok(index)
            })
            .collect()
    }

    /// Records many handed-out addresses `(wid, address_index, address)` in ONE transaction,
    /// with the rules of [`Store::record_wallet_address`]: recording the same address again is
    /// a no-op; a different address at a taken index or the same address for another index is
    /// a [`StoreError::Conflict`], and then nothing is recorded.
    pub async fn record_wallet_addresses(&self, addresses: &[(String, u32, String)]) -> Result<()> {
        let now = Utc::now();
        let mut stored: BTreeMap<String, (String, i64)> = BTreeMap::new();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            for chunk in addresses.chunks(ROWS_PER_STATEMENT) {
                let values = placeholders(chunk.len(), 4);
                let sql = format!(
                    "INSERT INTO wallet_addresses (wid, address_index, address, created_at) \
                     VALUES {values} ON CONFLICT DO NOTHING"
                );
                let mut query = sqlx::query(&sql);
                for (wid, index, address) in chunk {
                    query = query
                        .bind(wid)
                        .bind(i64::from(*index))
                        .bind(address)
                        .bind(now);
                }
                query.execute(&mut *tx).await?;
                let sql = format!(
                    "SELECT wid, address_index, address FROM wallet_addresses \
                     WHERE address IN ({})",
                    placeholders(chunk.len(), 1).replace(['(', ')'], "")
                );
                let mut query = sqlx::query_as::<_, (String, i64, String)>(&sql);
                for (_, _, address) in chunk {
                    query = query.bind(address);
                }
                for (wid, index, address) in query.fetch_all(&mut *tx).await? {
                    stored.insert(address, (wid, index));
                }
            }
            for (wid, index, address) in addresses {
                match stored.get(address) {
                    None => {
                        return Err(StoreError::Conflict(Conflict::IndexHasOtherAddress {
                            wid: wid.to_string(),
                            index: *index,
                        }))
                    }
                    Some((w, i)) if w != wid || *i != i64::from(*index) => {
                        return Err(StoreError::Conflict(Conflict::AddressHandedOut {
                            address: address.to_string(),
                        }))
                    }
                    Some(_) => {}
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The registered wallets of `gaids`, by GAID (unregistered GAIDs are absent), read in
    /// chunked `IN` queries.
    pub async fn wallets_by_gaids<G: AsRef<str>>(
        &self,
        gaids: &[G],
    ) -> Result<BTreeMap<String, RegisteredWallet>> {
        let unique: Vec<&str> = gaids
            .iter()
            .map(|g| g.as_ref())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut wallets = BTreeMap::new();
        for chunk in unique.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT wid, descriptor, gaid, created_at FROM registered_wallets \
                 WHERE gaid IN ({})",
                placeholders(chunk.len(), 1).replace(['(', ')'], "")
            );
            let found: Vec<RegisteredWallet> = with_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql);
                for gaid in chunk {
                    query = query.bind(*gaid);
                }
                query.fetch_all(pool).await?
            });
            for wallet in found {
                wallets.insert(wallet.gaid.clone(), wallet);
            }
        }
        Ok(wallets)
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
            let mut tx = pool.begin_with(self.begin_write()).await?;
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
                StoreError::Conflict(Conflict::IndexHasOtherAddress {
                    wid: wid.to_string(),
                    index: address_index,
                })
            })?
        });
        if stored.wid != wid || stored.address_index != i64::from(address_index) {
            return Err(StoreError::Conflict(Conflict::AddressHandedOut {
                address: address.to_string(),
            }));
        }
        Ok(stored)
    }

    /// The address kept for issuer `issuer_id` of wallet `wid` (see
    /// [`Store::keep_issuer_wallet_address`]), if any.
    pub async fn issuer_wallet_address(&self, issuer_id: i64, wid: &str) -> Result<Option<String>> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT address FROM issuer_wallet_addresses WHERE issuer_id = $1 AND wid = $2"
        )
        .bind(issuer_id)
        .bind(wid)
        .fetch_optional(pool)
        .await?))
    }

    /// Keeps `address` (already handed out for wallet `wid`) as the one address issuer
    /// `issuer_id` gets for that wallet, unless one is kept already; answers the kept address
    /// (of a concurrent call that won, the other's).
    pub async fn keep_issuer_wallet_address(
        &self,
        issuer_id: i64,
        wid: &str,
        address: &str,
    ) -> Result<String> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO issuer_wallet_addresses (issuer_id, wid, address, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(issuer_id)
            .bind(wid)
            .bind(address)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
            let kept: String = sqlx::query_scalar(
                "SELECT address FROM issuer_wallet_addresses WHERE issuer_id = $1 AND wid = $2",
            )
            .bind(issuer_id)
            .bind(wid)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(kept)
        })
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

/// Rows per multi-row statement of the batch forms (4 binds per row stays far below SQLite's and
/// PostgreSQL's bind-parameter limits).
const ROWS_PER_STATEMENT: usize = 200;

/// `($1, $2), ($3, $4), …`: `rows` tuples of `width` numbered placeholders.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
