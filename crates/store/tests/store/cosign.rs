//! Fresh wallet addresses (atomic per-wallet counters) and co-signing decisions.

use std::collections::BTreeSet;

use amphora_store::{CosignDecisionAsset, NewCosignDecision, Store, StoreError};

use crate::contract::{on_postgres, on_sqlite};

contract!(
    address_indexes_start_at_zero_and_never_repeat,
    concurrent_address_requests_get_distinct_indexes,
    address_index_batches_keep_order_and_never_share,
    failed_address_batches_take_nothing,
    handed_out_addresses_are_recorded_once,
    cosign_decisions_round_trip,
);

async fn wallet(store: &Store, wid: &str) {
    store
        .register_wallet(wid, &format!("ct({wid})"), &format!("GA{wid}"))
        .await
        .unwrap();
}

async fn address_indexes_start_at_zero_and_never_repeat(store: Store) {
    wallet(&store, "a").await;
    wallet(&store, "b").await;
    assert_eq!(store.take_wallet_address_index("a").await.unwrap(), 0);
    assert_eq!(store.take_wallet_address_index("a").await.unwrap(), 1);
    assert_eq!(store.take_wallet_address_index("b").await.unwrap(), 0);
    assert_eq!(store.take_wallet_address_index("a").await.unwrap(), 2);
    let err = store.take_wallet_address_index("nope").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    assert_eq!(
        store.wallet_address_counters().await.unwrap(),
        [("a".to_string(), 3), ("b".to_string(), 1)]
    );
}

async fn concurrent_address_requests_get_distinct_indexes(store: Store) {
    wallet(&store, "a").await;
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take_wallet_address_index("a").await.unwrap() })
        })
        .collect();
    let mut taken = BTreeSet::new();
    for task in tasks {
        assert!(
            taken.insert(task.await.unwrap()),
            "an index was handed out twice"
        );
    }
    assert_eq!(taken, (0..24).collect::<BTreeSet<u32>>());
}

