//! The `AmpApi` client against the AMP API test double (see `support` — not the platform).

use crate::support::{AmpDouble, Script, API_PASSWORD, API_USER};
use amphora_confirm::api::{AmpApi, ApiError, BlinderUpdate};
use serde_json::json;

#[tokio::test]
async fn the_client_logs_in_and_reads_and_posts_with_its_token() {
    let amp = AmpDouble::start(Script {
        lost_outputs: vec![json!({"txid": "00".repeat(32), "vout": 2})],
        assignments: vec![json!({"id": 7, "distribution_uuid": null, "is_distributed": false})],
        ..Script::default()
    })
    .await;
    let mut api = AmpApi::new(&amp.base_url).unwrap();

    let anonymous = api.balance("u1").await.unwrap_err();
    assert_eq!(anonymous.status(), Some(401));
    let refused = api.obtain_token(API_USER, "wrong").await.unwrap_err();
    assert_eq!(refused.status(), Some(400));
    api.obtain_token(API_USER, API_PASSWORD).await.unwrap();

    let balance = api.balance("u1").await.unwrap();
    assert_eq!(balance.lost_outputs.len(), 1);
    let assignments = api.assignments("u1").await.unwrap();
    assert_eq!(assignments[0].distribution_uuid, None);
    assert!(!assignments[0].is_distributed);
    assert!(api.asset_txs("u1").await.unwrap().is_empty());

    let update = BlinderUpdate {
        txid: "ab".repeat(32),
        vout: 1,
        asset_blinder: "01".repeat(32),
        amount_blinder: "02".repeat(32),
    };
    api.update_blinders("u1", &update).await.unwrap();
    amp.set_confirm_status(409);
    let err = api
        .confirm_burn("u1", &json!({"tx_data": {"txid": "x"}, "change_data": []}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert_eq!(
        err.to_string(),
        "assets/u1/burn-confirm answered HTTP 409: confirm refused"
    );

    let received = amp.received();
    assert_eq!(
        received[2].body,
        json!({"username": API_USER, "password": API_PASSWORD})
    );
    assert!(received[3..]
        .iter()
        .all(|r| r.authorization.as_deref() == Some("token test-token-1")));
    let posted = amp.posted("/assets/u1/update-blinders");
    assert_eq!(
        posted,
        vec![json!({"txid": "ab".repeat(32), "vout": 1,
                    "asset_blinder": "01".repeat(32), "amount_blinder": "02".repeat(32)})]
    );
}

#[tokio::test]
async fn unexpected_answers_and_unreachable_platforms_are_errors() {
    let amp = AmpDouble::start(Script::default()).await;
    let mut api = AmpApi::new(&amp.base_url.replace("/api/{}", "/{}")).unwrap();
    let err = api.obtain_token(API_USER, API_PASSWORD).await.unwrap_err();
    assert_eq!(err.status(), Some(404));

    // Nothing listens on port 9 of localhost.
    let mut api = AmpApi::new("http://127.0.0.1:9/api/{}").unwrap();
    let err = api.obtain_token(API_USER, API_PASSWORD).await.unwrap_err();
    assert!(matches!(err, ApiError::Transport { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("cannot reach the platform at http://127.0.0.1:9/api/user/obtain_token"));
}
