//! Webhooks: every field of the API, bad input, access (issuers only, each its own), the secret
//! shown once and stored encrypted, and the outbound policy at creation and at delivery. The
//! deliveries themselves (retries, signature, order, failing, replicas) are in `delivery`.

mod delivery;
mod receiver;

use std::time::Duration;

use amphora_server::webhooks::{worker, WebhookConfig, WebhookSettings};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;

/// Settings that make the worker quick: 20 ms polls and a retry schedule of about a second.
pub fn fast_settings() -> WebhookSettings {
    WebhookSettings::resolve(&WebhookConfig {
        poll_interval_ms: 20,
        lease_ttl_ms: 15_000,
        retry_base_ms: 1,
    })
    .unwrap()
}

/// A running delivery worker of `state`, stopped when dropped.
pub struct Worker(tokio::task::JoinHandle<()>);

impl Worker {
    pub fn start(state: &amphora_server::AppState) -> Worker {
        Worker(worker::spawn(state.clone()))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `app` with the fast webhook settings.
pub fn fast(mut app: TestApp) -> TestApp {
    app.state = app.state.clone().with_webhook_settings(fast_settings());
    app.router = amphora_server::app(app.state.clone());
    app
}

pub async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> crate::common::Reply {
    app.send(Method::PATCH, path, Some(token), Some(&body.to_string()))
        .await
}

/// Creates a webhook to `url` for `events`; the answer's body.
pub async fn create(app: &TestApp, token: &str, url: &str, events: &[&str]) -> Value {
    let body = json!({"url": url, "events": events, "description": "back office"});
    let reply = app.post("/api/webhooks", token, &body.to_string()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body
}

fn field_errors(reply: &crate::common::Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    reply
        .body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {:?}", reply.body))
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_field_of_the_api() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let created = create(&app, &token, "https://hooks.example/in", &["asset.locked"]).await;
    let id = created["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 70,
        "{secret}"
    );
    assert_eq!(created["url"], "https://hooks.example/in");
    assert_eq!(created["events"], json!(["asset.locked"]));
    assert_eq!(created["description"], "back office");
    assert_eq!(created["state"], "active");
    assert_eq!(created["failing_since"], Value::Null);
    assert!(created["created"].as_str().unwrap().contains('T'));

    // The secret is shown once and stored encrypted.
    let shown = app.get(&format!("/api/webhooks/{id}"), &token).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body.get("secret"), None);
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(shown.body, expected);
    let alice = app
        .state
        .store()
        .issuer_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    let stored = app
        .state
        .store()
        .webhook(alice.id, id)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.secret_encrypted.contains(&secret[6..]));
    assert_eq!(
        app.state
            .webhooks()
            .secrets
            .open(&stored.secret_encrypted)
            .unwrap(),
        secret
    );

    let list = app.get("/api/webhooks", &token).await;
    assert_eq!(list.body, json!([expected]));

    let path = format!("/api/webhooks/{id}");
    let edited = patch(
        &app,
        &path,
        &token,
        &json!({"url": " http://hooks.example:8443/v2 ", "events": ["*"], "description": "  ledger "}),
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(edited.body["url"], "http://hooks.example:8443/v2");
    assert_eq!(edited.body["events"], json!(["*"]));
    assert_eq!(edited.body["description"], "ledger");
    // Absent fields keep their value; enabling an active endpoint changes nothing.
    let kept = patch(&app, &path, &token, &json!({"enabled": true})).await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(kept.body, edited.body);

    let deliveries = app.get(&format!("{path}/deliveries"), &token).await;
    assert_eq!(deliveries.status, StatusCode::OK);
    assert_eq!(deliveries.body, json!([]));
    let queued = app.post(&format!("{path}/test"), &token, "").await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{:?}", queued.body);
    assert_eq!(queued.body["event_id"], Value::Null);
    assert_eq!(queued.body["event_type"], "webhook.test");
    assert_eq!(queued.body["attempt"], 1);
    assert_eq!(queued.body["status"], "pending");
    assert!(queued.body["next_attempt"].is_string());
    for key in ["http_status", "latency_ms", "error", "attempted"] {
        assert_eq!(queued.body[key], Value::Null, "{key}");
    }
    let deliveries = app.get(&format!("{path}/deliveries"), &token).await;
    assert_eq!(deliveries.body, json!([queued.body]));

    let deleted = app.delete(&path, &token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    for reply in [
        app.get(&path, &token).await,
        app.delete(&path, &token).await,
        patch(&app, &path, &token, &json!({})).await,
        app.post(&format!("{path}/test"), &token, "").await,
        app.get(&format!("{path}/deliveries"), &token).await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
    }
    assert_eq!(app.get("/api/webhooks", &token).await.body, json!([]));
}

#[tokio::test]
async fn bad_input_is_a_field_error() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let long_url = format!("https://hooks.example/{}", "a".repeat(2048));
    let long_description = "d".repeat(256);
    for (body, fields) in [
        // serde names the first missing field
        (json!({}), vec!["url"]),
        (json!({"url": "https://hooks.example"}), vec!["events"]),
        (
            json!({"url": "ftp://hooks.example", "events": ["*"]}),
            vec!["url"],
        ),
        (
            json!({"url": "hooks.example", "events": ["*"]}),
            vec!["url"],
        ),
        (json!({"url": long_url, "events": ["*"]}), vec!["url"]),
        (json!({"url": "  ", "events": ["*"]}), vec!["url"]),
        (json!({"url": 5, "events": ["*"]}), vec!["url"]),
        (
            json!({"url": "https://hooks.example", "events": []}),
            vec!["events"],
        ),
        (
            json!({"url": "https://hooks.example", "events": "*"}),
            vec!["events"],
        ),
        (
            json!({"url": "https://hooks.example", "events": ["*", "asset.locked"]}),
            vec!["events"],
        ),
        (
            json!({"url": "https://hooks.example", "events": ["asset.nope"]}),
            vec!["events"],
        ),
        (
            json!({"url": "https://hooks.example", "events": ["*"], "description": long_description}),
            vec!["description"],
        ),
        (
            json!({"url": "https://hooks.example", "events": ["*"], "description": "a\u{0}b"}),
            vec!["description"],
        ),
        (
            json!({"url": "nope", "events": ["nope"], "description": long_description}),
            vec!["description", "events", "url"],
        ),
    ] {
        let reply = app.post("/api/webhooks", &token, &body.to_string()).await;
        let mut got = field_errors(&reply);
        got.sort();
        assert_eq!(got, fields, "{body}: {:?}", reply.body);
    }
    let not_json = app.post("/api/webhooks", &token, "[1]").await;
    assert_eq!(field_errors(&not_json), ["non_field_errors"]);

    let id = create(&app, &token, "https://hooks.example", &["*"]).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/webhooks/{id}");
    for (body, field) in [
        (json!({"enabled": false}), "enabled"),
        (json!({"enabled": "yes"}), "enabled"),
        (json!({"url": "file:///etc/passwd"}), "url"),
        (json!({"events": []}), "events"),
        (json!({"description": long_description}), "description"),
    ] {
        let reply = patch(&app, &path, &token, &body).await;
        assert_eq!(field_errors(&reply), [field], "{body}");
    }
    // Nothing changed.
    let shown = app.get(&path, &token).await;
    assert_eq!(shown.body["url"], "https://hooks.example");
    assert_eq!(shown.body["events"], json!(["*"]));
    for bad in ["/api/webhooks/x", "/api/webhooks/99999"] {
        assert_eq!(app.get(bad, &token).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn issuers_see_only_their_webhooks_and_managers_none() {
    let app = TestApp::new().await;
    let alice = app.issuer("alice").await;
    let bob = app.issuer("bob").await;
    let id = create(&app, &alice, "https://hooks.example", &["*"]).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/webhooks/{id}");
    assert_eq!(app.get("/api/webhooks", &bob).await.body, json!([]));
    for reply in [
        app.get(&path, &bob).await,
        patch(&app, &path, &bob, &json!({"description": "mine"})).await,
        app.post(&format!("{path}/test"), &bob, "").await,
        app.get(&format!("{path}/deliveries"), &bob).await,
        app.delete(&path, &bob).await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
    }
    let (_, manager) = app.manager(&alice, "mia").await;
    for reply in [
        app.get("/api/webhooks", &manager).await,
        app.post(
            "/api/webhooks",
            &manager,
            r#"{"url":"https://h.example","events":["*"]}"#,
        )
        .await,
        app.get(&path, &manager).await,
        app.delete(&path, &manager).await,
        app.post(&format!("{path}/test"), &manager, "").await,
        app.get(&format!("{path}/deliveries"), &manager).await,
    ] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.body);
    }
    assert_eq!(
        app.get("/api/webhooks", "0".repeat(40).as_str())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&path, &alice).await.body["description"],
        "back office"
    );
}

#[tokio::test]
async fn private_targets_are_refused_when_private_outbound_is_off() {
    let guarded = TestApp::new()
        .await
        .with_security(|s| s.outbound.allow_private = false);
    let token = guarded.issuer("alice").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest",
        "http://localhost:9/hook",
    ] {
        let body = json!({"url": url, "events": ["*"]}).to_string();
        let reply = guarded.post("/api/webhooks", &token, &body).await;
        assert_eq!(field_errors(&reply), ["url"], "{url}");
        let message = reply.body["url"][0].as_str().unwrap();
        assert!(message.contains("non-public"), "{message}");
    }
    assert_eq!(guarded.get("/api/webhooks", &token).await.body, json!([]));
}

#[tokio::test]
async fn a_target_turned_private_is_not_called_at_delivery() {
    // Created while private outbound was allowed; delivered by a replica where it is not (as
    // a name re-resolving to a private address would be refused by the resolver).
    let app = fast(TestApp::new().await);
    let token = app.issuer("alice").await;
    let receiver = receiver::Receiver::start(0).await;
    let id = create(&app, &token, &receiver.url, &["*"]).await["id"]
        .as_i64()
        .unwrap();
    let guarded = app.with_security(|s| s.outbound.allow_private = false);
    let _worker = Worker::start(&guarded.state);
    let queued = guarded
        .post(&format!("/api/webhooks/{id}/test"), &token, "")
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED);
    let path = format!("/api/webhooks/{id}/deliveries");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let attempt = loop {
        let list = guarded.get(&path, &token).await.body;
        if list[0]["status"] == "failed" {
            break list[0].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{list}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let error = attempt["error"].as_str().unwrap();
    assert!(error.contains("outbound policy"), "{error}");
    assert_eq!(attempt["http_status"], Value::Null);
    assert!(receiver.requests().is_empty());
}