async fn address_index_batches_keep_order_and_never_share(store: Store) {
    wallet(&store, "a").await;
    wallet(&store, "b").await;
    assert_eq!(store.take_wallet_address_index("a").await.unwrap(), 0);
    // Request order is kept; a wallet listed twice gets two consecutive indexes.
    assert_eq!(
        store
            .take_wallet_address_indexes(&["b", "a", "b", "a", "a"])
            .await
            .unwrap(),
        [0, 1, 1, 2, 3]
    );
    // Concurrent batches over overlapping wallets (in different orders) never share an index.
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let wids: Vec<&str> = if i % 2 == 0 {
                vec!["a", "b", "a"]
            } else {
                vec!["b", "a", "b", "b"]
            };
            tokio::spawn(async move {
                let taken = store.take_wallet_address_indexes(&wids).await.unwrap();
                wids.into_iter().zip(taken).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut taken = BTreeSet::new();
    for task in tasks {
        for (wid, index) in task.await.unwrap() {
            assert!(
                taken.insert((wid, index)),
                "{wid} index {index} handed out twice"
            );
        }
    }
    // a: 8 batches × 2 + 8 × 1 after 0..4; b: 8 × 1 + 8 × 3 after 0..2.
    let a: BTreeSet<u32> = taken
        .iter()
        .filter(|(w, _)| *w == "a")
        .map(|(_, i)| *i)
        .collect();
    let b: BTreeSet<u32> = taken
        .iter()
        .filter(|(w, _)| *w == "b")
        .map(|(_, i)| *i)
        .collect();
    assert_eq!(a, (4..28).collect());
    assert_eq!(b, (2..34).collect());
    assert_eq!(
        store.wallet_address_counters().await.unwrap(),
        [("a".to_string(), 28), ("b".to_string(), 34)]
    );
}

async fn failed_address_batches_take_nothing(store: Store) {
    wallet(&store, "a").await;
    let err = store
        .take_wallet_address_indexes(&["a", "nope"])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    assert_eq!(store.take_wallet_address_index("a").await.unwrap(), 0);
    store
        .record_wallet_addresses(&[
            ("a".to_string(), 0, "el1a0".to_string()),
            ("a".to_string(), 1, "el1a1".to_string()),
        ])
        .await
        .unwrap();
    // Recording the same addresses again is a no-op; one clash rolls the whole batch back.
    store
        .record_wallet_addresses(&[("a".to_string(), 1, "el1a1".to_string())])
        .await
        .unwrap();
    let err = store
        .record_wallet_addresses(&[
            ("a".to_string(), 2, "el1a2".to_string()),
            ("a".to_string(), 0, "el1other".to_string()),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(store.wallet_address("el1a2").await.unwrap().is_none());
    let found = store
        .wallets_by_gaids(&["GAa", "GAnope", "GAa"])
        .await
        .unwrap();
    assert_eq!(found.keys().collect::<Vec<_>>(), ["GAa"]);
    assert_eq!(found["GAa"].wid, "a");
}

async fn handed_out_addresses_are_recorded_once(store: Store) {
    wallet(&store, "a").await;
    wallet(&store, "b").await;
    let first = store
        .record_wallet_address("a", 0, "el1addr0")
        .await
        .unwrap();
    assert_eq!((first.wid.as_str(), first.address_index), ("a", 0));
    let again = store
        .record_wallet_address("a", 0, "el1addr0")
        .await
        .unwrap();
    assert_eq!(first, again);
    let other_address_same_index = store
        .record_wallet_address("a", 0, "el1other")
        .await
        .unwrap_err();
    assert!(matches!(other_address_same_index, StoreError::Conflict(_)));
    let same_address_other_wallet = store
        .record_wallet_address("b", 0, "el1addr0")
        .await
        .unwrap_err();
    assert!(matches!(same_address_other_wallet, StoreError::Conflict(_)));
    assert_eq!(store.wallet_address("el1addr0").await.unwrap(), Some(first));
    assert!(store.wallet_address("el1other").await.unwrap().is_none());
}

async fn cosign_decisions_round_trip(store: Store) {
    let asset = |uuid: &str, issuer_id: i64, amount: i64| CosignDecisionAsset {
        asset_uuid: uuid.to_string(),
        issuer_id,
        asset_id: format!("{uuid}-id"),
        amount,
    };
    let approved = NewCosignDecision {
        txid: Some("t1".into()),
        approved: true,
        reasons: vec![],
        error: None,
        sender_wid: Some("wa".into()),
        sender_gaid: Some("GAa".into()),
        recipient_gaids: vec!["GAb".into()],
        assets: vec![asset("u1", 1, 30), asset("u2", 1, 5)],
    };
    let refused = NewCosignDecision {
        txid: Some("t2".into()),
        approved: false,
        reasons: vec!["asset_locked".into(), "input_blacklisted".into()],
        error: Some("the transfer is not approved".into()),
        sender_wid: Some("wa".into()),
        sender_gaid: Some("GAa".into()),
        recipient_gaids: vec!["GAc".into()],
        assets: vec![asset("u1", 1, 7)],
    };
    let garbage = NewCosignDecision {
        reasons: vec!["invalid_pset".into()],
        error: Some("invalid PSET".into()),
        ..NewCosignDecision::default()
    };
    let id1 = store.record_cosign_decision(&approved).await.unwrap();
    let id2 = store.record_cosign_decision(&refused).await.unwrap();
    let id3 = store.record_cosign_decision(&garbage).await.unwrap();
    assert!(id1 < id2 && id2 < id3);

    let for_u1 = store.cosign_decisions_for_asset(1, "u1").await.unwrap();
    assert_eq!(for_u1.len(), 2);
    assert_eq!(for_u1[0].id, id1);
    assert_eq!(for_u1[0].decision, approved);
    assert_eq!(for_u1[1].decision, refused);
    // Another issuer sees nothing of it.
    assert!(store
        .cosign_decisions_for_asset(2, "u1")
        .await
        .unwrap()
        .is_empty());
    let for_t2 = store.cosign_decisions_for_txid("t2").await.unwrap();
    assert_eq!(for_t2.len(), 1);
    assert_eq!(for_t2[0].decision, refused);
    let recent = store.recent_cosign_decisions(2).await.unwrap();
    assert_eq!(recent.iter().map(|d| d.id).collect::<Vec<_>>(), [id3, id2]);
    assert_eq!(recent[0].decision, garbage);
}
