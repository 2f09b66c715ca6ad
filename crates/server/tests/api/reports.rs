//! Asset reports and GAID balances through the real router, over a chain index built the way
//! the follower builds it (`apply_block`), and `update-blinders` against the test node of the
//! run (embedded or Elements Core).

use amphora_core::assignment::AssignmentInput;
use amphora_store::{
    BlockUpdate, IndexedTx, NewAssetOutput, NewAssignment, OutputOwner, OutputSpend, TxKind,
};
use amphora_testenv::store::{self as fixtures, indexed_block, txid};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{unregistered_gaid, TestApp};

mod activities;
mod blinders;
mod cosign_decisions;
mod kept;

/// The issuance transaction: the txid `TestApp::stored_asset` records for the asset.
const ISSUANCE: u8 = 0xcd;

/// An app with an issuer, its asset, registered users Alice and Bob (each with a registered
/// wallet) and a third registered wallet C of nobody.
pub(crate) struct Reported {
    pub(crate) app: TestApp,
    pub(crate) token: String,
    pub(crate) issuer_id: i64,
    pub(crate) asset: String,
    pub(crate) alice: i64,
    pub(crate) bob: i64,
    pub(crate) gaids: [String; 3],
    pub(crate) wids: [String; 3],
}

impl Reported {
    pub(crate) async fn new() -> Reported {
        let app = TestApp::new().await;
        let token = app.issuer("reporter").await;
        let issuer_id = app
            .state
            .store()
            .issuer_by_username("reporter")
            .await
            .unwrap()
            .unwrap()
            .id;
        let asset = app.stored_asset(issuer_id).await;
        let mut gaids = Vec::new();
        let mut wids = Vec::new();
        for _ in 0..3 {
            let gaid = app.registered_gaid().await;
            let wallet = app
                .state
                .store()
                .wallet_by_gaid(&gaid)
                .await
                .unwrap()
                .unwrap();
            gaids.push(gaid);
            wids.push(wallet.wid);
        }
        let alice = app.registered_user(&token, "Alice").await;
        let bob = app.registered_user(&token, "Bob").await;
        for (user, gaid) in [(alice, &gaids[0]), (bob, &gaids[1])] {
            let reply = app
                .post(
                    &format!("/api/registered_users/{user}/gaids/add"),
                    &token,
                    &format!("\"{gaid}\""),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        }
        Reported {
            app,
            token,
            issuer_id,
            asset,
            alice,
            bob,
            gaids: gaids.try_into().unwrap(),
            wids: wids.try_into().unwrap(),
        }
    }

    pub(crate) fn wallet(&self, i: usize) -> OutputOwner {
        OutputOwner::Wallet {
            wid: self.wids[i].clone(),
            gaid: self.gaids[i].clone(),
        }
    }

    pub(crate) fn out(
        &self,
        tx: u8,
        vout: i64,
        amount: i64,
        owner: OutputOwner,
        h: i64,
    ) -> NewAssetOutput {
        fixtures::asset_output(&self.asset, &txid(tx), vout, amount, owner, h)
    }

    pub(crate) fn block(
        &self,
        height: i64,
        txs: &[(u8, TxKind)],
        outputs: Vec<NewAssetOutput>,
        spends: &[(u8, i64, u8, bool)],
    ) -> BlockUpdate {
        BlockUpdate {
            block: indexed_block(height),
            txs: txs
                .iter()
                .enumerate()
                .map(|(i, (n, kind))| IndexedTx {
                    asset_uuid: self.asset.clone(),
                    txid: txid(*n),
                    position: i as i64 + 1,
                    kind: *kind,
                })
                .collect(),
            outputs,
            spends: spends
                .iter()
                .map(|(tx, vout, by, lost)| OutputSpend {
                    txid: txid(*tx),
                    vout: *vout,
                    spent_txid: txid(*by),
                    spent_vin: 0,
                    lost: *lost,
                })
                .collect(),
        }
    }

    /// Issuance of 1000 (block 1), distribution of 300 to Alice and 200 to Bob (2), a
    /// transfer of Alice's 300 to C (3), a burn of 100 (4) and Bob's output lost (5).
    pub(crate) async fn index_history(&self) {
        let treasury = || OutputOwner::Treasury;
        let blocks = [
            self.block(
                1,
                &[(ISSUANCE, TxKind::Issuance)],
                vec![self.out(ISSUANCE, 0, 1_000, treasury(), 1)],
                &[],
            ),
            self.block(
                2,
                &[(2, TxKind::Distribution)],
                vec![
                    self.out(2, 0, 300, self.wallet(0), 2),
                    self.out(2, 1, 200, self.wallet(1), 2),
                    self.out(2, 2, 500, treasury(), 2),
                ],
                &[(ISSUANCE, 0, 2, false)],
            ),
            self.block(
                3,
                &[(3, TxKind::Transfer)],
                vec![self.out(3, 0, 300, self.wallet(2), 3)],
                &[(2, 0, 3, false)],
            ),
            self.block(
                4,
                &[(4, TxKind::Burn)],
                vec![
                    self.out(4, 0, 100, OutputOwner::Burn, 4),
                    self.out(4, 1, 400, treasury(), 4),
                ],
                &[(2, 2, 4, false)],
            ),
            self.block(5, &[(5, TxKind::Unknown)], vec![], &[(2, 1, 5, true)]),
        ];
        for block in &blocks {
            self.app.state.store().apply_block(block).await.unwrap();
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let reply = self.app.get(path, &self.token).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
        reply.body
    }

    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/api/assets/{}/{rest}", self.asset)
    }
}

#[tokio::test]
async fn summary_balance_and_ownerships_follow_the_index() {
    let r = Reported::new().await;
    let summary = r.get(&r.path("summary")).await;
    assert_eq!(summary["asset_id"], "ab".repeat(32));
    assert_eq!(summary["issued"], 0, "nothing indexed yet");
    assert_eq!(summary["registered_users"], 2);
    assert_eq!(r.get(&r.path("ownerships")).await, json!([]));

    r.index_history().await;
    let summary = r.get(&r.path("summary")).await;
    for (key, value) in [
        ("issued", 1_000),
        ("reissued", 0),
        ("distributed", 500),
        ("burned", 100),
        ("blacklisted", 0),
        ("reissuance_tokens", 0),
        ("registered_users", 2),
        ("active_registered_users", 0),
        ("active_green_subaccounts", 1),
        ("assigned", 0),
    ] {
        assert_eq!(summary[key], value, "{key}");
    }
    assert_eq!(summary["reissuance_token_id"], Value::Null);

    // `assigned` sums the asset's assignments.
    r.app
        .state
        .store()
        .create_assignment(&NewAssignment {
            issuer_id: r.issuer_id,
            asset_uuid: r.asset.clone(),
            input: AssignmentInput {
                registered_user: r.alice,
                amount: 150,
                ready_for_distribution: false,
                vesting_timestamp: None,
            },
            creator_manager_id: None,
        })
        .await
        .unwrap();
    assert_eq!(r.get(&r.path("summary")).await["assigned"], 150);

    let c = &r.gaids[2];
    let now = json!([
        {"owner": "ISSUER", "amount": 400, "GAID": null, "registered_user": null},
        {"owner": null, "amount": 300, "GAID": c, "registered_user": null},
    ]);
    assert_eq!(r.get(&r.path("ownerships")).await, now);
    let balance = r.get(&r.path("balance")).await;
    assert_eq!(balance["confirmed_balance"], now);
    assert_eq!(
        balance["lost_outputs"],
        json!([{"txid": txid(2), "vout": 1}])
    );
    assert_eq!(balance["reissuance_lost_outputs"], json!([]));

    // At height 2, by query, path and JSON body.
    let at_two = json!([
        {"owner": "ISSUER", "amount": 500, "GAID": null, "registered_user": null},
        {"owner": "Alice", "amount": 300, "GAID": r.gaids[0], "registered_user": r.alice},
        {"owner": "Bob", "amount": 200, "GAID": r.gaids[1], "registered_user": r.alice + 1},
    ]);
    assert_eq!(r.get(&r.path("ownerships?height=2")).await, at_two);
    assert_eq!(r.get(&r.path("ownerships/2")).await, at_two);
    assert_eq!(r.get(&r.path("ownerships/2/")).await, at_two);
    let reply = r
        .app
        .send(
            Method::GET,
            &r.path("ownerships"),
            Some(&r.token),
            Some(r#"{"height": 2}"#),
        )
        .await;
    assert_eq!(reply.body, at_two);
    // the query string wins over the body
    let reply = r
        .app
        .send(
            Method::GET,
            &r.path("ownerships?height=1"),
            Some(&r.token),
            Some(r#"{"height": 2}"#),
        )
        .await;
    assert_eq!(reply.body[0]["amount"], 1_000);

    // Heights the index has not reached, and malformed ones.
    let reply = r.app.get(&r.path("ownerships/6"), &r.token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["Error"].as_str().unwrap().contains("height 6"));
    let reply = r.app.get(&r.path("ownerships?height=x"), &r.token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["height"].is_array());
    let reply = r.app.get(&r.path("ownerships?height=-1"), &r.token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = r.app.get(&r.path("ownerships/x"), &r.token).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Another issuer sees none of it.
    let other = r.app.issuer("other-issuer").await;
    for rest in [
        "summary",
        "balance",
        "ownerships",
        "ownerships/2",
        "lost-outputs",
    ] {
        let reply = r.app.get(&r.path(rest), &other).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{rest}");
    }
}

#[tokio::test]
async fn utxos_blacklist_whitelist_and_lost_outputs() {
    let r = Reported::new().await;
    r.index_history().await;

    let utxos = r.get(&r.path("utxos")).await;
    let listed: Vec<(String, i64, i64, bool)> = utxos
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["txid"].as_str().unwrap().to_string(),
                u["vout"].as_i64().unwrap(),
                u["amount"].as_i64().unwrap(),
                u["blacklisted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![(txid(3), 0, 300, false), (txid(4), 1, 400, false)],
        "spent, lost and burnt outputs are not UTXOs"
    );
    assert_eq!(utxos[0]["gaid"], r.gaids[2]);
    assert_eq!(utxos[0]["asset"], "ab".repeat(32));
    assert_eq!(utxos[1]["is_treasury"], true);

    let body = json!([{"txid": txid(3), "vout": 0}]).to_string();
    let reply = r
        .app
        .post(&r.path("utxos/blacklist"), &r.token, &body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body[0]["blacklisted"], true);
    assert_eq!(r.get(&r.path("summary")).await["blacklisted"], 300);
    assert_eq!(r.get(&r.path("utxos")).await[0]["blacklisted"], true);

    // Unknown outpoints refuse the whole list.
    let body = json!([{"txid": txid(4), "vout": 1}, {"txid": txid(9), "vout": 0}]).to_string();
    let reply = r
        .app
        .post(&r.path("utxos/blacklist"), &r.token, &body)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["Error"].as_str().unwrap().contains(&txid(9)));
    assert_eq!(r.get(&r.path("utxos")).await[1]["blacklisted"], false);
    for bad in [
        "[]",
        r#"{"txid": "x"}"#,
        r#"[{"txid": "zz", "vout": 0}]"#,
        r#"[{"txid": "00", "vout": -1}]"#,
        r#"[{"txid": "00"}]"#,
        "not json",
    ] {
        let reply = r.app.post(&r.path("utxos/whitelist"), &r.token, bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let body = json!([{"txid": txid(3), "vout": 0}]).to_string();
    let reply = r
        .app
        .post(&r.path("utxos/whitelist"), &r.token, &body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body[0]["blacklisted"], false);
    assert_eq!(r.get(&r.path("summary")).await["blacklisted"], 0);

    let lost = r.get(&r.path("lost-outputs")).await;
    assert_eq!(
        lost,
        json!({"lost_outputs": [{"txid": txid(2), "vout": 1}], "reissuance_lost_outputs": []})
    );

    // Another issuer: 404 whatever the body.
    let other = r.app.issuer("other-issuer").await;
    let reply = r.app.post(&r.path("utxos/blacklist"), &other, "[]").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = r.app.get(&r.path("utxos"), &other).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn gaid_balances_cover_the_callers_assets_only() {
    let r = Reported::new().await;
    r.index_history().await;
    let c = &r.gaids[2];
    let list = r.get(&format!("/api/gaids/{c}/balance")).await;
    assert_eq!(
        list,
        json!([{"asset_uuid": r.asset, "asset_id": "ab".repeat(32), "balance": 300}])
    );
    let alice = r.get(&format!("/api/gaids/{}/balance", r.gaids[0])).await;
    assert_eq!(alice[0]["balance"], 0, "received then sent on");
    let one = r.get(&format!("/api/gaids/{c}/balance/{}", r.asset)).await;
    assert_eq!(
        one,
        json!({"asset_uuid": r.asset, "asset_id": "ab".repeat(32), "balance": 300})
    );
    let nobody = unregistered_gaid();
    assert_eq!(
        r.get(&format!("/api/gaids/{nobody}/balance")).await,
        json!([])
    );
    assert_eq!(
        r.get(&format!("/api/gaids/{nobody}/balance/{}", r.asset))
            .await["balance"],
        0
    );
    let reply = r.app.get("/api/gaids/not-a-gaid/balance", &r.token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["Error"].is_string());

    // Another issuer sees no balances of r's assets.
    let other = r.app.issuer("other-issuer").await;
    let reply = r.app.get(&format!("/api/gaids/{c}/balance"), &other).await;
    assert_eq!(reply.body, json!([]));
    let reply = r
        .app
        .get(&format!("/api/gaids/{c}/balance/{}", r.asset), &other)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let other_id = r
        .app
        .state
        .store()
        .issuer_by_username("other-issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let theirs = r.app.stored_asset(other_id).await;
    let reply = r
        .app
        .get(&format!("/api/gaids/{c}/balance/{theirs}"), &r.token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn managers_read_reports_of_granted_assets() {
    let r = Reported::new().await;
    r.index_history().await;
    let (manager_id, manager) = r.app.manager(&r.token, "report-manager").await;
    for rest in ["summary", "balance", "activities"] {
        let reply = r.app.get(&r.path(rest), &manager).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{rest} before the grant"
        );
    }
    r.app
        .state
        .store()
        .add_manager_asset(r.issuer_id, manager_id, &r.asset)
        .await
        .unwrap();
    for rest in ["summary", "balance", "activities"] {
        let reply = r.app.get(&r.path(rest), &manager).await;
        assert_eq!(reply.status, StatusCode::OK, "{rest}: {:?}", reply.body);
        assert_eq!(reply.body, r.get(&r.path(rest)).await, "{rest}");
    }
    for rest in ["ownerships", "utxos", "txs", "lost-outputs"] {
        let reply = r.app.get(&r.path(rest), &manager).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{rest} is issuer-only");
    }
}
