//! The anonymous AMP2 endpoints are bounded (issue 12, item 5): rate limits per client address
//! (both endpoints together) and per wallet, 429 with `Retry-After`; requests that do not
//! decode are counted, never stored; idle limiter keys are pruned.

use amphora_core::Network;
use amphora_cosigner::key::lwk_network;
use amphora_server::rate_limit::{Rate, PRUNE_EVERY};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use lwk_signer::SwSigner;
use serde_json::{json, Value};

use crate::common::{Reply, TestApp};

fn post(path: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn health(app: &TestApp) -> Value {
    app.send(Method::GET, "/healthz", None, None).await.body["amp2"].clone()
}

fn descriptor(app: &TestApp) -> String {
    let (signer, _) = SwSigner::random_with_network(lwk_network(Network::LiquidRegtest)).unwrap();
    let descriptor = app.amp2().elip153_from_signer(&signer, 0).unwrap();
    json!({ "descriptor": descriptor.to_string() }).to_string()
}

fn assert_throttled(reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        reply.body
    );
    let retry: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
    assert!(reply.body["error"]
        .as_str()
        .is_some_and(|e| e.contains("Too many requests")));
}

#[tokio::test]
async fn anonymous_endpoints_are_limited_per_client_address() {
    let app = TestApp::new().await.with_security(|s| {
        s.amp2_limits.per_address = Rate {
            per_minute: 1,
            burst: 5,
        }
    });
    let garbage_sign = r#"{"pset": "not a pset"}"#;
    for i in 0..5 {
        let request = if i % 2 == 0 {
            post("/amp2/wallets/sign", garbage_sign)
        } else {
            post("/amp2/wallets/register", r#"{"descriptor": "x"}"#)
        };
        let reply = app.call_from("192.0.2.1:1000", request).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    }
    // the sixth request from that address, to either endpoint, is refused before any work
    let reply = app
        .call_from("192.0.2.1:1001", post("/amp2/wallets/sign", garbage_sign))
        .await;
    assert_throttled(&reply);
    let reply = app
        .call_from(
            "192.0.2.1:1002",
            post("/amp2/wallets/register", &descriptor(&app)),
        )
        .await;
    assert_throttled(&reply);
    // other addresses are not affected, nor the token-free info routes
    let reply = app
        .call_from(
            "192.0.2.2:1000",
            post("/amp2/wallets/register", &descriptor(&app)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let info = Request::builder()
        .uri("/amp2/info/xpub")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.call_from("192.0.2.1:1003", info).await.status,
        StatusCode::OK
    );
    assert_eq!(health(&app).await["throttled_requests"], 2);
}

#[tokio::test]
async fn registering_one_wallet_is_limited_whatever_the_address() {
    let app = TestApp::new().await.with_security(|s| {
        s.amp2_limits.per_wallet = Rate {
            per_minute: 1,
            burst: 2,
        }
    });
    let wallet = descriptor(&app);
    for i in 0..2 {
        let reply = app
            .call_from(
                &format!("198.51.100.{i}:1000"),
                post("/amp2/wallets/register", &wallet),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    let reply = app
        .call_from("198.51.100.9:1000", post("/amp2/wallets/register", &wallet))
        .await;
    assert_throttled(&reply);
    // another wallet is not affected
    let reply = app
        .call_from(
            "198.51.100.9:1000",
            post("/amp2/wallets/register", &descriptor(&app)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}

#[tokio::test]
async fn requests_that_do_not_decode_are_counted_not_stored() {
    let app = TestApp::new().await;
    let bodies = [
        ("/amp2/wallets/sign", r#"{"pset": "not a pset"}"#),
        ("/amp2/wallets/sign", r#"{"pset": "cHNldP8="}"#),
        ("/amp2/wallets/sign", r#"{"psbt": 1}"#),
        ("/amp2/wallets/sign", "garbage"),
        ("/amp2/wallets/register", "garbage"),
    ];
    let rounds = 40;
    for _ in 0..rounds {
        for (path, body) in bodies {
            let reply = app.send(Method::POST, path, None, Some(body)).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
        }
    }
    let recorded = app
        .state
        .store()
        .recent_cosign_decisions(1_000)
        .await
        .unwrap();
    assert!(recorded.is_empty(), "{} rows stored", recorded.len());
    assert_eq!(
        health(&app).await["undecodable_requests"],
        json!(rounds * bodies.len())
    );
}

#[tokio::test]
async fn idle_wallets_and_addresses_are_forgotten() {
    let app = TestApp::new().await.with_security(|s| {
        // allowances refill within microseconds, so every key is idle again at once
        s.amp2_limits.per_wallet = Rate {
            per_minute: 60_000_000,
            burst: 1,
        };
        s.amp2_limits.per_address = Rate {
            per_minute: 60_000_000,
            burst: 100_000,
        };
    });
    for i in 0..20 {
        let reply = app
            .call_from(
                &format!("203.0.113.{i}:1000"),
                post("/amp2/wallets/register", &descriptor(&app)),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    let counters = health(&app).await;
    assert_eq!(counters["tracked_wallets"], 20);
    assert_eq!(counters["tracked_addresses"], 20);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for _ in 0..PRUNE_EVERY {
        app.call_from("192.0.2.200:1000", post("/amp2/wallets/sign", "x"))
            .await;
    }
    let counters = health(&app).await;
    assert_eq!(counters["tracked_wallets"], 0, "{counters}");
    assert!(
        counters["tracked_addresses"].as_u64().unwrap() <= 1,
        "{counters}"
    );
}
