//! Asset registrations (one per asset, also under a race), the own registry's entries, the
//! authorization flag, and the pool settings / liveness probe.

use amphora_store::{
    Conflict, NewAsset, NewRegistration, PoolSettings, Store, StoreError, OWN_REGISTRY,
};
use amphora_testenv::store as fixtures;

use crate::contract::{on_postgres, on_sqlite};

contract!(
    an_asset_is_registered_once,
    concurrent_registrations_record_one,
    authorization_is_idempotent_and_per_issuer,
    ping_and_pool_size,
);

/// An issued asset `uuid` (asset id `n` repeated) of the issuer `issuer`; the issuer's id.
async fn issued(store: &Store, issuer: &str, uuid: &str, n: u8) -> i64 {
    let id = match store.issuer_by_username(issuer).await.unwrap() {
        Some(existing) => existing.id,
        None => fixtures::issuer(store, issuer).await,
    };
    let asset = NewAsset {
        is_confidential: false,
        ..fixtures::non_reissuable(fixtures::new_asset(id, uuid))
    };
    let issuance = fixtures::without_token(fixtures::issuance_tx(n, &fixtures::txid(0xcd)));
    fixtures::issued_asset(store, &asset, &issuance).await;
    id
}

fn registration(uuid: &str, n: u8, registry: &str) -> NewRegistration {
    NewRegistration {
        asset_uuid: uuid.to_string(),
        asset_id: fixtures::txid(n),
        registry: registry.to_string(),
        entry_json: format!("{{\"asset_id\":\"{}\"}}", fixtures::txid(n)),
    }
}

async fn an_asset_is_registered_once(store: Store) {
    let alice = issued(&store, "alice", "u-1", 1).await;
    let bob = issued(&store, "bob", "u-2", 2).await;
    assert!(store
        .own_registry_entry(&"01".repeat(32))
        .await
        .unwrap()
        .is_none());

    // another issuer's asset is not found, and nothing is recorded
    let err = store
        .record_registration(bob, &registration("u-1", 1, OWN_REGISTRY))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    assert!(store.asset_registry(alice, "u-1").await.unwrap().is_none());

    let asset = store
        .record_registration(alice, &registration("u-1", 1, OWN_REGISTRY))
        .await
        .unwrap();
    assert!(asset.is_registered);
    assert_eq!(
        store.own_registry_entry(&"01".repeat(32)).await.unwrap(),
        Some(format!("{{\"asset_id\":\"{}\"}}", "01".repeat(32)))
    );
    assert_eq!(
        store.asset_registry(alice, "u-1").await.unwrap().as_deref(),
        Some(OWN_REGISTRY)
    );
    assert!(store.asset_registry(bob, "u-1").await.unwrap().is_none());
    let err = store
        .record_registration(alice, &registration("u-1", 1, OWN_REGISTRY))
        .await
        .unwrap_err();
    match err {
        StoreError::Conflict(Conflict::AlreadyRegistered) => {}
        other => panic!("{other:?}"),
    }

    // registered with an external registry: not an own-registry entry
    store
        .record_registration(bob, &registration("u-2", 2, "https://registry.example"))
        .await
        .unwrap();
    assert!(store
        .own_registry_entry(&"02".repeat(32))
        .await
        .unwrap()
        .is_none());
    // the entry stays public when the issuer deletes the asset's platform records
    store.delete_asset(alice, "u-1").await.unwrap();
    assert!(store
        .own_registry_entry(&"01".repeat(32))
        .await
        .unwrap()
        .is_some());
}

async fn concurrent_registrations_record_one(store: Store) {
    let alice = issued(&store, "alice", "u-1", 1).await;
    let attempts = (0..4).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .record_registration(alice, &registration("u-1", 1, OWN_REGISTRY))
                .await
        })
    });
    let mut registered = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(asset) => {
                assert!(asset.is_registered);
                registered += 1;
            }
            Err(StoreError::Conflict(Conflict::AlreadyRegistered)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(registered, 1);
}

async fn authorization_is_idempotent_and_per_issuer(store: Store) {
    let alice = issued(&store, "alice", "u-1", 1).await;
    let bob = issued(&store, "bob", "u-2", 2).await;
    assert!(
        !store
            .asset(alice, "u-1")
            .await
            .unwrap()
            .unwrap()
            .is_authorized
    );
    assert!(matches!(
        store.set_asset_authorized(bob, "u-1").await,
        Err(StoreError::NotFound)
    ));
    for _ in 0..2 {
        let asset = store.set_asset_authorized(alice, "u-1").await.unwrap();
        assert!(asset.is_authorized);
    }
    assert!(
        !store
            .asset(bob, "u-2")
            .await
            .unwrap()
            .unwrap()
            .is_authorized
    );
}

async fn ping_and_pool_size(store: Store) {
    store.ping().await.unwrap();
    assert!(store.max_connections() >= 1);
}

#[tokio::test]
async fn pool_settings_apply_and_a_closed_store_fails_its_ping() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("pool.db").display());
    let settings = PoolSettings {
        max_connections: 3,
        ..PoolSettings::default()
    };
    let store = Store::connect_with(&url, &settings).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.max_connections(), 3);
    store.ping().await.unwrap();
    store.close().await;
    assert!(store.ping().await.is_err());
    let zero = PoolSettings {
        max_connections: 0,
        ..PoolSettings::default()
    };
    let store = Store::connect_with(&url, &zero).await.unwrap();
    assert_eq!(store.max_connections(), 1);
    assert!(matches!(
        Store::connect_with("mysql://x", &settings).await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}
