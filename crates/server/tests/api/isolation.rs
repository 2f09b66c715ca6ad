//! Two issuers on one platform: each sees only its own objects; the other's are 404.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn issuer_b_gets_404_for_issuer_a_objects() {
    isolation(TestApp::new().await).await;
}

#[tokio::test]
async fn issuer_b_gets_404_for_issuer_a_objects_on_postgres() {
    isolation(TestApp::postgres().await).await;
}

async fn isolation(app: TestApp) {
    let a = app.issuer("alice").await;
    let b = app.issuer("bob").await;
    let gaid = app.registered_gaid().await;
    let reply = app
        .post(
            "/api/registered_users/add",
            &a,
            &format!(r#"{{"name": "A's investor", "GAID": "{gaid}"}}"#),
        )
        .await;
    let user = reply.body["id"].as_i64().unwrap();
    let reply = app
        .post("/api/categories/add", &a, r#"{"name": "A's category"}"#)
        .await;
    let category = reply.body["id"].as_i64().unwrap();
    let reply = app
        .post("/api/categories/add", &b, r#"{"name": "B's category"}"#)
        .await;
    let b_category = reply.body["id"].as_i64().unwrap();

    assert_eq!(app.get("/api/registered_users", &b).await.body, json!([]));
    assert_eq!(
        app.get("/api/categories", &b)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let not_found = [
        app.get(&format!("/api/registered_users/{user}"), &b).await,
        app.get(&format!("/api/registered_users/{user}/summary"), &b)
            .await,
        app.get(&format!("/api/registered_users/{user}/gaids"), &b)
            .await,
        app.put(
            &format!("/api/registered_users/{user}/edit"),
            &b,
            Some(r#"{"name": "x"}"#),
        )
        .await,
        app.post(
            &format!("/api/registered_users/{user}/gaids/add"),
            &b,
            &format!("\"{gaid}\""),
        )
        .await,
        app.post(
            &format!("/api/registered_users/{user}/gaids/set-default"),
            &b,
            &format!("\"{gaid}\""),
        )
        .await,
        app.delete(&format!("/api/registered_users/{user}/delete"), &b)
            .await,
        app.get(&format!("/api/categories/{category}"), &b).await,
        app.put(
            &format!("/api/categories/{category}/edit"),
            &b,
            Some(r#"{"name": "x"}"#),
        )
        .await,
        app.delete(&format!("/api/categories/{category}/delete"), &b)
            .await,
        app.put(
            &format!("/api/categories/{category}/registered_users/{user}/add"),
            &b,
            None,
        )
        .await,
        app.put(
            &format!("/api/categories/{b_category}/registered_users/{user}/add"),
            &b,
            None,
        )
        .await,
        app.get(&format!("/api/gaids/{gaid}/registered_user"), &b)
            .await,
    ];
    for (i, reply) in not_found.iter().enumerate() {
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "case {i}: {:?}",
            reply.body
        );
        assert_eq!(reply.body, json!({"detail": "Not found."}));
    }

    // nothing of A's changed
    let reply = app.get(&format!("/api/registered_users/{user}"), &a).await;
    assert_eq!(reply.body["name"], "A's investor");
    assert_eq!(reply.body["GAID"], gaid.as_str());
    assert_eq!(
        app.get(&format!("/api/categories/{category}"), &a)
            .await
            .status,
        StatusCode::OK
    );

    // the same wallet can be a registered user of B too
    let reply = app
        .post(
            "/api/registered_users/add",
            &b,
            &format!(r#"{{"name": "Same person", "GAID": "{gaid}"}}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_ne!(reply.body["id"], user);
    assert_ne!(
        reply.body["creator"],
        app.get(&format!("/api/registered_users/{user}"), &a)
            .await
            .body["creator"]
    );
}
