//! Registered users: list, add, details, edit, delete, summary, GAIDs, legacy aliases.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::{unregistered_gaid, TestApp};

#[tokio::test]
async fn add_list_details_edit_delete() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let gaid = app.registered_gaid().await;

    let reply = app
        .post(
            "/api/registered_users/add",
            &token,
            &format!(r#"{{"name": "  Bob  ", "GAID": "{gaid}", "is_company": false, "extra": 1}}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let id = reply.body["id"].as_i64().unwrap();
    assert_eq!(reply.body["name"], "Bob");
    assert_eq!(reply.body["GAID"], gaid.as_str());
    assert_eq!(reply.body["is_company"], false);
    assert_eq!(reply.body["categories"], json!([]));
    assert!(reply.body["creator"].is_i64());

    let reply = app
        .post(
            "/api/registered_users/add",
            &token,
            r#"{"name": "ACME", "GAID": null, "is_company": true}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["GAID"], json!(null));
    let acme = reply.body["id"].as_i64().unwrap();

    let reply = app.get("/api/registered_users", &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let names: Vec<_> = reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert_eq!(names, [json!("Bob"), json!("ACME")]);

    let reply = app
        .get(&format!("/api/registered_users/{id}"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["name"], "Bob");

    let reply = app
        .put(
            &format!("/api/registered_users/{id}/edit"),
            &token,
            Some(r#"{"name": "Robert"}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["name"], "Robert");
    // is_company is immutable (a rule on the stored user, which no schema states: `{"Error"}`);
    // repeating the current value is fine
    let reply = app
        .put(
            &format!("/api/registered_users/{id}/edit"),
            &token,
            Some(r#"{"name": "Robert", "is_company": true}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!({"Error": "is_company cannot be changed after the registered user is created."})
    );
    let reply = app
        .put(
            &format!("/api/registered_users/{acme}/edit"),
            &token,
            Some(r#"{"name": "ACME Ltd", "is_company": true}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    let reply = app
        .get(&format!("/api/registered_users/{id}/summary"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!([]));

    let reply = app
        .delete(&format!("/api/registered_users/{id}/delete"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.raw.is_empty());
    let reply = app
        .get(&format!("/api/registered_users/{id}"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, json!({"detail": "Not found."}));
    let reply = app
        .delete(&format!("/api/registered_users/{id}/delete"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app
        .put(
            "/api/registered_users/424242/edit",
            &token,
            Some(r#"{"name": "x"}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app
        .get("/api/registered_users/424242/summary", &token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn add_validates_name_and_gaid() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let add = |body: String| {
        let token = token.clone();
        let app = &app;
        async move { app.post("/api/registered_users/add", &token, &body).await }
    };

    let reply = add(r#"{"is_company": false}"#.into()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"name": ["This field is required."]}));
    let reply = add(r#"{"name": ""}"#.into()).await;
    assert_eq!(
        reply.body,
        json!({"name": ["This field may not be blank."]})
    );
    let reply = add(format!(r#"{{"name": "{}"}}"#, "n".repeat(256))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["name"][0].as_str().unwrap().contains("255"));
    assert_eq!(
        add(format!(r#"{{"name": "{}"}}"#, "n".repeat(255)))
            .await
            .status,
        StatusCode::CREATED
    );
    let reply = add(r#"{"name": "x", "is_company": "yes"}"#.into()).await;
    assert_eq!(
        reply.body,
        json!({"is_company": ["Must be a valid boolean."]})
    );

    // malformed GAID
    let reply = add(r#"{"name": "x", "GAID": "GAnotagaid"}"#.into()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["GAID"][0].is_string(), "{:?}", reply.body);
    // well formed, but no wallet registered here
    let reply = add(format!(
        r#"{{"name": "x", "GAID": "{}"}}"#,
        unregistered_gaid()
    ))
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["GAID"][0]
        .as_str()
        .unwrap()
        .contains("not a wallet registered"));
    // a GAID belongs to one registered user per issuer
    let gaid = app.registered_gaid().await;
    assert_eq!(
        add(format!(r#"{{"name": "a", "GAID": "{gaid}"}}"#))
            .await
            .status,
        StatusCode::CREATED
    );
    let reply = add(format!(r#"{{"name": "b", "GAID": "{gaid}"}}"#)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["Error"]
        .as_str()
        .unwrap()
        .contains("already belongs"));
}

#[tokio::test]
async fn gaids_add_set_default_and_lookup() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let id = app.registered_user(&token, "Bob").await;
    let first = app.registered_gaid().await;
    let second = app.registered_gaid().await;
    let base = format!("/api/registered_users/{id}");

    assert_eq!(
        app.get(&format!("{base}/gaids"), &token).await.body,
        json!([])
    );
    let reply = app
        .post(
            &format!("{base}/gaids/add"),
            &token,
            &format!("\"{first}\""),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body, json!({}));
    // the first GAID becomes the default
    assert_eq!(app.get(&base, &token).await.body["GAID"], first.as_str());
    // the older {"GAID": …} form is accepted too
    let reply = app
        .post(
            &format!("{base}/gaids/add"),
            &token,
            &format!(r#"{{"GAID": "{second}"}}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("{base}/gaids"), &token).await.body,
        json!([first, second])
    );
    let reply = app
        .post(
            &format!("{base}/gaids/set-default"),
            &token,
            &format!("\"{second}\""),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(app.get(&base, &token).await.body["GAID"], second.as_str());

    // lookups by GAID, new and legacy paths
    for path in ["registered_user", "investor"] {
        let reply = app
            .get(&format!("/api/gaids/{second}/{path}"), &token)
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["id"], id);
    }
    let reply = app
        .get(
            &format!("/api/gaids/{}/registered_user", unregistered_gaid()),
            &token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // bad inputs
    let reply = app
        .post(&format!("{base}/gaids/add"), &token, "\"GAbad\"")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["Error"].is_string());
    let reply = app
        .post(
            &format!("{base}/gaids/add"),
            &token,
            &format!("\"{}\"", unregistered_gaid()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = app.post(&format!("{base}/gaids/add"), &token, "42").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["non_field_errors"][0].is_string());
    let third = app.registered_gaid().await;
    let reply = app
        .post(
            &format!("{base}/gaids/set-default"),
            &token,
            &format!("\"{third}\""),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["Error"]
        .as_str()
        .unwrap()
        .contains("add it first"));
    let reply = app
        .post(
            "/api/registered_users/4242/gaids/add",
            &token,
            &format!("\"{third}\""),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn legacy_investor_paths_are_aliases() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let reply = app
        .post("/api/investors/add", &token, r#"{"name": "Old client"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let id = reply.body["id"].as_i64().unwrap();
    let reply = app.get("/api/investors/", &token).await;
    assert_eq!(reply.body.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/registered_users/{id}"), &token)
            .await
            .body["name"],
        "Old client"
    );
    assert_eq!(
        app.get(&format!("/api/investors/{id}"), &token)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.delete(&format!("/api/investors/{id}/delete"), &token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}
