//! Asset reports and GAID balances through the real router, over a chain index built the way
//! the follower builds it (`apply_block`), and `update-blinders` against the test node of the
//! run (embedded or Elements Core).

use amphora_core::assignment::AssignmentInput;
use amphora_store::{
    BlockUpdate, IndexedBlock, IndexedTx, NewAssetOutput, NewAssignment, OutputOwner, OutputSpend,
    TxKind, UNKNOWN_BLINDER,
};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::chain::Chain;
use crate::common::{unregistered_gaid, TestApp};

/// The issuance transaction: the txid `TestApp::stored_asset` records for the asset.
const ISSUANCE: u8 = 0xcd;

fn txid(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn hash(height: i64) -> String {
    format!("{:064x}", height + 7000)
}

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
        NewAssetOutput {
            txid: txid(tx),
            vout,
            asset_uuid: self.asset.clone(),
            is_token: false,
            amount,
            script_pubkey: "0014aa".into(),
            owner,
            asset_blinder: UNKNOWN_BLINDER.into(),
            amount_blinder: UNKNOWN_BLINDER.into(),
            height: h,
        }
    }

    pub(crate) fn block(
        &self,
        height: i64,
        txs: &[(u8, TxKind)],
        outputs: Vec<NewAssetOutput>,
        spends: &[(u8, i64, u8, bool)],
    ) -> BlockUpdate {
        BlockUpdate {
            block: IndexedBlock {
                height,
                block_hash: hash(height),
                prev_hash: hash(height - 1),
                block_time: 1_700_000_000 + height * 60,
            },
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
async fn activities_and_txs_page_sort_and_filter() {
    let r = Reported::new().await;
    r.index_history().await;

    let all = r.get(&r.path("activities")).await;
    let rows = all.as_array().unwrap();
    let summary: Vec<(String, String, i64, i64)> = rows
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap().to_string(),
                a["txid"].as_str().unwrap().to_string(),
                a["vout"].as_i64().unwrap(),
                a["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected = vec![
        ("issuance".to_string(), txid(ISSUANCE), 0, 1_000),
        ("distribution".to_string(), txid(2), 0, 300),
        ("distribution".to_string(), txid(2), 1, 200),
        ("distribution".to_string(), txid(2), 2, 500),
        ("transaction".to_string(), txid(3), 0, 300),
        ("burn".to_string(), txid(4), 0, 100),
        ("burn".to_string(), txid(4), 1, 400),
        ("lost".to_string(), txid(2), 1, 200),
    ];
    assert_eq!(summary, expected);
    let alice_row = &rows[1];
    assert_eq!(alice_row["registered user"], r.alice);
    assert_eq!(alice_row["registered_user"], r.alice);
    assert_eq!(alice_row["GAID"], r.gaids[0]);
    assert_eq!(alice_row["blockheight"], 2);
    assert_eq!(alice_row["asset_blinder"], UNKNOWN_BLINDER);
    assert_eq!(alice_row["datetime"], "2023-11-14T22:15:20Z");
    assert_eq!(rows[7]["blockheight"], 5);

    let reported = &r;
    let page = |query: &str| {
        let path = reported.path(&format!("activities?{query}"));
        async move {
            let body = reported.get(&path).await;
            body.as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    (
                        a["txid"].as_str().unwrap()[..2].to_string(),
                        a["vout"].as_i64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let ids = |list: &[(u8, i64)]| {
        list.iter()
            .map(|(t, v)| (format!("{t:02x}"), *v))
            .collect::<Vec<_>>()
    };
    assert_eq!(page("start=2&count=2").await, ids(&[(2, 0), (2, 1)]));
    // start=0 is the first row too (clients counting from 0 send it), as is start=1.
    assert_eq!(page("start=0&count=2").await, ids(&[(ISSUANCE, 0), (2, 0)]));
    assert_eq!(page("start=1&count=2").await, ids(&[(ISSUANCE, 0), (2, 0)]));
    assert_eq!(page("start=-2").await, ids(&[(4, 1), (2, 1)]));
    assert_eq!(page("start=-100&count=1").await, ids(&[(ISSUANCE, 0)]));
    assert_eq!(page("start=50").await, ids(&[]));
    assert_eq!(page("count=0").await, ids(&[]));
    assert_eq!(
        page("height_start=3&height_stop=4").await,
        ids(&[(3, 0), (4, 0), (4, 1)])
    );
    assert_eq!(
        page("sortcolumn=amount&sortorder=desc&count=2").await,
        ids(&[(ISSUANCE, 0), (2, 2)])
    );
    assert_eq!(
        page("sortcolumn=6&sortorder=asc&count=1").await,
        ids(&[(4, 0)]),
        "column 6 is amount"
    );
    assert_eq!(page("sortorder=DESC&count=1").await, ids(&[(2, 1)]));
    // Parameters as a JSON body on GET (amp-rs), numbers or strings.
    let reply = r
        .app
        .send(
            Method::GET,
            &r.path("activities"),
            Some(&r.token),
            Some(r#"{"start": 1, "count": "1", "height_start": 3}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body[0]["txid"], txid(3));

    for (query, field) in [
        ("start=first", "start"),
        ("count=-1", "count"),
        ("count=many", "count"),
        ("sortorder=sideways", "sortorder"),
        ("sortcolumn=colour", "sortcolumn"),
        ("sortcolumn=99", "sortcolumn"),
        ("height_start=-3", "height_start"),
    ] {
        let reply = r
            .app
            .get(&r.path(&format!("activities?{query}")), &r.token)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(reply.body[field].is_array(), "{query}: {:?}", reply.body);
    }
    let reply = r
        .app
        .send(Method::GET, &r.path("txs"), Some(&r.token), Some("[1]"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // Transactions: oldest first with inputs and outputs.
    let txs = r.get(&r.path("txs")).await;
    let order: Vec<&str> = txs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["issuance", "distribution", "transfer", "burn", "unknown"]
    );
    let issuance = &txs[0];
    assert_eq!(issuance["is_issuance"], true);
    assert_eq!(issuance["is_distribution"], false);
    assert_eq!(issuance["outputs"][0]["asset_blinder"], UNKNOWN_BLINDER);
    assert_eq!(issuance["outputs"][0]["is_spent"], true);
    assert_eq!(issuance["unblinded_url"], format!("/tx/{}", txid(ISSUANCE)));
    let distribution = &txs[1];
    assert_eq!(distribution["inputs"][0]["prev_txid"], txid(ISSUANCE));
    assert_eq!(distribution["inputs"][0]["is_treasury"], true);
    assert_eq!(distribution["outputs"][0]["registered_user"], r.alice);
    assert_eq!(distribution["outputs"][0]["GAID"], r.gaids[0]);
    assert_eq!(txs[3]["outputs"][0]["is_burnt"], true);
    assert_eq!(txs[4]["inputs"][0]["is_lost"], true);
    assert_eq!(txs[4]["outputs"], json!([]));

    let last = r.get(&r.path("txs?start=-1")).await;
    assert_eq!(last[0]["txid"], txid(5));
    let newest_first = r.get(&r.path("txs?sortorder=desc&count=2")).await;
    assert_eq!(newest_first[0]["txid"], txid(5));
    assert_eq!(newest_first[1]["txid"], txid(4));

    let one = r.get(&r.path(&format!("txs/{}", txid(2)))).await;
    assert_eq!(one, txs[1]);
    let upper = r
        .get(&r.path(&format!("txs/{}", txid(2).to_uppercase())))
        .await;
    assert_eq!(upper["txid"], txid(2));
    let reply = r
        .app
        .get(&r.path(&format!("txs/{}", txid(9))), &r.token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
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

#[tokio::test]
async fn update_blinders_checks_the_commitments_on_chain() {
    let chain = Chain::start().await;
    let app = TestApp::new().await.with_node(chain.rpc.clone());
    let token = app.issuer("blinder").await;
    let issuer = chain.issuer.clone();
    let destination = chain.issuer_address().await;
    let body = json!({
        "name": "Blinded Security",
        "amount": 5_000,
        "destination_address": destination,
        "domain": "example.com",
        "ticker": "BLND",
        "pubkey": "02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084",
        "is_confidential": true,
    });
    let reply = app
        .post("/api/assets/issue", &token, &body.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let uuid = reply.body["asset_uuid"].as_str().unwrap().to_string();
    let txid = reply.body["txid"].as_str().unwrap().to_string();
    let vout = reply.body["asset_vout"].as_i64().unwrap();
    let asset_id: elements::AssetId = reply.body["asset_id"].as_str().unwrap().parse().unwrap();
    chain.mine(1).await;

    // The issuer's wallet knows the blinders of the output it received.
    let unspent = issuer.list_unspent(Some(&asset_id)).await.unwrap();
    let coin = unspent
        .iter()
        .find(|u| u.txid.to_string() == txid && i64::from(u.vout) == vout)
        .expect("the issuer holds the issued output");
    let abf = coin.assetblinder.clone().unwrap();
    let vbf = coin.amountblinder.clone().unwrap();

    let path = format!("/api/assets/{uuid}/update-blinders");
    let update = |abf: &str, vbf: &str, vout: i64| {
        json!({"txid": txid, "vout": vout, "asset_blinder": abf, "amount_blinder": vbf}).to_string()
    };
    // Not indexed yet: refused.
    let reply = app.post(&path, &token, &update(&abf, &vbf, vout)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);

    // What the follower (or the issuance confirm) records: the amount, blinders unknown.
    app.state
        .store()
        .record_asset_outputs(&[NewAssetOutput {
            txid: txid.clone(),
            vout,
            asset_uuid: uuid.clone(),
            is_token: false,
            amount: 5_000,
            script_pubkey: "0014aa".into(),
            owner: OutputOwner::Treasury,
            asset_blinder: UNKNOWN_BLINDER.into(),
            amount_blinder: UNKNOWN_BLINDER.into(),
            height: 1,
        }])
        .await
        .unwrap();

    // Wrong blinders (swapped, or another value blinder) do not open the commitments.
    for (a, v) in [
        (vbf.as_str(), abf.as_str()),
        (abf.as_str(), &*"11".repeat(32)),
    ] {
        let reply = app.post(&path, &token, &update(a, v, vout)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
        assert!(reply.body["Error"]
            .as_str()
            .unwrap()
            .contains("commitments"));
    }
    for bad in [
        json!({"txid": "xyz", "vout": vout, "asset_blinder": abf, "amount_blinder": vbf}),
        json!({"txid": txid, "vout": vout, "asset_blinder": "00", "amount_blinder": vbf}),
        json!({"txid": txid, "vout": vout, "asset_blinder": abf}),
    ] {
        let reply = app.post(&path, &token, &bad.to_string()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let stored = app
        .state
        .store()
        .asset_output(&txid, vout)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.output.asset_blinder, UNKNOWN_BLINDER,
        "nothing stored"
    );

    let reply = app.post(&path, &token, &update(&abf, &vbf, vout)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let stored = app
        .state
        .store()
        .asset_output(&txid, vout)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.output.asset_blinder, abf);
    assert_eq!(stored.output.amount_blinder, vbf);
    // and again: idempotent
    let reply = app.post(&path, &token, &update(&abf, &vbf, vout)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    // Without a node the check cannot run.
    let offline = TestApp::new().await;
    let offline_token = offline.issuer("blinder").await;
    let issuer_id = offline
        .state
        .store()
        .issuer_by_username("blinder")
        .await
        .unwrap()
        .unwrap()
        .id;
    let stored_uuid = offline.stored_asset(issuer_id).await;
    offline
        .state
        .store()
        .record_asset_outputs(&[NewAssetOutput {
            asset_uuid: stored_uuid.clone(),
            ..stored.output.clone()
        }])
        .await
        .unwrap();
    let reply = offline
        .post(
            &format!("/api/assets/{stored_uuid}/update-blinders"),
            &offline_token,
            &update(&abf, &vbf, vout),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
}

/// Co-signing decisions about the asset are served at their own paged route, with the sender's
/// registered user and the reasons of a refusal; they are not chain activities, so
/// `activities` keeps only chain rows, every one with a txid, vout and block height.
#[tokio::test]
async fn cosign_decisions_have_their_own_route() {
    use amphora_store::{CosignDecisionAsset, NewCosignDecision};

    let r = Reported::new().await;
    r.index_history().await;
    let store = r.app.state.store();
    let about = |amount: i64| {
        vec![CosignDecisionAsset {
            asset_uuid: r.asset.clone(),
            issuer_id: r.issuer_id,
            asset_id: "ab".repeat(32),
            amount,
        }]
    };
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    store
        .record_cosign_decision(&NewCosignDecision {
            txid: Some(txid(9)),
            approved: false,
            reasons: vec!["recipient_missing_category".into(), "asset_locked".into()],
            error: Some("refused".into()),
            sender_wid: Some(r.wids[0].clone()),
            sender_gaid: Some(r.gaids[0].clone()),
            recipient_gaids: vec![r.gaids[2].clone()],
            assets: about(70),
        })
        .await
        .unwrap();
    store
        .record_cosign_decision(&NewCosignDecision {
            txid: None,
            approved: true,
            reasons: vec![],
            error: None,
            sender_wid: Some(r.wids[2].clone()),
            sender_gaid: Some(r.gaids[2].clone()),
            recipient_gaids: vec![r.gaids[1].clone(), r.gaids[0].clone()],
            assets: about(40),
        })
        .await
        .unwrap();
    // A later block (year 2096): its row comes after the decisions.
    let mut later = r.block(
        6,
        &[(6, TxKind::Transfer)],
        vec![r.out(6, 0, 400, r.wallet(1), 6)],
        &[(4, 1, 6, false)],
    );
    later.block.block_time = 4_000_000_000;
    store.apply_block(&later).await.unwrap();

    let activities = r.get(&r.path("activities")).await;
    let rows = activities.as_array().unwrap();
    let kinds: Vec<&str> = rows.iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "issuance",
            "distribution",
            "distribution",
            "distribution",
            "transaction",
            "burn",
            "burn",
            "lost",
            "transaction"
        ]
    );
    for row in rows {
        assert!(row["txid"].is_string(), "{row}");
        assert!(row["vout"].is_i64(), "{row}");
        assert!(row["blockheight"].is_i64(), "{row}");
        assert!(row["datetime"].is_string(), "{row}");
        assert!(row.get("reasons").is_none(), "{row}");
    }

    let all = r.get(&r.path("cosign-decisions")).await;
    let decisions = all.as_array().unwrap();
    let kinds: Vec<&str> = decisions
        .iter()
        .map(|d| d["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["cosign_refused", "cosign_approved"]);
    let (refused, approved) = (&decisions[0], &decisions[1]);
    assert_eq!(refused["approved"], false);
    assert_eq!(refused["txid"], txid(9));
    assert_eq!(refused["amount"], 70);
    assert_eq!(refused["registered_user"], r.alice);
    assert_eq!(refused["GAID"], r.gaids[0]);
    assert_eq!(refused["recipient_gaids"], json!([r.gaids[2]]));
    assert_eq!(
        refused["reasons"],
        json!(["recipient_missing_category", "asset_locked"])
    );
    let description = refused["description"].as_str().unwrap();
    for part in [
        r.gaids[0].as_str(),
        r.gaids[2].as_str(),
        "recipient_missing_category",
        "asset_locked",
    ] {
        assert!(description.contains(part), "{description}");
    }
    let decided: chrono::DateTime<chrono::Utc> =
        refused["datetime"].as_str().unwrap().parse().unwrap();
    assert!(decided >= before && decided <= chrono::Utc::now());
    assert_eq!(approved["approved"], true);
    assert_eq!(approved["txid"], Value::Null);
    assert_eq!(approved["amount"], 40);
    assert_eq!(approved["registered_user"], Value::Null);
    assert_eq!(approved["GAID"], r.gaids[2]);
    assert_eq!(approved["reasons"], json!([]));
    let description = approved["description"].as_str().unwrap();
    for part in [&r.gaids[2], &r.gaids[1], &r.gaids[0]] {
        assert!(description.contains(part.as_str()), "{description}");
    }
    assert!(!description.contains("reasons"), "{description}");

    // Paged like the activities (start=0 is the first row), sortable, no height filters.
    let kinds_of = |query: &str| {
        let path = r.path(&format!("cosign-decisions?{query}"));
        let reported = &r;
        async move {
            reported
                .get(&path)
                .await
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["type"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(kinds_of("start=0&count=1").await, ["cosign_refused"]);
    assert_eq!(kinds_of("start=-1").await, ["cosign_approved"]);
    assert_eq!(
        kinds_of("sortcolumn=amount").await,
        ["cosign_approved", "cosign_refused"]
    );
    assert_eq!(
        kinds_of("sortcolumn=datetime&sortorder=desc").await,
        ["cosign_approved", "cosign_refused"]
    );
    let reply = r
        .app
        .get(&r.path("cosign-decisions?height_start=1"), &r.token)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert!(reply.body["height_start"].is_array(), "{:?}", reply.body);
    // Another issuer's decisions route answers 404 for this asset.
    let other = r.app.issuer("someone-else").await;
    let reply = r.app.get(&r.path("cosign-decisions"), &other).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
