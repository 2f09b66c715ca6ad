//! Wallets, registered users (CRUD, GAIDs, creator), categories and their membership, and
//! the isolation of one issuer's people from another's, on both engines.

use amphora_store::{Store, StoreError};

use crate::contract::{on_postgres, on_sqlite};

contract!(
    wallet_registration_is_idempotent,
    registered_users_crud,
    registered_user_gaids,
    categories_crud_and_membership,
    issuers_are_isolated,
    registered_users_record_their_creator,
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
