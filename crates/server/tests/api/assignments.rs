//! Assignments over the router: shapes, every rule as a 400 with its message, racing creates
//! that never exceed the treasury, lock / unlock / delete, and the registered user's summary.

use std::sync::Arc;

use amphora_store::{
    BlockUpdate, IndexedBlock, IndexedTx, NewAssetOutput, OutputOwner, TxKind, UNKNOWN_BLINDER,
};
use axum::http::StatusCode;
use serde_json::json;

use crate::common::TestApp;

/// An issuer, a stored asset whose issuance (txid `cd…`) pays 1,000 to the treasury, and a
/// registered user with a GAID in the asset's required category.
pub(crate) struct Setup {
    pub app: TestApp,
    pub token: String,
    pub asset: String,
    pub user: i64,
    pub gaid: String,
}

fn block(height: i64, txs: Vec<IndexedTx>, outputs: Vec<NewAssetOutput>) -> BlockUpdate {
    let hash = |h: i64| format!("{:064x}", h + 100);
    BlockUpdate {
        block: IndexedBlock {
            height,
            block_hash: hash(height),
            prev_hash: hash(height - 1),
            block_time: 1_700_000_000 + height,
        },
        txs,
        outputs,
        spends: vec![],
    }
}

/// Indexes the issuance in block 1 and `confirmations - 1` empty blocks after it.
pub(crate) async fn index_issuance(app: &TestApp, asset: &str, confirmations: i64) {
    let store = app.state.store();
    store
        .apply_block(&block(
            1,
            vec![IndexedTx {
                asset_uuid: asset.into(),
                txid: "cd".repeat(32),
                position: 1,
                kind: TxKind::Issuance,
            }],
            vec![NewAssetOutput {
                txid: "cd".repeat(32),
                vout: 0,
                asset_uuid: asset.into(),
                is_token: false,
                amount: 1_000,
                script_pubkey: "0014aa".into(),
                owner: OutputOwner::Treasury,
                asset_blinder: UNKNOWN_BLINDER.into(),
                amount_blinder: UNKNOWN_BLINDER.into(),
                height: 1,
            }],
        ))
        .await
        .unwrap();
    for height in 2..=confirmations {
        store
            .apply_block(&block(height, vec![], vec![]))
            .await
            .unwrap();
    }
}

