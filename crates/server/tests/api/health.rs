//! `/healthz`: 200 with every dependency up, 503 with a JSON body naming what is down.

use amphora_rpc::{Auth, ElementsRpc, RetryPolicy};
use amphora_testenv::TestNode;
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn healthy_without_a_node_configured() {
    let app = TestApp::new().await;
    let reply = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.body,
        json!({
            "status": "ok",
            "database": {"status": "ok"},
            "node": {"status": "not_configured"},
            "follower": {"status": "not_configured"},
            "amp2": {"undecodable_requests": 0, "throttled_requests": 0,
                     "tracked_addresses": 0, "tracked_wallets": 0},
        })
    );
    // Trailing slash and HEAD-free GET only; other methods are 405.
    let reply = app.send(Method::GET, "/healthz/", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = app.send(Method::POST, "/healthz", None, Some("{}")).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_node_is_checked() {
    let node = TestNode::start().await;
    let rpc = node.rpc().clone();
    let blocks = rpc.get_block_count().await.unwrap();
    let app = TestApp::new().await.with_node(rpc);
    let reply = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.body["node"],
        json!({"status": "ok", "blocks": blocks})
    );

    let offline = ElementsRpc::new("http://127.0.0.1:1", Auth::None)
        .unwrap()
        .with_retry(RetryPolicy::none());
    let app = app.with_node(offline);
    let reply = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.body["status"], "unavailable");
    assert_eq!(reply.body["database"]["status"], "ok");
    assert_eq!(reply.body["node"]["status"], "down");
    assert!(reply.body["node"]["error"].is_string());
    // No address or credentials of the node in the answer.
    assert!(!String::from_utf8_lossy(&reply.raw).contains("127.0.0.1"));
}

#[tokio::test]
async fn a_closed_database_is_503() {
    let app = TestApp::new().await;
    app.state.store().close().await;
    let reply = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body["status"], "unavailable");
    assert_eq!(reply.body["database"]["status"], "down");
    assert_eq!(reply.body["node"]["status"], "not_configured");
}

#[tokio::test]
async fn the_chain_index_lag_is_checked() {
    let node = TestNode::start().await;
    let rpc = node.rpc().clone();
    node.mine(3).await;
    let mut app = TestApp::new().await.with_node(rpc.clone());
    let poll = amphora_follower::FollowerConfig::default().poll_interval;
    let follower = app.with_follower(rpc.clone(), poll);

    // The follower catches up: healthy, lag 0, this replica leads.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let reply = loop {
        let reply = app.send(Method::GET, "/healthz", None, None).await;
        if reply.status == StatusCode::OK && reply.body["follower"]["lag"] == 0 {
            break reply;
        }
        assert!(std::time::Instant::now() < deadline, "{:?}", reply.body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let blocks = rpc.get_block_count().await.unwrap();
    assert_eq!(
        reply.body["follower"],
        json!({"status": "ok", "is_leader": true, "indexed_height": blocks, "lag": 0})
    );

    // Stopped, while the node moves on past the allowed lag: 503, "behind".
    follower.shutdown().await;
    let lag = amphora_server::routes::health::MAX_INDEX_LAG as u64 + 1;
    node.mine(lag).await;
    let reply = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body["follower"]["status"], "behind");
    assert_eq!(reply.body["follower"]["lag"], lag);
    assert_eq!(reply.body["node"]["status"], "ok");
}
