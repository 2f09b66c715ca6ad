//! `/healthz`: 200 with every dependency up, 503 with a JSON body naming what is down.

use amphora_regtest::{Node, NodeConfig};
use amphora_rpc::{Auth, ElementsRpc, RetryPolicy};
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
    let node = Node::start(NodeConfig {
        rpc_user: Some("amphora".into()),
        rpc_password: Some("secret".into()),
        ..NodeConfig::default()
    })
    .await
    .expect("node starts");
    let auth = Auth::UserPass {
        user: "amphora".into(),
        password: "secret".into(),
    };
    let rpc = ElementsRpc::new(node.rpc_url(), auth).unwrap();
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
