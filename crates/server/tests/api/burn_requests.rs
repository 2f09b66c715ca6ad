//! `GET …/burn-requests/{id}`: the state `amphora confirm burn` asks for before it burns, from
//! the request file's `burn_request_id` to the burn that completed it; only the asset's issuer
//! sees it.

use amphora_rpc::Amount;
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::reissue_burn::{funded_chain, index, issued, raw_call, ISSUED};

#[tokio::test]
async fn a_burn_request_tells_whether_a_burn_completed_it() {
    let chain = funded_chain().await;
    let app = crate::common::TestApp::new()
        .await
        .with_node(chain.rpc.clone());
    let token = app.issuer("issuer").await;
    let (uuid, asset_id, _, _) = issued(&chain, &app, &token).await;
    let path = |p: &str| format!("/api/assets/{uuid}/{p}");
    let file = app
        .post(&path("burn-request"), &token, r#"{"amount": 100000}"#)
        .await;
    assert_eq!(file.status, StatusCode::OK, "{:?}", file.body);
    let id = file.body["burn_request_id"].as_i64().unwrap();
    let state_path = path(&format!("burn-requests/{id}"));
    let state = app.get(&state_path, &token).await;
    assert_eq!(state.status, StatusCode::OK, "{:?}", state.body);
    assert_eq!(state.body["burn_request_id"], id);
    assert_eq!(state.body["status"], "requested");
    assert_eq!(state.body["txid"], Value::Null);
    assert_eq!(state.body["amount"], 100_000);
    assert_eq!(state.body["utxos"], file.body["utxos"]);
    assert!(
        chrono::DateTime::parse_from_rfc3339(state.body["created"].as_str().unwrap()).is_ok(),
        "{:?}",
        state.body
    );

    // Another request id, a path that is no id, another issuer's view: 404.
    let other = app.issuer("other").await;
    for (p, t) in [
        (path(&format!("burn-requests/{}", id + 1)), &token),
        (path("burn-requests/x"), &token),
        (state_path.clone(), &other),
    ] {
        let reply = app.get(&p, t).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{p}: {:?}", reply.body);
    }

    let txid = chain
        .issuer
        .destroy_amount(&asset_id, Amount::from_units(100_000))
        .await
        .unwrap();
    chain.mine(2).await;
    let height = chain.height().await - 1;
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
    assert_eq!(change_data.len(), 1, "{ISSUED} less the burn is change");
    let confirm = json!({"tx_data": {"txid": txid}, "change_data": change_data});
    let reply = app
        .post(&path("burn-confirm"), &token, &confirm.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    let state = app.get(&state_path, &token).await;
    assert_eq!(state.body["status"], "confirmed", "{:?}", state.body);
    assert_eq!(state.body["txid"], txid.to_string());
}
