//! The client contract: every AMP route's answer, through the real router and over real data
//! (a reissuable asset, registered users with registered wallets, assignments, a paid
//! distribution, a reissuance completed by the follower without a confirm call, a manager),
//! deserializes into the models existing clients use ([`amp_rust`], mirrored from the
//! `amp-rust` crate), with every key those models name present. A shape regression (a field
//! renamed, dropped, retyped or turned null) fails here.
//!
//! The chain index is written the way the follower writes it (`apply_block`, then the
//! follower's distribution and reissuance records); the on-chain flows themselves are tested
//! end to end against both nodes in `crates/cli/tests/cli` (tutorial, distribute).

mod amp_rust;
mod chain;

use amphora_store::{
    BlockUpdate, CompletedBy, IndexedBlock, IndexedTx, IssuanceTx, NewAsset, NewAssetOutput,
    OutputOwner, OutputSpend, PaidBatch, ReissuanceCompletion, TxKind, UNKNOWN_BLINDER,
};
use amphora_testenv::store as fixtures;
use axum::http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::common::{TestApp, PASSWORD, REGTEST_ADDRESS};

/// Deserializes `value` into `T` and checks that every key `T` names (at every depth) is in
/// `value`: serde alone would accept a missing `Option` key.
fn conforms<T: DeserializeOwned + Serialize>(what: &str, value: &Value) -> T {
    let typed: T =
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{what}: {e}\n{value:#}"));
    let back = serde_json::to_value(&typed).unwrap();
    keys_present(what, &back, value);
    typed
}

fn keys_present(at: &str, model: &Value, served: &Value) {
    match (model, served) {
        (Value::Object(model), Value::Object(served)) => {
            for (key, inner) in model {
                let found = served
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}: key {key:?} missing in {served:?}"));
                keys_present(&format!("{at}.{key}"), inner, found);
            }
        }
        (Value::Array(model), Value::Array(served)) => {
            for (i, (m, s)) in model.iter().zip(served).enumerate() {
                keys_present(&format!("{at}[{i}]"), m, s);
            }
        }
        _ => {}
    }
}

