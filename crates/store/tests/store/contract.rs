//! Store contract tests: every test runs against SQLite (a fresh file) and PostgreSQL (a fresh
//! schema in `AMPHORA_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`:
//! `amphora_testenv::pg::PgSchema`). If PostgreSQL is unreachable the PostgreSQL tests fail
//! with a clear message.

use std::future::Future;

use amphora_store::{Engine, IssuanceStatus, IssuanceTx, NewAsset, Store, StoreError};
use amphora_testenv::pg::PgSchema;
use amphora_testenv::store as fixtures;
use chrono::{Duration, Utc};

/// Runs `test` against a migrated SQLite store in a temporary directory.
pub(crate) async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("amphora.db").display());
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.engine(), Engine::Sqlite);
    store.migrate().await.unwrap();
    test(store.clone()).await;
    // WAL mode: the write-ahead log sits beside the database while connections are open
    // (foreign-key enforcement is exercised by the tests themselves).
    assert!(
        dir.path().join("amphora.db-wal").exists(),
        "SQLite is not in WAL mode"
    );
    store.close().await;
}

/// Runs `test` against a migrated PostgreSQL store in a schema of its own
/// ([`PgSchema`]), dropped afterwards (also when the test panics).
pub(crate) async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let schema = PgSchema::create("store_test").await;
    let store = Store::connect_postgres(schema.options()).await.unwrap();
    assert_eq!(store.engine(), Engine::Postgres);
    store.migrate().await.unwrap();
    let outcome = tokio::spawn(test(store.clone())).await;
    store.close().await;
    drop(schema);
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// Declares one contract test run on both engines.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::on_sqlite(super::$name).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::on_postgres(super::$name).await })*
        }
    };
}

contract!(
    migrations_are_idempotent,
    issuers_are_unique_and_listed,
    first_issuer_is_created_once,
    password_change_revokes_tokens,
    tokens_round_trip_and_expired_ones_are_purged,
    audit_log_pages_per_issuer,
    asset_issuance_lifecycle,
    asset_settings_requirements_and_treasury,
);

async fn migrations_are_idempotent(store: Store) {
    store.migrate().await.unwrap();
    assert_eq!(store.count_issuers().await.unwrap(), 0);
}

async fn issuers_are_unique_and_listed(store: Store) {
    let alice = store.create_issuer("alice", "hash-a").await.unwrap();
    assert_eq!(alice.username, "alice");
    let err = store.create_issuer("alice", "hash-b").await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    store.create_issuer("bob", "hash-b").await.unwrap();
    let names: Vec<_> = store
        .issuers()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.username)
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    let found = store.issuer_by_username("alice").await.unwrap().unwrap();
    assert_eq!(found, alice);
    assert_eq!(store.issuer(alice.id).await.unwrap().unwrap(), alice);
    assert!(store.issuer_by_username("carol").await.unwrap().is_none());
}

async fn first_issuer_is_created_once(store: Store) {
    let first = store.create_first_issuer("admin", "h").await.unwrap();
    assert!(first.is_some());
    assert!(store
        .create_first_issuer("other", "h")
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.count_issuers().await.unwrap(), 1);
}

async fn password_change_revokes_tokens(store: Store) {
    let issuer = store.create_issuer("alice", "old").await.unwrap();
    let later = Utc::now() + Duration::hours(1);
    store.insert_token(issuer.id, "t1", later).await.unwrap();
    store.set_issuer_password(issuer.id, "new").await.unwrap();
    assert!(store.token("t1").await.unwrap().is_none());
    let reloaded = store.issuer(issuer.id).await.unwrap().unwrap();
    assert_eq!(reloaded.password_hash, "new");
    let err = store.set_issuer_password(9999, "x").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
}

