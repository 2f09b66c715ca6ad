//! Deliveries through the real worker to a local receiver: signed, retried once per failed
//! attempt, in order per endpoint, an endpoint failing once its schedule is over and
//! re-enabled, test deliveries, and two replicas on one database never making the same
//! endpoint's attempts at once.

use std::time::Duration;

use amphora_server::AppState;
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::receiver::Receiver;
use super::{create, fast, patch, Worker};
use crate::common::{TestApp, PLATFORM_MNEMONIC};

async fn issuer_id(app: &TestApp, username: &str) -> i64 {
    let issuer = app
        .state
        .store()
        .issuer_by_username(username)
        .await
        .unwrap();
    issuer.unwrap().id
}

/// Locks (`lock` true) or unlocks the asset: one event.
async fn toggle(app: &TestApp, token: &str, asset: &str, lock: bool) {
    let action = if lock { "lock" } else { "unlock" };
    let reply = app
        .put(&format!("/api/assets/{asset}/{action}"), token, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}

/// The ids of the issuer's lock and unlock events, oldest first (the stored asset's
/// asset.issued came before the webhooks).
async fn event_ids(app: &TestApp, token: &str) -> Vec<String> {
    let feed = app
        .get("/api/events?types=asset.locked,asset.unlocked", token)
        .await;
    feed.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].to_string())
        .collect()
}

