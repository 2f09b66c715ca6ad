//! Issuance recovery never fails a good issuance: a node warming up (`-28`) or refusing a resend
//! of a transaction that is already in the chain leaves it to be finished, only a definitive
//! rejection of a transaction that is nowhere fails it, and recovery never touches an issuance
//! another live replica owns. The node is a `TestNode` (embedded, or `elementsd` with
//! `ELEMENTSD_EXE`); to make it answer a warm-up or a refusal on demand, the tests talk to it
//! through a small JSON-RPC proxy that forwards every call except the ones it is told to fail.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amphora_rpc::{ElementsRpc, RetryPolicy};
use amphora_server::recover_pending_issuances;
use amphora_store::{Asset, IssuanceStatus};
use amphora_testenv::TestNode;
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::TestApp;

/// Methods the proxy fails, with the (code, message) it answers instead of the node.
type Faults = Arc<Mutex<HashMap<String, (i64, String)>>>;

/// A JSON-RPC proxy in front of `node`: forwards each call, except those named in the returned
/// [`Faults`], which get the configured node error. Returns its URL and the faults.
async fn proxy(node: &TestNode) -> (String, Faults) {
    let faults: Faults = Arc::default();
    let (target, (user, password)) = (node.url().to_string(), node.credentials());
    let client = reqwest::Client::new();
    let injected = faults.clone();
    let handler = move |uri: axum::http::Uri, body: String| {
        let (client, target, injected) = (client.clone(), target.clone(), injected.clone());
        let (user, password) = (user.clone(), password.clone());
        async move {
            let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let method = request["method"].as_str().unwrap_or_default().to_string();
            let fault = injected.lock().unwrap().get(&method).cloned();
            if let Some((code, message)) = fault {
                let answer = json!({"result": null, "error": {"code": code, "message": message},
                                    "id": request["id"]});
                return (StatusCode::INTERNAL_SERVER_ERROR, answer.to_string());
            }
            let forwarded = client
                .post(format!("{target}{}", uri.path()))
                .basic_auth(user, Some(password))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = StatusCode::from_u16(forwarded.status().as_u16()).unwrap();
            (status, forwarded.text().await.unwrap())
        }
    };
    let router = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, faults)
}

/// An app on `app` connected to `node` through a fault-injecting proxy (few, quick retries),
/// with one asset issued through the API (its signed transaction in the mempool).
async fn issued(app: TestApp, node: &TestNode) -> (TestApp, Faults, Asset) {
    node.provision_platform_wallets().await;
    let (url, faults) = proxy(node).await;
    let rpc = ElementsRpc::new(&url, node.auth())
        .unwrap()
        .with_retry(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
        });
    let app = app.with_node(rpc);
    let token = app.issuer("issuer").await;
    let destination = node.wallet("treasury").get_new_address(None).await.unwrap();
    let body = json!({
        "name": "Recovered Security", "amount": 1000, "destination_address": destination,
        "domain": "example.com", "ticker": "RECOV",
        "pubkey": amphora_testenv::ISSUER_PUBKEY,
        "precision": 0, "is_confidential": false, "is_reissuable": false,
        "transfer_restricted": false,
    });
    let reply = app
        .post("/api/assets/issue", &token, &body.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let store = app.state.store();
    let issuer = store
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let uuid = reply.body["asset_uuid"].as_str().unwrap();
    let asset = store.asset(issuer, uuid).await.unwrap().unwrap();
    (app, faults, asset)
}

/// Records an interrupted copy of `asset` (its signed transaction stored, not known to be
/// broadcast), owned by nobody; returns its uuid.
async fn interrupted_copy(app: &TestApp, asset: &Asset, tx: amphora_store::IssuanceTx) -> String {
    let store = app.state.store();
    let mut copy = asset.issuance.clone();
    copy.uuid = uuid::Uuid::new_v4().to_string();
    store.create_asset(&copy).await.unwrap();
    store.set_asset_issuance_tx(&copy.uuid, &tx).await.unwrap();
    copy.uuid
}

async fn status(app: &TestApp, uuid: &str) -> IssuanceStatus {
    let store = app.state.store();
    let unfinished = store.unfinished_issuances().await.unwrap();
    if let Some(a) = unfinished.iter().find(|a| a.issuance.uuid == uuid) {
        return a.status;
    }
    let issuer = store
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    match store.asset(issuer, uuid).await.unwrap() {
        Some(a) => a.status,
        None => IssuanceStatus::Failed,
    }
}