async fn tokens_round_trip_and_expired_ones_are_purged(store: Store) {
    let issuer = store.create_issuer("alice", "h").await.unwrap();
    let past = Utc::now() - Duration::hours(1);
    let later = Utc::now() + Duration::hours(1);
    store
        .insert_token(issuer.id, "expired", past)
        .await
        .unwrap();
    let token = store.insert_token(issuer.id, "live", later).await.unwrap();
    assert_eq!(store.token("live").await.unwrap().unwrap(), token);
    // inserting "live" purged the expired token
    assert!(store.token("expired").await.unwrap().is_none());
    store.delete_token("live").await.unwrap();
    assert!(store.token("live").await.unwrap().is_none());
    store.delete_token("live").await.unwrap();
}

async fn audit_log_pages_per_issuer(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let b = store.create_issuer("bob", "h").await.unwrap();
    let entry = |issuer_id: i64, path: &str| amphora_store::NewAuditEntry {
        issuer_id,
        actor_role: "issuer".to_string(),
        actor_id: issuer_id,
        actor_username: "someone".to_string(),
        method: "POST".to_string(),
        path: path.to_string(),
        route: path.to_string(),
        object_ids: "{}".to_string(),
        status: 201,
    };
    for path in ["/one", "/two", "/three"] {
        store.insert_audit(&entry(a.id, path)).await.unwrap();
    }
    let stored = store.insert_audit(&entry(b.id, "/bob")).await.unwrap();
    assert_eq!(stored.status, 201);
    assert_eq!(stored.path, "/bob");
    let (count, page) = store.audit_entries(a.id, 2, 0).await.unwrap();
    assert_eq!(count, 3);
    let paths: Vec<&str> = page.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, vec!["/three", "/two"]);
    let (_, page) = store.audit_entries(a.id, 2, 2).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].path, "/one");
    let (count, page) = store.audit_entries(b.id, 10, 0).await.unwrap();
    assert_eq!((count, page), (1, vec![stored]));
}

/// The asset of the lifecycle tests (17,000,000 base units at precision 2).
pub(crate) fn new_asset(issuer_id: i64, uuid: &str) -> NewAsset {
    NewAsset {
        name: "Example Security".into(),
        amount: 17_000_000,
        ticker: "EXSEC".into(),
        precision: 2,
        ..fixtures::new_asset(issuer_id, uuid)
    }
}

/// Its issuance transaction, asset id [`fixtures::txid`]`(n)` (the asset at output 1, the
/// token at output 2).
pub(crate) fn issuance_tx(n: u8) -> IssuanceTx {
    IssuanceTx {
        reissuance_token_id: Some(fixtures::txid(0xee)),
        asset_vout: 1,
        reissuance_vout: Some(2),
        ..fixtures::issuance_tx(n, &fixtures::txid(0xdd))
    }
}

