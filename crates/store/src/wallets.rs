//! AMP2 wallets registered with the platform's co-signer.

use chrono::Utc;

use crate::{with_pool, Conflict, RegisteredWallet, Result, Store, StoreError};

const WALLET_COLUMNS: &str = "wid, descriptor, gaid, created_at";

impl Store {
    /// Records a registered wallet. Registering the same wallet again returns the stored row
    /// unchanged; a different wallet colliding on the descriptor or GAID is a
    /// [`StoreError::Conflict`].
    pub async fn register_wallet(
        &self,
        wid: &str,
        descriptor: &str,
        gaid: &str,
    ) -> Result<RegisteredWallet> {
        let select = format!("SELECT {WALLET_COLUMNS} FROM registered_wallets WHERE wid = $1");
        let stored: RegisteredWallet = with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO registered_wallets (wid, descriptor, gaid, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (wid) DO NOTHING",
            )
            .bind(wid)
            .bind(descriptor)
            .bind(gaid)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::conflict_on_unique(e, Conflict::WalletTaken))?;
            let stored = sqlx::query_as(&select)
                .bind(wid)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            stored
        });
        if stored.descriptor != descriptor || stored.gaid != gaid {
            return Err(StoreError::Conflict(Conflict::WalletIdTaken {
                wid: wid.to_string(),
            }));
        }
        Ok(stored)
    }

    /// The wallet with this GAID.
    pub async fn wallet_by_gaid(&self, gaid: &str) -> Result<Option<RegisteredWallet>> {
        let sql = format!("SELECT {WALLET_COLUMNS} FROM registered_wallets WHERE gaid = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(gaid)
            .fetch_optional(pool)
            .await?))
    }

    /// The wallet with this wallet id.
    pub async fn wallet(&self, wid: &str) -> Result<Option<RegisteredWallet>> {
        let sql = format!("SELECT {WALLET_COLUMNS} FROM registered_wallets WHERE wid = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(wid)
            .fetch_optional(pool)
            .await?))
    }
}
