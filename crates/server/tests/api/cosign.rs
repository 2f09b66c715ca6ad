//! The co-signer over the router: fresh GAID addresses, `POST /amp2/wallets/sign` decisions
//! (transfer rules, blacklist, lock, issuer authorization webhook, unregistered inputs, inputs
//! checked against the chain) on PSETs spending coins of a test node (the embedded node, or
//! `elementsd` with `ELEMENTSD_EXE`), and the record of every decision.

mod addresses;
mod authorization;
mod bench;
mod chain_inputs;
mod limits;
mod outbound;
mod pset;
mod tracked;

use amphora_store::{NewAssetOutput, OutputOwner, UNKNOWN_BLINDER};
use axum::http::{Method, StatusCode};
use elements::pset::PartiallySignedTransaction;
use elements::{AssetId, OutPoint};
use lwk_wollet::Chain;
use serde_json::{json, Value};

use crate::common::{Reply, TestApp};
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
