//! Attacks on the roles (issue 12, item 3): deleting a registered user never removes its
//! assignment history, a manager cannot redirect where an ungranted asset's assignments are
//! paid (GAID add / set-default), and a manager's view of a user's summary is limited to its
//! granted assets. Runs on the engine of the run (SQLite, or PostgreSQL with
//! `AMPHORA_API_TEST_ENGINE=postgres`).

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::assignments::{create_body, setup, Setup};

/// Creates an assignment of `amount` for the setup's user; returns its id.
async fn assign(s: &Setup, amount: i64) -> i64 {
    let path = format!("/api/assets/{}/assignments/create", s.asset);
    let reply = s
        .app
        .post(&path, &s.token, &create_body(s.user, amount, true))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body[0]["id"].as_i64().unwrap()
}

fn error_text(body: &Value) -> &str {
    body["Error"]
        .as_str()
        .unwrap_or_else(|| panic!("not an {{\"Error\"}} body: {body}"))
}

#[tokio::test]
async fn deleting_a_registered_user_never_removes_its_assignments() {
    let s = setup(2).await;
    let id = assign(&s, 250).await;
    let assignments = format!("/api/assets/{}/assignments", s.asset);
    for prefix in ["/api/registered_users", "/api/investors"] {
        let reply = s
            .app
            .delete(&format!("{prefix}/{}/delete", s.user), &s.token)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
        assert!(error_text(&reply.body).contains("history is kept"));
    }
    let reply = s.app.get(&assignments, &s.token).await;
    assert_eq!(reply.body.as_array().unwrap().len(), 1, "{:?}", reply.body);
    let reply = s
        .app
        .get(&format!("/api/registered_users/{}", s.user), &s.token)
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    // A deleted assignment is still history: the user stays.
    let reply = s
        .app
        .delete(&format!("{assignments}/{id}/delete"), &s.token)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    let reply = s
        .app
        .delete(
            &format!("/api/registered_users/{}/delete", s.user),
            &s.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    let reply = s
        .app
        .get(
            &format!("/api/registered_users/{}/summary", s.user),
            &s.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    // A user without assignments is deleted as before.
    let other = s.app.registered_user(&s.token, "Nobody").await;
    let reply = s
        .app
        .delete(&format!("/api/registered_users/{other}/delete"), &s.token)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
}

#[tokio::test]
async fn a_manager_cannot_redirect_payments_of_an_asset_it_was_not_granted() {
    let s = setup(2).await;
    assign(&s, 300).await;
    let (manager_id, manager) = s.app.manager(&s.token, "manager").await;
    let attacker_gaid = s.app.registered_gaid().await;
    let body = Value::String(attacker_gaid.clone()).to_string();
    for prefix in ["/api/registered_users", "/api/investors"] {
        let reply = s
            .app
            .post(&format!("{prefix}/{}/gaids/add", s.user), &manager, &body)
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.body);
        assert!(reply.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not granted")));
    }
    let gaids = format!("/api/registered_users/{}/gaids", s.user);
    assert_eq!(
        s.app.get(&gaids, &s.token).await.body,
        json!([s.gaid]),
        "nothing was added"
    );

    // The issuer adds a second GAID; the manager still cannot make it the default.
    let second = s.app.registered_gaid().await;
    let second_body = Value::String(second.clone()).to_string();
    let add = format!("/api/registered_users/{}/gaids/add", s.user);
    let reply = s.app.post(&add, &s.token, &second_body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let set_default = format!("/api/registered_users/{}/gaids/set-default", s.user);
    let reply = s.app.post(&set_default, &manager, &second_body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.body);
    let details = format!("/api/registered_users/{}", s.user);
    assert_eq!(s.app.get(&details, &s.token).await.body["GAID"], s.gaid);

    // Granted the asset, the manager may.
    let grant = format!("/api/managers/{manager_id}/assets/{}/add", s.asset);
    let reply = s.app.put(&grant, &s.token, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let reply = s.app.post(&set_default, &manager, &second_body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(s.app.get(&details, &s.token).await.body["GAID"], second);

    // A user with nothing left to distribute is the manager's to manage.
    let other = s.app.registered_user(&manager, "Fresh").await;
    let reply = s
        .app
        .post(
            &format!("/api/registered_users/{other}/gaids/add"),
            &manager,
            &body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}

#[tokio::test]
async fn a_manager_sees_only_its_granted_assets_in_a_users_summary() {
    let s = setup(2).await;
    assign(&s, 300).await;
    let (manager_id, manager) = s.app.manager(&s.token, "manager").await;
    let summary = format!("/api/registered_users/{}/summary", s.user);
    let issuer_view = s.app.get(&summary, &s.token).await;
    assert_eq!(issuer_view.body.as_array().unwrap().len(), 1);
    let reply = s.app.get(&summary, &manager).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body, json!([]), "an ungranted asset is not shown");
    let legacy = format!("/api/investors/{}/summary", s.user);
    assert_eq!(s.app.get(&legacy, &manager).await.body, json!([]));

    let grant = format!("/api/managers/{manager_id}/assets/{}/add", s.asset);
    assert_eq!(
        s.app.put(&grant, &s.token, None).await.status,
        StatusCode::OK
    );
    assert_eq!(s.app.get(&summary, &manager).await.body, issuer_view.body);
}

/// Migration 0010: the database itself refuses to delete a user with assignments (a statement
/// that bypasses the store, e.g. an operator's SQL session, cannot cascade them away either).
#[tokio::test]
async fn the_database_keeps_assignment_history_too() {
    let s = setup(2).await;
    assign(&s, 100).await;
    let delete = format!("DELETE FROM registered_users WHERE id = {}", s.user);
    let refused = s.app.execute_raw(&delete).await.unwrap_err().to_string();
    assert!(
        refused.contains("assignment history") || refused.contains("foreign key"),
        "{refused}"
    );
    let count = format!(
        "UPDATE assignments SET amount = amount WHERE registered_user_id = {}",
        s.user
    );
    assert_eq!(
        s.app.execute_raw(&count).await.unwrap(),
        1,
        "the assignment is there"
    );
    // without assignments the row goes, as before
    let other = s.app.registered_user(&s.token, "Nobody").await;
    let delete = format!("DELETE FROM registered_users WHERE id = {other}");
    assert_eq!(s.app.execute_raw(&delete).await.unwrap(), 1);
}
