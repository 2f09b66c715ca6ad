//! `update-blinders` against the test node of the run (embedded or Elements Core): blinders
//! are accepted only when they open the output's commitments on chain.

use amphora_store::{NewAssetOutput, OutputOwner, UNKNOWN_BLINDER};
use axum::http::StatusCode;
use serde_json::json;

use crate::chain::Chain;
use crate::common::TestApp;

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
        "pubkey": amphora_testenv::ISSUER_PUBKEY,
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
