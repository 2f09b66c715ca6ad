//! `reissue`, `burn` and `update-blinders` against the embedded regtest node and the AMP API
//! test double (see `support` — the double is not the platform).

use crate::support::{file_header, with, AmpDouble, RequestFile, Script, Treasury};
use amphora_confirm::{run, ConfirmCommand, ConfirmError, ReissuanceRef};
use amphora_rpc::Amount;
use serde_json::{json, Value};

fn reissue(file: &RequestFile, split: bool, use_existing: Option<ReissuanceRef>) -> ConfirmCommand {
    ConfirmCommand::Reissue {
        file: file.path.clone(),
        have_split_reissuance_token: split,
        use_existing,
    }
}

fn burn(file: &RequestFile, use_existing: Option<elements::Txid>) -> ConfirmCommand {
    ConfirmCommand::Burn {
        file: file.path.clone(),
        use_existing,
    }
}

#[tokio::test]
async fn reissue_posts_details_output_and_its_issuances() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script::default()).await;
    let file = RequestFile::write(&with(
        file_header("reissue", &amp, &t.asset),
        json!({"amount": 10.0, "reissuance_utxos": t.outpoints(&t.token).await}),
    ));
    let before = t.balance("treasury", &t.asset).await;
    t.run_mining(t.args(reissue(&file, false, None)))
        .await
        .unwrap();
    assert_eq!(
        t.balance("treasury", &t.asset).await,
        Amount::from_units(before.units() + 1_000_000_000)
    );

    let posted = amp.posted("/assets/asset-uuid-1/reissue-confirm");
    assert_eq!(posted.len(), 1);
    let body = &posted[0];
    let txid = body["reissuance_output"]["txid"]
        .as_str()
        .unwrap()
        .to_owned();
    let all: Vec<Value> = t.wallet.call("listissuances", &[]).await.unwrap();
    let mine: Vec<Value> = all
        .iter()
        .filter(|i| i["txid"] == json!(txid))
        .cloned()
        .collect();
    assert_eq!(mine.len(), 1);
    assert!(all.len() > mine.len(), "the filter drops the issuance");
    assert_eq!(mine[0]["isreissuance"], json!(true));
    assert_eq!(mine[0]["assetamount"], json!(10.0));
    let raw: Value = t
        .wallet
        .call("gettransaction", &[json!(txid)])
        .await
        .unwrap();
    assert_eq!(
        body,
        &json!({
            "details": raw["details"],
            "reissuance_output": {"txid": txid, "vin": mine[0]["vin"]},
            "listissuances": mine,
        })
    );

    // Node objects are forwarded as the node wrote them (exact amount text).
    #[derive(serde::Deserialize)]
    struct Details {
        details: Box<serde_json::value::RawValue>,
    }
    let exact: Details = t
        .wallet
        .call("gettransaction", &[json!(txid)])
        .await
        .unwrap();
    let text = &amp
        .received()
        .into_iter()
        .find(|r| r.path.ends_with("/reissue-confirm"))
        .unwrap()
        .text;
    assert!(
        text.starts_with(&format!(r#"{{"details":{},"#, exact.details.get())),
        "{text}"
    );

    // --use-existing TXID:VIN must name a reissuance of the asset in the wallet.
    let vin = mine[0]["vin"].as_u64().unwrap() as u32;
    let txid: elements::Txid = txid.parse().unwrap();
    for wrong in [
        ReissuanceRef { txid, vin: vin + 1 },
        ReissuanceRef {
            txid: t.issuance_txid,
            vin: 0,
        },
    ] {
        let err = run(t.args(reissue(&file, false, Some(wrong))))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(&format!(
                "outpoint {wrong} is not associated with a reissuance"
            )),
            "{err}"
        );
    }
    run(t.args(reissue(&file, false, Some(ReissuanceRef { txid, vin }))))
        .await
        .unwrap();
    let posted = amp.posted("/reissue-confirm");
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[0], posted[1]);
    assert_eq!(t.mempool_size().await, 0, "nothing sent again");

    // Run again without --use-existing (as after a crash): the wallet's reissuance spending
    // the file's token output is found and named with its TXID:VIN, nothing is reissued.
    let err = run(t.args(reissue(&file, false, None))).await.unwrap_err();
    let Some(ConfirmError::AlreadySent { retry, .. }) = err.downcast_ref() else {
        panic!("unexpected error {err}");
    };
    assert_eq!(retry, &ReissuanceRef { txid, vin }.to_string());
    assert!(
        err.to_string()
            .contains(&format!("\"--use-existing {retry}\"")),
        "{err}"
    );
    assert_eq!(t.mempool_size().await, 0, "nothing sent again");
    assert_eq!(amp.posted("/reissue-confirm").len(), 2);
}

#[tokio::test]
async fn reissue_needs_the_token_outputs_the_platform_tracks() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script {
        confirm_status: 503,
        ..Script::default()
    })
    .await;
    let unknown = json!({"txid": "22".repeat(32), "vout": 1});
    let mut utxos = t.outpoints(&t.token).await;
    utxos.push(unknown.clone());
    let split = RequestFile::write(&with(
        file_header("reissue", &amp, &t.asset),
        json!({"amount": 1.0, "reissuance_utxos": utxos}),
    ));
    let err = run(t.args(reissue(&split, false, None))).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("has 1 of the 2 output(s)"), "{message}");
    assert!(
        message.contains(&format!("{}:1", "22".repeat(32))),
        "{message}"
    );
    assert_eq!(t.mempool_size().await, 0);

    // With a split token, one known output is enough; the refused confirm gives TXID:VIN.
    let err = t
        .run_mining(t.args(reissue(&split, true, None)))
        .await
        .unwrap_err();
    let ConfirmError::ConfirmRejected { txid, retry, .. } = &err else {
        panic!("unexpected error {err}");
    };
    assert!(retry.starts_with(&format!("--use-existing {txid}:")));
    assert!(err.to_string().contains(&format!("\"{retry}\"")));
    assert!(err.to_string().contains("answered HTTP 503"), "{err}");

    let none = RequestFile::write(&with(
        file_header("reissue", &amp, &t.asset),
        json!({"amount": 1.0, "reissuance_utxos": [unknown]}),
    ));
    let err = run(t.args(reissue(&none, true, None))).await.unwrap_err();
    assert!(matches!(
        err.downcast_ref(),
        Some(ConfirmError::MissingUtxo { found: 0, .. })
    ));
}

