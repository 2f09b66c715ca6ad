//! Store contract tests: every test runs against SQLite (a fresh file) and PostgreSQL (a fresh
//! schema in `AMPHORA_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`).
//! If PostgreSQL is unreachable the PostgreSQL tests fail with a clear message.

use std::future::Future;
use std::str::FromStr;

use amphora_store::{Engine, IssuanceStatus, IssuanceTx, NewAsset, Store, StoreError};
use chrono::{Duration, Utc};
use sqlx::postgres::PgConnectOptions;
use sqlx::Connection;

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

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

/// Runs `test` against a migrated PostgreSQL store in its own schema, dropped afterwards (also
/// when the test panics).
pub(crate) async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let url =
        std::env::var("AMPHORA_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string());
    let base = PgConnectOptions::from_str(&url).expect("AMPHORA_TEST_DATABASE_URL is a valid URL");
    let mut admin = sqlx::PgConnection::connect_with(&base)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is unreachable at {url} ({e}); start it (see .ci/run)")
        });
    let schema = format!("amphora_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let options = base.options([("search_path", schema.as_str())]);
    let store = Store::connect_postgres(options).await.unwrap();
    assert_eq!(store.engine(), Engine::Postgres);
    store.migrate().await.unwrap();
    let outcome = tokio::spawn(test(store.clone())).await;
    store.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
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
    wallet_registration_is_idempotent,
    registered_users_crud,
    registered_user_gaids,
    categories_crud_and_membership,
    issuers_are_isolated,
    managers_are_created_locked_and_scoped_to_their_issuer,
    manager_tokens_are_revoked_by_lock_and_password_change,
    manager_asset_grants,
    registered_users_record_their_creator,
    audit_log_pages_per_issuer,
    asset_issuance_lifecycle,
    asset_settings_requirements_and_treasury,
);

const GAID_A: &str = "GAtestwalletA";
const GAID_B: &str = "GAtestwalletB";

async fn two_wallets(store: &Store) {
    store
        .register_wallet("wid-a", "ct(a,elwsh(multi(2,a,b)))", GAID_A)
        .await
        .unwrap();
    store
        .register_wallet("wid-b", "ct(b,elwsh(multi(2,a,b)))", GAID_B)
        .await
        .unwrap();
}

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

