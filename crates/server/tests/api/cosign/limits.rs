//! The per-wallet rate limit of `POST /amp2/wallets/sign`: a wallet cannot escape it by
//! changing addresses, and a throttled request is neither signed nor recorded.

use amphora_server::rate_limit::Rate;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use lwk_wollet::Chain;
use serde_json::json;

use super::scene_with;
use crate::common::TestApp;

#[tokio::test]
async fn a_sending_wallet_is_limited_from_any_address() {
    let app = TestApp::new().await.with_security(|s| {
        s.amp2_limits.per_wallet = Rate {
            per_minute: 1,
            // the wallet's registration takes one: register and sign share a wallet's allowance
            burst: 4,
        }
    });
    let s = scene_with(app).await;
    let (pset, _) = s.alice_sends(&s.bob.address(Chain::External, 0), 10).await;
    let body = json!({ "pset": pset.to_string() }).to_string();
    let sign_from = |peer: String| {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/amp2/wallets/sign")
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        let app = &s.app;
        async move { app.call_from(&peer, request).await }
    };
    for i in 0..3 {
        let reply = sign_from(format!("192.0.2.{i}:1000")).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    let reply = sign_from("192.0.2.77:1000".into()).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        reply.body
    );
    assert!(reply.headers.contains_key("retry-after"));
    assert!(reply.body.get("pset").is_none(), "nothing signed");
    let decisions = s
        .app
        .state
        .store()
        .cosign_decisions_for_asset(s.issuer_id, &s.uuid)
        .await
        .unwrap();
    assert_eq!(decisions.len(), 3, "the throttled request is not recorded");
}