async fn asset_issuance_lifecycle(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let pending = store.create_asset(&new_asset(a.id, "u-1")).await.unwrap();
    assert_eq!(pending.status, IssuanceStatus::Pending);
    assert_eq!(pending.issuance, new_asset(a.id, "u-1"));
    // a pending issuance is not an asset yet, but it is unfinished
    assert!(store.asset(a.id, "u-1").await.unwrap().is_none());
    assert!(!store.asset_exists(a.id, "u-1").await.unwrap());
    assert_eq!(store.unfinished_issuances().await.unwrap().len(), 1);
    let err = store
        .create_asset(&new_asset(a.id, "u-1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));

    store
        .set_asset_issuance_tx("u-1", &issuance_tx(1))
        .await
        .unwrap();
    let broadcasting = store.asset(a.id, "u-1").await.unwrap().unwrap();
    assert_eq!(broadcasting.status, IssuanceStatus::Broadcasting);
    assert_eq!(broadcasting.tx, Some(issuance_tx(1)));
    assert_eq!(store.unfinished_issuances().await.unwrap().len(), 1);
    // the transaction is stored once
    assert!(matches!(
        store.set_asset_issuance_tx("u-1", &issuance_tx(2)).await,
        Err(StoreError::NotFound)
    ));

    store
        .set_asset_broadcast("u-1", Some(&"ab".repeat(32)), None)
        .await
        .unwrap();
    let done = store.asset(a.id, "u-1").await.unwrap().unwrap();
    assert_eq!(done.status, IssuanceStatus::Broadcast);
    assert_eq!(done.issuance_assetblinder, Some("ab".repeat(32)));
    assert_eq!(done.issuance_tokenblinder, None);
    assert!(store.unfinished_issuances().await.unwrap().is_empty());
    assert!(store.asset_exists(a.id, "u-1").await.unwrap());

    // an issuance that never got a transaction fails and stays hidden
    store.create_asset(&new_asset(a.id, "u-2")).await.unwrap();
    store.set_asset_failed("u-2", "no funds").await.unwrap();
    assert!(store.asset(a.id, "u-2").await.unwrap().is_none());
    assert!(store.unfinished_issuances().await.unwrap().is_empty());
    assert_eq!(store.assets(a.id).await.unwrap().len(), 1);
}

async fn asset_settings_requirements_and_treasury(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let b = store.create_issuer("bob", "h").await.unwrap();
    store.create_asset(&new_asset(a.id, "u-1")).await.unwrap();
    store
        .set_asset_issuance_tx("u-1", &issuance_tx(1))
        .await
        .unwrap();
    // another issuer sees nothing and changes nothing
    assert!(store.asset(b.id, "u-1").await.unwrap().is_none());
    assert!(store.assets(b.id).await.unwrap().is_empty());
    assert!(matches!(
        store.set_asset_locked(b.id, "u-1", true).await,
        Err(StoreError::NotFound)
    ));

    let locked = store.set_asset_locked(a.id, "u-1", true).await.unwrap();
    assert!(locked.is_locked);
    let memo = store
        .set_asset_memo(a.id, "u-1", "board approved")
        .await
        .unwrap();
    assert_eq!(memo.memo, "board approved");
    let edited = store
        .set_asset_authorization_endpoint(a.id, "u-1", Some("https://auth.example"))
        .await
        .unwrap();
    assert_eq!(
        edited.issuance.issuer_authorization_endpoint.as_deref(),
        Some("https://auth.example")
    );

    let eu = store.create_category(a.id, "EU", "").await.unwrap();
    let bobs = store.create_category(b.id, "US", "").await.unwrap();
    store.add_asset_category(a.id, "u-1", eu.id).await.unwrap();
    store.add_asset_category(a.id, "u-1", eu.id).await.unwrap();
    assert!(matches!(
        store.add_asset_category(a.id, "u-1", bobs.id).await,
        Err(StoreError::NotFound)
    ));
    let asset = store.asset(a.id, "u-1").await.unwrap().unwrap();
    assert_eq!(asset.requirements, vec![eu.id]);
    assert_eq!(
        store.category_assets(a.id).await.unwrap().get(&eu.id),
        Some(&vec!["u-1".to_string()])
    );
    store
        .remove_asset_category(a.id, "u-1", eu.id)
        .await
        .unwrap();
    assert!(store
        .asset(a.id, "u-1")
        .await
        .unwrap()
        .unwrap()
        .requirements
        .is_empty());

    let added = store
        .add_treasury_addresses(a.id, "u-1", &["el1b".into(), "el1a".into(), "el1b".into()])
        .await
        .unwrap();
    assert_eq!(added, vec!["el1a".to_string(), "el1b".to_string()]);
    let left = store
        .delete_treasury_addresses(a.id, "u-1", &["el1a".into(), "el1z".into()])
        .await
        .unwrap();
    assert_eq!(left, vec!["el1b".to_string()]);
    assert!(matches!(
        store.treasury_addresses(b.id, "u-1").await,
        Err(StoreError::NotFound)
    ));

    store.delete_asset(a.id, "u-1").await.unwrap();
    assert!(store.asset(a.id, "u-1").await.unwrap().is_none());
    assert!(matches!(
        store.delete_asset(a.id, "u-1").await,
        Err(StoreError::NotFound)
    ));
}