/// Waits (at most 30 s) until `check` holds for the webhook's deliveries (newest first).
async fn deliveries_until(
    app: &TestApp,
    token: &str,
    id: i64,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let reply = app
            .get(&format!("/api/webhooks/{id}/deliveries"), token)
            .await;
        let list = reply.body.as_array().cloned().unwrap_or_default();
        if check(&list) {
            return list;
        }
        assert!(tokio::time::Instant::now() < deadline, "{:?}", reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_receiver_failing_at_first_gets_the_event_once_more_per_attempt_signed() {
    let app = fast(TestApp::new().await);
    let token = app.issuer("alice").await;
    let asset = app.stored_asset(issuer_id(&app, "alice").await).await;
    let receiver = Receiver::start(2).await;
    let created = create(&app, &token, &receiver.url, &["asset.locked"]).await;
    let (id, secret) = (
        created["id"].as_i64().unwrap(),
        created["secret"].as_str().unwrap(),
    );
    let _worker = Worker::start(&app.state);
    toggle(&app, &token, &asset, true).await;
    toggle(&app, &token, &asset, false).await; // not subscribed
    let requests = receiver.wait_for(3).await;
    // No more than one request per attempt: nothing else arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let requests_after = receiver.requests();
    assert_eq!(requests_after.len(), 3, "{requests_after:?}");
    let events = event_ids(&app, &token).await;
    let feed = app.get("/api/events?types=asset.locked", &token).await;
    let locked = feed.body["results"][0].clone();
    assert_eq!(locked["type"], "asset.locked");
    for (n, request) in requests.iter().enumerate() {
        assert_eq!(request.event_id, events[0], "attempt {n}");
        assert!(
            request.verifies(secret),
            "attempt {n}: {}",
            request.signature
        );
        assert!(!request.verifies("whsec_wrong"));
        // The same JSON as the feed shows.
        assert_eq!(request.json, locked, "attempt {n}");
    }
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 500, 204]
    );
    let list = deliveries_until(&app, &token, id, |l| {
        l.first().is_some_and(|d| d["status"] == "succeeded")
    })
    .await;
    assert_eq!(list.len(), 3, "{list:?}");
    let shown: Vec<(i64, &str, i64)> = list
        .iter()
        .map(|d| {
            (
                d["attempt"].as_i64().unwrap(),
                d["status"].as_str().unwrap(),
                d["http_status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (3, "succeeded", 204),
            (2, "failed", 500),
            (1, "failed", 500)
        ]
    );
    for d in &list {
        assert_eq!(d["event_id"].to_string(), events[0]);
        assert_eq!(d["event_type"], "asset.locked");
        assert!(d["latency_ms"].as_i64().unwrap() >= 0);
        assert!(d["attempted"].is_string());
        assert_eq!(d["next_attempt"], Value::Null);
    }
    assert!(list[1]["error"].as_str().unwrap().contains("500"));
    assert_eq!(list[0]["error"], Value::Null);
}

#[tokio::test]
async fn events_reach_an_endpoint_in_order_each_after_the_previous_succeeded() {
    let app = fast(TestApp::new().await);
    let token = app.issuer("alice").await;
    let asset = app.stored_asset(issuer_id(&app, "alice").await).await;
    let receiver = Receiver::start(3).await;
    create(&app, &token, &receiver.url, &["*"]).await;
    let _worker = Worker::start(&app.state);
    for n in 0..4 {
        toggle(&app, &token, &asset, n % 2 == 0).await;
    }
    let events = event_ids(&app, &token).await;
    assert_eq!(events.len(), 4);
    let requests = receiver.wait_for(7).await;
    let order: Vec<&str> = requests.iter().map(|r| r.event_id.as_str()).collect();
    let first = events[0].as_str();
    assert_eq!(
        order,
        [
            first,
            first,
            first,
            first,
            events[1].as_str(),
            events[2].as_str(),
            events[3].as_str()
        ],
        "the first event is retried until it succeeds; the next ones wait for it"
    );
}

#[tokio::test]
async fn an_endpoint_fails_once_its_schedule_is_over_and_a_re_enabled_one_catches_up() {
    let app = fast(TestApp::new().await);
    let token = app.issuer("alice").await;
    let asset = app.stored_asset(issuer_id(&app, "alice").await).await;
    let receiver = Receiver::start(0).await;
    receiver.fail_all(true);
    let id = create(&app, &token, &receiver.url, &["*"]).await["id"]
        .as_i64()
        .unwrap();
    let _worker = Worker::start(&app.state);
    toggle(&app, &token, &asset, true).await;
    let attempts = app.state.webhooks().settings.schedule.attempts() as usize;
    let list = deliveries_until(&app, &token, id, |l| {
        l.first().is_some_and(|d| d["status"] == "abandoned")
    })
    .await;
    assert_eq!(list.len(), attempts, "{list:?}");
    assert!(list[1..].iter().all(|d| d["status"] == "failed"));
    let shown = app.get(&format!("/api/webhooks/{id}"), &token).await.body;
    assert_eq!(shown["state"], "failing");
    assert!(shown["failing_since"].is_string());
    assert_eq!(receiver.requests().len(), attempts);

    // While failing, new events wait; test deliveries still go out, once.
    toggle(&app, &token, &asset, false).await;
    let queued = app
        .post(&format!("/api/webhooks/{id}/test"), &token, "")
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED);
    let test = receiver.wait_for(attempts + 1).await.pop().unwrap();
    assert_eq!(test.json["type"], "webhook.test");
    assert_eq!(test.event_id, format!("test-{}", queued.body["id"]));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.requests().len(), attempts + 1);

    receiver.fail_all(false);
    let enabled = patch(
        &app,
        &format!("/api/webhooks/{id}"),
        &token,
        &json!({"enabled": true}),
    )
    .await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert_eq!(enabled.body["state"], "active");
    assert_eq!(enabled.body["failing_since"], Value::Null);
    let requests = receiver.wait_for(attempts + 3).await;
    let events = event_ids(&app, &token).await;
    let last: Vec<&str> = requests[attempts + 1..]
        .iter()
        .map(|r| r.event_id.as_str())
        .collect();
    assert_eq!(last, [events[0].as_str(), events[1].as_str()]);
    let list = deliveries_until(&app, &token, id, |l| {
        l.iter().filter(|d| d["status"] == "succeeded").count() == 2
    })
    .await;
    // The abandoned event's next attempt continues its numbering.
    let retried = list
        .iter()
        .find(|d| d["event_id"].to_string() == events[0] && d["status"] == "succeeded")
        .unwrap();
    assert_eq!(retried["attempt"].as_u64().unwrap() as usize, attempts + 1);
}

