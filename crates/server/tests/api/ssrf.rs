//! Issuer-chosen outbound targets (issue 12, item 6): with `allow_private_outbound` off, an
//! `issuer_authorization_endpoint` at a loopback, private or link-local address (literal or
//! by a name resolving there) is refused when the issuer sets it, `400 {"Error": …}` naming the
//! field (a deployment rule no schema states). Encoded and IPv6 literal hosts are not of the
//! form the schema states (`400` field error). The liquidregtest default allows private
//! targets, so a local sandbox works.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::{TestApp, REGTEST_ADDRESS};

const PRIVATE_TARGETS: &[&str] = &[
    "http://127.0.0.1:18884",
    "http://localhost:8080/hooks",
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.1/authorize",
    "http://192.168.1.1/",
];

async fn guarded() -> (TestApp, String, String) {
    let app = TestApp::new()
        .await
        .with_security(|s| s.outbound.allow_private = false);
    let token = app.issuer("issuer").await;
    let issuer_id = app
        .state
        .store()
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let uuid = app.stored_asset(issuer_id).await;
    (app, token, uuid)
}

fn edit_body(endpoint: &str) -> String {
    json!({ "issuer_authorization_endpoint": endpoint }).to_string()
}

#[tokio::test]
async fn private_authorization_endpoints_are_refused_when_set() {
    let (app, token, uuid) = guarded().await;
    let edit = format!("/api/assets/{uuid}/edit");
    for target in PRIVATE_TARGETS {
        let reply = app.put(&edit, &token, Some(&edit_body(target))).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{target}: {:?}",
            reply.body
        );
        let message = reply.body["Error"]
            .as_str()
            .unwrap_or_else(|| panic!("{target}: {:?}", reply.body));
        assert!(
            message.contains("issuer_authorization_endpoint") && message.contains("non-public"),
            "{target}: {message}"
        );
    }
    for target in [
        "ftp://issuer.example/x",
        "file:///etc/passwd",
        "issuer.example",
        "http://[::1]:7041/",
        "http://[fd00::1]/",
        "http://0x7f000001/",
        "http://2130706433/",
    ] {
        let reply = app.put(&edit, &token, Some(&edit_body(target))).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{target}: {:?}",
            reply.body
        );
        assert!(reply.body["issuer_authorization_endpoint"][0]
            .as_str()
            .unwrap()
            .contains("http"));
    }
    let details = app.get(&format!("/api/assets/{uuid}"), &token).await;
    assert!(details.body["issuer_authorization_endpoint"].is_null());
    // a public name is accepted (checked again whenever it is called)
    let reply = app
        .put(
            &edit,
            &token,
            Some(&edit_body("https://issuer.example/authorize")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    // issuing with such an endpoint is refused before anything else happens
    let issue = json!({
        "name": "Guarded", "amount": 1000, "destination_address": REGTEST_ADDRESS,
        "domain": "example.com", "ticker": "GRD",
        "pubkey": amphora_testenv::ISSUER_PUBKEY,
        "precision": 0, "issuer_authorization_endpoint": "http://169.254.169.254/",
    });
    let reply = app
        .post("/api/assets/issue", &token, &issue.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert!(reply.body["Error"]
        .as_str()
        .is_some_and(|m| m.contains("non-public")));
}

#[tokio::test]
async fn the_sandbox_default_allows_local_endpoints() {
    let app = TestApp::new().await;
    let token = app.issuer("issuer").await;
    let issuer_id = app
        .state
        .store()
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let uuid = app.stored_asset(issuer_id).await;
    let reply = app
        .put(
            &format!("/api/assets/{uuid}/edit"),
            &token,
            Some(&edit_body("http://127.0.0.1:9999/hooks")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}
