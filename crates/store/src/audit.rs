//! The audit log: one row per successful write through the API.

use chrono::Utc;

use crate::{with_pool, AuditEntry, NewAuditEntry, Result, Store};

const AUDIT_COLUMNS: &str = "id, issuer_id, actor_role, actor_id, actor_username, method, path, \
                             route, object_ids, status, created_at";

impl Store {
    /// Records one write.
    pub async fn insert_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry> {
        let sql = format!(
            "INSERT INTO audit_log (issuer_id, actor_role, actor_id, actor_username, method, \
             path, route, object_ids, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {AUDIT_COLUMNS}"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(entry.issuer_id)
            .bind(&entry.actor_role)
            .bind(entry.actor_id)
            .bind(&entry.actor_username)
            .bind(&entry.method)
            .bind(&entry.path)
            .bind(&entry.route)
            .bind(&entry.object_ids)
            .bind(entry.status)
            .bind(Utc::now())
            .fetch_one(pool)
            .await?))
    }

    /// The issuer's audit entries, newest first, `limit` of them after skipping `offset`, and
    /// the total count.
    pub async fn audit_entries(
        &self,
        issuer_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<AuditEntry>)> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE issuer_id = $1 \
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        );
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE issuer_id = $1")
                    .bind(issuer_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let entries = sqlx::query_as(&sql)
                .bind(issuer_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok((count, entries))
        })
    }
}