async fn warm_up_and_resend_refusals_never_fail_an_issuance_on(app: TestApp) {
    let node = TestNode::start().await;
    let (app, faults, asset) = issued(app, &node).await;
    let tx = asset.tx.clone().unwrap();

    // The node is warming up: the issuance stays to be sent, it is not failed.
    let warming = interrupted_copy(&app, &asset, tx.clone()).await;
    faults.lock().unwrap().insert(
        "sendrawtransaction".into(),
        (-28, "Loading block index…".into()),
    );
    assert_eq!(recover_pending_issuances(&app.state).await.unwrap(), 0);
    assert_eq!(status(&app, &warming).await, IssuanceStatus::Broadcasting);

    // The transaction is mined; a resend refused as a conflict is still the issuance, done.
    node.mine(1).await;
    faults.lock().unwrap().insert(
        "sendrawtransaction".into(),
        (-26, "txn-mempool-conflict".into()),
    );
    assert_eq!(recover_pending_issuances(&app.state).await.unwrap(), 1);
    assert_eq!(status(&app, &warming).await, IssuanceStatus::Broadcast);

    // A transaction the node refuses and has never seen is a definitive failure.
    faults.lock().unwrap().clear();
    let mut forged: elements::Transaction =
        elements::encode::deserialize(&hex::decode(&tx.tx_hex).unwrap()).unwrap();
    forged.lock_time = elements::LockTime::from_height(1).unwrap();
    let mut forged_tx = tx.clone();
    forged_tx.tx_hex = elements::encode::serialize_hex(&forged);
    forged_tx.txid = forged.txid().to_string();
    let refused = interrupted_copy(&app, &asset, forged_tx).await;
    assert_eq!(recover_pending_issuances(&app.state).await.unwrap(), 1);
    assert_eq!(status(&app, &refused).await, IssuanceStatus::Failed);
}

#[tokio::test]
async fn warm_up_and_resend_refusals_never_fail_an_issuance() {
    warm_up_and_resend_refusals_never_fail_an_issuance_on(TestApp::new().await).await;
}

#[tokio::test]
async fn warm_up_and_resend_refusals_never_fail_an_issuance_on_postgres() {
    warm_up_and_resend_refusals_never_fail_an_issuance_on(TestApp::postgres().await).await;
}

async fn recovery_leaves_another_live_replicas_issuance_alone_on(app: TestApp) {
    let node = TestNode::start().await;
    let app = app.with_node(node.rpc().clone());
    app.issuer("issuer").await;
    let store = app.state.store();
    let issuer = store
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let stored = app.stored_asset(issuer).await;
    let template = store
        .asset(issuer, &stored)
        .await
        .unwrap()
        .unwrap()
        .issuance;

    // Another replica is building this issuance right now (no transaction signed yet).
    let mut in_flight = template.clone();
    in_flight.uuid = uuid::Uuid::new_v4().to_string();
    store
        .create_owned_issuance(&in_flight, "replica-elsewhere", Duration::from_secs(60))
        .await
        .unwrap();
    // A replica that died left this one; its lease runs out soon.
    let mut abandoned = template;
    abandoned.uuid = uuid::Uuid::new_v4().to_string();
    store
        .create_owned_issuance(&abandoned, "replica-dead", Duration::from_millis(100))
        .await
        .unwrap();

    assert_eq!(recover_pending_issuances(&app.state).await.unwrap(), 0);
    assert_eq!(status(&app, &in_flight.uuid).await, IssuanceStatus::Pending);
    assert_eq!(status(&app, &abandoned.uuid).await, IssuanceStatus::Pending);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(recover_pending_issuances(&app.state).await.unwrap(), 1);
    assert_eq!(status(&app, &abandoned.uuid).await, IssuanceStatus::Failed);
    assert_eq!(status(&app, &in_flight.uuid).await, IssuanceStatus::Pending);
    assert_eq!(
        store
            .issuance_owner(&in_flight.uuid)
            .await
            .unwrap()
            .as_deref(),
        Some("replica-elsewhere")
    );
}

#[tokio::test]
async fn recovery_leaves_another_live_replicas_issuance_alone() {
    recovery_leaves_another_live_replicas_issuance_alone_on(TestApp::new().await).await;
}

#[tokio::test]
async fn recovery_leaves_another_live_replicas_issuance_alone_on_postgres() {
    recovery_leaves_another_live_replicas_issuance_alone_on(TestApp::postgres().await).await;
}
