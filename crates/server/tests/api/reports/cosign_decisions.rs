//! Co-signing decisions about an asset at their own paged route, apart from its chain
//! activities.

use amphora_store::TxKind;
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{txid, Reported};

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
