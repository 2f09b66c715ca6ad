//! A webhook receiver for the tests: an HTTP server on 127.0.0.1 that records every request,
//! answers 500 to the first N (or to all while told to fail), takes a while to answer when
//! asked, and counts the requests it is answering at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amphora_core::webhook::{verify, DEFAULT_TOLERANCE};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// `Amphora-Event-Id`.
    pub event_id: String,
    /// `Amphora-Signature`.
    pub signature: String,
    /// The raw body.
    pub body: Vec<u8>,
    /// The body as JSON.
    pub json: Value,
    /// What the receiver answered.
    pub status: u16,
}

impl Received {
    /// Whether the signature verifies with `secret` now.
    pub fn verifies(&self, secret: &str) -> bool {
        let now = chrono::Utc::now().timestamp();
        verify(secret, &self.signature, &self.body, now, DEFAULT_TOLERANCE).is_ok()
    }
}

#[derive(Debug, Default)]
struct Shared {
    requests: Mutex<Vec<Received>>,
    fail_first: AtomicUsize,
    fail_all: AtomicBool,
    delay_ms: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running receiver; stops when dropped.
pub struct Receiver {
    /// Its URL.
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = shared.delay_ms.load(Ordering::SeqCst) as u64;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let fail = shared.fail_all.load(Ordering::SeqCst)
        || shared
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    let status = if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    shared.requests.lock().unwrap().push(Received {
        event_id: header("amphora-event-id"),
        signature: header("amphora-signature"),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
        status: status.as_u16(),
    });
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    status
}

impl Receiver {
    /// A receiver answering 500 to its first `fail_first` requests, then 204.
    pub async fn start(fail_first: usize) -> Receiver {
        let shared = Arc::new(Shared::default());
        shared.fail_first.store(fail_first, Ordering::SeqCst);
        let app = axum::Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, shared, task }
    }

    /// Answers 500 to everything while `fail` is true.
    pub fn fail_all(&self, fail: bool) {
        self.shared.fail_all.store(fail, Ordering::SeqCst);
    }

    /// Takes `delay` to answer each request.
    pub fn delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as usize, Ordering::SeqCst);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The most requests it was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Waits (at most 30 s) until it got `count` requests; panics otherwise.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let requests = self.requests();
            if requests.len() >= count {
                return requests;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the receiver got {} requests, not {count}: {requests:?}",
                requests.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