fn txid(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn hash(height: i64) -> String {
    format!("{:064x}", height + 9000)
}

const ASSET_ID: &str = "ab";
const TOKEN_ID: &str = "ef";
const ISSUANCE: u8 = 0xcd;
const DISTRIBUTION: u8 = 0x02;
const REISSUANCE: u8 = 0x03;

fn output(tx: u8, vout: i64, amount: i64, owner: OutputOwner, token: bool) -> NewAssetOutput {
    NewAssetOutput {
        txid: txid(tx),
        vout,
        asset_uuid: String::new(),
        is_token: token,
        amount,
        // A P2WPKH script, so the index's outputs have an address.
        script_pubkey: format!("0014{}", "11".repeat(20)),
        owner,
        asset_blinder: UNKNOWN_BLINDER.into(),
        amount_blinder: UNKNOWN_BLINDER.into(),
        height: 0,
    }
}

fn block(
    asset: &str,
    height: i64,
    tx: Option<(u8, TxKind)>,
    mut outputs: Vec<NewAssetOutput>,
    spends: Vec<(u8, i64, u8)>,
) -> BlockUpdate {
    for o in &mut outputs {
        o.asset_uuid = asset.to_string();
        o.height = height;
    }
    BlockUpdate {
        block: IndexedBlock {
            height,
            block_hash: hash(height),
            prev_hash: hash(height - 1),
            block_time: 1_700_000_000 + height * 60,
        },
        txs: tx
            .map(|(n, kind)| IndexedTx {
                asset_uuid: asset.to_string(),
                txid: txid(n),
                position: 1,
                kind,
            })
            .into_iter()
            .collect(),
        outputs,
        spends: spends
            .into_iter()
            .map(|(tx, vout, by)| OutputSpend {
                txid: txid(tx),
                vout,
                spent_txid: txid(by),
                spent_vin: 0,
                lost: false,
            })
            .collect(),
    }
}

/// A reissuable asset issued (1,000 units, 1 token) to the treasury and confirmed.
async fn reissuable_asset(app: &TestApp, issuer_id: i64) -> String {
    let uuid = uuid::Uuid::new_v4().to_string();
    let store = app.state.store();
    let asset = NewAsset {
        name: "Contract asset".into(),
        destination_address: REGTEST_ADDRESS.into(),
        ticker: "CNTR".into(),
        pubkey: amphora_testenv::ISSUER_PUBKEY.into(),
        is_confidential: false,
        reissuance_address: REGTEST_ADDRESS.into(),
        transfer_restricted: false,
        ..fixtures::new_asset(issuer_id, &uuid)
    };
    let issuance = IssuanceTx {
        asset_id: ASSET_ID.repeat(32),
        reissuance_token_id: Some(TOKEN_ID.repeat(32)),
        tx_hex: "00".into(),
        ..fixtures::issuance_tx(0, &txid(ISSUANCE))
    };
    fixtures::issued_asset(store, &asset, &issuance).await;
    let treasury = || OutputOwner::Treasury;
    store
        .apply_block(&block(
            &uuid,
            1,
            Some((ISSUANCE, TxKind::Issuance)),
            vec![
                output(ISSUANCE, 0, 1_000, treasury(), false),
                output(ISSUANCE, 1, 1, treasury(), true),
            ],
            vec![],
        ))
        .await
        .unwrap();
    store
        .apply_block(&block(&uuid, 2, None, vec![], vec![]))
        .await
        .unwrap();
    uuid
}

#[tokio::test]
async fn every_amp_route_answers_what_amp_clients_parse() {
    let app = TestApp::new().await;
    let token = app.issuer("contract").await;
    let store = app.state.store().clone();
    let issuer_id = store
        .issuer_by_username("contract")
        .await
        .unwrap()
        .unwrap()
        .id;
    let asset = reissuable_asset(&app, issuer_id).await;
    let get = |path: String| {
        let (app, token) = (&app, &token);
        async move {
            let reply = app.get(&path, token).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
            reply.body
        }
    };

    // Registered users with registered wallets, in a category; a manager granted the asset.
    let category = app
        .post("/api/categories/add", &token, r#"{"name": "Qualified"}"#)
        .await;
    assert_eq!(category.status, StatusCode::CREATED);
    conforms::<amp_rust::CategoryResponse>("categories/add", &category.body);
    let category = category.body["id"].as_i64().unwrap();
    let mut users = Vec::new();
    for name in ["Alice", "Bob"] {
        let gaid = app.registered_gaid().await;
        let reply = app
            .post(
                "/api/registered_users/add",
                &token,
                &json!({"name": name, "GAID": gaid, "is_company": false}).to_string(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let user: amp_rust::RegisteredUserResponse = conforms("registered_users/add", &reply.body);
        let path = format!("/api/registered_users/{}/categories/add", user.id);
        let body = json!({"categories": [category]}).to_string();
        let reply = app.put(&path, &token, Some(&body)).await;
        conforms::<amp_rust::RegisteredUserResponse>("categories/add", &reply.body);
        let wid = store.wallet_by_gaid(&gaid).await.unwrap().unwrap().wid;
        users.push((user.id, gaid, wid));
    }
    let path = format!("/api/categories/{category}/assets/{asset}/add");
    assert_eq!(app.put(&path, &token, None).await.status, StatusCode::OK);
    let (manager_id, manager) = app.manager(&token, "contract-manager").await;
    let path = format!("/api/managers/{manager_id}/assets/{asset}/add");
    assert_eq!(app.put(&path, &token, None).await.status, StatusCode::OK);

    // An assignment per user, distributed to Alice (paid, as the follower records it).
    let mut assignment_ids = Vec::new();
    for ((user, _, _), amount) in users.iter().zip([300, 200]) {
        let body = json!({"assignments": [{"registered_user": user, "amount": amount,
            "ready_for_distribution": *user == users[0].0}]});
        let reply = app
            .post(
                &format!("/api/assets/{asset}/assignments/create"),
                &token,
                &body.to_string(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let created: Vec<amp_rust::Assignment> = conforms("assignments/create", &reply.body);
        assignment_ids.push(created[0].id);
    }
    let file = get(format!("/api/assets/{asset}/distributions/create")).await;
    let file: amp_rust::DistributionResponse = conforms("distributions/create", &file);
    let (alice, alice_gaid, alice_wid) = users[0].clone();
    store
        .apply_block(&block(
            &asset,
            3,
            Some((DISTRIBUTION, TxKind::Distribution)),
            vec![
                output(
                    DISTRIBUTION,
                    0,
                    300,
                    OutputOwner::Wallet {
                        wid: alice_wid,
                        gaid: alice_gaid.clone(),
                    },
                    false,
                ),
                output(DISTRIBUTION, 1, 700, OutputOwner::Treasury, false),
            ],
            vec![(ISSUANCE, 0, DISTRIBUTION)],
        ))
        .await
        .unwrap();
    store
        .record_distribution_batch(&PaidBatch {
            uuid: file.distribution_uuid.clone(),
            batches: vec![0],
            txid: txid(DISTRIBUTION),
            height: 3,
            block_time: 1_700_000_180,
            recorded_by: "follower".into(),
            payments: vec![(assignment_ids[0], 0)],
            outputs: vec![],
        })
        .await
        .unwrap();

    // A reissuance request answered, then completed by the follower without a confirm call.
    let reply = app
        .post(
            &format!("/api/assets/{asset}/reissue-request"),
            &token,
            r#"{"amount_to_reissue": 500}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    conforms::<amp_rust::ReissueRequestResponse>("reissue-request", &reply.body);
    store
        .apply_block(&block(
            &asset,
            4,
            Some((REISSUANCE, TxKind::Reissuance)),
            vec![
                output(REISSUANCE, 0, 1, OutputOwner::Treasury, true),
                output(REISSUANCE, 1, 500, OutputOwner::Treasury, false),
            ],
            vec![(ISSUANCE, 1, REISSUANCE)],
        ))
        .await
        .unwrap();
    let pending = store
        .pending_reissuance(&asset, Some(500))
        .await
        .unwrap()
        .unwrap();
    store
        .complete_reissuance(
            pending.id,
            &ReissuanceCompletion {
                txid: txid(REISSUANCE),
                vin: 0,
                vout: None,
                destination_address: None,
                block_hash: String::new(),
                height: 4,
                completed_by: CompletedBy::Follower,
            },
            &[],
        )
        .await
        .unwrap();
    let reply = app
        .post(
            &format!("/api/assets/{asset}/burn-request"),
            &token,
            r#"{"amount": 100}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    conforms::<amp_rust::BurnCreate>("burn-request", &reply.body);

    // A co-signing decision about the asset: served at its own route, not in `activities`.
    store
        .record_cosign_decision(&amphora_store::NewCosignDecision {
            txid: None,
            approved: false,
            reasons: vec!["asset_locked".into()],
            error: Some("refused".into()),
            sender_wid: None,
            sender_gaid: Some(alice_gaid.clone()),
            recipient_gaids: vec![users[1].1.clone()],
            assets: vec![amphora_store::CosignDecisionAsset {
                asset_uuid: asset.clone(),
                issuer_id,
                asset_id: ASSET_ID.repeat(32),
                amount: 10,
            }],
        })
        .await
        .unwrap();
    let decisions = get(format!("/api/assets/{asset}/cosign-decisions")).await;
    assert_eq!(decisions[0]["type"], "cosign_refused", "{decisions}");

    // Every report and listing, as the issuer (and the manager where the seed allows it).
    let a = format!("/api/assets/{asset}");
    conforms::<Vec<amp_rust::Asset>>("assets", &get("/api/assets".into()).await);
    conforms::<amp_rust::Asset>("asset", &get(a.clone()).await);
    let summary: amp_rust::AssetSummary = conforms("summary", &get(format!("{a}/summary")).await);
    assert_eq!((summary.reissued, summary.distributed), (500, 300));
    let balance = get(format!("{a}/balance")).await;
    conforms::<amp_rust::AssetBalanceResponse>("balance", &balance);
    conforms::<amp_rust::AssetLostOutputs>("lost-outputs", &get(format!("{a}/lost-outputs")).await);
    let owners: Vec<amp_rust::Ownership> =
        conforms("ownerships", &get(format!("{a}/ownerships")).await);
    assert!(owners
        .iter()
        .any(|o| o.gaid.as_deref() == Some(&alice_gaid)));
    conforms::<Vec<amp_rust::Ownership>>("ownerships/3", &get(format!("{a}/ownerships/3")).await);
    let activities: Vec<amp_rust::Activity> =
        conforms("activities", &get(format!("{a}/activities")).await);
    let kinds: Vec<&str> = activities
        .iter()
        .map(|a| a.activity_type.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["issuance", "distribution", "distribution", "reissuance"]
    );
    let page: Vec<amp_rust::Activity> = conforms(
        "activities?start=0",
        &get(format!("{a}/activities?start=0&count=1")).await,
    );
    assert_eq!(page[0].activity_type, "issuance");
    conforms::<Vec<amp_rust::Utxo>>("utxos", &get(format!("{a}/utxos")).await);
    let reissuances: Vec<amp_rust::Reissuance> =
        conforms("reissuances", &get(format!("{a}/reissuances")).await);
    assert_eq!(reissuances.len(), 1);
    let reissuance = &reissuances[0];
    assert_eq!(
        (
            reissuance.txid.as_str(),
            reissuance.vout,
            reissuance.reissuance_amount
        ),
        (txid(REISSUANCE).as_str(), 1, 500),
        "taken from the chain index"
    );
    assert_eq!(reissuance.confirmed_in_block, hash(4));
    assert!(
        reissuance.destination_address.starts_with("ert1q"),
        "{reissuance:?}"
    );
    conforms::<Vec<amp_rust::Assignment>>("assignments", &get(format!("{a}/assignments")).await);
    let one = get(format!("{a}/assignments/{}", assignment_ids[0])).await;
    let one: amp_rust::Assignment = conforms("assignment", &one);
    assert!(one.is_distributed);
    let distributions: Vec<amp_rust::Distribution> =
        conforms("distributions", &get(format!("{a}/distributions")).await);
    assert!(matches!(
        distributions[0].distribution_status,
        amp_rust::Status::Confirmed
    ));
    let path = format!("{a}/distributions/{}", file.distribution_uuid);
    conforms::<amp_rust::Distribution>("distribution", &get(path).await);
    conforms::<Vec<String>>(
        "treasury-addresses",
        &get(format!("{a}/treasury-addresses")).await,
    );
    conforms::<String>("memo", &get(format!("{a}/memo")).await);

    conforms::<Vec<amp_rust::RegisteredUserResponse>>(
        "registered_users",
        &get("/api/registered_users".into()).await,
    );
    let user = get(format!("/api/registered_users/{alice}")).await;
    conforms::<amp_rust::RegisteredUserResponse>("registered_user", &user);
    let summary: Vec<amp_rust::RegisteredUserSummary> = conforms(
        "registered_users/summary",
        &get(format!("/api/registered_users/{alice}/summary")).await,
    );
    assert_eq!(summary[0].distributions.len(), 1);
    assert_eq!(
        summary[0].distributions[0].transactions[0].assignments[0].amount,
        300
    );
    conforms::<Vec<String>>(
        "gaids",
        &get(format!("/api/registered_users/{alice}/gaids")).await,
    );
    conforms::<Vec<amp_rust::CategoryResponse>>("categories", &get("/api/categories".into()).await);
    conforms::<amp_rust::CategoryResponse>(
        "category",
        &get(format!("/api/categories/{category}")).await,
    );
    let g = format!("/api/gaids/{alice_gaid}");
    conforms::<amp_rust::ValidateGaidResponse>("validate", &get(format!("{g}/validate")).await);
    conforms::<amp_rust::ValidateGaidResponse>(
        "validate-gaid",
        &get(format!(
            "/api/registered_users/validate-gaid?GAID={alice_gaid}"
        ))
        .await,
    );
    conforms::<amp_rust::AddressGaidResponse>("address", &get(format!("{g}/address")).await);
    conforms::<amp_rust::RegisteredUserResponse>(
        "gaid registered_user",
        &get(format!("{g}/registered_user")).await,
    );
    let balances: Vec<amp_rust::GaidBalanceEntry> =
        conforms("gaid balance", &get(format!("{g}/balance")).await);
    assert_eq!(balances[0].balance, 300);
    conforms::<amp_rust::GaidBalanceEntry>(
        "gaid asset balance",
        &get(format!("{g}/balance/{asset}")).await,
    );
    conforms::<Vec<amp_rust::Manager>>("managers", &get("/api/managers".into()).await);
    conforms::<amp_rust::Manager>("manager", &get(format!("/api/managers/{manager_id}")).await);
    let me = app.get("/api/managers/me", &manager).await;
    conforms::<amp_rust::Manager>("managers/me", &me.body);
    let as_manager = app.get(&format!("{a}/activities"), &manager).await;
    conforms::<Vec<amp_rust::Activity>>("activities (manager)", &as_manager.body);

    let reply = app
        .send(
            Method::POST,
            "/api/user/obtain_token",
            None,
            Some(&json!({"username": "contract", "password": PASSWORD}).to_string()),
        )
        .await;
    let fresh: amp_rust::TokenResponse = conforms("obtain_token", &reply.body);
    let reply = app
        .post(
            "/api/user/change-password",
            &fresh.token,
            r#"{"password": "another horse battery"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    conforms::<amp_rust::ChangePasswordResponse>("change-password", &reply.body);
}
