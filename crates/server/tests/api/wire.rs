//! Wire conventions: trailing slashes, 404/405 bodies, body limits, no 500 for bad input.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn trailing_slash_is_optional_and_never_redirects() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    for path in [
        "/api/registered_users",
        "/api/registered_users/",
        "/api/info/",
    ] {
        let reply = app.get(path, &token).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
    }
    let reply = app
        .post("/api/categories/add/", &token, r#"{"name": "EU"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let reply = app.get("/api/nothing/here", &token).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, json!({"detail": "Not found."}));
    let reply = app.get("/nothing/here", &token).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, json!({"detail": "Not found."}));
    // `/` is the console: without a session, its sign-in page
    let reply = app.get("/", &token).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers["location"], "/login");

    let reply = app.delete("/api/registered_users", &token).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        reply.body,
        json!({"detail": "Method \"DELETE\" not allowed."})
    );
    let reply = app.get("/amp2/wallets/register", &token).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);

    // a non-numeric id does not match the route: 404, not 400/500
    let reply = app.get("/api/registered_users/abc", &token).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, json!({"detail": "Not found."}));
    let reply = app
        .get("/api/registered_users/99999999999999999999999", &token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_bodies_never_leak_axum_rejections() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    // wrong content type, still parsed as JSON
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/categories/add")
        .header("authorization", format!("token {token}"))
        .header("content-type", "text/plain")
        .body(Body::from(r#"{"name": "EU"}"#))
        .unwrap();
    assert_eq!(app.call(request).await.status, StatusCode::CREATED);

    for body in [
        "",
        "null",
        "[]",
        "\"x\"",
        "{\"name\": 1}",
        "{\"name\": [\"a\"]}",
        "{bad",
    ] {
        let reply = app.post("/api/categories/add", &token, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.body.is_object(), "{body}: {:?}", reply.body);
    }
    // oversized body
    let big = format!(
        r#"{{"name": "{}"}}"#,
        "x".repeat(amphora_server::BODY_LIMIT)
    );
    let reply = app.post("/api/categories/add", &token, &big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.body["detail"].is_string());
    // a JSON body on a GET is tolerated
    let reply = app
        .send(
            Method::GET,
            "/api/categories",
            Some(&token),
            Some("{\"x\": 1}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}
