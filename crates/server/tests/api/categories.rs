//! Categories: CRUD and registered-user membership.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn category_crud() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let reply = app
        .post(
            "/api/categories/add",
            &token,
            r#"{"name": "EU", "description": "European investors"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let id = reply.body["id"].as_i64().unwrap();
    assert_eq!(
        reply.body,
        json!({"id": id, "name": "EU", "description": "European investors",
               "registered_users": [], "investors": [], "assets": []})
    );
    let reply = app
        .post("/api/categories/add", &token, r#"{"name": "US"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["description"], "");

    assert_eq!(
        app.get("/api/categories", &token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.get(&format!("/api/categories/{id}"), &token).await.body["name"],
        "EU"
    );

    let reply = app
        .put(
            &format!("/api/categories/{id}/edit"),
            &token,
            Some(r#"{"name": "Europe"}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["name"], "Europe");
    assert_eq!(reply.body["description"], "European investors");
    let reply = app
        .put(
            &format!("/api/categories/{id}/edit"),
            &token,
            Some(r#"{"description": "EEA"}"#),
        )
        .await;
    assert_eq!(
        (
            reply.body["name"].clone(),
            reply.body["description"].clone()
        ),
        (json!("Europe"), json!("EEA"))
    );

    let reply = app
        .delete(&format!("/api/categories/{id}/delete"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.raw.is_empty());
    assert_eq!(
        app.get(&format!("/api/categories/{id}"), &token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/api/categories/{id}/delete"), &token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let reply = app
        .put(
            &format!("/api/categories/{id}/edit"),
            &token,
            Some(r#"{"name": "x"}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn category_validation() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let reply = app
        .post("/api/categories/add", &token, r#"{"description": "d"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"name": ["This field is required."]}));
    let body = format!(r#"{{"name": "", "description": "{}"}}"#, "d".repeat(1024));
    let reply = app.post("/api/categories/add", &token, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["name"][0].is_string());
    assert!(reply.body["description"][0]
        .as_str()
        .unwrap()
        .contains("1023"));
    let reply = app
        .post(
            "/api/categories/add",
            &token,
            &format!(r#"{{"name": "{}"}}"#, "n".repeat(256)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = app
        .post("/api/categories/add", &token, r#"{"name": "ok"}"#)
        .await;
    let id = reply.body["id"].as_i64().unwrap();
    let reply = app
        .put(
            &format!("/api/categories/{id}/edit"),
            &token,
            Some(r#"{"name": "  "}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!({"name": ["This field may not be blank."]})
    );
}

#[tokio::test]
async fn registered_users_join_and_leave_categories() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let user = app.registered_user(&token, "Bob").await;
    let reply = app
        .post("/api/categories/add", &token, r#"{"name": "EU"}"#)
        .await;
    let eu = reply.body["id"].as_i64().unwrap();
    let reply = app
        .post("/api/categories/add", &token, r#"{"name": "Pro"}"#)
        .await;
    let pro = reply.body["id"].as_i64().unwrap();

    let reply = app
        .put(
            &format!("/api/categories/{eu}/registered_users/{user}/add"),
            &token,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["registered_users"], json!([user]));
    assert_eq!(reply.body["investors"], json!([user]));
    app.put(
        &format!("/api/categories/{pro}/registered_users/{user}/add/"),
        &token,
        None,
    )
    .await;
    let reply = app
        .get(&format!("/api/registered_users/{user}"), &token)
        .await;
    assert_eq!(reply.body["categories"], json!([eu, pro]));

    let reply = app
        .put(
            &format!("/api/categories/{eu}/registered_users/{user}/remove"),
            &token,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["registered_users"], json!([]));
    let reply = app
        .get(&format!("/api/registered_users/{user}"), &token)
        .await;
    assert_eq!(reply.body["categories"], json!([pro]));

    // unknown user or category
    let reply = app
        .put(
            &format!("/api/categories/{eu}/registered_users/999/add"),
            &token,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app
        .put(
            &format!("/api/categories/999/registered_users/{user}/add"),
            &token,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // wrong method
    let reply = app
        .post(
            &format!("/api/categories/{eu}/registered_users/{user}/add"),
            &token,
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    // deleting a user takes it out of its categories
    app.delete(&format!("/api/registered_users/{user}/delete"), &token)
        .await;
    let reply = app.get(&format!("/api/categories/{pro}"), &token).await;
    assert_eq!(reply.body["registered_users"], json!([]));
}
