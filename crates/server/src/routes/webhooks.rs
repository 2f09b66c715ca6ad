//! Webhooks (issue #17): an issuer's HTTP endpoints that receive its events. Issuers only
//! (managers get 403: an endpoint receives every event of the issuer it subscribes to).
//!
//! `POST /api/webhooks` answers the signing secret once; it is stored encrypted (see
//! [`crate::webhooks`]). Deliveries are made by the worker ([`crate::webhooks::worker`]), one
//! event at a time per endpoint in id order, at least once (receivers dedupe by
//! `Amphora-Event-Id`), retried with backoff for 24 hours, then the endpoint is `failing` until
//! the issuer re-enables it (`PATCH … {"enabled": true}`). `POST /api/webhooks/{id}/test`
//! queues a `webhook.test` delivery, tried once.

use amphora_core::webhook::{self, EventSelection, TEST_EVENT_TYPE};
use amphora_core::FieldError;
use amphora_store::{Delivery, NewWebhook, Webhook, WebhookChange};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path};
use crate::router::Routes;
use crate::routes::no_content;
use crate::state::AppState;
use crate::webhooks::generate_secret;

/// The webhook routes: issuers only.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOnly, routes!(list, create))
        .add(Rule::IssuerOnly, routes!(details, edit, delete))
        .add(Rule::IssuerOnly, routes!(test))
        .add(Rule::IssuerOnly, routes!(deliveries))
}

/// Attempts `GET /api/webhooks/{id}/deliveries` shows (the newest).
pub const DELIVERIES_SHOWN: i64 = 100;

/// A webhook endpoint as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDto {
    /// Id.
    pub id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The event types it receives, or `["*"]` for all.
    pub events: Vec<String>,
    /// Free text.
    pub description: String,
    /// `active`, or `failing` once a delivery exhausted its retries (re-enable with
    /// `PATCH {"enabled": true}`).
    #[schema(pattern = "^(active|failing)$")]
    pub state: String,
    /// Since when it is failing (ISO 8601, UTC).
    pub failing_since: Option<String>,
    /// When it was created (ISO 8601, UTC).
    pub created: String,
}

impl WebhookDto {
    fn new(webhook: Webhook) -> Result<WebhookDto, ApiError> {
        let events = EventSelection::from_stored(&webhook.event_types)
            .map_err(|e| ApiError::Internal(format!("webhook {}: {}", webhook.id, e.message)))?;
        Ok(WebhookDto {
            id: webhook.id,
            url: webhook.url,
            events: events.names(),
            description: webhook.description,
            state: webhook.state,
            failing_since: webhook.failing_since.map(|t| t.to_rfc3339()),
            created: webhook.created_at.to_rfc3339(),
        })
    }
}

/// A new endpoint, with its signing secret (shown only this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    /// The endpoint.
    #[serde(flatten)]
    pub webhook: WebhookDto,
    /// The signing secret (`whsec_…`): the HMAC-SHA256 key of `Amphora-Signature`. Shown only
    /// in this answer.
    pub secret: String,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    /// Id.
    pub id: i64,
    /// The event delivered (`null` for a test delivery).
    pub event_id: Option<i64>,
    /// The event's type (`webhook.test` for a test delivery).
    pub event_type: String,
    /// 1 for the first attempt of this event, then 2, 3 …
    pub attempt: i64,
    /// `pending` (due at `next_attempt`), `succeeded`, `failed` (retried in a later attempt,
    /// except a test delivery) or `abandoned` (the retries ran out; the endpoint is failing).
    #[schema(pattern = "^(pending|succeeded|failed|abandoned)$")]
    pub status: String,
    /// The endpoint's HTTP status, when it answered.
    pub http_status: Option<i64>,
    /// How long the attempt took, in milliseconds.
    pub latency_ms: Option<i64>,
    /// Why it failed (never the endpoint's answer).
    pub error: Option<String>,
    /// When a pending attempt is due (ISO 8601, UTC).
    pub next_attempt: Option<String>,
    /// When the attempt was made (ISO 8601, UTC).
    pub attempted: Option<String>,
    /// When it was queued (ISO 8601, UTC).
    pub created: String,
}

