//! The co-signer over the router: fresh GAID addresses, `POST /amp2/wallets/sign` decisions
//! (transfer rules, blacklist, lock, issuer authorization webhook, unregistered inputs, inputs
//! checked against the chain) on PSETs spending coins of a test node (the embedded node, or
//! `elementsd` with `ELEMENTSD_EXE`), and the record of every decision.

mod chain_inputs;
mod limits;
mod outbound;
mod pset;

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amphora_cosigner::verify_issuer_authorization_body;
use amphora_server::cosign::CosignSettings;
use amphora_store::{NewAssetOutput, OutputOwner, UNKNOWN_BLINDER};
use axum::http::{Method, StatusCode};
use elements::pset::PartiallySignedTransaction;
use elements::{AssetId, OutPoint};
use lwk_wollet::Chain;
use serde_json::{json, Value};

use crate::common::{unregistered_gaid, Reply, TestApp};
use pset::{transfer, wallet, Coin, Funder, Out, Wallet};

/// An issuer with a transfer-restricted, authorized asset requiring one category; Alice (sender)
/// and Bob are registered users in the category, Carol is a registered user outside it, Dave
/// a registered wallet of no registered user.
struct Scene {
    funder: Funder,
    app: TestApp,
    token: String,
    issuer_id: i64,
    uuid: String,
    asset: AssetId,
    alice: Wallet,
    bob: Wallet,
    carol: Wallet,
    dave: Wallet,
}

