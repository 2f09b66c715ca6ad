//! `…/treasury-view-key`: only the key of the wallet an asset was issued to is accepted (checked
//! against the confidential destination address), the same key again is idempotent, and the
//! key is never shown back. On the test node of the run.

use axum::http::StatusCode;
use serde_json::json;

use crate::chain::Chain;
use crate::common::TestApp;

const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;

async fn issue(app: &TestApp, token: &str, destination: &str) -> String {
    let body = json!({"name": "Viewed Security", "amount": 1000, "destination_address": destination,
        "domain": "example.com", "ticker": "VIEW", "pubkey": PUBKEY});
    let reply = app
        .post("/api/assets/issue", token, &body.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["asset_uuid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn only_the_key_of_the_issuance_wallet_is_accepted() {
    let chain = Chain::start().await;
    let app = TestApp::new().await.with_node(chain.rpc.clone());
    let token = app.issuer("issuer").await;
    let uuid = issue(&app, &token, &chain.issuer_address().await).await;
    let path = format!("/api/assets/{uuid}/treasury-view-key");
    let put = |key: &str| json!({ "view_key": key }).to_string();

    let reply = app.get(&path, &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"asset_uuid": uuid, "registered": false}));

    for bad in ["", "00", "zz", &"ab".repeat(33)] {
        let reply = app.put(&path, &token, Some(&put(bad))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            reply.body["Error"]
                .as_str()
                .unwrap()
                .contains("64 hexadecimal"),
            "{bad}: {:?}",
            reply.body
        );
    }
    let reply = app.put(&path, &token, Some("{}")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);

    // another wallet's key (the platform's) does not open the destination
    let platform_key = chain
        .rpc
        .wallet("platform")
        .dump_master_blinding_key()
        .await
        .unwrap();
    let reply = app.put(&path, &token, Some(&put(&platform_key))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body["Error"]
            .as_str()
            .unwrap()
            .contains("another wallet"),
        "{:?}",
        reply.body
    );
    assert_eq!(app.get(&path, &token).await.body["registered"], false);

    // another issuer cannot touch the asset
    let other = app.issuer("other").await;
    let key = chain.issuer.dump_master_blinding_key().await.unwrap();
    assert_eq!(
        app.put(&path, &other, Some(&put(&key))).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&path, &other).await.status, StatusCode::NOT_FOUND);

    // the treasury's own key, in upper case too, and again
    for key in [key.clone(), key.to_uppercase(), key.clone()] {
        let reply = app.put(&path, &token, Some(&put(&key))).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body, json!({"asset_uuid": uuid, "registered": true}));
        assert!(!String::from_utf8_lossy(&reply.raw).contains(&key.to_lowercase()));
    }
    let reply = app.get(&path, &token).await;
    assert_eq!(reply.body, json!({"asset_uuid": uuid, "registered": true}));
    assert!(!String::from_utf8_lossy(&reply.raw).contains(&key));
}
