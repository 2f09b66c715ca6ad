//! Investment managers: delegated accounts of an issuer, their lock state and asset grants.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::expect_found;
use crate::{with_pool, Conflict, Manager, Result, Store, StoreError};

#[derive(sqlx::FromRow)]
struct ManagerRow {
    id: i64,
    issuer_id: i64,
    username: String,
    password_hash: String,
    is_locked: bool,
    created_at: DateTime<Utc>,
}

const MANAGER_COLUMNS: &str = "id, issuer_id, username, password_hash, is_locked, created_at";

/// Joins manager rows with their asset grants.
fn assemble(rows: Vec<ManagerRow>, grants: Vec<(i64, String)>) -> Vec<Manager> {
    let mut assets_of: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (manager, asset) in grants {
        assets_of.entry(manager).or_default().push(asset);
    }
    rows.into_iter()
        .map(|row| Manager {
            assets: assets_of.remove(&row.id).unwrap_or_default(),
            id: row.id,
            issuer_id: row.issuer_id,
            username: row.username,
            password_hash: row.password_hash,
            is_locked: row.is_locked,
            created_at: row.created_at,
        })
        .collect()
}

fn username_taken(username: &str) -> Conflict {
    Conflict::AccountNameTaken {
        username: username.to_string(),
    }
}

impl Store {
    /// Creates a locked manager for `issuer_id`. The username must be free among issuers and
    /// managers ([`StoreError::Conflict`] otherwise).
    pub async fn create_manager(
        &self,
        issuer_id: i64,
        username: &str,
        password_hash: &str,
    ) -> Result<Manager> {
        let sql =
            "INSERT INTO managers (issuer_id, username, password_hash, is_locked, created_at) \
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let id: i64 = with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let issuer_named: Option<i64> =
                sqlx::query_scalar("SELECT id FROM issuers WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&mut *tx)
                    .await?;
            if issuer_named.is_some() {
                return Err(StoreError::Conflict(username_taken(username)));
            }
            let id: i64 = sqlx::query_scalar(sql)
                .bind(issuer_id)
                .bind(username)
                .bind(password_hash)
                .bind(true)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_on_unique(e, username_taken(username)))?;
            tx.commit().await?;
            id
        });
        self.manager(issuer_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Every manager of the issuer, by id.
    pub async fn managers(&self, issuer_id: i64) -> Result<Vec<Manager>> {
        let rows =
            format!("SELECT {MANAGER_COLUMNS} FROM managers WHERE issuer_id = $1 ORDER BY id");
        let grants = "SELECT g.manager_id, g.asset_uuid FROM manager_assets g \
                      JOIN managers m ON m.id = g.manager_id \
                      WHERE m.issuer_id = $1 ORDER BY g.asset_uuid";
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let rows: Vec<ManagerRow> = sqlx::query_as(&rows)
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?;
            let grants = sqlx::query_as(grants)
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(assemble(rows, grants))
        })
    }

    /// The issuer's manager with this id.
    pub async fn manager(&self, issuer_id: i64, id: i64) -> Result<Option<Manager>> {
        let sql =
            format!("SELECT {MANAGER_COLUMNS} FROM managers WHERE id = $1 AND issuer_id = $2");
        self.load_manager(&sql, id, Some(issuer_id)).await
    }

    /// The manager with this id, whichever issuer it works for (authentication only).
    pub async fn manager_by_id(&self, id: i64) -> Result<Option<Manager>> {
        let sql = format!("SELECT {MANAGER_COLUMNS} FROM managers WHERE id = $1");
        self.load_manager(&sql, id, None).await
    }

    /// The manager with this username (login).
    pub async fn manager_by_username(&self, username: &str) -> Result<Option<Manager>> {
        let sql = format!("SELECT {MANAGER_COLUMNS} FROM managers WHERE username = $1");
        let row: Option<ManagerRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(pool)
            .await?);
        match row {
            Some(row) => self.manager_by_id(row.id).await,
            None => Ok(None),
        }
    }

    async fn load_manager(
        &self,
        sql: &str,
        id: i64,
        issuer_id: Option<i64>,
    ) -> Result<Option<Manager>> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut query = sqlx::query_as(sql).bind(id);
            if let Some(issuer_id) = issuer_id {
                query = query.bind(issuer_id);
            }
            let row: Option<ManagerRow> = query.fetch_optional(&mut *tx).await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let grants: Vec<(i64, String)> = sqlx::query_as(
                "SELECT manager_id, asset_uuid FROM manager_assets \
                 WHERE manager_id = $1 ORDER BY asset_uuid",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(assemble(vec![row], grants).pop())
        })
    }

    /// Locks or unlocks the issuer's manager. Locking also revokes every token of the manager.
    pub async fn set_manager_locked(
        &self,
        issuer_id: i64,
        id: i64,
        locked: bool,
    ) -> Result<Manager> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let updated =
                sqlx::query("UPDATE managers SET is_locked = $1 WHERE id = $2 AND issuer_id = $3")
                    .bind(locked)
                    .bind(id)
                    .bind(issuer_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            expect_found(updated)?;
            if locked {
                sqlx::query("DELETE FROM auth_tokens WHERE manager_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.manager(issuer_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Replaces the password hash of the issuer's manager and revokes all of its tokens, in one
    /// transaction.
    pub async fn set_manager_password(
        &self,
        issuer_id: i64,
        id: i64,
        password_hash: &str,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let updated = sqlx::query(
                "UPDATE managers SET password_hash = $1 WHERE id = $2 AND issuer_id = $3",
            )
            .bind(password_hash)
            .bind(id)
            .bind(issuer_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            expect_found(updated)?;
            sqlx::query("DELETE FROM auth_tokens WHERE manager_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Whether the issuer has an issued, not deleted asset with this uuid.
    pub async fn asset_exists(&self, issuer_id: i64, asset_uuid: &str) -> Result<bool> {
        Ok(self.asset(issuer_id, asset_uuid).await?.is_some())
    }

    /// Lets the issuer's manager see an asset (idempotent). The caller checks that the asset
    /// exists ([`Store::asset_exists`]).
    pub async fn add_manager_asset(
        &self,
        issuer_id: i64,
        id: i64,
        asset_uuid: &str,
    ) -> Result<Manager> {
        self.manager(issuer_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let sql = "INSERT INTO manager_assets (manager_id, asset_uuid, created_at) \
                   VALUES ($1, $2, $3) ON CONFLICT (manager_id, asset_uuid) DO NOTHING";
        with_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(asset_uuid)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|_| ())?);
        self.manager(issuer_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Takes an asset away from the issuer's manager; [`StoreError::NotFound`] if the manager
    /// does not exist or did not have it.
    pub async fn remove_manager_asset(
        &self,
        issuer_id: i64,
        id: i64,
        asset_uuid: &str,
    ) -> Result<Manager> {
        let sql = "DELETE FROM manager_assets WHERE manager_id = $1 AND asset_uuid = $2 \
                   AND manager_id IN (SELECT id FROM managers WHERE issuer_id = $3)";
        let removed = with_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(asset_uuid)
            .bind(issuer_id)
            .execute(pool)
            .await?
            .rows_affected());
        expect_found(removed)?;
        self.manager(issuer_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }
}
