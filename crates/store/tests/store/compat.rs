//! Store operations behind the AMP-compatibility routes of issue 13: a registered user's
//! categories changed all or nothing, and the one address an issuer keeps for a registered
//! wallet it does not register.

use amphora_store::{Conflict, Store, StoreError};

use crate::contract::{on_postgres, on_sqlite};

contract!(
    user_categories_change_all_or_nothing,
    an_issuer_keeps_one_address_per_foreign_wallet,
);

async fn user_categories_change_all_or_nothing(store: Store) {
    let issuer = store.create_issuer("compat", "h").await.unwrap();
    let other = store.create_issuer("other", "h").await.unwrap();
    let user = store
        .create_registered_user(issuer.id, "Investor", false, None, None)
        .await
        .unwrap();
    let a = store.create_category(issuer.id, "A", "").await.unwrap().id;
    let b = store.create_category(issuer.id, "B", "").await.unwrap().id;
    let theirs = store.create_category(other.id, "T", "").await.unwrap().id;
    let categories = |store: Store| async move {
        store
            .registered_user(issuer.id, user.id)
            .await
            .unwrap()
            .unwrap()
            .categories
    };
    store
        .change_registered_user_categories(issuer.id, user.id, &[b, a, a], true)
        .await
        .unwrap();
    assert_eq!(categories(store.clone()).await, [a, b]);
    let err = store
        .change_registered_user_categories(issuer.id, user.id, &[a, theirs], false)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(Conflict::UnknownCategories { ids }) if *ids == [theirs]),
        "{err:?}"
    );
    assert_eq!(categories(store.clone()).await, [a, b], "nothing changed");
    store
        .change_registered_user_categories(issuer.id, user.id, &[a], false)
        .await
        .unwrap();
    assert_eq!(categories(store.clone()).await, [b]);
    let err = store
        .change_registered_user_categories(other.id, user.id, &[theirs], true)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

async fn an_issuer_keeps_one_address_per_foreign_wallet(store: Store) {
    let issuer = store.create_issuer("payer", "h").await.unwrap();
    let other = store.create_issuer("payer-2", "h").await.unwrap();
    store.register_wallet("w", "ct(w)", "GAw").await.unwrap();
    assert_eq!(
        store.issuer_wallet_address(issuer.id, "w").await.unwrap(),
        None
    );
    for (index, address) in [(0, "addr-0"), (1, "addr-1"), (2, "addr-2")] {
        store
            .record_wallet_address("w", index, address)
            .await
            .unwrap();
    }
    let kept = store
        .keep_issuer_wallet_address(issuer.id, "w", "addr-0")
        .await
        .unwrap();
    assert_eq!(kept, "addr-0");
    // A later (or racing) keep answers the address kept first.
    let again = store
        .keep_issuer_wallet_address(issuer.id, "w", "addr-1")
        .await
        .unwrap();
    assert_eq!(again, "addr-0");
    assert_eq!(
        store.issuer_wallet_address(issuer.id, "w").await.unwrap(),
        Some("addr-0".to_string())
    );
    let theirs = store
        .keep_issuer_wallet_address(other.id, "w", "addr-2")
        .await
        .unwrap();
    assert_eq!(theirs, "addr-2", "each issuer keeps its own");
    // Only an address handed out for the wallet can be kept.
    assert!(store
        .keep_issuer_wallet_address(issuer.id, "nope", "addr-0")
        .await
        .is_err());
}
