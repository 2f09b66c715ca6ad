//! Asset endpoints: issuance through the test node of the run (embedded or Elements Core), validation, the asset's
//! settings, treasury addresses, category requirements, isolation and issuance recovery.

use amphora_rpc::{Auth, ElementsRpc, RetryPolicy};
use amphora_server::recover_pending_issuances;
use amphora_store::{IssuanceStatus, NewAsset};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::chain::Chain;
use crate::common::{TestApp, REGTEST_ADDRESS};

const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;

fn issuance(destination: &str, token_address: &str) -> Value {
    json!({
        "name": "Example Security",
        "amount": 17_000_000,
        "destination_address": destination,
        "domain": "example.com",
        "ticker": "EXSEC",
        "pubkey": PUBKEY,
        "precision": 2,
        "is_confidential": true,
        "is_reissuable": true,
        "reissuance_amount": 1,
        "reissuance_address": token_address,
        "transfer_restricted": true,
        "issuer_authorization_endpoint": "https://issuer.example/authorize",
    })
}

#[tokio::test]
async fn issuance_through_the_node_pays_the_issuer() {
    let chain = Chain::start().await;
    let app = TestApp::new().await.with_node(chain.rpc.clone());
    let token = app.issuer("issuer").await;
    let destination = chain.issuer_address().await;
    let token_address = chain.issuer_address().await;

    let reply = app
        .post(
            "/api/assets/issue",
            &token,
            &issuance(&destination, &token_address).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let body = &reply.body;
    for (key, value) in issuance(&destination, &token_address).as_object().unwrap() {
        assert_eq!(&body[key], value, "{key} is echoed");
    }
    let asset_id = body["asset_id"].as_str().unwrap().to_string();
    let token_id = body["reissuance_token_id"].as_str().unwrap().to_string();
    assert_eq!(asset_id.len(), 64);
    assert_ne!(asset_id, token_id);
    assert!(body["asset_uuid"].is_string());
    assert!(body["vin"].is_i64());
    assert_ne!(body["asset_vout"], body["reissuance_vout"]);
    assert_eq!(body["issuance_assetblinder"].as_str().unwrap().len(), 64);
    assert_eq!(body["issuance_tokenblinder"].as_str().unwrap().len(), 64);

    // The transaction is in the mempool; once mined, the issuer's wallet holds both.
    let txid = body["txid"].as_str().unwrap();
    let mempool = chain.rpc.get_raw_mempool().await.unwrap();
    assert!(mempool.iter().any(|t| t.to_string() == txid));
    chain.mine(1).await;
    let balances = chain.issuer.get_balances().await.unwrap();
    assert_eq!(balances[&asset_id].units(), 17_000_000);
    assert_eq!(balances[&token_id].units(), 1);

    // The asset is listed with the reference's fields.
    let uuid = body["asset_uuid"].as_str().unwrap();
    let listed = app.get("/api/assets", &token).await;
    assert_eq!(listed.status, StatusCode::OK);
    let asset = &listed.body[0];
    assert_eq!(asset["asset_uuid"], uuid);
    assert_eq!(asset["asset_id"], asset_id);
    assert_eq!(asset["reissuance_token_id"], token_id);
    assert_eq!(asset["precision"], 2);
    assert_eq!(asset["requirements"], json!([]));
    assert_eq!(asset["is_registered"], false);
    assert_eq!(asset["transfer_restricted"], true);

    // Recovery re-sends a stored transaction that is already mined: success, idempotent.
    let store = app.state.store();
    let stored = store
        .asset(asset["issuer"].as_i64().unwrap(), uuid)
        .await
        .unwrap()
        .unwrap();
    let mut copy: NewAsset = stored.issuance.clone();
    copy.uuid = uuid::Uuid::new_v4().to_string();
    store.create_asset(&copy).await.unwrap();
    store
        .set_asset_issuance_tx(&copy.uuid, stored.tx.as_ref().unwrap())
        .await
        .unwrap();
    // and one that never got a transaction is failed
    let mut unsigned = stored.issuance.clone();
    unsigned.uuid = uuid::Uuid::new_v4().to_string();
    store.create_asset(&unsigned).await.unwrap();
    assert_eq!(recover_pending_issuances(&app.state).await.unwrap(), 2);
    assert!(store.unfinished_issuances().await.unwrap().is_empty());
    let recovered = store
        .asset(stored.issuance.issuer_id, &copy.uuid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recovered.status, IssuanceStatus::Broadcast);
    assert!(store
        .asset(stored.issuance.issuer_id, &unsigned.uuid)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn issuance_without_platform_funds_is_503() {
    let chain = Chain::unfunded().await;
    let app = TestApp::new().await.with_node(chain.rpc.clone());
    let token = app.issuer("issuer").await;
    let destination = chain.issuer_address().await;
    let token_address = chain.issuer_address().await;
    let reply = app
        .post(
            "/api/assets/issue",
            &token,
            &issuance(&destination, &token_address).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("no L-BTC to pay the issuance fee"),
        "{:?}",
        reply.body
    );
    assert_eq!(app.get("/api/assets", &token).await.body, json!([]));
}

#[tokio::test]
async fn issuance_without_a_node_is_503() {
    let app = TestApp::new().await;
    let token = app.issuer("issuer").await;
    let other = "el1qqw747eyh3a5n8t3ar69ge49ydcx4m08gvfz23mdctwnjs5djnv8tz4k9m4yq2rxxv8srx3e246wtefewd24eq50nxm89tqkv7";
    let reply = app
        .post(
            "/api/assets/issue",
            &token,
            &issuance(REGTEST_ADDRESS, other).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.body,
        json!({"detail": "No Elements node is configured."})
    );
}

#[tokio::test]
async fn invalid_issuances_get_field_errors() {
    let app = TestApp::new().await;
    let token = app.issuer("issuer").await;
    let mut body = issuance(REGTEST_ADDRESS, REGTEST_ADDRESS);
    body["ticker"] = json!("TOOLONG");
    body["amount"] = json!(0);
    let reply = app
        .post("/api/assets/issue", &token, &body.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!({
            "amount": ["Ensure this value is between 1 and 2100000000000000."],
            "ticker": ["The ticker must have 3 to 5 characters among A-Z, a-z, 0-9, '.' and '-'."],
        })
    );
    // Fields of the form their schema states, refused by a rule no schema states (across
    // fields, a curve point): `{"Error": …}`.
    let off_curve = format!("02{}", "ff".repeat(32));
    for (change, error) in [
        (
            json!({}),
            "The reissuance_address must differ from the destination_address.",
        ),
        (
            json!({"pubkey": off_curve}),
            "The public key is not a valid secp256k1 point.",
        ),
        (
            json!({"is_reissuable": false}),
            "reissuance_amount is only allowed when is_reissuable is true.",
        ),
    ] {
        let mut body = issuance(REGTEST_ADDRESS, REGTEST_ADDRESS);
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let reply = app
            .post("/api/assets/issue", &token, &body.to_string())
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.body, json!({ "Error": error }), "{change}");
    }
    let reply = app.post("/api/assets/issue", &token, "{}").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body["name"],
        json!(["This field is required."]),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn asset_settings_round_trip_and_stay_with_their_issuer() {
    let app = TestApp::new().await;
    let token = app.issuer("issuer-a").await;
    let other = app.issuer("issuer-b").await;
    let a_id = app
        .state
        .store()
        .issuer_by_username("issuer-a")
        .await
        .unwrap()
        .unwrap()
        .id;
    let uuid = app.stored_asset(a_id).await;
    let path = |suffix: &str| format!("/api/assets/{uuid}{suffix}");

    assert_eq!(app.get(&path(""), &token).await.body["asset_uuid"], uuid);
    assert_eq!(
        app.get(&path(""), &other).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/api/assets", &other).await.body, json!([]));

    let edited = app
        .put(
            &path("/edit"),
            &token,
            Some(r#"{"issuer_authorization_endpoint": "https://auth.example/check"}"#),
        )
        .await;
    assert_eq!(
        edited.body["issuer_authorization_endpoint"],
        "https://auth.example/check"
    );
    let bad = app
        .put(
            &path("/edit"),
            &token,
            Some(r#"{"issuer_authorization_endpoint": "x"}"#),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.body,
        json!({"issuer_authorization_endpoint": [amphora_core::endpoint::FORM_MESSAGE]})
    );

    assert_eq!(
        app.put(&path("/lock"), &token, None).await.body["is_locked"],
        true
    );
    assert_eq!(
        app.put(&path("/unlock"), &token, None).await.body["is_locked"],
        false
    );

    assert_eq!(app.get(&path("/memo"), &token).await.body, json!(""));
    let set = app
        .post(&path("/memo/set"), &token, "\"board approved\"")
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(
        app.get(&path("/memo"), &token).await.body,
        json!("board approved")
    );
    assert_eq!(
        app.post(&path("/memo/set"), &token, "{\"memo\": 1}")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let added = app
        .post(
            &path("/treasury-addresses/add"),
            &token,
            &json!([REGTEST_ADDRESS]).to_string(),
        )
        .await;
    assert_eq!(added.body, json!([REGTEST_ADDRESS]));
    let refused = app
        .post(&path("/treasury-addresses/add"), &token, r#"["nope"]"#)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let deleted = app
        .send(
            axum::http::Method::DELETE,
            &path("/treasury-addresses/delete"),
            Some(&token),
            Some(&json!([REGTEST_ADDRESS]).to_string()),
        )
        .await;
    assert_eq!(deleted.body, json!([]));

    let category = app
        .post("/api/categories/add", &token, r#"{"name": "Qualified"}"#)
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let linked = app
        .put(
            &format!("/api/categories/{category}/assets/{uuid}/add"),
            &token,
            None,
        )
        .await;
    assert_eq!(linked.body["assets"], json!([uuid]));
    assert_eq!(
        app.get(&path(""), &token).await.body["requirements"],
        json!([category])
    );
    let unlinked = app
        .put(
            &format!("/api/categories/{category}/assets/{uuid}/remove"),
            &token,
            None,
        )
        .await;
    assert_eq!(unlinked.body["assets"], json!([]));

    assert_eq!(
        app.delete(&path("/delete"), &other).await.status,
        StatusCode::NOT_FOUND
    );
    let gone = app.delete(&path("/delete"), &token).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert!(gone.raw.is_empty());
    assert_eq!(
        app.get(&path(""), &token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&path("/delete"), &token).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn concurrent_issuances_all_succeed() {
    let chain = Chain::start().await;
    let app = TestApp::new().await.with_node(chain.rpc.clone());
    let token = app.issuer("issuer").await;
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let destination = chain.issuer_address().await;
        let token_address = chain.issuer_address().await;
        bodies.push(issuance(&destination, &token_address).to_string());
    }
    // The three requests run concurrently on this task; the platform wallet lock keeps them
    // from funding with the same coins.
    let (first, second, third) = tokio::join!(
        app.post("/api/assets/issue", &token, &bodies[0]),
        app.post("/api/assets/issue", &token, &bodies[1]),
        app.post("/api/assets/issue", &token, &bodies[2]),
    );
    let replies = [first, second, third];
    let mut txids = std::collections::BTreeSet::new();
    for reply in replies {
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        txids.insert(reply.body["txid"].as_str().unwrap().to_string());
    }
    assert_eq!(txids.len(), 3);
    assert_eq!(chain.rpc.get_raw_mempool().await.unwrap().len(), 3);
    assert_eq!(
        app.get("/api/assets", &token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn recovery_keeps_a_signed_issuance_while_the_node_is_unreachable() {
    let offline = ElementsRpc::new("http://127.0.0.1:1", Auth::None)
        .unwrap()
        .with_retry(RetryPolicy::none());
    let app = TestApp::new().await.with_node(offline);
    app.issuer("issuer").await;
    let store = app.state.store();
    let issuer = store
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let uuid = app.stored_asset(issuer).await;
    let stored = store.asset(issuer, &uuid).await.unwrap().unwrap();
    let mut interrupted = stored.issuance.clone();
    interrupted.uuid = uuid::Uuid::new_v4().to_string();
    store.create_asset(&interrupted).await.unwrap();
    store
        .set_asset_issuance_tx(&interrupted.uuid, stored.tx.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(recover_pending_issuances(&app.state).await.unwrap(), 0);
    let unfinished = store.unfinished_issuances().await.unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].status, IssuanceStatus::Broadcasting);
}
