//! Webhook endpoints and their delivery attempts (migration 0018).
//!
//! Each endpoint has a delivery cursor, the last event queued for it: the worker queues the
//! next matching event ([`Store::queue_webhook_events`]) only once the endpoint has no event
//! delivery pending, so events reach an endpoint one at a time, in id order. Each attempt is
//! one row of `webhook_deliveries`; a failed attempt that will be retried is followed by a
//! `pending` row for the next one.
//!
//! Exactly one attempt is in flight per endpoint across replicas: a replica first takes the
//! endpoint's lease ([`Store::claim_webhook_endpoint`]), one conditional `UPDATE … WHERE
//! lease_until_ms <= now` that PostgreSQL runs under the row's lock (a concurrent claimer
//! re-checks the condition on the updated row and changes nothing) and SQLite under its single
//! writer. A replica killed mid-attempt leaves the lease to expire; the attempt's row is still
//! `pending`, so another replica (or the restarted one) makes it again.

use chrono::{DateTime, Utc};

use crate::chain::lease::now_ms;
use crate::{with_pool, Result, Store};

/// Most attempts one read of [`Store::webhook_deliveries`] returns.
pub const MAX_DELIVERIES_PER_READ: i64 = 1000;

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Webhook {
    /// Id.
    pub id: i64,
    /// The issuer whose events it receives.
    pub issuer_id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    /// `amphora_core::webhook::EventSelection::to_stored`.
    pub event_types: String,
    /// Free text.
    pub description: String,
    /// The signing secret, encrypted (the server holds the key).
    pub secret_encrypted: String,
    /// `active` or `failing`.
    pub state: String,
    /// Since when it is failing.
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The last event queued for it.
    pub event_cursor: i64,
}

/// A new endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// The issuer.
    pub issuer_id: i64,
    /// Where deliveries go.
    pub url: String,
    /// The stored event selection.
    pub event_types: String,
    /// Free text.
    pub description: String,
    /// The encrypted secret.
    pub secret_encrypted: String,
}

/// A change of an endpoint; `None` keeps the value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookChange {
    /// New URL.
    pub url: Option<String>,
    /// New stored event selection.
    pub event_types: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// `true` re-enables a failing endpoint: it is active again and the event whose retries
    /// ran out is queued again with a fresh schedule.
    pub enable: bool,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// The endpoint.
    pub endpoint_id: i64,
    /// The event delivered; `None` for a test delivery.
    pub event_id: Option<i64>,
    /// The event's type (`webhook.test` for a test delivery).
    pub event_type: String,
    /// 1 for the first attempt of this event at this endpoint, then 2, 3 …
    pub attempt: i64,
    /// The attempt where the current retry schedule started.
    pub schedule_start: i64,
    /// `pending`, `succeeded`, `failed` or `abandoned`.
    pub status: String,
    /// When a pending attempt is due (unix milliseconds).
    pub next_attempt_ms: i64,
    /// The answer's HTTP status, when one came.
    pub http_status: Option<i64>,
    /// How long the attempt took, in milliseconds.
    pub latency_ms: Option<i64>,
    /// Why the attempt failed (never the receiver's body).
    pub error: Option<String>,
    /// When the row was queued.
    pub created_at: DateTime<Utc>,
    /// When the attempt was made.
    pub attempted_at: Option<DateTime<Utc>>,
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx in time.
    Succeeded,
    /// Failed; the next attempt is due at this time (unix milliseconds).
    Retry(i64),
    /// Failed and the retry schedule is over: the endpoint is marked failing.
    GiveUp,
    /// Failed, not retried (a test delivery).
    Failed,
}

/// What is recorded of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The answer's HTTP status, when one came.
    pub http_status: Option<i64>,
    /// How long it took, in milliseconds.
    pub latency_ms: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// What follows.
    pub outcome: Outcome,
}

const WEBHOOK_COLUMNS: &str = "id, issuer_id, url, event_types, description, secret_encrypted, \
     state, failing_since, created_at, event_cursor";
const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_id, event_type, attempt, schedule_start, \
     status, next_attempt_ms, http_status, latency_ms, error, created_at, attempted_at";

