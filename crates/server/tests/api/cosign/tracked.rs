//! Issuer-tracked assets (not transfer-restricted): co-signed to any registered wallet, never to
//! an unknown address.

use axum::http::StatusCode;
use elements::AssetId;
use lwk_wollet::Chain;

use super::pset::{transfer, wallet, Coin, Out};
use super::{assert_refused, platform_signatures, scene};
use crate::common::TestApp;

#[tokio::test]
async fn issuer_tracked_asset_may_go_to_any_registered_wallet() {
    let s = scene().await;
    let store = s.app.state.store();
    let tracked_id = s.funder.issue(1_000_000).await;
    let tracked = tracked_asset(&s.app, s.issuer_id, tracked_id).await;
    store
        .set_asset_authorized(s.issuer_id, &tracked.0)
        .await
        .unwrap();
    let lbtc = s.funder.lbtc;
    let carol = s.carol.address(Chain::External, 0);
    let dave = s.dave.address(Chain::External, 0);
    let change = s.alice.address(Chain::Internal, 0);
    let (pset, _) = transfer(
        &s.funder,
        &[
            Coin {
                owner: &s.alice,
                chain: Chain::External,
                index: 0,
                asset: tracked.1,
                value: 50,
            },
            Coin {
                owner: &s.alice,
                chain: Chain::External,
                index: 1,
                asset: lbtc,
                value: 500,
            },
        ],
        &[
            Out::To(&carol, tracked.1, 20),
            Out::To(&dave, tracked.1, 20),
            Out::To(&change, tracked.1, 10),
            Out::To(&change, lbtc, 400),
            Out::Fee(lbtc, 100),
        ],
    )
    .await;
    let reply = s.sign(&pset).await;
    assert_eq!(platform_signatures(&s, &pset, &reply), 2);
    // Still not to an unknown address.
    let stranger = wallet(&s.app, false).await.address(Chain::External, 0);
    let (pset, _) = transfer(
        &s.funder,
        &[Coin {
            owner: &s.alice,
            chain: Chain::External,
            index: 0,
            asset: tracked.1,
            value: 50,
        }],
        &[Out::To(&stranger, tracked.1, 50)],
    )
    .await;
    assert_refused(
        &s.sign(&pset).await,
        StatusCode::FORBIDDEN,
        "recipient_unknown",
    );
}

/// Stores an issuer-tracked asset of id `asset` and returns its uuid and id.
async fn tracked_asset(app: &TestApp, issuer_id: i64, asset: AssetId) -> (String, AssetId) {
    let uuid = uuid::Uuid::new_v4().to_string();
    let store = app.state.store();
    store
        .create_asset(&amphora_store::NewAsset {
            uuid: uuid.clone(),
            issuer_id,
            name: "Tracked asset".into(),
            amount: 100,
            destination_address: crate::common::REGTEST_ADDRESS.into(),
            domain: "example.com".into(),
            ticker: "TRK".into(),
            pubkey: "02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084".into(),
            precision: 0,
            is_confidential: false,
            is_reissuable: false,
            reissuance_amount: 0,
            reissuance_address: String::new(),
            transfer_restricted: false,
            issuer_authorization_endpoint: None,
            contract_json: "{}".into(),
            contract_hash: "00".repeat(32),
        })
        .await
        .unwrap();
    store
        .set_asset_issuance_tx(
            &uuid,
            &amphora_store::IssuanceTx {
                asset_id: asset.to_string(),
                reissuance_token_id: None,
                tx_hex: "00".into(),
                txid: "ef".repeat(32),
                vin: 0,
                asset_vout: 0,
                reissuance_vout: None,
            },
        )
        .await
        .unwrap();
    store.set_asset_broadcast(&uuid, None, None).await.unwrap();
    (uuid, asset)
}
