//! API tokens (stored as SHA-256 hashes).

use chrono::{DateTime, Utc};

use crate::{with_pool, AuthToken, Issuer, Result, Store};

const TOKEN_COLUMNS: &str = "token_hash, issuer_id, manager_id, created_at, expires_at";

impl Store {
    /// Stores a new token hash for `issuer_id`, valid until `expires_at`. Expired tokens of the
    /// same issuer are purged in the same transaction.
    pub async fn insert_token(
        &self,
        issuer_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<AuthToken> {
        self.insert_account_token(issuer_id, None, token_hash, expires_at)
            .await
    }

    /// Stores a new token hash for manager `manager_id` of issuer `issuer_id`, valid until
    /// `expires_at` (expired tokens of the issuer and its managers are purged alongside).
    pub async fn insert_manager_token(
        &self,
        issuer_id: i64,
        manager_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<AuthToken> {
        self.insert_account_token(issuer_id, Some(manager_id), token_hash, expires_at)
            .await
    }

    async fn insert_account_token(
        &self,
        issuer_id: i64,
        manager_id: Option<i64>,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<AuthToken> {
        let now = Utc::now();
        let sql = format!(
            "INSERT INTO auth_tokens (token_hash, issuer_id, manager_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
        );
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            // SQLite keeps timestamps as text, so expiry is compared here, not in SQL.
            let hashes: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
                "SELECT token_hash, expires_at FROM auth_tokens WHERE issuer_id = $1",
            )
            .bind(issuer_id)
            .fetch_all(&mut *tx)
            .await?;
            for (hash, expires) in hashes {
                if expires <= now {
                    sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
                        .bind(hash)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let token: AuthToken = sqlx::query_as(&sql)
                .bind(token_hash)
                .bind(issuer_id)
                .bind(manager_id)
                .bind(now)
                .bind(expires_at)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(token)
        })
    }

    /// The token with this hash, expired or not, and its issuer, in one query (what every
    /// authenticated request reads). `None` when there is no such token (or, which cannot
    /// happen while the foreign key holds, no such issuer).
    pub async fn token_and_issuer(&self, token_hash: &str) -> Result<Option<(AuthToken, Issuer)>> {
        type Row = (
            String,
            i64,
            Option<i64>,
            DateTime<Utc>,
            DateTime<Utc>,
            String,
            String,
            DateTime<Utc>,
        );
        let sql = "SELECT t.token_hash, t.issuer_id, t.manager_id, t.created_at, t.expires_at, \
                   i.username, i.password_hash, i.created_at \
                   FROM auth_tokens t JOIN issuers i ON i.id = t.issuer_id \
                   WHERE t.token_hash = $1";
        let row: Option<Row> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|r| {
            (
                AuthToken {
                    token_hash: r.0,
                    issuer_id: r.1,
                    manager_id: r.2,
                    created_at: r.3,
                    expires_at: r.4,
                },
                Issuer {
                    id: r.1,
                    username: r.5,
                    password_hash: r.6,
                    created_at: r.7,
                },
            )
        }))
    }

    /// The token with this hash, expired or not.
    pub async fn token(&self, token_hash: &str) -> Result<Option<AuthToken>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM auth_tokens WHERE token_hash = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await?))
    }

    /// Revokes one token. Revoking an unknown token is not an error.
    pub async fn delete_token(&self, token_hash: &str) -> Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "DELETE FROM auth_tokens WHERE token_hash = $1"
        )
        .bind(token_hash)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }
}
