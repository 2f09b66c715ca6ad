//! The delivery worker: every replica runs one. Each round it queues the next event of every
//! idle endpoint (`Store::queue_webhook_events`), then takes the lease of each endpoint with a
//! due attempt (`Store::claim_webhook_endpoint`, one replica per endpoint) and makes the
//! attempt in a task of its own: a POST of the event's JSON (as the feed shows it) with
//! `Amphora-Signature` and `Amphora-Event-Id`, 10 s to answer, 2xx is success. A failure is
//! retried on the schedule of `amphora_core::webhook::RetrySchedule`; when it is over the
//! endpoint is marked failing. Rounds start when this process records events, when an attempt
//! finishes, when a test delivery is queued, and at least every poll interval.
//!
//! The target is checked against the outbound policy before every attempt (an IP literal; a
//! name is checked by the client's resolver when it connects), so a name that re-resolves to
//! a private address is never reached.

use std::time::Instant;

use amphora_core::webhook::{sign, EVENT_ID_HEADER, SIGNATURE_HEADER};
use amphora_store::{Attempt, Delivery, Outcome, Webhook};
use serde_json::json;
use tokio::task::JoinSet;

use crate::routes::events::EventDto;
use crate::state::AppState;

/// Largest part of an answer read (the body is discarded; reading a little lets the
/// connection be reused).
const MAX_ANSWER: usize = 16 * 1024;

/// Runs the worker until the task is aborted.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(state))
}

async fn run(state: AppState) {
    let store = state.store().clone();
    let webhooks = state.webhooks();
    let mut signal = store.event_signal();
    let mut attempts = JoinSet::new();
    loop {
        signal.borrow_and_update();
        if let Err(e) = store.queue_webhook_events().await {
            tracing::warn!(error = %e, "webhooks: queueing events failed");
        }
        loop {
            let ttl = super::millis(webhooks.settings.lease_ttl);
            match store.claim_webhook_endpoint(state.replica_id(), ttl).await {
                Ok(Some((webhook, delivery))) => {
                    attempts.spawn(attempt(state.clone(), webhook, delivery));
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "webhooks: claiming an endpoint failed");
                    break;
                }
            }
        }
        tokio::select! {
            _ = signal.changed() => {}
            _ = webhooks.wake.notified() => {}
            Some(_) = attempts.join_next(), if !attempts.is_empty() => {}
            _ = tokio::time::sleep(webhooks.settings.poll_interval) => {}
        }
    }
}

/// The body of a delivery: the event as the feed shows it, or the test payload.
async fn body(state: &AppState, webhook: &Webhook, delivery: &Delivery) -> Result<Vec<u8>, String> {
    let value = match delivery.event_id {
        Some(id) => {
            let event = state
                .store()
                .event(id)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "webhooks: reading the event failed");
                    "the event could not be read".to_string()
                })?
                .ok_or("the event no longer exists")?;
            serde_json::to_value(EventDto::from(event)).map_err(|e| e.to_string())?
        }
        None => json!({
            "id": null,
            "type": delivery.event_type,
            "issuer_id": webhook.issuer_id,
            "asset_uuid": null,
            "block_height": null,
            "created": delivery.created_at.to_rfc3339(),
            "data": {"webhook_id": webhook.id, "delivery_id": delivery.id},
        }),
    };
    serde_json::to_vec(&value).map_err(|e| e.to_string())
}

/// The `Amphora-Event-Id` of a delivery: the event id, or `test-<delivery id>`.
pub fn event_id_header(delivery: &Delivery) -> String {
    match delivery.event_id {
        Some(id) => id.to_string(),
        None => format!("test-{}", delivery.id),
    }
}

/// POSTs `body` to the endpoint; the answer's status, or why there was none.
async fn post(
    state: &AppState,
    webhook: &Webhook,
    delivery: &Delivery,
    body: Vec<u8>,
) -> (Option<u16>, Result<(), String>) {
    let webhooks = state.webhooks();
    if let Err(e) = webhooks.outbound.check_url(&webhook.url) {
        return (None, Err(format!("refused by the outbound policy: {e}")));
    }
    let secret = match webhooks.secrets.open(&webhook.secret_encrypted) {
        Ok(secret) => secret,
        Err(e) => return (None, Err(e.to_string())),
    };
    if delivery.event_id.is_some() {
        amphora_core::crash::point(amphora_core::crash::WEBHOOK_BEFORE_DELIVERY);
    }
    let signature = sign(&secret, chrono::Utc::now().timestamp(), &body);
    let request = webhooks
        .http
        .post(&webhook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_ID_HEADER, event_id_header(delivery))
        .body(body);
    let sent = tokio::time::timeout(super::DELIVERY_TIMEOUT, async {
        let mut response = request.send().await?;
        let status = response.status();
        let mut read = 0;
        while let Some(chunk) = response.chunk().await? {
            read += chunk.len();
            if read > MAX_ANSWER {
                break;
            }
        }
        Ok::<_, reqwest::Error>(status)
    })
    .await;
    match sent {
        Ok(Ok(status)) if status.is_success() => (Some(status.as_u16()), Ok(())),
        Ok(Ok(status)) => (
            Some(status.as_u16()),
            Err(format!("the endpoint answered HTTP {}", status.as_u16())),
        ),
        Ok(Err(e)) if e.is_timeout() => (None, Err("no answer within 10 s".to_string())),
        Ok(Err(e)) if e.is_connect() => (None, Err("could not connect".to_string())),
        Ok(Err(_)) => (None, Err("the request failed".to_string())),
        Err(_) => (None, Err("no answer within 10 s".to_string())),
    }
}

/// Makes one attempt while this replica holds the endpoint's lease, records it with what
/// follows, and releases the lease.
async fn attempt(state: AppState, webhook: Webhook, delivery: Delivery) {
    let started = Instant::now();
    let (http_status, result) = match body(&state, &webhook, &delivery).await {
        Ok(body) => post(&state, &webhook, &delivery, body).await,
        Err(e) => (None, Err(e)),
    };
    let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let schedule = state.webhooks().settings.schedule;
    let outcome = match (&result, delivery.event_id) {
        (Ok(()), _) => Outcome::Succeeded,
        (Err(_), None) => Outcome::Failed,
        (Err(_), Some(_)) => {
            let position =
                u32::try_from(delivery.attempt - delivery.schedule_start + 1).unwrap_or(u32::MAX);
            match schedule.next_wait(position, rand::random::<f64>()) {
                Some(wait) => Outcome::Retry(
                    chrono::Utc::now()
                        .timestamp_millis()
                        .saturating_add(super::millis(wait)),
                ),
                None => Outcome::GiveUp,
            }
        }
    };
    let error = result.err();
    tracing::info!(
        webhook = webhook.id,
        delivery = delivery.id,
        event = ?delivery.event_id,
        attempt = delivery.attempt,
        ?http_status,
        ?outcome,
        error = error.as_deref().unwrap_or_default(),
        "webhook delivery attempt"
    );
    let record = Attempt {
        http_status: http_status.map(i64::from),
        latency_ms,
        error,
        outcome,
    };
    match state
        .store()
        .finish_webhook_attempt(state.replica_id(), &delivery, &record)
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            webhook = webhook.id,
            "webhooks: the endpoint's lease ran out during the attempt; it will be made again"
        ),
        Err(e) => tracing::warn!(error = %e, "webhooks: recording an attempt failed"),
    }
}