/// Queues a pending attempt inside a transaction.
macro_rules! queue_attempt {
    ($tx:expr, $endpoint:expr, $event_id:expr, $event_type:expr, $attempt:expr, $start:expr, $due:expr) => {
        sqlx::query(
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, attempt, \
             schedule_start, status, next_attempt_ms, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
        )
        .bind($endpoint)
        .bind($event_id)
        .bind($event_type)
        .bind($attempt)
        .bind($start)
        .bind($due)
        .bind(Utc::now())
        .execute(&mut *$tx)
        .await?
    };
}

impl Store {
    /// Creates an endpoint; it receives the events recorded from now on.
    pub async fn create_webhook(&self, new: &NewWebhook) -> Result<Webhook> {
        let sql = format!(
            "INSERT INTO webhook_endpoints (issuer_id, url, event_types, description, \
             secret_encrypted, state, created_at, event_cursor) \
             VALUES ($1, $2, $3, $4, $5, 'active', $6, \
             (SELECT COALESCE(MAX(id), 0) FROM events WHERE issuer_id = $1)) \
             RETURNING {WEBHOOK_COLUMNS}"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(new.issuer_id)
            .bind(&new.url)
            .bind(&new.event_types)
            .bind(&new.description)
            .bind(&new.secret_encrypted)
            .bind(Utc::now())
            .fetch_one(pool)
            .await?))
    }

    /// The issuer's endpoints, oldest first.
    pub async fn webhooks(&self, issuer_id: i64) -> Result<Vec<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE issuer_id = $1 ORDER BY id"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .fetch_all(pool)
            .await?))
    }

    /// One of the issuer's endpoints.
    pub async fn webhook(&self, issuer_id: i64, id: i64) -> Result<Option<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE issuer_id = $1 AND id = $2"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// Changes one of the issuer's endpoints (see [`WebhookChange`]); `None` if there is no
    /// such endpoint.
    pub async fn update_webhook(
        &self,
        issuer_id: i64,
        id: i64,
        change: &WebhookChange,
    ) -> Result<Option<Webhook>> {
        let sql = format!(
            "UPDATE webhook_endpoints SET url = COALESCE($3, url), \
             event_types = COALESCE($4, event_types), description = COALESCE($5, description) \
             WHERE issuer_id = $1 AND id = $2 RETURNING {WEBHOOK_COLUMNS}"
        );
        let updated: Option<Webhook> = with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let updated: Option<Webhook> = sqlx::query_as(&sql)
                .bind(issuer_id)
                .bind(id)
                .bind(change.url.as_deref())
                .bind(change.event_types.as_deref())
                .bind(change.description.as_deref())
                .fetch_optional(&mut *tx)
                .await?;
            if let (Some(webhook), true) = (&updated, change.enable) {
                let enabled = sqlx::query(
                    "UPDATE webhook_endpoints SET state = 'active', failing_since = NULL \
                     WHERE id = $1 AND state = 'failing'",
                )
                .bind(webhook.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let last: Option<(Option<i64>, String, i64, String)> = sqlx::query_as(
                    "SELECT event_id, event_type, attempt, status FROM webhook_deliveries \
                     WHERE endpoint_id = $1 AND event_id IS NOT NULL ORDER BY id DESC LIMIT 1",
                )
                .bind(webhook.id)
                .fetch_optional(&mut *tx)
                .await?;
                if let (1, Some((event_id, event_type, attempt, status))) = (enabled, last) {
                    if status == "abandoned" {
                        let next = attempt + 1;
                        queue_attempt!(tx, webhook.id, event_id, event_type, next, next, now_ms());
                    }
                }
            }
            tx.commit().await?;
            updated
        });
        match updated {
            Some(webhook) => self.webhook(issuer_id, webhook.id).await,
            None => Ok(None),
        }
    }

    /// Deletes one of the issuer's endpoints and its attempts; false if there was none.
    pub async fn delete_webhook(&self, issuer_id: i64, id: i64) -> Result<bool> {
        let deleted = with_pool!(self, |pool| sqlx::query(
            "DELETE FROM webhook_endpoints WHERE issuer_id = $1 AND id = $2"
        )
        .bind(issuer_id)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(deleted > 0)
    }

    /// Queues a test delivery (`event_type`, no event) of one of the issuer's endpoints, due
    /// now; `None` if there is no such endpoint.
    pub async fn queue_webhook_test(
        &self,
        issuer_id: i64,
        id: i64,
        event_type: &str,
    ) -> Result<Option<Delivery>> {
        if self.webhook(issuer_id, id).await?.is_none() {
            return Ok(None);
        }
        let sql = format!(
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, attempt, \
             schedule_start, status, next_attempt_ms, created_at) \
             VALUES ($1, NULL, $2, 1, 1, 'pending', $3, $4) RETURNING {DELIVERY_COLUMNS}"
        );
        Ok(Some(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .bind(event_type)
            .bind(now_ms())
            .bind(Utc::now())
            .fetch_one(pool)
            .await?)))
    }

    /// The attempts of one of the issuer's endpoints, newest first, at most `limit` (capped at
    /// [`MAX_DELIVERIES_PER_READ`]); `None` if there is no such endpoint.
    pub async fn webhook_deliveries(
        &self,
        issuer_id: i64,
        id: i64,
        limit: i64,
    ) -> Result<Option<Vec<Delivery>>> {
        if self.webhook(issuer_id, id).await?.is_none() {
            return Ok(None);
        }
        let limit = limit.clamp(1, MAX_DELIVERIES_PER_READ);
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 \
             ORDER BY id DESC LIMIT {limit}"
        );
        Ok(Some(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_all(pool)
            .await?)))
    }

    /// Queues the next matching event of every active endpoint that has no event delivery
    /// pending, and moves its cursor there (a conditional update: when several replicas
    /// queue at once, one wins per endpoint). Returns how many were queued.
    pub async fn queue_webhook_events(&self) -> Result<usize> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints e WHERE state = 'active' \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id \
             AND d.status = 'pending' AND d.event_id IS NOT NULL) ORDER BY id"
        );
        let idle: Vec<Webhook> =
            with_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        let mut queued = 0;
        for webhook in idle {
            // Written only from a parsed selection; a row edited by hand to nonsense is skipped.
            let Ok(selection) =
                amphora_core::webhook::EventSelection::from_stored(&webhook.event_types)
            else {
                continue;
            };
            let next = self
                .events_after(
                    webhook.issuer_id,
                    webhook.event_cursor,
                    selection.filter(),
                    None,
                    1,
                )
                .await?;
            let Some(event) = next.into_iter().next() else {
                continue;
            };
            let won = with_pool!(self, |pool| {
                let mut tx = pool.begin_with(self.begin_write()).await?;
                let moved = sqlx::query(
                    "UPDATE webhook_endpoints SET event_cursor = $1 \
                     WHERE id = $2 AND event_cursor = $3 AND state = 'active'",
                )
                .bind(event.id)
                .bind(webhook.id)
                .bind(webhook.event_cursor)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved == 1 {
                    let kind = event.event_type.as_str();
                    queue_attempt!(tx, webhook.id, Some(event.id), kind, 1_i64, 1_i64, now_ms());
                }
                tx.commit().await?;
                moved == 1
            });
            queued += usize::from(won);
        }
        Ok(queued)
    }

    /// Takes the lease of an endpoint with an attempt due for `owner` until `ttl_ms` from now,
    /// and returns the endpoint with its due attempt (the oldest); `None` when no endpoint
    /// with a due attempt is free. Failing endpoints only get their test deliveries.
    pub async fn claim_webhook_endpoint(
        &self,
        owner: &str,
        ttl_ms: i64,
    ) -> Result<Option<(Webhook, Delivery)>> {
        let now = now_ms();
        let due = |now: &str| {
            format!(
                "d.status = 'pending' AND d.next_attempt_ms <= {now} \
                 AND (d.event_id IS NULL OR e.state = 'active')"
            )
        };
        let claim = format!(
            "UPDATE webhook_endpoints SET lease_owner = $1, lease_until_ms = $2 \
             WHERE lease_until_ms <= $3 AND id = (SELECT e.id FROM webhook_endpoints e \
             WHERE e.lease_until_ms <= $3 AND EXISTS (SELECT 1 FROM webhook_deliveries d \
             WHERE d.endpoint_id = e.id AND {}) ORDER BY e.lease_until_ms, e.id LIMIT 1) \
             RETURNING {WEBHOOK_COLUMNS}",
            due("$3")
        );
        let head = format!(
            "SELECT {} FROM webhook_deliveries d JOIN webhook_endpoints e \
             ON e.id = d.endpoint_id WHERE d.endpoint_id = $1 AND {} ORDER BY d.id LIMIT 1",
            DELIVERY_COLUMNS
                .split(", ")
                .map(|c| format!("d.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            due("$2")
        );
        let claimed: Option<Webhook> = with_pool!(self, |pool| sqlx::query_as(&claim)
            .bind(owner)
            .bind(now.saturating_add(ttl_ms))
            .bind(now)
            .fetch_optional(pool)
            .await?);
        let Some(webhook) = claimed else {
            return Ok(None);
        };
        let delivery: Option<Delivery> = with_pool!(self, |pool| sqlx::query_as(&head)
            .bind(webhook.id)
            .bind(now)
            .fetch_optional(pool)
            .await?);
        match delivery {
            Some(delivery) => Ok(Some((webhook, delivery))),
            None => {
                self.release_webhook_endpoint(owner, webhook.id).await?;
                Ok(None)
            }
        }
    }

    /// Gives an endpoint's lease back (does nothing if `owner` does not hold it).
    pub async fn release_webhook_endpoint(&self, owner: &str, endpoint_id: i64) -> Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE webhook_endpoints SET lease_owner = NULL, lease_until_ms = 0 \
             WHERE id = $1 AND lease_owner = $2"
        )
        .bind(endpoint_id)
        .bind(owner)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Records the attempt `delivery` made while `owner` held its endpoint's lease, queues
    /// what follows (the retry, or the endpoint failing) and releases the lease, in one
    /// transaction. Returns false (recording nothing) when the lease was lost meanwhile: the
    /// replica that took it over makes the attempt again.
    pub async fn finish_webhook_attempt(
        &self,
        owner: &str,
        delivery: &Delivery,
        attempt: &Attempt,
    ) -> Result<bool> {
        let status = match attempt.outcome {
            Outcome::Succeeded => "succeeded",
            Outcome::Retry(_) | Outcome::Failed => "failed",
            Outcome::GiveUp => "abandoned",
        };
        Ok(with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let held = sqlx::query(
                "UPDATE webhook_endpoints SET lease_owner = NULL, lease_until_ms = 0 \
                 WHERE id = $1 AND lease_owner = $2",
            )
            .bind(delivery.endpoint_id)
            .bind(owner)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let recorded = if held == 1 {
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, http_status = $2, \
                     latency_ms = $3, error = $4, attempted_at = $5 \
                     WHERE id = $6 AND status = 'pending'",
                )
                .bind(status)
                .bind(attempt.http_status)
                .bind(attempt.latency_ms)
                .bind(attempt.error.as_deref())
                .bind(Utc::now())
                .bind(delivery.id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                0
            };
            if recorded == 1 {
                match attempt.outcome {
                    Outcome::Retry(due) => {
                        let next = delivery.attempt + 1;
                        queue_attempt!(
                            tx,
                            delivery.endpoint_id,
                            delivery.event_id,
                            &delivery.event_type,
                            next,
                            delivery.schedule_start,
                            due
                        );
                    }
                    Outcome::GiveUp => {
                        sqlx::query(
                            "UPDATE webhook_endpoints SET state = 'failing', failing_since = $1 \
                             WHERE id = $2",
                        )
                        .bind(Utc::now())
                        .bind(delivery.endpoint_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Outcome::Succeeded | Outcome::Failed => {}
                }
            }
            tx.commit().await?;
            recorded == 1
        }))
    }
}