async fn user_with_gaid(app: &TestApp, token: &str, name: &str, gaid: &str) -> i64 {
    let body = json!({ "name": name, "is_company": false, "GAID": gaid }).to_string();
    let reply = app.post("/api/registered_users/add", token, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

async fn scene_with(app: TestApp) -> Scene {
    let funder = Funder::start().await;
    let asset = funder.issue(1_000_000_000).await;
    let app = app.with_node(funder.node.rpc().clone());
    let token = app.issuer("issuer").await;
    let issuer_id = app
        .state
        .store()
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let uuid = app
        .stored_asset_with_id(issuer_id, &asset.to_string())
        .await;
    app.state
        .store()
        .set_asset_authorized(issuer_id, &uuid)
        .await
        .unwrap();
    let (alice, bob, carol, dave) = (
        wallet(&app, true).await,
        wallet(&app, true).await,
        wallet(&app, true).await,
        wallet(&app, true).await,
    );
    let alice_id = user_with_gaid(&app, &token, "Alice", &alice.gaid).await;
    let bob_id = user_with_gaid(&app, &token, "Bob", &bob.gaid).await;
    user_with_gaid(&app, &token, "Carol", &carol.gaid).await;
    let reply = app
        .post(
            "/api/categories/add",
            &token,
            r#"{"name": "Qualified", "description": ""}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let category = reply.body["id"].as_i64().unwrap();
    for user in [alice_id, bob_id] {
        let path = format!("/api/categories/{category}/registered_users/{user}/add");
        let reply = app.put(&path, &token, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    let path = format!("/api/categories/{category}/assets/{uuid}/add");
    let reply = app.put(&path, &token, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    Scene {
        funder,
        app,
        token,
        issuer_id,
        uuid,
        asset,
        alice,
        bob,
        carol,
        dave,
    }
}

async fn scene() -> Scene {
    scene_with(TestApp::new().await).await
}

impl Scene {
    /// Alice sends `amount` of the asset (from a 1000 coin) to `to`, with change and an L-BTC
    /// fee: 2 inputs, 4 outputs.
    async fn alice_sends(
        &self,
        to: &elements::Address,
        amount: u64,
    ) -> (PartiallySignedTransaction, Vec<OutPoint>) {
        let lbtc = self.funder.lbtc;
        let change = self.alice.address(Chain::Internal, 0);
        transfer(
            &self.funder,
            &[
                Coin {
                    owner: &self.alice,
                    chain: Chain::External,
                    index: 0,
                    asset: self.asset,
                    value: 1000,
                },
                Coin {
                    owner: &self.alice,
                    chain: Chain::External,
                    index: 1,
                    asset: lbtc,
                    value: 10_000,
                },
            ],
            &[
                Out::To(to, self.asset, amount),
                Out::To(&change, self.asset, 1000 - amount),
                Out::To(&change, lbtc, 9_000),
                Out::Fee(lbtc, 1_000),
            ],
        )
        .await
    }

    async fn sign(&self, pset: &PartiallySignedTransaction) -> Reply {
        sign_raw(&self.app, &json!({ "pset": pset.to_string() }).to_string()).await
    }

    async fn edit_endpoint(&self, endpoint: &str) {
        let body = json!({ "issuer_authorization_endpoint": endpoint }).to_string();
        let path = format!("/api/assets/{}/edit", self.uuid);
        let reply = self.app.put(&path, &self.token, Some(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
}

async fn sign_raw(app: &TestApp, body: &str) -> Reply {
    app.send(Method::POST, "/amp2/wallets/sign", None, Some(body))
        .await
}

fn reasons(reply: &Reply) -> Vec<String> {
    reply.body["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons in {:?}", reply.body))
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn assert_refused(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert!(reply.body["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(
        reasons(reply).contains(&code.to_string()),
        "{:?}",
        reply.body
    );
}

/// The platform signatures the reply added, per input.
fn platform_signatures(scene: &Scene, before: &PartiallySignedTransaction, reply: &Reply) -> usize {
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let signed: PartiallySignedTransaction = reply.body["pset"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        signed.extract_tx().unwrap().txid(),
        before.extract_tx().unwrap().txid()
    );
    let _ = scene;
    assert!(before.inputs().iter().all(|i| i.partial_sigs.is_empty()));
    signed
        .inputs()
        .iter()
        .map(|i| {
            assert_eq!(i.partial_sigs.len(), 1, "one signature per input");
            i.partial_sigs.len()
        })
        .sum()
}

#[tokio::test]
async fn allowed_transfer_is_cosigned_and_recorded() {
    let s = scene().await;
    let (pset, _) = s.alice_sends(&s.bob.address(Chain::External, 3), 300).await;
    let reply = s.sign(&pset).await;
    assert_eq!(platform_signatures(&s, &pset, &reply), 2);

    let txid = pset.extract_tx().unwrap().txid().to_string();
    let decisions = s
        .app
        .state
        .store()
        .cosign_decisions_for_asset(s.issuer_id, &s.uuid)
        .await
        .unwrap();
    assert_eq!(decisions.len(), 1);
    let d = &decisions[0].decision;
    assert!(d.approved && d.reasons.is_empty() && d.error.is_none());
    assert_eq!(d.txid.as_deref(), Some(txid.as_str()));
    assert_eq!(d.sender_gaid.as_deref(), Some(s.alice.gaid.as_str()));
    assert_eq!(d.recipient_gaids, std::slice::from_ref(&s.bob.gaid));
    assert_eq!(d.assets.len(), 1);
    assert_eq!(
        (d.assets[0].amount, d.assets[0].issuer_id),
        (300, s.issuer_id)
    );
    let events = transfer_events(&s).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "transfer.approved");
    assert_eq!(events[0]["asset_uuid"], s.uuid.as_str());
    assert_eq!(events[0]["data"]["txid"], txid.as_str());
    assert_eq!(events[0]["data"]["sender_gaid"], s.alice.gaid.as_str());
    assert_eq!(events[0]["data"]["amount"], 300);
}

/// The issuer's `transfer.*` events, oldest first.
async fn transfer_events(s: &Scene) -> Vec<Value> {
    let reply = s
        .app
        .get(
            "/api/events?types=transfer.approved,transfer.refused",
            &s.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["results"].as_array().unwrap().clone()
}

/// The same decisions on PostgreSQL.
#[tokio::test]
async fn decisions_and_addresses_on_postgres() {
    let app = TestApp::postgres().await;
    let s = scene_with(app).await;
    let (pset, _) = s.alice_sends(&s.bob.address(Chain::External, 0), 300).await;
    assert_eq!(platform_signatures(&s, &pset, &s.sign(&pset).await), 2);
    let (pset, _) = s
        .alice_sends(&s.carol.address(Chain::External, 0), 300)
        .await;
    assert_refused(
        &s.sign(&pset).await,
        StatusCode::FORBIDDEN,
        "recipient_missing_category",
    );
    let decisions = s
        .app
        .state
        .store()
        .cosign_decisions_for_asset(s.issuer_id, &s.uuid)
        .await
        .unwrap();
    assert_eq!(
        decisions
            .iter()
            .map(|d| d.decision.approved)
            .collect::<Vec<_>>(),
        [true, false]
    );
    // Each decision is the issuer's event too, with the reason codes of a refusal.
    let events = transfer_events(&s).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["transfer.approved", "transfer.refused"]);
    assert_eq!(events[0]["data"]["recipient_gaids"], json!([s.bob.gaid]));
    assert_eq!(
        events[1]["data"]["reasons"],
        json!(["recipient_missing_category"])
    );
    assert_eq!(events[1]["data"]["amount"], 300);
    let path = format!("/api/gaids/{}/address", s.bob.gaid);
    let first = s.app.get(&path, &s.token).await.body["address"].clone();
    let second = s.app.get(&path, &s.token).await.body["address"].clone();
    assert_eq!(first, s.bob.address(Chain::External, 0).to_string());
    assert_eq!(second, s.bob.address(Chain::External, 1).to_string());
}

#[tokio::test]
async fn recipient_outside_the_required_category_is_refused() {
    let s = scene().await;
    let (pset, _) = s
        .alice_sends(&s.carol.address(Chain::External, 0), 10)
        .await;
    let reply = s.sign(&pset).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "recipient_missing_category");
    // A registered wallet of no registered user.
    let (pset, _) = s.alice_sends(&s.dave.address(Chain::External, 0), 10).await;
    let reply = s.sign(&pset).await;
    assert_refused(
        &reply,
        StatusCode::FORBIDDEN,
        "recipient_not_registered_user",
    );
    // An address the platform does not know.
    let stranger = wallet(&s.app, false).await;
    let (pset, _) = s
        .alice_sends(&stranger.address(Chain::External, 0), 10)
        .await;
    let reply = s.sign(&pset).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "recipient_unknown");

    let decisions = s
        .app
        .state
        .store()
        .cosign_decisions_for_asset(s.issuer_id, &s.uuid)
        .await
        .unwrap();
    assert_eq!(decisions.len(), 3);
    assert!(decisions.iter().all(|d| !d.decision.approved));
    assert_eq!(
        decisions[0].decision.reasons,
        ["recipient_missing_category"]
    );
}

#[tokio::test]
async fn locked_asset_is_refused_until_unlocked() {
    let s = scene().await;
    let lock = format!("/api/assets/{}/lock", s.uuid);
    assert_eq!(
        s.app.put(&lock, &s.token, None).await.status,
        StatusCode::OK
    );
    let (pset, _) = s.alice_sends(&s.bob.address(Chain::External, 0), 10).await;
    assert_refused(&s.sign(&pset).await, StatusCode::FORBIDDEN, "asset_locked");
    let unlock = format!("/api/assets/{}/unlock", s.uuid);
    assert_eq!(
        s.app.put(&unlock, &s.token, None).await.status,
        StatusCode::OK
    );
    assert_eq!(s.sign(&pset).await.status, StatusCode::OK);
}

/// Deleting an asset hides it from the issuer's API, but its transfers stay under the rules it
/// had: a deleted, locked, transfer-restricted asset is still refused (locked, and to a
/// recipient outside its category), and to an allowed recipient still goes through the rules.
#[tokio::test]
async fn deleting_an_asset_never_frees_its_transfers() {
    let s = scene().await;
    let (to_bob, _) = s.alice_sends(&s.bob.address(Chain::External, 0), 10).await;
    let (to_carol, _) = s
        .alice_sends(&s.carol.address(Chain::External, 0), 10)
        .await;
    let stranger = wallet(&s.app, false).await;
    let (to_stranger, _) = s
        .alice_sends(&stranger.address(Chain::External, 0), 10)
        .await;
    let lock = format!("/api/assets/{}/lock", s.uuid);
    assert_eq!(
        s.app.put(&lock, &s.token, None).await.status,
        StatusCode::OK
    );
    let delete = format!("/api/assets/{}/delete", s.uuid);
    assert_eq!(
        s.app.delete(&delete, &s.token).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.app
            .get(&format!("/api/assets/{}", s.uuid), &s.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_refused(
        &s.sign(&to_bob).await,
        StatusCode::FORBIDDEN,
        "asset_locked",
    );
    let reply = s.sign(&to_carol).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "asset_locked");
    assert_refused(&reply, StatusCode::FORBIDDEN, "recipient_missing_category");
    assert_refused(
        &s.sign(&to_stranger).await,
        StatusCode::FORBIDDEN,
        "recipient_unknown",
    );
    // The refusals are the asset's co-signing activity, as before the deletion.
    let decisions = s
        .app
        .state
        .store()
        .cosign_decisions_for_asset(s.issuer_id, &s.uuid)
        .await
        .unwrap();
    assert_eq!(decisions.len(), 3);
    assert!(decisions.iter().all(|d| !d.decision.approved));
}

#[tokio::test]
async fn blacklisted_input_is_refused() {
    let s = scene().await;
    let (pset, outpoints) = s.alice_sends(&s.bob.address(Chain::External, 0), 10).await;
    let store = s.app.state.store();
    let coin = outpoints[0];
    store
        .record_asset_outputs(&[NewAssetOutput {
            txid: coin.txid.to_string(),
            vout: i64::from(coin.vout),
            asset_uuid: s.uuid.clone(),
            is_token: false,
            amount: 1000,
            script_pubkey: hex_script(&s.alice.address(Chain::External, 0)),
            owner: OutputOwner::Wallet {
                wid: store
                    .wallet_by_gaid(&s.alice.gaid)
                    .await
                    .unwrap()
                    .unwrap()
                    .wid,
                gaid: s.alice.gaid.clone(),
            },
            asset_blinder: UNKNOWN_BLINDER.to_string(),
            amount_blinder: UNKNOWN_BLINDER.to_string(),
            height: 1,
        }])
        .await
        .unwrap();
    // Indexed but not blacklisted: fine.
    assert_eq!(s.sign(&pset).await.status, StatusCode::OK);
    store
        .set_outputs_blacklisted(
            &s.uuid,
            &[(coin.txid.to_string(), i64::from(coin.vout))],
            true,
        )
        .await
        .unwrap();
    assert_refused(
        &s.sign(&pset).await,
        StatusCode::FORBIDDEN,
        "input_blacklisted",
    );
}

fn hex_script(address: &elements::Address) -> String {
    hex::encode(address.script_pubkey().as_bytes())
}

#[tokio::test]
async fn issuer_tracked_asset_may_go_to_any_registered_wallet() {
    let s = scene().await;
    let store = s.app.state.store();
    let tracked_id = s.funder.issue(1_000_000).await;
    let tracked = tracked_asset(&s.app, s.issuer_id, tracked_id).await;
    store
        .set_asset_authorized(s.issuer_id, &tracked.0)
        .await
        .unwrap();
    let lbtc = s.funder.lbtc;
    let carol = s.carol.address(Chain::External, 0);
    let dave = s.dave.address(Chain::External, 0);
    let change = s.alice.address(Chain::Internal, 0);
    let (pset, _) = transfer(
        &s.funder,
        &[
            Coin {
                owner: &s.alice,
                chain: Chain::External,
                index: 0,
                asset: tracked.1,
                value: 50,
            },
            Coin {
                owner: &s.alice,
                chain: Chain::External,
                index: 1,
                asset: lbtc,
                value: 500,
            },
        ],
        &[
            Out::To(&carol, tracked.1, 20),
            Out::To(&dave, tracked.1, 20),
            Out::To(&change, tracked.1, 10),
            Out::To(&change, lbtc, 400),
            Out::Fee(lbtc, 100),
        ],
    )
    .await;
    let reply = s.sign(&pset).await;
    assert_eq!(platform_signatures(&s, &pset, &reply), 2);
    // Still not to an unknown address.
    let stranger = wallet(&s.app, false).await.address(Chain::External, 0);
    let (pset, _) = transfer(
        &s.funder,
        &[Coin {
            owner: &s.alice,
            chain: Chain::External,
            index: 0,
            asset: tracked.1,
            value: 50,
        }],
        &[Out::To(&stranger, tracked.1, 50)],
    )
    .await;
    assert_refused(
        &s.sign(&pset).await,
        StatusCode::FORBIDDEN,
        "recipient_unknown",
    );
}

/// Stores an issuer-tracked asset of id `asset` and returns its uuid and id.
async fn tracked_asset(app: &TestApp, issuer_id: i64, asset: AssetId) -> (String, AssetId) {
    let uuid = uuid::Uuid::new_v4().to_string();
    let store = app.state.store();
    store
        .create_asset(&amphora_store::NewAsset {
            uuid: uuid.clone(),
            issuer_id,
            name: "Tracked asset".into(),
            amount: 100,
            destination_address: crate::common::REGTEST_ADDRESS.into(),
            domain: "example.com".into(),
            ticker: "TRK".into(),
            pubkey: "02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084".into(),
            precision: 0,
            is_confidential: false,
            is_reissuable: false,
            reissuance_amount: 0,
            reissuance_address: String::new(),
            transfer_restricted: false,
            issuer_authorization_endpoint: None,
            contract_json: "{}".into(),
            contract_hash: "00".repeat(32),
        })
        .await
        .unwrap();
    store
        .set_asset_issuance_tx(
            &uuid,
            &amphora_store::IssuanceTx {
                asset_id: asset.to_string(),
                reissuance_token_id: None,
                tx_hex: "00".into(),
                txid: "ef".repeat(32),
                vin: 0,
                asset_vout: 0,
                reissuance_vout: None,
            },
        )
        .await
        .unwrap();
    store.set_asset_broadcast(&uuid, None, None).await.unwrap();
    (uuid, asset)
}

#[tokio::test]
async fn unregistered_inputs_and_garbage_are_refused() {
    let s = scene().await;
    let stranger = wallet(&s.app, false).await;
    let (pset, _) = transfer(
        &s.funder,
        &[Coin {
            owner: &stranger,
            chain: Chain::External,
            index: 0,
            asset: s.asset,
            value: 5,
        }],
        &[Out::To(&s.bob.address(Chain::External, 0), s.asset, 5)],
    )
    .await;
    assert_refused(
        &s.sign(&pset).await,
        StatusCode::BAD_REQUEST,
        "input_not_registered",
    );
    assert_refused(
        &sign_raw(&s.app, r#"{"pset": "not a pset"}"#).await,
        StatusCode::BAD_REQUEST,
        "pset_invalid",
    );
    assert_refused(
        &sign_raw(&s.app, r#"{"psbt": 1}"#).await,
        StatusCode::BAD_REQUEST,
        "request_invalid",
    );
    let recent = s
        .app
        .state
        .store()
        .recent_cosign_decisions(10)
        .await
        .unwrap();
    assert_eq!(
        recent.len(),
        1,
        "requests that do not decode are counted, not recorded"
    );
    assert_eq!(recent[0].decision.reasons, ["input_not_registered"]);
    assert!(recent.iter().all(|d| !d.decision.approved));
}

/// What the test authorization endpoint answers.
#[derive(Clone, Copy)]
enum Answer {
    Approve,
    Refuse,
    Garbage,
    Hang,
}

/// A local issuer authorization endpoint; records the bodies and paths it received.
async fn endpoint(answer: Answer) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let handler = move |uri: axum::http::Uri, body: String| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push((uri.path().to_string(), body));
            match answer {
                Answer::Approve => r#"{"result": true}"#.to_string(),
                Answer::Refuse => r#"{"result": false}"#.to_string(),
                Answer::Garbage => "<html>oops</html>".to_string(),
                Answer::Hang => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    r#"{"result": true}"#.to_string()
                }
            }
        }
    };
    let router = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn issuer_authorization_endpoint_decides() {
    let mut app = TestApp::new().await;
    app.state = app.state.clone().with_cosign_settings(CosignSettings {
        authorizer_timeout: Duration::from_millis(1500),
        ..app.state.cosign().settings()
    });
    app.router = amphora_server::app(app.state.clone());
    let s = scene_with(app).await;
    let info = s
        .app
        .send(Method::GET, "/amp2/info/authorizer", None, None)
        .await;
    assert_eq!(info.status, StatusCode::OK);
    let pubkey =
        elements::bitcoin::secp256k1::PublicKey::from_str(info.body["pubkey"].as_str().unwrap())
            .unwrap();
    assert_eq!(pubkey, s.app.state.key().authorizer_public_key());

    let (pset, _) = s.alice_sends(&s.bob.address(Chain::External, 0), 10).await;
    let (url, seen) = endpoint(Answer::Approve).await;
    s.edit_endpoint(&url).await;
    assert_eq!(s.sign(&pset).await.status, StatusCode::OK);
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "/hooks/issuerauthorizer", "exactly one '/'");
    assert!(verify_issuer_authorization_body(&calls[0].1, &pubkey));
    let body: Value = serde_json::from_str(&calls[0].1).unwrap();
    let request = &body["message"]["request"];
    assert_eq!(request["asset_id"], s.asset.to_string());
    assert_eq!(
        request["txid"],
        pset.extract_tx().unwrap().txid().to_string()
    );

    for (answer, code) in [
        (Answer::Refuse, "issuer_authorization_rejected"),
        (Answer::Garbage, "issuer_authorization_unavailable"),
        (Answer::Hang, "issuer_authorization_unavailable"),
    ] {
        let (url, seen) = endpoint(answer).await;
        s.edit_endpoint(&url).await;
        assert_refused(&s.sign(&pset).await, StatusCode::FORBIDDEN, code);
        assert_eq!(seen.lock().unwrap().len(), 1);
    }
    // Down: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    s.edit_endpoint(&url).await;
    assert_refused(
        &s.sign(&pset).await,
        StatusCode::FORBIDDEN,
        "issuer_authorization_unavailable",
    );
    // A transfer the rules refuse never reaches the endpoint.
    let (url, seen) = endpoint(Answer::Approve).await;
    s.edit_endpoint(&url).await;
    let (to_carol, _) = s
        .alice_sends(&s.carol.address(Chain::External, 0), 10)
        .await;
    assert_refused(
        &s.sign(&to_carol).await,
        StatusCode::FORBIDDEN,
        "recipient_missing_category",
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn gaid_address_is_fresh_for_own_users_and_kept_for_any_other_wallet() {
    let s = scene().await;
    let path = format!("/api/gaids/{}/address", s.alice.gaid);
    let first = s.app.get(&path, &s.token).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let second = s.app.get(&path, &s.token).await;
    let (a0, a1) = (
        first.body["address"].as_str().unwrap(),
        second.body["address"].as_str().unwrap(),
    );
    assert_eq!(a0, s.alice.address(Chain::External, 0).to_string());
    assert_eq!(a1, s.alice.address(Chain::External, 1).to_string());
    assert!(elements::Address::from_str(a0).unwrap().is_blinded());

    // Concurrent requests never share an address.
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let state = s.app.state.clone();
            let gaid = s.alice.gaid.clone();
            tokio::spawn(async move {
                amphora_server::cosign::fresh_address(&state, &gaid)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut seen = BTreeSet::from([a0.to_string(), a1.to_string()]);
    for call in calls {
        assert!(
            seen.insert(call.await.unwrap()),
            "an address was handed out twice"
        );
    }

    // Dave's wallet is registered but belongs to no registered user of this issuer: the
    // issuer may pay it (as the AMP CLI expects), but gets one kept address, whatever it asks,
    // so it cannot push Dave's wallet past its gap limit.
    let dave = format!("/api/gaids/{}/address", s.dave.gaid);
    let dave_address = s.dave.address(Chain::External, 0).to_string();
    for _ in 0..5 {
        let reply = s.app.get(&dave, &s.token).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body["address"], dave_address.as_str());
    }
    // Another issuer gets its own kept address of Alice's wallet, never one of hers.
    let other = s.app.issuer("other").await;
    let kept = s.app.get(&path, &other).await;
    assert_eq!(kept.status, StatusCode::OK, "{:?}", kept.body);
    let kept = kept.body["address"].as_str().unwrap().to_string();
    assert!(!seen.contains(&kept), "{kept} was handed out before");
    for _ in 0..5 {
        assert_eq!(
            s.app.get(&path, &other).await.body["address"],
            kept.as_str()
        );
    }
    let counters = s.app.state.store().wallet_address_counters().await.unwrap();
    let dave_wid = s
        .app
        .state
        .store()
        .wallet_by_gaid(&s.dave.gaid)
        .await
        .unwrap()
        .unwrap()
        .wid;
    assert!(
        counters.contains(&(dave_wid, 1)),
        "five calls by an outsider moved Dave's counter once: {counters:?}"
    );
    let unknown = format!("/api/gaids/{}/address", unregistered_gaid());
    assert_eq!(
        s.app.get(&unknown, &s.token).await.status,
        StatusCode::NOT_FOUND
    );
    let reply = s.app.get("/api/gaids/GAnotagaid/address", &s.token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
}

/// Benchmark, run by hand (`cargo test -p amphora-server --test api bench_cosign -- --ignored
/// --nocapture`; figures in BENCHMARKS.md, "Co-signer"): co-signing decisions over the router on
/// SQLite, no webhook, PSETs of 2 inputs (asset, L-BTC) and 3 outputs (recipient, L-BTC change,
/// fee). Prints throughput and latency percentiles; asserts only that every request is approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_cosign_decisions() {
    // one wallet signs everything: no per-wallet limit in the way
    let s = scene_with(TestApp::new().await.with_security(|s| {
        s.amp2_limits.per_wallet = amphora_server::rate_limit::Rate {
            per_minute: 60_000_000,
            burst: 1_000_000,
        }
    }))
    .await;
    let lbtc = s.funder.lbtc;
    let count: usize = std::env::var("BENCH_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(200);
    let bob = s.bob.address(Chain::External, 0);
    let change = s.alice.address(Chain::Internal, 0);
    let mut bodies: Vec<String> = Vec::with_capacity(count);
    for i in 0..count {
        {
            let (pset, _) = transfer(
                &s.funder,
                &[
                    Coin {
                        owner: &s.alice,
                        chain: Chain::External,
                        index: i as u32 % 40,
                        asset: s.asset,
                        value: 1000,
                    },
                    Coin {
                        owner: &s.alice,
                        chain: Chain::External,
                        index: 40 + i as u32 % 10,
                        asset: lbtc,
                        value: 10_000,
                    },
                ],
                &[
                    Out::To(&bob, s.asset, 1000),
                    Out::To(&change, lbtc, 9_000),
                    Out::Fee(lbtc, 1_000),
                ],
            )
            .await;
            bodies.push(json!({ "pset": pset.to_string() }).to_string());
        }
    }
    let mut latencies = Vec::with_capacity(count);
    let started = std::time::Instant::now();
    for body in &bodies {
        let t = std::time::Instant::now();
        let reply = sign_raw(&s.app, body).await;
        latencies.push(t.elapsed());
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    let sequential = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "co-sign, sequential: {count} decisions in {:.2?} = {:.0}/s; p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        sequential,
        count as f64 / sequential.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        latencies[latencies.len() - 1]
    );
    let started = std::time::Instant::now();
    let tasks: Vec<_> = bodies
        .chunks(count.div_ceil(8))
        .map(|chunk| {
            let router = s.app.router.clone();
            let chunk = chunk.to_vec();
            tokio::spawn(async move {
                for body in chunk {
                    let request = axum::http::Request::post("/amp2/wallets/sign")
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(body))
                        .unwrap();
                    let response = tower::ServiceExt::oneshot(router.clone(), request)
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let parallel = started.elapsed();
    println!(
        "co-sign, 8 concurrent clients: {count} decisions in {:.2?} = {:.0}/s",
        parallel,
        count as f64 / parallel.as_secs_f64()
    );
}
