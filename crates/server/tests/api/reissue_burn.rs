//! Reissue and burn: the request files, and the confirm calls checked against real
//! transactions of the test node of the run, embedded or Elements Core (blinded issuance, `reissueasset`, `destroyamount`),
//! with the chain index written as the follower writes it.

use amphora_rpc::{Amount, ElementsRpc};
use amphora_store::{
    BlockUpdate, IndexedBlock, IndexedTx, NewAssetOutput, OutputOwner, OutputSpend, TxKind,
    UNKNOWN_BLINDER,
};
use axum::http::StatusCode;
use elements::{AssetId, Txid};
use serde_json::{json, Value};

use crate::chain::Chain;
use crate::common::TestApp;

const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;
pub(crate) const ISSUED: i64 = 1_000_000;

/// The test node with a funded `platform` wallet and an `issuer` (treasury) wallet holding
/// L-BTC for fees.
pub(crate) async fn funded_chain() -> Chain {
    let chain = Chain::start().await;
    chain.fund_issuer(10).await;
    chain
}

/// Writes block `height` into the index as the follower would, with these rows.
pub(crate) async fn index(
    chain: &Chain,
    app: &TestApp,
    height: u64,
    txs: Vec<IndexedTx>,
    outputs: Vec<NewAssetOutput>,
    spends: Vec<OutputSpend>,
) {
    let hash = chain.rpc.get_block_hash(height).await.unwrap();
    let header = chain.rpc.get_block_header_info(&hash).await.unwrap();
    let update = BlockUpdate {
        block: IndexedBlock {
            height: height as i64,
            block_hash: hash.to_string(),
            prev_hash: header
                .previousblockhash
                .map(|h| h.to_string())
                .unwrap_or_default(),
            block_time: header.time as i64,
        },
        txs,
        outputs,
        spends,
    };
    app.state.store().apply_block(&update).await.unwrap();
}

/// A node entry list (`gettransaction` details, `listunspent`, `listissuances`) as raw JSON.
pub(crate) async fn raw_call(rpc: &ElementsRpc, method: &str, params: &[Value]) -> Value {
    rpc.call::<Value>(method, params).await.unwrap()
}

fn treasury_output(
    uuid: &str,
    tx: &elements::Transaction,
    vout: usize,
    token: bool,
    amount: i64,
    height: u64,
) -> NewAssetOutput {
    NewAssetOutput {
        txid: tx.txid().to_string(),
        vout: vout as i64,
        asset_uuid: uuid.into(),
        is_token: token,
        amount,
        script_pubkey: hex::encode(tx.output[vout].script_pubkey.as_bytes()),
        owner: OutputOwner::Treasury,
        asset_blinder: UNKNOWN_BLINDER.into(),
        amount_blinder: UNKNOWN_BLINDER.into(),
        height: height as i64,
    }
}