async fn wallet_registration_is_idempotent(store: Store) {
    let first = store.register_wallet("w1", "desc1", "GA1").await.unwrap();
    let again = store.register_wallet("w1", "desc1", "GA1").await.unwrap();
    assert_eq!(first, again);
    assert_eq!(store.wallet_by_gaid("GA1").await.unwrap().unwrap(), first);
    assert_eq!(store.wallet("w1").await.unwrap().unwrap(), first);
    assert!(store.wallet_by_gaid("GA2").await.unwrap().is_none());
    let err = store
        .register_wallet("w2", "desc1", "GA2")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = store
        .register_wallet("w1", "desc9", "GA1")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn registered_users_crud(store: Store) {
    two_wallets(&store).await;
    let issuer = store.create_issuer("alice", "h").await.unwrap();
    let bob = store
        .create_registered_user(issuer.id, "Bob", false, Some(GAID_A), None)
        .await
        .unwrap();
    assert_eq!(bob.name, "Bob");
    assert!(!bob.is_company);
    assert_eq!(bob.default_gaid.as_deref(), Some(GAID_A));
    assert_eq!(bob.gaids, [GAID_A]);
    let acme = store
        .create_registered_user(issuer.id, "ACME", true, None, None)
        .await
        .unwrap();
    assert_eq!(acme.default_gaid, None);
    assert!(acme.gaids.is_empty());

    let all = store.registered_users(issuer.id).await.unwrap();
    assert_eq!(all, vec![bob.clone(), acme.clone()]);

    let renamed = store
        .rename_registered_user(issuer.id, bob.id, "Robert")
        .await
        .unwrap();
    assert_eq!(renamed.name, "Robert");
    assert_eq!(
        store.registered_user(issuer.id, bob.id).await.unwrap(),
        Some(renamed)
    );

    // the GAID is taken by Bob
    let err = store
        .create_registered_user(issuer.id, "Eve", false, Some(GAID_A), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // and the failed insert left nothing behind
    assert_eq!(store.registered_users(issuer.id).await.unwrap().len(), 2);
    // an unknown GAID is refused
    let err = store
        .create_registered_user(issuer.id, "Eve", false, Some("GAunknown"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    store
        .delete_registered_user(issuer.id, bob.id)
        .await
        .unwrap();
    assert!(store
        .registered_user(issuer.id, bob.id)
        .await
        .unwrap()
        .is_none());
    let err = store
        .delete_registered_user(issuer.id, bob.id)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
    // Bob's GAID is free again
    store
        .add_registered_user_gaid(issuer.id, acme.id, GAID_A, None)
        .await
        .unwrap();
}

async fn registered_user_gaids(store: Store) {
    two_wallets(&store).await;
    let issuer = store.create_issuer("alice", "h").await.unwrap();
    let user = store
        .create_registered_user(issuer.id, "Bob", false, None, None)
        .await
        .unwrap();
    let user = store
        .add_registered_user_gaid(issuer.id, user.id, GAID_A, None)
        .await
        .unwrap();
    assert_eq!(user.default_gaid.as_deref(), Some(GAID_A));
    let user = store
        .add_registered_user_gaid(issuer.id, user.id, GAID_B, None)
        .await
        .unwrap();
    assert_eq!(user.gaids, [GAID_A, GAID_B]);
    assert_eq!(user.default_gaid.as_deref(), Some(GAID_A));
    // adding again changes nothing
    let same = store
        .add_registered_user_gaid(issuer.id, user.id, GAID_B, None)
        .await
        .unwrap();
    assert_eq!(same, user);
    let user = store
        .set_default_gaid(issuer.id, user.id, GAID_B, None)
        .await
        .unwrap();
    assert_eq!(user.default_gaid.as_deref(), Some(GAID_B));
    let err = store
        .set_default_gaid(issuer.id, user.id, "GAother", None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let found = store
        .registered_user_by_gaid(issuer.id, GAID_B)
        .await
        .unwrap();
    assert_eq!(found, Some(user.clone()));
    let other = store
        .create_registered_user(issuer.id, "Carol", false, None, None)
        .await
        .unwrap();
    let err = store
        .add_registered_user_gaid(issuer.id, other.id, GAID_A, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = store
        .add_registered_user_gaid(issuer.id, 9999, GAID_A, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
}

async fn categories_crud_and_membership(store: Store) {
    let issuer = store.create_issuer("alice", "h").await.unwrap();
    let eu = store
        .create_category(issuer.id, "EU", "European investors")
        .await
        .unwrap();
    assert_eq!(eu.name, "EU");
    assert!(eu.registered_users.is_empty());
    let us = store.create_category(issuer.id, "US", "").await.unwrap();
    assert_eq!(
        store.categories(issuer.id).await.unwrap(),
        vec![eu.clone(), us.clone()]
    );

    let eu = store
        .update_category(issuer.id, eu.id, Some("Europe"), None)
        .await
        .unwrap();
    assert_eq!(
        (eu.name.as_str(), eu.description.as_str()),
        ("Europe", "European investors")
    );
    let eu = store
        .update_category(issuer.id, eu.id, None, Some(""))
        .await
        .unwrap();
    assert_eq!((eu.name.as_str(), eu.description.as_str()), ("Europe", ""));

    let bob = store
        .create_registered_user(issuer.id, "Bob", false, None, None)
        .await
        .unwrap();
    let eu = store
        .add_category_registered_user(issuer.id, eu.id, bob.id)
        .await
        .unwrap();
    assert_eq!(eu.registered_users, [bob.id]);
    // idempotent
    let eu = store
        .add_category_registered_user(issuer.id, eu.id, bob.id)
        .await
        .unwrap();
    assert_eq!(eu.registered_users, [bob.id]);
    store
        .add_category_registered_user(issuer.id, us.id, bob.id)
        .await
        .unwrap();
    let bob_now = store
        .registered_user(issuer.id, bob.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob_now.categories, [eu.id, us.id]);

    let eu = store
        .remove_category_registered_user(issuer.id, eu.id, bob.id)
        .await
        .unwrap();
    assert!(eu.registered_users.is_empty());
    let err = store
        .add_category_registered_user(issuer.id, eu.id, 9999)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));

    store.delete_category(issuer.id, us.id).await.unwrap();
    let bob_now = store
        .registered_user(issuer.id, bob.id)
        .await
        .unwrap()
        .unwrap();
    assert!(bob_now.categories.is_empty());
    assert!(matches!(
        store.delete_category(issuer.id, us.id).await.unwrap_err(),
        StoreError::NotFound
    ));
    assert!(matches!(
        store
            .update_category(issuer.id, us.id, Some("x"), None)
            .await
            .unwrap_err(),
        StoreError::NotFound
    ));
}

async fn issuers_are_isolated(store: Store) {
    two_wallets(&store).await;
    let a = store.create_issuer("alice", "h").await.unwrap();
    let b = store.create_issuer("bob", "h").await.unwrap();
    let user = store
        .create_registered_user(a.id, "Investor", false, Some(GAID_A), None)
        .await
        .unwrap();
    let category = store.create_category(a.id, "EU", "").await.unwrap();

    assert!(store.registered_users(b.id).await.unwrap().is_empty());
    assert!(store.categories(b.id).await.unwrap().is_empty());
    assert!(store
        .registered_user(b.id, user.id)
        .await
        .unwrap()
        .is_none());
    assert!(store.category(b.id, category.id).await.unwrap().is_none());
    assert!(store
        .registered_user_by_gaid(b.id, GAID_A)
        .await
        .unwrap()
        .is_none());
    let not_found = |r: Result<_, StoreError>| matches!(r, Err(StoreError::NotFound));
    assert!(not_found(
        store
            .rename_registered_user(b.id, user.id, "x")
            .await
            .map(|_| ())
    ));
    assert!(not_found(store.delete_registered_user(b.id, user.id).await));
    assert!(not_found(
        store
            .add_registered_user_gaid(b.id, user.id, GAID_B, None)
            .await
            .map(|_| ())
    ));
    assert!(not_found(store.delete_category(b.id, category.id).await));
    // B's category cannot take A's user, and A's category cannot be used by B
    let b_category = store.create_category(b.id, "B", "").await.unwrap();
    assert!(not_found(
        store
            .add_category_registered_user(b.id, b_category.id, user.id)
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        store
            .add_category_registered_user(b.id, category.id, user.id)
            .await
            .map(|_| ())
    ));
    // the same wallet may be a registered user of both issuers
    store
        .create_registered_user(b.id, "Same investor", false, Some(GAID_A), None)
        .await
        .unwrap();
    assert_eq!(store.registered_users(a.id).await.unwrap(), vec![user]);
}

async fn managers_are_created_locked_and_scoped_to_their_issuer(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let b = store.create_issuer("bob", "h").await.unwrap();
    let manager = store.create_manager(a.id, "mgr", "mh").await.unwrap();
    assert!(manager.is_locked);
    assert_eq!(manager.issuer_id, a.id);
    assert!(manager.assets.is_empty());
    // usernames are unique across issuers and managers
    for taken in ["mgr", "alice", "bob"] {
        let err = store.create_manager(b.id, taken, "x").await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{taken}");
    }
    let err = store.create_issuer("mgr", "x").await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));

    assert_eq!(store.managers(a.id).await.unwrap(), vec![manager.clone()]);
    assert!(store.managers(b.id).await.unwrap().is_empty());
    assert_eq!(
        store.manager(a.id, manager.id).await.unwrap(),
        Some(manager.clone())
    );
    assert_eq!(store.manager(b.id, manager.id).await.unwrap(), None);
    assert_eq!(
        store.manager_by_username("mgr").await.unwrap(),
        Some(manager.clone())
    );
    assert_eq!(store.manager_by_username("alice").await.unwrap(), None);

    let unlocked = store
        .set_manager_locked(a.id, manager.id, false)
        .await
        .unwrap();
    assert!(!unlocked.is_locked);
    let err = store
        .set_manager_locked(b.id, manager.id, true)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
    assert!(
        !store
            .manager_by_id(manager.id)
            .await
            .unwrap()
            .unwrap()
            .is_locked
    );
}

async fn manager_tokens_are_revoked_by_lock_and_password_change(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let manager = store.create_manager(a.id, "mgr", "mh").await.unwrap();
    let later = Utc::now() + Duration::hours(1);
    store
        .insert_token(a.id, "issuer-token", later)
        .await
        .unwrap();
    let token = store
        .insert_manager_token(a.id, manager.id, "m1", later)
        .await
        .unwrap();
    assert_eq!(token.manager_id, Some(manager.id));
    assert_eq!(token.issuer_id, a.id);
    assert_eq!(
        store
            .token("issuer-token")
            .await
            .unwrap()
            .unwrap()
            .manager_id,
        None
    );

    store
        .set_manager_locked(a.id, manager.id, true)
        .await
        .unwrap();
    assert!(store.token("m1").await.unwrap().is_none());
    store
        .insert_manager_token(a.id, manager.id, "m2", later)
        .await
        .unwrap();
    // unlocking revokes nothing; a password change revokes the manager's tokens only
    store
        .set_manager_locked(a.id, manager.id, false)
        .await
        .unwrap();
    assert!(store.token("m2").await.unwrap().is_some());
    store
        .set_manager_password(a.id, manager.id, "new")
        .await
        .unwrap();
    assert!(store.token("m2").await.unwrap().is_none());
    assert!(store.token("issuer-token").await.unwrap().is_some());
    assert_eq!(
        store
            .manager(a.id, manager.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new"
    );
    let err = store
        .set_manager_password(a.id, 9999, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));

    // the issuer's password change leaves its managers' tokens alone
    store
        .insert_manager_token(a.id, manager.id, "m3", later)
        .await
        .unwrap();
    store.set_issuer_password(a.id, "new").await.unwrap();
    assert!(store.token("issuer-token").await.unwrap().is_none());
    assert!(store.token("m3").await.unwrap().is_some());
}

async fn manager_asset_grants(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let b = store.create_issuer("bob", "h").await.unwrap();
    let manager = store.create_manager(a.id, "mgr", "mh").await.unwrap();
    // no such asset
    assert!(!store.asset_exists(a.id, "u-1").await.unwrap());
    let granted = store
        .add_manager_asset(a.id, manager.id, "u-2")
        .await
        .unwrap();
    assert_eq!(granted.assets, vec!["u-2".to_string()]);
    // idempotent, sorted
    store
        .add_manager_asset(a.id, manager.id, "u-2")
        .await
        .unwrap();
    let granted = store
        .add_manager_asset(a.id, manager.id, "u-1")
        .await
        .unwrap();
    assert_eq!(granted.assets, vec!["u-1".to_string(), "u-2".to_string()]);
    assert_eq!(
        store.managers(a.id).await.unwrap()[0].assets,
        granted.assets
    );
    // another issuer can neither grant nor remove
    let err = store
        .add_manager_asset(b.id, manager.id, "u-3")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
    let err = store
        .remove_manager_asset(b.id, manager.id, "u-1")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
    let removed = store
        .remove_manager_asset(a.id, manager.id, "u-1")
        .await
        .unwrap();
    assert_eq!(removed.assets, vec!["u-2".to_string()]);
    let err = store
        .remove_manager_asset(a.id, manager.id, "u-1")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
}

async fn registered_users_record_their_creator(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let manager = store.create_manager(a.id, "mgr", "mh").await.unwrap();
    let by_manager = store
        .create_registered_user(a.id, "By manager", false, None, Some(manager.id))
        .await
        .unwrap();
    assert_eq!(by_manager.creator_manager_id, Some(manager.id));
    let by_issuer = store
        .create_registered_user(a.id, "By issuer", false, None, None)
        .await
        .unwrap();
    assert_eq!(by_issuer.creator_manager_id, None);
    let listed = store.registered_users(a.id).await.unwrap();
    assert_eq!(listed, vec![by_manager, by_issuer]);
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

pub(crate) fn new_asset(issuer_id: i64, uuid: &str) -> NewAsset {
    NewAsset {
        uuid: uuid.to_string(),
        issuer_id,
        name: "Example Security".into(),
        amount: 17_000_000,
        destination_address: "el1dest".into(),
        domain: "example.com".into(),
        ticker: "EXSEC".into(),
        pubkey: "02ab".into(),
        precision: 2,
        is_confidential: true,
        is_reissuable: true,
        reissuance_amount: 1,
        reissuance_address: "el1token".into(),
        transfer_restricted: true,
        issuer_authorization_endpoint: None,
        contract_json: "{}".into(),
        contract_hash: "00".repeat(32),
    }
}

pub(crate) fn issuance_tx(n: u8) -> IssuanceTx {
    IssuanceTx {
        asset_id: format!("{n:02x}").repeat(32),
        reissuance_token_id: Some("ee".repeat(32)),
        tx_hex: "0200".into(),
        txid: "dd".repeat(32),
        vin: 0,
        asset_vout: 1,
        reissuance_vout: Some(2),
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