impl From<Delivery> for DeliveryDto {
    fn from(d: Delivery) -> Self {
        let next_attempt = (d.status == "pending")
            .then(|| chrono::DateTime::from_timestamp_millis(d.next_attempt_ms))
            .flatten()
            .map(|t| t.to_rfc3339());
        DeliveryDto {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            attempt: d.attempt,
            status: d.status,
            http_status: d.http_status,
            latency_ms: d.latency_ms,
            error: d.error,
            next_attempt,
            attempted: d.attempted_at.map(|t| t.to_rfc3339()),
            created: d.created_at.to_rfc3339(),
        }
    }
}

/// `POST /api/webhooks` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookCreate {
    /// Where deliveries are POSTed: an `http(s)` URL the outbound policy allows.
    #[schema(schema_with = crate::schema::webhook_url)]
    pub url: String,
    /// `["*"]` for every event type, or the types to receive.
    #[schema(schema_with = crate::schema::webhook_events)]
    pub events: Vec<String>,
    /// Free text (default empty).
    #[serde(default)]
    #[schema(schema_with = crate::schema::webhook_description)]
    pub description: Option<String>,
}

/// `PATCH /api/webhooks/{id}` body; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookEdit {
    /// New URL.
    #[serde(default)]
    #[schema(schema_with = crate::schema::webhook_url_edit)]
    pub url: Option<String>,
    /// New event types (`["*"]`: all).
    #[serde(default)]
    #[schema(schema_with = crate::schema::webhook_events_edit)]
    pub events: Option<Vec<String>>,
    /// New description.
    #[serde(default)]
    #[schema(schema_with = crate::schema::webhook_description)]
    pub description: Option<String>,
    /// `true` re-enables a failing endpoint: the event whose retries ran out is delivered
    /// again with a fresh schedule, then the ones recorded since. Only `true` is accepted.
    #[serde(default)]
    #[schema(schema_with = crate::schema::webhook_enabled)]
    pub enabled: Option<bool>,
}

/// Checks a URL: its form, then the outbound policy (a name resolving to a non-public address
/// is refused too, unless private outbound is allowed).
async fn check_url(state: &AppState, url: &str) -> Result<String, FieldError> {
    let url = webhook::check_url(url)?;
    state
        .outbound()
        .check_target(&url)
        .await
        .map_err(|e| FieldError::new("url", format!("The URL {e}.")))?;
    Ok(url)
}

/// The checked fields of a body; every bad field reported at once.
async fn validate(
    state: &AppState,
    url: Option<&str>,
    events: Option<&[String]>,
    description: Option<&str>,
) -> Result<(Option<String>, Option<EventSelection>, Option<String>), ApiError> {
    let mut errors = Vec::new();
    let url = match url {
        Some(url) => check_url(state, url).await.map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    let events = events
        .map(EventSelection::parse)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let description = description
        .map(|d| webhook::DESCRIPTION.check(d))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    Ok((url, events, description))
}

/// The caller's webhook endpoints, oldest first.
#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks",
    security(("token" = [])),
    responses(
        (status = 200, description = "Endpoints", body = [WebhookDto]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers may not use webhooks"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
) -> Result<Json<Vec<WebhookDto>>, ApiError> {
    let webhooks = state.store().webhooks(auth.issuer.id).await?;
    Ok(Json(
        webhooks
            .into_iter()
            .map(WebhookDto::new)
            .collect::<Result<_, _>>()?,
    ))
}

/// Creates an endpoint. It receives the events recorded from now on; the answer holds its
/// signing secret, shown only this once.
#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks",
    security(("token" = [])),
    request_body = WebhookCreate,
    responses(
        (status = 201, description = "Created, with the secret", body = WebhookCreated),
        (status = 400, description = "A bad `url` (form or outbound policy), `events` or `description`"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers may not use webhooks"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthIssuer,
    extract::Json(body): extract::Json<WebhookCreate>,
) -> Result<(StatusCode, Json<WebhookCreated>), ApiError> {
    let (url, events, description) = validate(
        &state,
        Some(&body.url),
        Some(&body.events),
        Some(body.description.as_deref().unwrap_or_default()),
    )
    .await?;
    let (Some(url), Some(events)) = (url, events) else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let secret = generate_secret();
    let webhook = state
        .store()
        .create_webhook(&NewWebhook {
            issuer_id: auth.issuer.id,
            url,
            event_types: events.to_stored(),
            description: description.unwrap_or_default(),
            secret_encrypted: state.webhooks().secrets.seal(&secret),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookCreated {
            webhook: WebhookDto::new(webhook)?,
            secret,
        }),
    ))
}

/// One endpoint (without its secret).
#[utoipa::path(get, path = "/api/webhooks/{id}", tag = "webhooks",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers may not use webhooks"),
        (status = 404, description = "No such endpoint"),
    ))]
