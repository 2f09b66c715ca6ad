//! Investment managers: creation (locked), unlock/lock, login, own record, asset grants,
//! password changes by the issuer, what they create, and the audit log of their writes.

use amphora_server::credentials::{new_token, token_hash};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::json;

use crate::common::{TestApp, PASSWORD};

#[tokio::test]
async fn managers_are_created_locked_and_work_once_unlocked() {
    let app = TestApp::new().await;
    let issuer = app.issuer("alice").await;
    let reply = app
        .post(
            "/api/managers/create",
            &issuer,
            &json!({"username": "mgr", "password": PASSWORD}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let id = reply.body["id"].as_i64().unwrap();
    assert_eq!(
        reply.body,
        json!({"id": id, "username": "mgr", "is_locked": true, "assets": []})
    );

    // locked: no token
    let reply = app.login("mgr", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!({"non_field_errors": ["User account is locked."]})
    );

    let reply = app
        .put(&format!("/api/managers/{id}/unlock"), &issuer, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["is_locked"], false);
    let reply = app.login("mgr", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let token = reply.body["token"].as_str().unwrap().to_string();

    let me = app.get("/api/managers/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.body,
        json!({"id": id, "username": "mgr", "is_locked": false, "assets": []})
    );
    let list = app.get("/api/managers", &issuer).await;
    assert_eq!(list.body, json!([me.body]));
    assert_eq!(
        app.get(&format!("/api/managers/{id}"), &issuer).await.body,
        me.body
    );

    // locking revokes the manager's tokens and refuses new ones
    let reply = app
        .put(&format!("/api/managers/{id}/lock"), &issuer, None)
        .await;
    assert_eq!(reply.body["is_locked"], true);
    let reply = app.get("/api/managers/me", &token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("mgr", PASSWORD).await.status,
        StatusCode::BAD_REQUEST
    );
    // the issuer's own token is untouched
    assert_eq!(
        app.get("/api/managers", &issuer).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn manager_accounts_are_validated_and_names_are_unique_across_accounts() {
    let app = TestApp::new().await;
    let issuer = app.issuer("alice").await;
    let reply = app
        .post(
            "/api/managers/create",
            &issuer,
            r#"{"username": "bad name", "password": "1234"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["username"][0].is_string());
    assert!(reply.body["password"][0]
        .as_str()
        .unwrap()
        .contains("too short"));
    let reply = app.post("/api/managers/create", &issuer, "{}").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["username"], json!(["This field is required."]));
    app.manager(&issuer, "mgr").await;
    for taken in ["mgr", "alice"] {
        let reply = app
            .post(
                "/api/managers/create",
                &issuer,
                &json!({"username": taken, "password": PASSWORD}).to_string(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{taken}");
        assert!(reply.body["Error"]
            .as_str()
            .unwrap()
            .contains("already exists"));
    }
}

#[tokio::test]
async fn managers_of_another_issuer_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.issuer("alice").await;
    let bob = app.issuer("bob").await;
    let (id, _) = app.manager(&alice, "mgr").await;
    for path in [format!("/api/managers/{id}")] {
        assert_eq!(app.get(&path, &bob).await.status, StatusCode::NOT_FOUND);
    }
    for path in ["lock", "unlock"] {
        let reply = app
            .put(&format!("/api/managers/{id}/{path}"), &bob, None)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    let reply = app
        .post(
            &format!("/api/managers/{id}/change-password"),
            &bob,
            r#"{"password": "another good one"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/managers", &bob).await.body, json!([]));
}

#[tokio::test]
async fn managers_work_on_their_issuers_registered_users_and_are_recorded_as_creator() {
    managers_work_on_their_issuers_registered_users_and_are_recorded_as_creator_on(
        TestApp::new().await,
    )
    .await;
}

#[tokio::test]
async fn managers_work_on_their_issuers_registered_users_and_are_recorded_as_creator_on_postgres() {
    managers_work_on_their_issuers_registered_users_and_are_recorded_as_creator_on(
        TestApp::postgres().await,
    )
    .await;
}

async fn managers_work_on_their_issuers_registered_users_and_are_recorded_as_creator_on(
    app: TestApp,
) {
    let alice = app.issuer("alice").await;
    let bob = app.issuer("bob").await;
    let alice_user = app.registered_user(&alice, "Issuer's investor").await;
    app.registered_user(&bob, "Bob's investor").await;
    let (manager_id, manager) = app.manager(&alice, "mgr").await;

    let reply = app
        .post(
            "/api/registered_users/add",
            &manager,
            r#"{"name": "Manager's investor", "is_company": true}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["creator"], manager_id);
    let created = reply.body["id"].as_i64().unwrap();

    // the manager sees exactly the issuer's users; the issuer sees the manager's
    let ids = |reply: &crate::common::Reply| -> Vec<i64> {
        reply
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_i64().unwrap())
            .collect()
    };
    let seen = app.get("/api/registered_users", &manager).await;
    assert_eq!(ids(&seen), vec![alice_user, created]);
    let seen = app.get("/api/registered_users", &alice).await;
    assert_eq!(ids(&seen), vec![alice_user, created]);
    let reply = app
        .get(&format!("/api/registered_users/{created}"), &alice)
        .await;
    assert_eq!(reply.body["creator"], manager_id);
    // creator is an account id: the issuer's for users the issuer added
    let alice_id = app
        .state
        .store()
        .issuer_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let reply = app
        .get(&format!("/api/registered_users/{alice_user}"), &manager)
        .await;
    assert_eq!(reply.body["creator"], alice_id);
    let stored = app
        .state
        .store()
        .registered_user(alice_id, created)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.creator_manager_id, Some(manager_id));
    let stored = app
        .state
        .store()
        .registered_user(alice_id, alice_user)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.creator_manager_id, None);

    let reply = app
        .put(
            &format!("/api/registered_users/{alice_user}/edit"),
            &manager,
            Some(r#"{"name": "Renamed"}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    // category reads yes, category writes no
    assert_eq!(
        app.get("/api/categories", &manager).await.status,
        StatusCode::OK
    );
    let reply = app
        .post("/api/categories/add", &manager, r#"{"name": "x"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.body,
        json!({"detail": "You do not have permission to perform this action."})
    );
    // the manager cannot manage managers or refresh its token
    assert_eq!(
        app.get("/api/managers", &manager).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/user/refresh-token", &manager, "")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn asset_grants_need_an_existing_asset() {
    let app = TestApp::new().await;
    let alice = app.issuer("alice").await;
    let (id, manager) = app.manager(&alice, "mgr").await;
    let asset = uuid::Uuid::new_v4();
    // no asset exists yet: granting one is a 404
    let reply = app
        .put(
            &format!("/api/managers/{id}/assets/{asset}/add"),
            &alice,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, json!({"detail": "Not found."}));

    // a grant (as the asset routes will make) shows in /managers/me and can be removed
    let alice_id = app
        .state
        .store()
        .issuer_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    app.state
        .store()
        .add_manager_asset(alice_id, id, &asset.to_string())
        .await
        .unwrap();
    let me = app.get("/api/managers/me", &manager).await;
    assert_eq!(me.body["assets"], json!([asset.to_string()]));
    let reply = app
        .post(
            &format!("/api/managers/{id}/assets/{asset}/remove"),
            &alice,
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["assets"], json!([]));
    // removing again (PUT this time) finds nothing
    let reply = app
        .put(
            &format!("/api/managers/{id}/assets/{asset}/remove"),
            &alice,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_issuer_changes_a_managers_password_and_revokes_its_tokens() {
    let app = TestApp::new().await;
    let alice = app.issuer("alice").await;
    let (id, old_token) = app.manager(&alice, "mgr").await;
    let reply = app
        .post(
            &format!("/api/managers/{id}/change-password"),
            &alice,
            r#"{"password": "123"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = app
        .post(
            &format!("/api/managers/{id}/change-password"),
            &alice,
            r#"{"password": "a new secret"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["username"], "mgr");
    assert_eq!(reply.body["password"], "a new secret");
    let new_token = reply.body["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/managers/me", &old_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/managers/me", new_token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.login("mgr", PASSWORD).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.login("mgr", "a new secret").await.status,
        StatusCode::OK
    );
    // the issuer's token still works
    assert_eq!(
        app.get("/api/managers", &alice).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn expired_manager_tokens_are_refused() {
    let app = TestApp::new().await;
    let alice = app.issuer("alice").await;
    let (id, _) = app.manager(&alice, "mgr").await;
    let alice_id = app
        .state
        .store()
        .issuer_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let token = new_token();
    app.state
        .store()
        .insert_manager_token(
            alice_id,
            id,
            &token_hash(&token),
            Utc::now() - chrono::Duration::seconds(1),
        )
        .await
        .unwrap();
    let reply = app.get("/api/managers/me", &token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, json!({"detail": "Token has expired."}));
}

#[tokio::test]
async fn the_audit_log_records_every_write_for_the_issuer() {
    the_audit_log_records_every_write_for_the_issuer_on(TestApp::new().await).await;
}

#[tokio::test]
async fn the_audit_log_records_every_write_for_the_issuer_on_postgres() {
    the_audit_log_records_every_write_for_the_issuer_on(TestApp::postgres().await).await;
}

async fn the_audit_log_records_every_write_for_the_issuer_on(app: TestApp) {
    let alice = app.issuer("alice").await;
    let bob = app.issuer("bob").await;
    let (manager_id, manager) = app.manager(&alice, "mgr").await;
    let user = app.registered_user(&manager, "Investor").await;
    let reply = app
        .put(
            &format!("/api/registered_users/{user}/edit"),
            &alice,
            Some(r#"{"name": "Renamed"}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    // reads and refused writes are not recorded
    app.get("/api/registered_users", &alice).await;
    app.post("/api/categories/add", &manager, r#"{"name": "x"}"#)
        .await;

    let reply = app.get("/api/audit", &alice).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    // alice's login, create + unlock of the manager, its login, its add, the issuer's edit
    assert_eq!(reply.body["count"], 6);
    let entries = reply.body["results"].as_array().unwrap();
    let edit = &entries[0];
    assert_eq!(edit["role"], "issuer");
    assert_eq!(edit["username"], "alice");
    assert_eq!(edit["method"], "PUT");
    assert_eq!(edit["path"], format!("/api/registered_users/{user}/edit"));
    assert_eq!(edit["route"], "/api/registered_users/{id}/edit");
    assert_eq!(edit["object_ids"], json!({"id": user.to_string()}));
    assert_eq!(edit["status"], 200);
    assert!(edit["created"].as_str().unwrap().contains('T'));
    let add = &entries[1];
    assert_eq!(add["role"], "manager");
    assert_eq!(add["actor_id"], manager_id);
    assert_eq!(add["username"], "mgr");
    assert_eq!(add["object_ids"], json!({"created_id": user}));
    assert_eq!(add["status"], 201);
    assert_eq!(entries[2]["route"], "/api/user/obtain_token");
    assert_eq!(entries[2]["role"], "manager");
    assert_eq!(
        entries[3]["object_ids"],
        json!({"id": manager_id.to_string()})
    );
    assert_eq!(entries[4]["route"], "/api/managers/create");
    assert_eq!(entries[4]["object_ids"], json!({"created_id": manager_id}));
    assert_eq!(entries[5]["route"], "/api/user/obtain_token");
    assert_eq!(entries[5]["role"], "issuer");

    // a refresh (even by GET) is a write
    let reply = app.get("/api/user/refresh-token", &alice).await;
    let alice = reply.body["token"].as_str().unwrap().to_string();
    let reply = app.get("/api/audit", &alice).await;
    assert_eq!(reply.body["count"], 7);
    assert_eq!(reply.body["results"][0]["route"], "/api/user/refresh-token");
    let entries = reply.body["results"].as_array().unwrap()[1..].to_vec();

    let page = app.get("/api/audit?limit=1&offset=2", &alice).await;
    assert_eq!(page.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["results"][0], entries[1]);
    assert_eq!(
        app.get("/api/audit?limit=0", &alice).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/audit?offset=x", &alice).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/audit", &manager).await.status,
        StatusCode::FORBIDDEN
    );
    // bob sees only his own login
    let reply = app.get("/api/audit", &bob).await;
    assert_eq!(reply.body["count"], 1);
    assert_eq!(reply.body["results"][0]["username"], "bob");
}