#[tokio::test]
async fn a_test_delivery_is_signed_and_names_the_webhook() {
    let app = fast(TestApp::new().await);
    let token = app.issuer("alice").await;
    let receiver = Receiver::start(0).await;
    let created = create(&app, &token, &receiver.url, &["asset.issued"]).await;
    let id = created["id"].as_i64().unwrap();
    let _worker = Worker::start(&app.state);
    let queued = app
        .post(&format!("/api/webhooks/{id}/test"), &token, "")
        .await;
    let request = receiver.wait_for(1).await.remove(0);
    assert!(request.verifies(created["secret"].as_str().unwrap()));
    assert_eq!(request.json["type"], "webhook.test");
    assert_eq!(request.json["id"], Value::Null);
    assert_eq!(request.json["issuer_id"], issuer_id(&app, "alice").await);
    assert_eq!(
        request.json["data"],
        json!({"webhook_id": id, "delivery_id": queued.body["id"]})
    );
    let list = deliveries_until(&app, &token, id, |l| {
        l.first().is_some_and(|d| d["status"] == "succeeded")
    })
    .await;
    assert_eq!(list[0]["http_status"], 204);
}

/// Another platform instance on the same database: its own store connections, its own replica
/// id, the same platform key.
fn replica(
    store: amphora_store::Store,
    settings: amphora_server::webhooks::WebhookSettings,
) -> AppState {
    let key = amphora_cosigner::PlatformKey::from_mnemonic(
        PLATFORM_MNEMONIC,
        amphora_core::Network::LiquidRegtest,
    )
    .unwrap();
    AppState::new(
        store,
        key,
        amphora_core::Network::LiquidRegtest,
        Duration::from_secs(3600),
    )
    .with_webhook_settings(settings)
}

#[tokio::test]
async fn two_replicas_never_make_an_endpoints_attempts_at_once() {
    let app = fast(TestApp::new().await);
    let token = app.issuer("alice").await;
    let asset = app.stored_asset(issuer_id(&app, "alice").await).await;
    let receivers = [Receiver::start(2).await, Receiver::start(0).await];
    let mut secrets = Vec::new();
    for receiver in &receivers {
        receiver.delay(Duration::from_millis(60));
        secrets.push(create(&app, &token, &receiver.url, &["*"]).await["secret"].clone());
    }
    let other = replica(app.second_store().await, app.state.webhooks().settings);
    assert_ne!(other.replica_id(), app.state.replica_id());
    let _workers = [Worker::start(&app.state), Worker::start(&other)];
    for n in 0..6 {
        toggle(&app, &token, &asset, n % 2 == 0).await;
    }
    let events = event_ids(&app, &token).await;
    let first = receivers[0].wait_for(events.len() + 2).await;
    let second = receivers[1].wait_for(events.len()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (n, receiver) in receivers.iter().enumerate() {
        assert_eq!(receiver.max_in_flight(), 1, "receiver {n}");
    }
    assert_eq!(receivers[0].requests().len(), events.len() + 2);
    assert_eq!(receivers[1].requests().len(), events.len());
    let delivered = |requests: &[super::receiver::Received]| -> Vec<String> {
        requests
            .iter()
            .filter(|r| r.status == 204)
            .map(|r| r.event_id.clone())
            .collect()
    };
    assert_eq!(delivered(&first), events, "each event once, in order");
    assert_eq!(delivered(&second), events);
    for (requests, secret) in [(&first, &secrets[0]), (&second, &secrets[1])] {
        assert!(requests
            .iter()
            .all(|r| r.verifies(secret.as_str().unwrap())));
    }
}
