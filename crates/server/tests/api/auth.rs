//! /info, /changelog and the user endpoints: tokens, refresh, change password, 401 shapes.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::common::{TestApp, PASSWORD};

#[tokio::test]
async fn info_needs_no_token_and_changelog_lists_versions() {
    let app = TestApp::new().await;
    let reply = app.send(Method::GET, "/api/info", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["version"], "0.1.13");
    assert!(reply.body["notes"].is_string());
    assert!(reply.body["amphora_version"].is_string());

    let reply = app.send(Method::GET, "/api/changelog", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let log = reply.body.as_object().unwrap();
    assert_eq!(log.len(), 14);
    assert!(log["0.1.13"].as_str().unwrap().contains("GAID"));
    // a token is accepted too
    let token = app.issuer("alice").await;
    assert_eq!(
        app.get("/api/changelog", &token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn obtain_token_accepts_json_and_form() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    assert_eq!(token.len(), 40);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));

    let form = Request::builder()
        .method(Method::POST)
        .uri("/api/user/obtain_token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=alice&password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let reply = app.call(form).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let form_token = reply.body["token"].as_str().unwrap();
    assert_ne!(form_token, token);
    assert_eq!(
        app.get("/api/registered_users", form_token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn obtain_token_rejects_bad_credentials_and_missing_fields() {
    let app = TestApp::new().await;
    app.issuer("alice").await;
    let login =
        |body: &'static str| app.send(Method::POST, "/api/user/obtain_token", None, Some(body));

    let reply = login(r#"{"username": "alice", "password": "wrong password"}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!({"non_field_errors": ["Unable to log in with provided credentials."]})
    );
    let reply = login(r#"{"username": "nobody", "password": "wrong password"}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!({"non_field_errors": ["Unable to log in with provided credentials."]})
    );
    let reply = login(r#"{"username": "alice"}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"password": ["This field is required."]}));
    let reply = login(r#"{"username": "", "password": ""}"#).await;
    assert_eq!(
        reply.body,
        json!({"username": ["This field may not be blank."], "password": ["This field may not be blank."]})
    );
    let reply = login("{oops").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["non_field_errors"][0]
        .as_str()
        .unwrap()
        .starts_with("JSON parse error"));
}

#[tokio::test]
async fn missing_invalid_and_expired_tokens_get_401_with_drf_bodies() {
    let app = TestApp::new().await;
    let reply = app
        .send(Method::GET, "/api/registered_users", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers["www-authenticate"], "Token");
    assert_eq!(
        reply.body,
        json!({"detail": "Authentication credentials were not provided."})
    );

    let reply = app.get("/api/registered_users", &"0".repeat(40)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, json!({"detail": "Invalid token."}));

    for header in ["token", "Token a b", "Bearer abc"] {
        let request = Request::builder()
            .uri("/api/registered_users")
            .header("authorization", header)
            .body(Body::empty())
            .unwrap();
        let reply = app.call(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{header}");
        assert!(reply.body["detail"].is_string());
    }

    // the scheme is case-insensitive
    let token = app.issuer("alice").await;
    let request = Request::builder()
        .uri("/api/registered_users")
        .header("authorization", format!("TOKEN {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.call(request).await.status, StatusCode::OK);

    let short = TestApp::with_token_lifetime(Duration::ZERO).await;
    let token = short.issuer("alice").await;
    let reply = short.get("/api/registered_users", &token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, json!({"detail": "Token has expired."}));
}

#[tokio::test]
async fn refresh_token_in_both_spellings_and_methods() {
    let app = TestApp::new().await;
    let mut token = app.issuer("alice").await;
    for (method, path) in [
        (Method::POST, "/api/user/refresh-token"),
        (Method::GET, "/api/user/refresh-token"),
        (Method::POST, "/api/user/refresh_token"),
        (Method::GET, "/api/user/refresh_token/"),
    ] {
        let reply = app.send(method.clone(), path, Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{method} {path}");
        let fresh = reply.body["token"].as_str().unwrap().to_string();
        assert_ne!(fresh, token);
        // the old token is revoked, the new one works
        assert_eq!(
            app.get("/api/registered_users", &token).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.get("/api/registered_users", &fresh).await.status,
            StatusCode::OK
        );
        token = fresh;
    }
    let reply = app
        .send(Method::POST, "/api/user/refresh-token", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn change_password_in_both_spellings() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let reply = app
        .post(
            "/api/user/change-password",
            &token,
            r#"{"password": "a brand new secret"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["username"], "alice");
    assert_eq!(reply.body["password"], "a brand new secret");
    let fresh = reply.body["token"].as_str().unwrap().to_string();
    // old tokens are revoked
    assert_eq!(
        app.get("/api/categories", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    // the old password no longer works, the new one does
    async fn login(app: &TestApp, password: &str) -> StatusCode {
        let body = format!(r#"{{"username":"alice","password":"{password}"}}"#);
        app.send(Method::POST, "/api/user/obtain_token", None, Some(&body))
            .await
            .status
    }
    assert_eq!(login(&app, PASSWORD).await, StatusCode::BAD_REQUEST);
    assert_eq!(login(&app, "a brand new secret").await, StatusCode::OK);

    let reply = app
        .post(
            "/api/user/change_password",
            &fresh,
            r#"{"password": "short"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["password"][0]
        .as_str()
        .unwrap()
        .contains("too short"));
    let reply = app
        .post(
            "/api/user/change_password",
            &fresh,
            r#"{"password": "another good one"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = app.post("/api/user/change_password", "", "{}").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}
