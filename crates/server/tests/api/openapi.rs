//! The OpenAPI document is served and matches the committed snapshot, so every wire change
//! shows in review. Regenerate with `UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p amphora-server`.

use axum::http::{Method, StatusCode};

use crate::common::TestApp;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

#[tokio::test]
async fn openapi_document_is_served_and_matches_the_snapshot() {
    let app = TestApp::new().await;
    let reply = app.send(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/json");
    let served = String::from_utf8(reply.raw).unwrap();
    assert_eq!(served, amphora_server::openapi::openapi_json());
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/api/user/obtain_token",
        "/api/registered_users/{id}/gaids/add",
        "/api/categories/{id}/registered_users/{user_id}/add",
        "/api/gaids/{gaid}/validate",
        "/amp2/wallets/register",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }

    let document = format!("{served}\n");
    if std::env::var("UPDATE_OPENAPI_SNAPSHOT").as_deref() == Ok("1") {
        std::fs::write(SNAPSHOT, &document).unwrap();
    }
    let committed = std::fs::read_to_string(SNAPSHOT)
        .expect("crates/server/openapi.json exists (UPDATE_OPENAPI_SNAPSHOT=1 creates it)");
    assert!(
        committed == document,
        "the OpenAPI document changed: review the wire change and regenerate the snapshot with \
         UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p amphora-server --test api openapi"
    );
}
