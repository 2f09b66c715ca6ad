//! The issuer authorization webhook never reaches loopback, private or link-local targets when
//! `allow_private_outbound` is off: not by an IP literal, and not by a name that resolves to
//! one when the platform connects (the address checked is the one connected to). The endpoint
//! is written to the store directly, as one set before the check existed or a name that
//! resolved publicly when it was set.

use axum::http::StatusCode;
use lwk_wollet::Chain;

use super::authorization::{endpoint, Answer};
use super::{assert_refused, scene_with};
use crate::common::TestApp;

#[tokio::test]
async fn the_authorizer_is_not_called_at_private_addresses() {
    let app = TestApp::new()
        .await
        .with_security(|s| s.outbound.allow_private = false);
    let s = scene_with(app).await;
    let (pset, _) = s.alice_sends(&s.bob.address(Chain::External, 0), 10).await;
    let (url, seen) = endpoint(Answer::Approve).await;
    let by_name = url.replace("127.0.0.1", "localhost");
    for target in [url.as_str(), by_name.as_str()] {
        s.app
            .state
            .store()
            .set_asset_authorization_endpoint(s.issuer_id, &s.uuid, Some(target))
            .await
            .unwrap();
        assert_refused(
            &s.sign(&pset).await,
            StatusCode::FORBIDDEN,
            "issuer_authorization_unavailable",
        );
        assert!(seen.lock().unwrap().is_empty(), "{target} was called");
    }
    // the edit itself is refused, naming the field
    let body = serde_json::json!({ "issuer_authorization_endpoint": by_name }).to_string();
    let reply = s
        .app
        .put(
            &format!("/api/assets/{}/edit", s.uuid),
            &s.token,
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert!(reply.body["Error"]
        .as_str()
        .is_some_and(|m| m.contains("issuer_authorization_endpoint") && m.contains("non-public")));
}