/// A user of the issuer with a registered GAID, in `category` when given.
pub(crate) async fn user_with_gaid(app: &TestApp, token: &str, name: &str) -> (i64, String) {
    let gaid = app.registered_gaid().await;
    let reply = app
        .post(
            "/api/registered_users/add",
            token,
            &json!({"name": name, "GAID": gaid}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    (reply.body["id"].as_i64().unwrap(), gaid)
}

pub(crate) async fn setup(confirmations: i64) -> Setup {
    let app = TestApp::new().await;
    let token = app.issuer("assigner").await;
    let issuer = app
        .state
        .store()
        .issuer_by_username("assigner")
        .await
        .unwrap()
        .unwrap()
        .id;
    let asset = app.stored_asset(issuer).await;
    let (user, gaid) = user_with_gaid(&app, &token, "Investor").await;
    let reply = app
        .post("/api/categories/add", &token, r#"{"name": "Qualified"}"#)
        .await;
    let category = reply.body["id"].as_i64().unwrap();
    for path in [
        format!("/api/categories/{category}/registered_users/{user}/add"),
        format!("/api/categories/{category}/assets/{asset}/add"),
    ] {
        let reply = app.put(&path, &token, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
    }
    index_issuance(&app, &asset, confirmations).await;
    Setup {
        app,
        token,
        asset,
        user,
        gaid,
    }
}

pub(crate) fn create_body(user: i64, amount: i64, ready: bool) -> String {
    json!({"assignments": [{"registered_user": user, "amount": amount,
        "ready_for_distribution": ready}]})
    .to_string()
}

#[tokio::test]
async fn create_list_details_lock_unlock_delete() {
    let s = setup(2).await;
    let base = format!("/api/assets/{}/assignments", s.asset);
    let reply = s
        .app
        .post(
            &format!("{base}/create"),
            &s.token,
            &create_body(s.user, 250, true),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let created = &reply.body[0];
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["registered_user"], s.user);
    assert_eq!(created["investor"], s.user);
    assert_eq!(created["amount"], 250);
    assert_eq!(created["ready_for_distribution"], true);
    assert_eq!(created["is_distributed"], false);
    assert_eq!(created["has_vested"], true);
    assert_eq!(created["GAID"], s.gaid.as_str());
    assert!(created["receiving_address"].is_null());
    assert!(created["distribution_uuid"].is_null());
    assert!(created["creator"].as_i64().unwrap() > 0);

    let vesting = json!({"assignments": [{"registered_user": s.user, "amount": 5,
        "vesting_timestamp": 4_102_444_800i64}]});
    let reply = s
        .app
        .post(&format!("{base}/create"), &s.token, &vesting.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body[0]["has_vested"], false);
    assert_eq!(reply.body[0]["vesting_datetime"], "2100-01-01T00:00:00Z");

    let all = s.app.get(&base, &s.token).await;
    assert_eq!(all.body.as_array().unwrap().len(), 2);
    let undistributed = s
        .app
        .get(&format!("{base}?distributed=false"), &s.token)
        .await;
    assert_eq!(undistributed.body.as_array().unwrap().len(), 2);
    let distributed = s
        .app
        .get(&format!("{base}?distributed=true"), &s.token)
        .await;
    assert_eq!(distributed.body, json!([]));
    let bad = s
        .app
        .get(&format!("{base}?distributed=perhaps"), &s.token)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let one = s.app.get(&format!("{base}/{id}"), &s.token).await;
    assert_eq!(one.body["id"], id);
    let locked = s
        .app
        .put(&format!("{base}/{id}/lock"), &s.token, None)
        .await;
    assert_eq!(locked.body["is_locked"], true, "{:?}", locked.body);
    let unlocked = s
        .app
        .put(&format!("{base}/{id}/unlock/"), &s.token, None)
        .await;
    assert_eq!(unlocked.body["is_locked"], false);
    let deleted = s.app.delete(&format!("{base}/{id}/delete"), &s.token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.raw.is_empty());
    let gone = s.app.get(&format!("{base}/{id}"), &s.token).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let again = s.app.delete(&format!("{base}/{id}/delete"), &s.token).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let missing = s
        .app
        .get("/api/assets/no-such-asset/assignments", &s.token)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_and_every_rule_answer_400() {
    let s = setup(1).await;
    let create = format!("/api/assets/{}/assignments/create", s.asset);
    // Fields.
    for (body, field) in [
        (json!({"assignments": []}), "assignments"),
        (
            json!({"assignments": [{"registered_user": s.user, "amount": 1},
                                   {"registered_user": s.user, "amount": 1}]}),
            "assignments",
        ),
        (
            json!({"assignments": [{"registered_user": s.user, "amount": 0}]}),
            "amount",
        ),
        (
            json!({"assignments": [{"registered_user": 999_999, "amount": 1}]}),
            // an id that is not one of the issuer's users: a rule on stored data
            "Error",
        ),
        (json!({}), "assignments"),
    ] {
        let reply = s.app.post(&create, &s.token, &body.to_string()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            reply.body
        );
        assert!(
            reply.body.get(field).is_some(),
            "{body}: expected a {field} error, got {:?}",
            reply.body
        );
    }
    // One confirmation only.
    let reply = s
        .app
        .post(&create, &s.token, &create_body(s.user, 1, true))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["Error"]
        .as_str()
        .unwrap()
        .contains("1 confirmation"));
    s.app
        .state
        .store()
        .apply_block(&block(2, vec![], vec![]))
        .await
        .unwrap();
    // (No GAID is no obstacle: see distributions::users_without_a_gaid_are_assigned_but_not_paid.)
    // Not in the required category.
    let (outsider, _) = user_with_gaid(&s.app, &s.token, "Outsider").await;
    let reply = s
        .app
        .post(&create, &s.token, &create_body(outsider, 1, true))
        .await;
    assert!(
        reply.body["Error"].as_str().unwrap().contains("categories"),
        "{:?}",
        reply.body
    );
    // One ready assignment per user.
    let reply = s
        .app
        .post(&create, &s.token, &create_body(s.user, 600, true))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = s
        .app
        .post(&create, &s.token, &create_body(s.user, 1, true))
        .await;
    assert!(
        reply.body["Error"]
            .as_str()
            .unwrap()
            .contains("already has an assignment ready"),
        "{:?}",
        reply.body
    );
    // The treasury bound.
    let reply = s
        .app
        .post(&create, &s.token, &create_body(s.user, 401, false))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["Error"]
        .as_str()
        .unwrap()
        .starts_with("insufficient confirmed funds"));
    let reply = s
        .app
        .post(&create, &s.token, &create_body(s.user, 400, false))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}

#[tokio::test]
async fn racing_creates_never_exceed_the_treasury() {
    let s = setup(2).await;
    let app = Arc::new(s.app);
    let create = format!("/api/assets/{}/assignments/create", s.asset);
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let app = app.clone();
            let (create, token) = (create.clone(), s.token.clone());
            let body = create_body(s.user, 100, false);
            tokio::spawn(async move { app.post(&create, &token, &body).await })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::OK => ok += 1,
            StatusCode::BAD_REQUEST => {
                assert!(reply.body["Error"]
                    .as_str()
                    .unwrap()
                    .starts_with("insufficient confirmed funds"));
                refused += 1
            }
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    assert_eq!((ok, refused), (10, 20));
    let list = app
        .get(&format!("/api/assets/{}/assignments", s.asset), &s.token)
        .await;
    let total: i64 = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 1_000);
}

#[tokio::test]
async fn the_registered_user_summary_reflects_assignments() {
    let s = setup(2).await;
    let create = format!("/api/assets/{}/assignments/create", s.asset);
    s.app
        .post(&create, &s.token, &create_body(s.user, 300, true))
        .await;
    s.app
        .post(&create, &s.token, &create_body(s.user, 200, false))
        .await;
    let reply = s
        .app
        .get(
            &format!("/api/registered_users/{}/summary", s.user),
            &s.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let entry = &reply.body[0];
    assert_eq!(reply.body.as_array().unwrap().len(), 1);
    for (key, value) in [
        ("asset_uuid", json!(s.asset)),
        ("asset_id", json!("ab".repeat(32))),
        ("assignments_sum", json!(500)),
        ("distributions_sum", json!(0)),
        ("balance", json!(0)),
        ("distributions", json!([])),
    ] {
        assert_eq!(entry[key], value, "{key}: {entry}");
    }
    // Each entry lists its assignments (as /assignments shows them) next to the sums.
    let listed = s
        .app
        .get(&format!("/api/assets/{}/assignments", s.asset), &s.token)
        .await;
    assert_eq!(entry["assignments"], listed.body);
    let amounts: Vec<i64> = entry["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [300, 200]);
    // ... and the distributions that include them.
    let file = s
        .app
        .get(
            &format!("/api/assets/{}/distributions/create", s.asset),
            &s.token,
        )
        .await;
    assert_eq!(file.status, StatusCode::OK, "{:?}", file.body);
    let reply = s
        .app
        .get(
            &format!("/api/registered_users/{}/summary", s.user),
            &s.token,
        )
        .await;
    let distributions = reply.body[0]["distributions"].as_array().unwrap();
    assert_eq!(distributions.len(), 1, "{:?}", reply.body);
    assert_eq!(
        distributions[0]["distribution_uuid"],
        file.body["distribution_uuid"]
    );
    assert_eq!(distributions[0]["distribution_status"], "UNCONFIRMED");
    assert_eq!(
        reply.body[0]["assignments"][0]["distribution_uuid"],
        file.body["distribution_uuid"]
    );
    let other = s.app.registered_user(&s.token, "Nobody").await;
    let reply = s
        .app
        .get(&format!("/api/registered_users/{other}/summary"), &s.token)
        .await;
    assert_eq!(reply.body, json!([]));
}

#[tokio::test]
async fn creates_for_an_asset_the_issuer_cannot_see_are_404_before_anything_else() {
    let s = setup(2).await;
    let other = s.app.issuer("other-assigner").await;
    let ours = format!("/api/assets/{}/assignments/create", s.asset);
    let unknown = "/api/assets/no-such-asset/assignments/create";
    for (path, token) in [(ours.as_str(), &other), (unknown, &s.token)] {
        // A valid body, a bad one, and an unknown user: the asset is checked first.
        for body in [
            create_body(s.user, 1, false),
            json!({"assignments": []}).to_string(),
            "not json".to_string(),
            create_body(999_999, 1, false),
        ] {
            let reply = s.app.post(path, token, &body).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{path} {body}: {:?}",
                reply.body
            );
        }
    }
    let list = s
        .app
        .get(&format!("/api/assets/{}/assignments", s.asset), &s.token)
        .await;
    assert_eq!(list.body, json!([]), "nothing was created");
}