#[tokio::test]
async fn burn_checks_outputs_and_balance_then_posts_txid_and_change() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script::default()).await;
    let utxos = t.outpoints(&t.asset).await;

    let too_much = RequestFile::write(&with(
        file_header("burn", &amp, &t.asset),
        json!({"amount": 5000.0, "utxos": utxos}),
    ));
    let err = run(t.args(burn(&too_much, None))).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("is lower than the requested amount (5000.00000000)"),
        "{err}"
    );
    assert_eq!(t.mempool_size().await, 0);

    let file = RequestFile::write(&with(
        file_header("burn", &amp, &t.asset),
        json!({"amount": 100.0, "utxos": utxos}),
    ));
    let before = t.balance("treasury", &t.asset).await;
    t.run_mining(t.args(burn(&file, None))).await.unwrap();
    assert_eq!(
        t.balance("treasury", &t.asset).await,
        Amount::from_units(before.units() - 100 * 100_000_000)
    );
    let posted = amp.posted("/assets/asset-uuid-1/burn-confirm");
    assert_eq!(posted.len(), 1);
    let txid = posted[0]["tx_data"]["txid"].clone();
    let unspent: Vec<Value> = t.wallet.call("listunspent", &[]).await.unwrap();
    let change: Vec<Value> = unspent
        .into_iter()
        .filter(|u| u["txid"] == txid && u["asset"] == json!(t.asset))
        .collect();
    assert_eq!(change.len(), 1);
    assert_eq!(change[0]["amount"], json!(900.0));
    assert_eq!(
        posted[0],
        json!({"tx_data": {"txid": txid}, "change_data": change})
    );

    // Run again without --use-existing (as after a crash): the wallet's burn spending the
    // file's outputs is found and named, nothing is burnt twice.
    let err = run(t.args(burn(&file, None))).await.unwrap_err();
    let Some(ConfirmError::AlreadySent {
        txid: burnt, retry, ..
    }) = err.downcast_ref()
    else {
        panic!("unexpected error {err}");
    };
    assert_eq!(json!(burnt), txid);
    assert!(
        err.to_string()
            .contains(&format!("\"--use-existing {retry}\"")),
        "{err}"
    );
    assert_eq!(t.mempool_size().await, 0, "nothing sent again");

    // Outputs of the file spent by something else than a burn: the outputs check refuses.
    let other = RequestFile::write(&with(
        file_header("burn", &amp, &t.asset),
        json!({"amount": 100.0, "utxos": t.outpoints(&t.asset).await}),
    ));
    let treasury_address = t.wallet.get_new_address(None).await.unwrap();
    t.wallet
        .send_to_address(
            &treasury_address,
            Amount::from_units(100_000_000),
            Some(&t.asset),
        )
        .await
        .unwrap();
    let err = run(t.args(burn(&other, None))).await.unwrap_err();
    assert!(err.to_string().contains("missing UTXO"), "{err}");
}

#[tokio::test]
async fn update_blinders_sends_the_blinders_the_platform_lacks() {
    let t = Treasury::start().await;
    let issuance = t.wallet.get_transaction(&t.issuance_txid).await.unwrap();
    let asset_out = issuance
        .details
        .iter()
        .find(|d| d.asset == Some(t.asset))
        .unwrap();
    let token_out = issuance
        .details
        .iter()
        .find(|d| d.asset == Some(t.token))
        .unwrap();
    let zero = "00".repeat(32);
    let amp = AmpDouble::start(Script {
        txs: vec![
            json!({"txid": t.issuance_txid, "outputs": [
                {"vout": asset_out.vout, "asset_blinder": zero},
                {"vout": token_out.vout, "asset_blinder": token_out.assetblinder},
            ]}),
            json!({"txid": "33".repeat(32), "outputs": [{"vout": 0, "asset_blinder": zero}]}),
        ],
        ..Script::default()
    })
    .await;
    run(t.args(ConfirmCommand::UpdateBlinders {
        asset_uuid: "asset-uuid-1".into(),
        base_url: amp.base_url.clone(),
    }))
    .await
    .unwrap();
    assert_eq!(
        amp.posted("/assets/asset-uuid-1/update-blinders"),
        vec![json!({
            "txid": t.issuance_txid,
            "vout": asset_out.vout,
            "asset_blinder": asset_out.assetblinder,
            "amount_blinder": asset_out.amountblinder,
        })]
    );

    let known = AmpDouble::start(Script {
        txs: vec![json!({"txid": t.issuance_txid, "outputs": [
            {"vout": asset_out.vout, "asset_blinder": asset_out.assetblinder},
        ]})],
        ..Script::default()
    })
    .await;
    let err = run(t.args(ConfirmCommand::UpdateBlinders {
        asset_uuid: "asset-uuid-1".into(),
        base_url: known.base_url.clone(),
    }))
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("blinders update list is empty"),
        "{err}"
    );
}
