//! `GET /api/gaids/{gaid}/address`: fresh addresses of the issuer's own registered users, one
//! kept address of any other registered wallet.

use std::collections::BTreeSet;
use std::str::FromStr;

use axum::http::StatusCode;
use lwk_wollet::Chain;

use super::scene;
use crate::common::unregistered_gaid;

#[tokio::test]
async fn gaid_address_is_fresh_for_own_users_and_kept_for_any_other_wallet() {
    let s = scene().await;
    let path = format!("/api/gaids/{}/address", s.alice.gaid);
    let first = s.app.get(&path, &s.token).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let second = s.app.get(&path, &s.token).await;
    let (a0, a1) = (
        first.body["address"].as_str().unwrap(),
        second.body["address"].as_str().unwrap(),
    );
    assert_eq!(a0, s.alice.address(Chain::External, 0).to_string());
    assert_eq!(a1, s.alice.address(Chain::External, 1).to_string());
    assert!(elements::Address::from_str(a0).unwrap().is_blinded());

    // Concurrent requests never share an address.
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let state = s.app.state.clone();
            let gaid = s.alice.gaid.clone();
            tokio::spawn(async move {
                amphora_server::cosign::fresh_address(&state, &gaid)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut seen = BTreeSet::from([a0.to_string(), a1.to_string()]);
    for call in calls {
        assert!(
            seen.insert(call.await.unwrap()),
            "an address was handed out twice"
        );
    }

    // Dave's wallet is registered but belongs to no registered user of this issuer: the
    // issuer may pay it (as the AMP CLI expects), but gets one kept address, whatever it asks,
    // so it cannot push Dave's wallet past its gap limit.
    let dave = format!("/api/gaids/{}/address", s.dave.gaid);
    let dave_address = s.dave.address(Chain::External, 0).to_string();
    for _ in 0..5 {
        let reply = s.app.get(&dave, &s.token).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body["address"], dave_address.as_str());
    }
    // Another issuer gets its own kept address of Alice's wallet, never one of hers.
    let other = s.app.issuer("other").await;
    let kept = s.app.get(&path, &other).await;
    assert_eq!(kept.status, StatusCode::OK, "{:?}", kept.body);
    let kept = kept.body["address"].as_str().unwrap().to_string();
    assert!(!seen.contains(&kept), "{kept} was handed out before");
    for _ in 0..5 {
        assert_eq!(
            s.app.get(&path, &other).await.body["address"],
            kept.as_str()
        );
    }
    let counters = s.app.state.store().wallet_address_counters().await.unwrap();
    let dave_wid = s
        .app
        .state
        .store()
        .wallet_by_gaid(&s.dave.gaid)
        .await
        .unwrap()
        .unwrap()
        .wid;
    assert!(
        counters.contains(&(dave_wid, 1)),
        "five calls by an outsider moved Dave's counter once: {counters:?}"
    );
    let unknown = format!("/api/gaids/{}/address", unregistered_gaid());
    assert_eq!(
        s.app.get(&unknown, &s.token).await.status,
        StatusCode::NOT_FOUND
    );
    let reply = s.app.get("/api/gaids/GAnotagaid/address", &s.token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
}
