//! Issuer accounts.

use chrono::Utc;

use crate::error::expect_found;
use crate::{with_pool, Conflict, Issuer, Result, Store, StoreError};

const ISSUER_COLUMNS: &str = "id, username, password_hash, created_at";

impl Store {
    /// Number of issuer accounts.
    pub async fn count_issuers(&self) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM issuers";
        Ok(with_pool!(self, |pool| sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await?))
    }

    /// Creates an issuer; [`StoreError::Conflict`] if the username is taken by an issuer or a
    /// manager.
    pub async fn create_issuer(&self, username: &str, password_hash: &str) -> Result<Issuer> {
        let sql = format!(
            "INSERT INTO issuers (username, password_hash, created_at) VALUES ($1, $2, $3) \
             RETURNING {ISSUER_COLUMNS}"
        );
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            // Managers log in through the same endpoint: their names are taken too.
            let manager_named: Option<i64> =
                sqlx::query_scalar("SELECT id FROM managers WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&mut *tx)
                    .await?;
            if manager_named.is_some() {
                return Err(StoreError::Conflict(Conflict::ManagerNameTaken {
                    username: username.to_string(),
                }));
            }
            let issuer = sqlx::query_as(&sql)
                .bind(username)
                .bind(password_hash)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::conflict_on_unique(
                        e,
                        Conflict::IssuerNameTaken {
                            username: username.to_string(),
                        },
                    )
                })?;
            tx.commit().await?;
            Ok(issuer)
        })
    }

    /// Creates the first issuer only if there is none yet, atomically. Returns `None` when an
    /// issuer already exists (another replica or an earlier start created it).
    pub async fn create_first_issuer(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<Option<Issuer>> {
        let sql = format!(
            "INSERT INTO issuers (username, password_hash, created_at) \
             SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM issuers) \
             ON CONFLICT (username) DO NOTHING RETURNING {ISSUER_COLUMNS}"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(username)
            .bind(password_hash)
            .bind(Utc::now())
            .fetch_optional(pool)
            .await?))
    }

    /// The issuer with this id.
    pub async fn issuer(&self, id: i64) -> Result<Option<Issuer>> {
        let sql = format!("SELECT {ISSUER_COLUMNS} FROM issuers WHERE id = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// The issuer with this username.
    pub async fn issuer_by_username(&self, username: &str) -> Result<Option<Issuer>> {
        let sql = format!("SELECT {ISSUER_COLUMNS} FROM issuers WHERE username = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(pool)
            .await?))
    }

    /// Every issuer, by id.
    pub async fn issuers(&self) -> Result<Vec<Issuer>> {
        let sql = format!("SELECT {ISSUER_COLUMNS} FROM issuers ORDER BY id");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await?))
    }

    /// Replaces an issuer's password hash and revokes all of its own tokens (not its managers'),
    /// in one transaction.
    pub async fn set_issuer_password(&self, issuer_id: i64, password_hash: &str) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let updated = sqlx::query("UPDATE issuers SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(issuer_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            expect_found(updated)?;
            sqlx::query("DELETE FROM auth_tokens WHERE issuer_id = $1 AND manager_id IS NULL")
                .bind(issuer_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
