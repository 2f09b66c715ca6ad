//! Issuer-tracked assets (not transfer-restricted): co-signed to any registered wallet, never to
//! an unknown address.

use amphora_store::{IssuanceTx, NewAsset};
use amphora_testenv::store as fixtures;
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
    let stored = NewAsset {
        name: "Tracked asset".into(),
        amount: 100,
        destination_address: crate::common::REGTEST_ADDRESS.into(),
        ticker: "TRK".into(),
        pubkey: amphora_testenv::ISSUER_PUBKEY.into(),
        is_confidential: false,
        transfer_restricted: false,
        ..fixtures::non_reissuable(fixtures::new_asset(issuer_id, &uuid))
    };
    let issuance = IssuanceTx {
        asset_id: asset.to_string(),
        tx_hex: "00".into(),
        ..fixtures::without_token(fixtures::issuance_tx(0, &fixtures::txid(0xef)))
    };
    fixtures::issued_asset(app.state.store(), &stored, &issuance).await;
    (uuid, asset)
}
