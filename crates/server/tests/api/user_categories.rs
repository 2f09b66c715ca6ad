//! The registered-user routes the seed lists beside the basic ones (404 before):
//! `PUT /registered_users/{id}/categories/add|delete` and `/registered_users/validate-gaid`,
//! called by an issuer and by its manager, and refused across issuers.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{unregistered_gaid, TestApp};

async fn category(app: &TestApp, token: &str, name: &str) -> i64 {
    let reply = app
        .post(
            "/api/categories/add",
            token,
            &json!({"name": name}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn categories_are_added_and_deleted_all_or_nothing() {
    let app = TestApp::new().await;
    let issuer = app.issuer("cat-issuer").await;
    let (_, manager) = app.manager(&issuer, "cat-manager").await;
    let user = app.registered_user(&issuer, "Investor").await;
    let (a, b, c) = (
        category(&app, &issuer, "A").await,
        category(&app, &issuer, "B").await,
        category(&app, &issuer, "C").await,
    );
    let add = format!("/api/registered_users/{user}/categories/add");
    let delete = format!("/api/registered_users/{user}/categories/delete");

    let reply = app
        .put(
            &add,
            &issuer,
            Some(&json!({"categories": [b, a]}).to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["id"], user);
    assert_eq!(reply.body["categories"], json!([a, b]));
    // Idempotent, and a manager may call it (the seed's list); a bare array is accepted too.
    let reply = app
        .put(&add, &manager, Some(&json!([b, c]).to_string()))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["categories"], json!([a, b, c]));
    let listed = app.get(&format!("/api/categories/{c}"), &issuer).await;
    assert_eq!(listed.body["registered_users"], json!([user]));

    // An unknown category changes nothing, also for the valid ids beside it.
    let reply = app
        .put(
            &delete,
            &issuer,
            Some(&json!({"categories": [a, 999_999]}).to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert!(
        reply.body["Error"].as_str().unwrap().contains("999999"),
        "{:?}",
        reply.body
    );
    let now = app
        .get(&format!("/api/registered_users/{user}"), &issuer)
        .await;
    assert_eq!(now.body["categories"], json!([a, b, c]));

    let reply = app
        .put(
            &delete,
            &manager,
            Some(&json!({"categories": [a, c]}).to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["categories"], json!([b]));

    // Bad bodies are field errors.
    for body in [r#"{"categories": ["x"]}"#, r#"{}"#, r#""A""#, r#"["x"]"#] {
        let reply = app.put(&add, &issuer, Some(body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            reply.body.get("Error").is_none(),
            "{body}: {:?}",
            reply.body
        );
    }

    // Another issuer can neither see the user nor use its own categories on it.
    let other = app.issuer("cat-other").await;
    let theirs = category(&app, &other, "Theirs").await;
    let reply = app
        .put(
            &add,
            &other,
            Some(&json!({"categories": [theirs]}).to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app
        .put(
            &add,
            &issuer,
            Some(&json!({"categories": [theirs]}).to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    let reply = app
        .put(
            "/api/registered_users/999999/categories/add",
            &issuer,
            Some(&json!({"categories": [a]}).to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn validate_gaid_reads_the_query_or_a_body() {
    let app = TestApp::new().await;
    let issuer = app.issuer("validator").await;
    let (_, manager) = app.manager(&issuer, "validator-manager").await;
    let gaid = app.registered_gaid().await;
    let unknown = unregistered_gaid();
    let path = "/api/registered_users/validate-gaid";

    for token in [&issuer, &manager] {
        let reply = app.get(&format!("{path}?GAID={gaid}"), token).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body, json!({"is_valid": true}));
    }
    let same = app
        .get(&format!("/api/gaids/{unknown}/validate"), &issuer)
        .await;
    let reply = app.get(&format!("{path}?gaid={unknown}"), &issuer).await;
    assert_eq!(reply.body, same.body, "answers as /gaids/{{gaid}}/validate");
    assert_eq!(reply.body["is_valid"], false);
    let reply = app.get(&format!("{path}?GAID=nonsense"), &issuer).await;
    assert_eq!(reply.body["is_valid"], false);
    assert!(reply.body["error"].is_string());

    for body in [
        json!(gaid).to_string(),
        json!({"GAID": gaid}).to_string(),
        json!({"gaid": gaid}).to_string(),
    ] {
        for method in [Method::GET, Method::POST] {
            let reply = app
                .send(method.clone(), path, Some(&issuer), Some(&body))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{method} {body}");
            assert_eq!(reply.body, json!({"is_valid": true}), "{method} {body}");
        }
    }
    for body in [None, Some("{}"), Some("[1]"), Some(r#"{"GAID": 5}"#)] {
        let reply = app.send(Method::GET, path, Some(&issuer), body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert!(reply.body["GAID"].is_array(), "{body:?}: {:?}", reply.body);
    }
    let reply = app.send(Method::GET, path, None, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // A posted validation is a read: the audit log of writes does not record it.
    let audit = app.get("/api/audit", &issuer).await;
    assert_eq!(audit.status, StatusCode::OK, "{:?}", audit.body);
    let routes: Vec<&str> = audit.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["route"].as_str().unwrap())
        .collect();
    assert!(!routes.contains(&path), "{routes:?}");
    assert!(routes.contains(&"/api/managers/create"), "{routes:?}");
}