pub async fn details(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Json<WebhookDto>, ApiError> {
    let webhook = state
        .store()
        .webhook(auth.issuer.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(WebhookDto::new(webhook)?))
}

/// Changes an endpoint's URL, events or description, and re-enables a failing one.
#[utoipa::path(patch, path = "/api/webhooks/{id}", tag = "webhooks",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    request_body = WebhookEdit,
    responses(
        (status = 200, description = "The changed endpoint", body = WebhookDto),
        (status = 400, description = "A bad `url`, `events`, `description` or `enabled`"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers may not use webhooks"),
        (status = 404, description = "No such endpoint"),
    ))]
pub async fn edit(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
    extract::Json(body): extract::Json<WebhookEdit>,
) -> Result<Json<WebhookDto>, ApiError> {
    if state.store().webhook(auth.issuer.id, id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    if body.enabled == Some(false) {
        return Err(ApiError::field(
            "enabled",
            "Only true is accepted (it re-enables a failing endpoint; delete an endpoint to \
             stop its deliveries).",
        ));
    }
    let (url, events, description) = validate(
        &state,
        body.url.as_deref(),
        body.events.as_deref(),
        body.description.as_deref(),
    )
    .await?;
    let change = WebhookChange {
        url,
        event_types: events.map(|e| e.to_stored()),
        description,
        enable: body.enabled == Some(true),
    };
    let webhook = state
        .store()
        .update_webhook(auth.issuer.id, id, &change)
        .await?
        .ok_or(ApiError::NotFound)?;
    if change.enable {
        state.webhooks().wake.notify_one();
    }
    Ok(Json(WebhookDto::new(webhook)?))
}

/// Deletes an endpoint and its delivery history; nothing more is delivered to it.
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers may not use webhooks"),
        (status = 404, description = "No such endpoint"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if !state.store().delete_webhook(auth.issuer.id, id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(no_content())
}

/// Queues a test delivery: a `webhook.test` payload (`id` null, `data` naming the webhook and
/// the delivery), signed like every delivery, with `Amphora-Event-Id: test-<delivery id>`.
/// It is tried once, not retried, also when the endpoint is failing, and does not affect its
/// state; its outcome shows in the deliveries.
#[utoipa::path(post, path = "/api/webhooks/{id}/test", tag = "webhooks",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 202, description = "Queued", body = DeliveryDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers may not use webhooks"),
        (status = 404, description = "No such endpoint"),
    ))]
pub async fn test(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<DeliveryDto>), ApiError> {
    let delivery = state
        .store()
        .queue_webhook_test(auth.issuer.id, id, TEST_EVENT_TYPE)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.webhooks().wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(delivery.into())))
}

/// The endpoint's latest delivery attempts (at most 100), newest first.
#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Attempts, newest first", body = [DeliveryDto]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers may not use webhooks"),
        (status = 404, description = "No such endpoint"),
    ))]
pub async fn deliveries(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Json<Vec<DeliveryDto>>, ApiError> {
    let deliveries = state
        .store()
        .webhook_deliveries(auth.issuer.id, id, DELIVERIES_SHOWN)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(
        deliveries.into_iter().map(DeliveryDto::from).collect(),
    ))
}
