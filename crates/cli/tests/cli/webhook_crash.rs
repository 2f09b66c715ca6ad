//! Webhooks survive a crash: `amphora serve` is killed with `SIGKILL` after an event is
//! committed and before its delivery is sent (the `webhook-before-delivery` crash point, the
//! endpoint's lease taken); started again on the same data, it delivers the event, signed. A
//! receiver on 127.0.0.1 in the test records what arrives (`allow_private_outbound` is on on
//! liquidregtest). On SQLite and on PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use amphora_core::crash::{CRASH_AT_ENV, WEBHOOK_BEFORE_DELIVERY};
use amphora_core::webhook::{verify, DEFAULT_TOLERANCE};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use amphora_testenv::pg::PgSchema;

use crate::support::{until, Options, Platform, TIMEOUT};

const PASSWORD: &str = "webhook crash password";
const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;
/// The shortest webhook lease allowed, so the restarted process takes the endpoint over after
/// 15 s, and a short follower lease (as the crash harness has).
const SETTINGS: [(&str, &str); 3] = [
    ("AMPHORA_WEBHOOK_LEASE_TTL_MS", "15000"),
    ("AMPHORA_WEBHOOK_POLL_INTERVAL_MS", "100"),
    ("AMPHORA_FOLLOWER_LEASE_TTL_MS", "2000"),
];

/// Requests received: `(Amphora-Event-Id, Amphora-Signature, body)`.
type Received = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

async fn receive(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    received.lock().unwrap().push((
        header("amphora-event-id"),
        header("amphora-signature"),
        body.to_vec(),
    ));
    StatusCode::OK
}

/// A receiver on 127.0.0.1: its URL, what it received, and its task (aborted when dropped).
async fn receiver() -> (String, Received, tokio::task::JoinHandle<()>) {
    let received = Received::default();
    let app = axum::Router::new()
        .fallback(axum::routing::post(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received, task)
}

/// Stops the receiver when the test ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_committed_before_a_crash_is_delivered_after_the_restart() {
    killed_before_delivery(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_committed_before_a_crash_is_delivered_after_the_restart_on_postgres() {
    let schema = PgSchema::create("webhook_crash").await;
    killed_before_delivery(Some(schema.url())).await;
}

async fn killed_before_delivery(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut platform = Platform::start(
        dir.path(),
        Options {
            issuer_password: Some(PASSWORD.into()),
            data_dir: Some(dir.path().join("data")),
            database_url,
            env: SETTINGS.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            ..Options::default()
        },
    )
    .await;
    let api = platform.api().await;
    let (url, received, task) = receiver().await;
    let _task = AbortOnDrop(task);
    let created = api
        .ok(
            "POST",
            "/webhooks",
            Some(json!({"url": url, "events": ["asset.issued"]})),
            201,
        )
        .await;
    let secret = created["secret"].as_str().unwrap().to_string();

    // Armed: the issuance commits its asset.issued event; the worker takes the endpoint and
    // dies before sending (the answer to the issuance may be lost with it).
    platform.restart(&[(CRASH_AT_ENV, WEBHOOK_BEFORE_DELIVERY)]);
    let api = platform.api().await;
    let treasury = platform.treasury();
    let destination = treasury.get_new_address(None).await.unwrap();
    let issuance = json!({
        "name": "Webhook Crash", "amount": 1000, "destination_address": destination,
        "domain": "example.com", "ticker": "WHCR", "pubkey": PUBKEY,
    });
    let _ = api.try_call("POST", "/assets/issue", Some(issuance)).await;
    platform.wait_killed(TIMEOUT).await;
    assert!(
        received.lock().unwrap().is_empty(),
        "nothing was sent before the crash"
    );

    platform.restart(&[]);
    let api = platform.api().await;
    let feed = api.get("/events?types=asset.issued").await;
    let event: Value = feed["results"][0].clone();
    assert_eq!(event["type"], "asset.issued", "{feed}");
    let (event_id, signature, body) = until(
        "the delivery after the restart",
        Duration::from_secs(90),
        || {
            let received = received.clone();
            async move { received.lock().unwrap().first().cloned() }
        },
    )
    .await;
    assert_eq!(event_id, event["id"].to_string());
    let now = chrono_now();
    assert_eq!(
        verify(&secret, &signature, &body, now, DEFAULT_TOLERANCE),
        Ok(())
    );
    let delivered: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(delivered, event);
    let webhook = created["id"].as_i64().unwrap();
    let attempts = until("the attempt recorded", Duration::from_secs(30), || {
        let api = api.clone();
        async move {
            let list = api.get(&format!("/webhooks/{webhook}/deliveries")).await;
            (list[0]["status"] == "succeeded").then_some(list)
        }
    })
    .await;
    assert_eq!(attempts.as_array().unwrap().len(), 1, "{attempts}");
    assert_eq!(
        attempts[0]["attempt"], 1,
        "the interrupted attempt was made again, not counted"
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