/// A confidential, reissuable asset issued through the API, mined and indexed with 2
/// confirmations. Returns (uuid, asset id, token id, issuance tx).
pub(crate) async fn issued(
    chain: &Chain,
    app: &TestApp,
    token: &str,
) -> (String, AssetId, AssetId, elements::Transaction) {
    let body = json!({
        "name": "Reissuable Security",
        "amount": ISSUED,
        "destination_address": chain.issuer_address().await,
        "domain": "example.com",
        "ticker": "RISS",
        "pubkey": PUBKEY,
        "is_confidential": true,
        "is_reissuable": true,
        "reissuance_amount": 1,
        "reissuance_address": chain.issuer_address().await,
        "transfer_restricted": true,
    });
    let reply = app
        .post("/api/assets/issue", token, &body.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let uuid = reply.body["asset_uuid"].as_str().unwrap().to_string();
    let asset: AssetId = reply.body["asset_id"].as_str().unwrap().parse().unwrap();
    let token_id: AssetId = reply.body["reissuance_token_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let txid = reply.body["txid"].as_str().unwrap().to_string();
    let asset_vout = reply.body["asset_vout"].as_u64().unwrap() as usize;
    let token_vout = reply.body["reissuance_vout"].as_u64().unwrap() as usize;

    // Not indexed yet: no reissuance.
    let early = app
        .post(
            &format!("/api/assets/{uuid}/reissue-request"),
            token,
            r#"{"amount_to_reissue": 5}"#,
        )
        .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST, "{:?}", early.body);
    assert!(early.body["Error"]
        .as_str()
        .unwrap()
        .contains("0 confirmations"));

    chain.mine(1).await;
    let height = chain.height().await;
    let tx = chain.tx(&txid).await;
    index(
        chain,
        app,
        height,
        vec![IndexedTx {
            asset_uuid: uuid.clone(),
            txid: txid.clone(),
            position: 1,
            kind: TxKind::Issuance,
        }],
        vec![
            treasury_output(&uuid, &tx, asset_vout, false, ISSUED, height),
            treasury_output(&uuid, &tx, token_vout, true, 1, height),
        ],
        vec![],
    )
    .await;
    let one = app
        .post(
            &format!("/api/assets/{uuid}/reissue-request"),
            token,
            r#"{"amount_to_reissue": 5}"#,
        )
        .await;
    assert!(
        one.body["Error"]
            .as_str()
            .unwrap()
            .contains("1 confirmations"),
        "{:?}",
        one.body
    );
    chain.mine(1).await;
    index(chain, app, height + 1, vec![], vec![], vec![]).await;
    (uuid, asset, token_id, tx)
}

#[tokio::test]
async fn reissuance_is_checked_on_chain_recorded_and_idempotent() {
    let chain = funded_chain().await;
    let app = TestApp::new().await.with_node(chain.rpc.clone());
    let token = app.issuer("issuer").await;
    let (uuid, asset_id, token_id, issuance) = issued(&chain, &app, &token).await;
    let path = |p: &str| format!("/api/assets/{uuid}/{p}");

    for (body, field) in [
        (r#"{"amount_to_reissue": 0}"#, "amount_to_reissue"),
        (r#"{"amount_to_reissue": -3}"#, "amount_to_reissue"),
        (
            r#"{"amount_to_reissue": 2100000000000001}"#,
            "amount_to_reissue",
        ),
        (r#"{}"#, "amount_to_reissue"),
    ] {
        let reply = app.post(&path("reissue-request"), &token, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.body[field].is_array(), "{body}: {:?}", reply.body);
    }
    let other = app.issuer("other").await;
    let reply = app
        .post(
            &path("reissue-request"),
            &other,
            r#"{"amount_to_reissue": 5}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // The request file.
    let reply = app
        .post(
            &path("reissue-request"),
            &token,
            r#"{"amount_to_reissue": 250000000}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let file = &reply.body;
    assert_eq!(file["command"], "reissue");
    assert_eq!(file["min_supported_client_script_version"], 2);
    assert!(file["base_url"].as_str().unwrap().ends_with("/api/{}"));
    assert_eq!(file["asset_uuid"], uuid.as_str());
    assert_eq!(file["asset_id"], asset_id.to_string());
    assert_eq!(file["amount"], json!(2.5));
    let utxos = file["reissuance_utxos"].as_array().unwrap();
    assert_eq!(utxos.len(), 1);
    assert_eq!(utxos[0]["txid"], issuance.txid().to_string());

    // The treasury reissues; one confirmation is not enough.
    let sent = chain
        .issuer
        .reissue_asset(&asset_id, Amount::from_units(250_000_000))
        .await
        .unwrap();
    let txid = sent.txid.to_string();
    chain.mine(1).await;
    let height = chain.height().await;
    let tx = chain.tx(&txid).await;
    let token_input = issuance.txid().to_string();
    index(
        &chain,
        &app,
        height,
        vec![IndexedTx {
            asset_uuid: uuid.clone(),
            txid: txid.clone(),
            position: 1,
            kind: TxKind::Reissuance,
        }],
        vec![],
        vec![OutputSpend {
            txid: token_input,
            vout: i64::from(tx.input[sent.vin as usize].previous_output.vout),
            spent_txid: txid.clone(),
            spent_vin: i64::from(sent.vin),
            lost: false,
        }],
    )
    .await;
    let details =
        raw_call(&chain.issuer, "gettransaction", &[json!(txid)]).await["details"].clone();
    let issuances: Vec<Value> = raw_call(&chain.issuer, "listissuances", &[])
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["txid"] == txid.as_str())
        .cloned()
        .collect();
    let confirm = json!({
        "details": details,
        "reissuance_output": {"txid": txid, "vin": sent.vin},
        "listissuances": issuances,
    });
    let reply = app
        .post(&path("reissue-confirm"), &token, &confirm.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body["Error"]
            .as_str()
            .unwrap()
            .contains("1 confirmations"),
        "{:?}",
        reply.body
    );

    chain.mine(1).await;
    index(&chain, &app, height + 1, vec![], vec![], vec![]).await;
    let outputs_before = app.state.store().asset_outputs(&uuid).await.unwrap();

    // Wrong transaction, wrong input, tampered entries: 400 and nothing recorded.
    let mut wrong = confirm.clone();
    wrong["reissuance_output"] = json!({"txid": issuance.txid().to_string(), "vin": 0});
    let mut wrong_vin = confirm.clone();
    wrong_vin["reissuance_output"]["vin"] = json!(sent.vin + 1);
    let mut tampered = confirm.clone();
    for entry in tampered["details"].as_array_mut().unwrap() {
        if entry["asset"] == asset_id.to_string() && entry["amount"].as_f64().unwrap() > 0.0 {
            entry["amount"] = json!(2.6);
        }
    }
    let mut bad_blinds = confirm.clone();
    bad_blinds["listissuances"][0]["assetamount"] = json!(2.4);
    let unknown = json!({"details": [], "reissuance_output": {"txid": "ab".repeat(32), "vin": 0}});
    for body in [&wrong, &wrong_vin, &tampered, &bad_blinds, &unknown] {
        let reply = app
            .post(&path("reissue-confirm"), &token, &body.to_string())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            reply.body
        );
        assert!(reply.body["Error"].is_string(), "{:?}", reply.body);
    }
    let malformed = app
        .post(
            &path("reissue-confirm"),
            &token,
            r#"{"details": [], "reissuance_output": {"txid": "zz", "vin": 0}}"#,
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(
        malformed.body["reissuance_output"].is_array(),
        "{:?}",
        malformed.body
    );
    assert_eq!(
        app.state.store().asset_outputs(&uuid).await.unwrap(),
        outputs_before
    );
    assert_eq!(app.get(&path("reissuances"), &token).await.body, json!([]));

    // The real confirmation.
    let reply = app
        .post(&path("reissue-confirm"), &token, &confirm.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let body = reply.body.clone();
    let block = chain.rpc.get_block_hash(height).await.unwrap().to_string();
    assert_eq!(body["txid"], txid.as_str());
    assert_eq!(body["vin"], sent.vin);
    assert_eq!(body["reissuance_amount"], 250_000_000);
    assert_eq!(body["confirmed_in_block"], block.as_str());
    assert!(body["destination_address"].is_string());
    let vout = body["vout"].as_i64().unwrap();
    let recorded = app.state.store().asset_outputs(&uuid).await.unwrap();
    let new: Vec<_> = recorded.iter().filter(|o| o.output.txid == txid).collect();
    assert_eq!(new.len(), 2, "new units and token change: {new:?}");
    let units = new.iter().find(|o| !o.output.is_token).unwrap();
    assert_eq!(
        (units.output.vout, units.output.amount),
        (vout, 250_000_000)
    );
    assert_eq!(units.output.owner, OutputOwner::Treasury);
    assert_ne!(units.output.asset_blinder, UNKNOWN_BLINDER);
    let change = new.iter().find(|o| o.output.is_token).unwrap();
    assert_eq!(change.output.amount, 1);
    let _ = token_id;

    // Repeated: the same answer, nothing new.
    let again = app
        .post(&path("reissue-confirm"), &token, &confirm.to_string())
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, body);
    assert_eq!(
        app.state.store().asset_outputs(&uuid).await.unwrap(),
        recorded
    );
    let listed = app.get(&path("reissuances"), &token).await;
    assert_eq!(listed.body, json!([body]));
    let totals = app.state.store().reissue_burn_totals(&uuid).await.unwrap();
    assert_eq!(totals.reissued, 250_000_000);

    // The next request names the token change.
    let reply = app
        .post(
            &path("reissue-request"),
            &token,
            r#"{"amount_to_reissue": 1}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.body["reissuance_utxos"],
        json!([{"txid": txid, "vout": change.output.vout}])
    );
}

#[tokio::test]
async fn burn_is_checked_on_chain_recorded_and_idempotent() {
    let chain = funded_chain().await;
    let app = TestApp::new()
        .await
        .with_node(chain.rpc.clone())
        .with_index_wait(std::time::Duration::from_millis(300));
    let token = app.issuer("issuer").await;
    let (uuid, asset_id, _, issuance) = issued(&chain, &app, &token).await;
    let path = |p: &str| format!("/api/assets/{uuid}/{p}");

    for body in [r#"{"amount": 0}"#, r#"{}"#, r#"{"amount": "x"}"#] {
        let reply = app.post(&path("burn-request"), &token, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.body["amount"].is_array(), "{body}: {:?}", reply.body);
    }
    let reply = app
        .post(
            &path("burn-request"),
            &token,
            &format!(r#"{{"amount": {}}}"#, ISSUED + 1),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body["Error"]
            .as_str()
            .unwrap()
            .contains("holds 1000000"),
        "{:?}",
        reply.body
    );

    let reply = app
        .post(&path("burn-request"), &token, r#"{"amount": 100000}"#)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let file = &reply.body;
    assert_eq!(file["command"], "burn");
    assert_eq!(file["min_supported_client_script_version"], 2);
    assert_eq!(file["amount"], json!(0.001));
    assert_eq!(file["asset_id"], asset_id.to_string());
    let utxos = file["utxos"].as_array().unwrap();
    assert_eq!(utxos.len(), 1);
    assert_eq!(utxos[0]["txid"], issuance.txid().to_string());

    let burn = |amount: i64| {
        let issuer = chain.issuer.clone();
        async move {
            issuer
                .destroy_amount(&asset_id, Amount::from_units(amount))
                .await
                .unwrap()
        }
    };
    let txid: Txid = burn(100_000).await;
    chain.mine(2).await;
    let height = chain.height().await - 1;
    // The node has the burn's block, the chain index not yet: a 503 once the wait is over,
    // nothing recorded (not a refusal computed from an index that lags).
    let early = json!({"tx_data": {"txid": txid}, "change_data": []});
    let reply = app
        .post(&path("burn-confirm"), &token, &early.to_string())
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    assert_eq!(
        reply.body["detail"],
        format!(
            "The platform has not yet indexed block {height}, which the Elements node already \
             has; nothing was recorded, try again shortly."
        )
    );
    assert!(app.state.store().burns(&uuid, false).await.unwrap()[0]
        .completion
        .is_none());
    index(&chain, &app, height, vec![], vec![], vec![]).await;
    index(&chain, &app, height + 1, vec![], vec![], vec![]).await;
    let change_data: Vec<Value> = raw_call(&chain.issuer, "listunspent", &[])
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["txid"] == txid.to_string() && u["asset"] == asset_id.to_string())
        .cloned()
        .collect();
    assert_eq!(change_data.len(), 1);
    let confirm = json!({"tx_data": {"txid": txid}, "change_data": change_data});

    let mut tampered = confirm.clone();
    tampered["change_data"][0]["amount"] = json!(9000);
    let mut foreign = confirm.clone();
    foreign["change_data"][0]["txid"] = json!("ab".repeat(32));
    let not_a_burn = json!({"tx_data": {"txid": issuance.txid().to_string()}, "change_data": []});
    for body in [&tampered, &foreign, &not_a_burn] {
        let reply = app
            .post(&path("burn-confirm"), &token, &body.to_string())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            reply.body
        );
    }
    assert!(app.state.store().burns(&uuid, false).await.unwrap()[0]
        .completion
        .is_none());

    let reply = app
        .post(&path("burn-confirm"), &token, &confirm.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert!(reply.raw.is_empty());
    let again = app
        .post(&path("burn-confirm"), &token, &confirm.to_string())
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let outputs = app.state.store().asset_outputs(&uuid).await.unwrap();
    let of_burn: Vec<_> = outputs
        .iter()
        .filter(|o| o.output.txid == txid.to_string())
        .collect();
    assert_eq!(of_burn.len(), 2, "{of_burn:?}");
    let burnt = of_burn
        .iter()
        .find(|o| o.output.owner == OutputOwner::Burn)
        .unwrap();
    assert_eq!(burnt.output.amount, 100_000);
    let change = of_burn
        .iter()
        .find(|o| o.output.owner == OutputOwner::Treasury)
        .unwrap();
    assert_eq!(change.output.amount, ISSUED - 100_000);
    let block = chain.rpc.get_block_hash(height).await.unwrap().to_string();
    let listed = app.get(&path("burns"), &token).await;
    assert_eq!(listed.body[0]["txid"], txid.to_string());
    assert_eq!(listed.body[0]["amount"], 100_000);
    assert_eq!(listed.body[0]["confirmed_in_block"], block);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(
        app.state
            .store()
            .reissue_burn_totals(&uuid)
            .await
            .unwrap()
            .burned,
        100_000
    );

    // A burn nobody requested is refused.
    let unrequested = burn(5_000).await;
    chain.mine(2).await;
    let height = chain.height().await - 1;
    index(&chain, &app, height, vec![], vec![], vec![]).await;
    index(&chain, &app, height + 1, vec![], vec![], vec![]).await;
    let body = json!({"tx_data": {"txid": unrequested}, "change_data": []});
    let reply = app
        .post(&path("burn-confirm"), &token, &body.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body["Error"]
            .as_str()
            .unwrap()
            .contains("No outstanding burn request of 5000"),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn reissuance_needs_a_reissuable_asset_and_a_node() {
    let app = TestApp::new().await;
    let token = app.issuer("issuer").await;
    let issuer_id = app
        .state
        .store()
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let uuid = app.stored_asset(issuer_id).await;
    let reply = app
        .post(
            &format!("/api/assets/{uuid}/reissue-request"),
            &token,
            r#"{"amount_to_reissue": 5}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, json!({"Error": "The asset is not reissuable."}));
    let body = json!({"tx_data": {"txid": "ab".repeat(32)}, "change_data": []});
    let reply = app
        .post(
            &format!("/api/assets/{uuid}/burn-confirm"),
            &token,
            &body.to_string(),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    let reply = app
        .get(&format!("/api/assets/{uuid}/reissuances"), &token)
        .await;
    assert_eq!((reply.status, reply.body), (StatusCode::OK, json!([])));
    let reply = app
        .get(
            &format!("/api/assets/{}/reissuances", uuid::Uuid::new_v4()),
            &token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
