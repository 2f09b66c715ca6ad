//! One view of the chain: a client that mined (or saw) 2 confirmations on the node and at once
//! creates an assignment, asks for a reissuance and reads the ownerships is answered from a
//! chain index that has the node's tip: 50 times in a row, with no sleep, on the node of the run.

use std::time::Duration;

use amphora_rpc::AddressType;
use amphora_testenv::TestNode;
use axum::http::StatusCode;
use serde_json::json;

use crate::common::TestApp;

const ROUNDS: usize = 50;
const ISSUED: i64 = 1_000;

#[tokio::test]
async fn rules_and_reports_see_the_blocks_the_node_has_at_once() {
    let node = TestNode::start().await;
    node.claim_free_coins("platform").await;
    let issuer = node.create_wallet("issuer").await;
    let mut app = TestApp::new().await.with_node(node.rpc().clone());
    // A follower that would poll only every minute: every round must be served by the
    // request-side catch-up and the follower's block notification, never by a lucky poll.
    let follower = app.with_follower(node.rpc().clone(), Duration::from_secs(60));
    let token = app.issuer("issuer").await;
    let gaid = app.registered_gaid().await;
    let user = app
        .post(
            "/api/registered_users/add",
            &token,
            &json!({"name": "Investor", "GAID": gaid}).to_string(),
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{:?}", user.body);
    let user = user.body["id"].as_i64().unwrap();

    for round in 0..ROUNDS {
        let address = issuer
            .get_new_address(Some(AddressType::Blech32))
            .await
            .unwrap();
        let token_address = issuer
            .get_new_address(Some(AddressType::Blech32))
            .await
            .unwrap();
        let issued = app
            .post(
                "/api/assets/issue",
                &token,
                &json!({
                    "name": format!("Round {round} security"),
                    "amount": ISSUED,
                    "destination_address": address,
                    "domain": "example.com",
                    "ticker": format!("RND{round}"),
                    "pubkey": amphora_testenv::ISSUER_PUBKEY,
                    "precision": 0,
                    "is_confidential": true,
                    "is_reissuable": true,
                    "reissuance_amount": 1,
                    "reissuance_address": token_address,
                    "transfer_restricted": false,
                })
                .to_string(),
            )
            .await;
        assert_eq!(
            issued.status,
            StatusCode::CREATED,
            "round {round}: {:?}",
            issued.body
        );
        let uuid = issued.body["asset_uuid"].as_str().unwrap().to_string();
        node.mine(2).await;

        let assignment = app
            .post(
                &format!("/api/assets/{uuid}/assignments/create"),
                &token,
                &json!({"assignments": [{
                    "registered_user": user,
                    "amount": 10,
                    "ready_for_distribution": false,
                }]})
                .to_string(),
            )
            .await;
        assert_eq!(
            assignment.status,
            StatusCode::OK,
            "round {round}: assignment right after 2 blocks: {:?}",
            assignment.body
        );
        let reissue = app
            .post(
                &format!("/api/assets/{uuid}/reissue-request"),
                &token,
                &json!({"amount_to_reissue": 5}).to_string(),
            )
            .await;
        assert_eq!(
            reissue.status,
            StatusCode::OK,
            "round {round}: reissue-request right after 2 blocks: {:?}",
            reissue.body
        );
        let ownerships = app
            .get(&format!("/api/assets/{uuid}/ownerships"), &token)
            .await;
        assert_eq!(ownerships.status, StatusCode::OK);
        let owned: i64 = ownerships
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["amount"].as_i64().unwrap())
            .sum();
        assert_eq!(
            owned, ISSUED,
            "round {round}: ownerships right after 2 blocks: {}",
            ownerships.body
        );
    }
    follower.shutdown().await;
}
