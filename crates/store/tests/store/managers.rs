//! Managers: creation (locked, scoped to their issuer), token revocation by lock and password
//! change, and asset grants, on both engines.

use amphora_store::{Store, StoreError};
use chrono::{Duration, Utc};

use crate::contract::{on_postgres, on_sqlite};

contract!(
    managers_are_created_locked_and_scoped_to_their_issuer,
    manager_tokens_are_revoked_by_lock_and_password_change,
    manager_asset_grants,
);

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
