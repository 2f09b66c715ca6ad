//! What an issued asset is linked to: the categories it requires of its holders and its
//! treasury addresses.

use std::collections::BTreeMap;

use chrono::Utc;

use crate::assets::VISIBLE;
use crate::{with_pool, Result, Store, StoreError};

impl Store {
    /// Makes the asset require the issuer's category (idempotent).
    pub async fn add_asset_category(
        &self,
        issuer_id: i64,
        uuid: &str,
        category_id: i64,
    ) -> Result<()> {
        self.check_asset_and_category(issuer_id, uuid, category_id)
            .await?;
        let sql = "INSERT INTO asset_categories (asset_uuid, category_id) VALUES ($1, $2) \
                   ON CONFLICT (asset_uuid, category_id) DO NOTHING";
        with_pool!(self, |pool| sqlx::query(sql)
            .bind(uuid)
            .bind(category_id)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Stops requiring the category for the asset (idempotent).
    pub async fn remove_asset_category(
        &self,
        issuer_id: i64,
        uuid: &str,
        category_id: i64,
    ) -> Result<()> {
        self.check_asset_and_category(issuer_id, uuid, category_id)
            .await?;
        let sql = "DELETE FROM asset_categories WHERE asset_uuid = $1 AND category_id = $2";
        with_pool!(self, |pool| sqlx::query(sql)
            .bind(uuid)
            .bind(category_id)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    async fn check_asset_and_category(
        &self,
        issuer_id: i64,
        uuid: &str,
        category_id: i64,
    ) -> Result<()> {
        if self.asset(issuer_id, uuid).await?.is_none()
            || self.category(issuer_id, category_id).await?.is_none()
        {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// UUIDs of the issuer's visible assets that require each of the issuer's categories.
    pub async fn category_assets(&self, issuer_id: i64) -> Result<BTreeMap<i64, Vec<String>>> {
        let sql = format!(
            "SELECT l.category_id, l.asset_uuid FROM asset_categories l \
             JOIN assets a ON a.uuid = l.asset_uuid \
             WHERE a.issuer_id = $1 AND {VISIBLE} ORDER BY l.asset_uuid"
        );
        let links: Vec<(i64, String)> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .fetch_all(pool)
            .await?);
        let mut by_category: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (category, asset) in links {
            by_category.entry(category).or_default().push(asset);
        }
        Ok(by_category)
    }

    /// The asset's treasury addresses, sorted.
    pub async fn treasury_addresses(&self, issuer_id: i64, uuid: &str) -> Result<Vec<String>> {
        if self.asset(issuer_id, uuid).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let sql = "SELECT address FROM asset_treasury_addresses WHERE asset_uuid = $1 \
                   ORDER BY address";
        let rows: Vec<(String,)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(uuid)
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(|(address,)| address).collect())
    }

    /// Adds treasury addresses (already present ones are kept); returns the full list.
    pub async fn add_treasury_addresses(
        &self,
        issuer_id: i64,
        uuid: &str,
        addresses: &[String],
    ) -> Result<Vec<String>> {
        if self.asset(issuer_id, uuid).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let sql = "INSERT INTO asset_treasury_addresses (asset_uuid, address, created_at) \
                   VALUES ($1, $2, $3) ON CONFLICT (asset_uuid, address) DO NOTHING";
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            for address in addresses {
                sqlx::query(sql)
                    .bind(uuid)
                    .bind(address)
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.treasury_addresses(issuer_id, uuid).await
    }

    /// Removes treasury addresses (absent ones are ignored); returns the remaining list.
    pub async fn delete_treasury_addresses(
        &self,
        issuer_id: i64,
        uuid: &str,
        addresses: &[String],
    ) -> Result<Vec<String>> {
        if self.asset(issuer_id, uuid).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let sql = "DELETE FROM asset_treasury_addresses WHERE asset_uuid = $1 AND address = $2";
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            for address in addresses {
                sqlx::query(sql)
                    .bind(uuid)
                    .bind(address)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.treasury_addresses(issuer_id, uuid).await
    }
}
