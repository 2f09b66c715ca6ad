//! A registered user's assignment history is kept (a user with assignments cannot be deleted)
//! and a manager's GAID changes stay within its granted assets, on both engines.

use amphora_store::{Conflict, Store, StoreError};

use crate::assignments::{fixture, new, second_confirmation, ASSET};
use crate::contract::{on_postgres, on_sqlite};

contract!(
    users_with_assignments_are_kept,
    gaid_changes_are_scoped_to_the_grants,
);

const GAID_C: &str = "GAhistoryC";

async fn users_with_assignments_are_kept(store: Store) {
    let f = fixture(&store).await;
    second_confirmation(&store).await;
    let assignment = store
        .create_assignment(&new(&f, f.alice, 100, true))
        .await
        .unwrap();
    let refused = |result: Result<(), StoreError>| match result {
        Err(StoreError::Conflict(Conflict::UserHasHistory { assignments, .. })) => {
            assert!(assignments > 0, "{assignments}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    refused(store.delete_registered_user(f.issuer, f.alice).await);
    // a deleted (never distributed) assignment is history too
    store
        .delete_assignment(f.issuer, ASSET, assignment.id)
        .await
        .unwrap();
    refused(store.delete_registered_user(f.issuer, f.alice).await);
    assert!(store
        .registered_user(f.issuer, f.alice)
        .await
        .unwrap()
        .is_some());
    // a user without assignments is deleted as before
    store.delete_registered_user(f.issuer, f.bob).await.unwrap();
    assert!(store
        .registered_user(f.issuer, f.bob)
        .await
        .unwrap()
        .is_none());
}

async fn gaid_changes_are_scoped_to_the_grants(store: Store) {
    let f = fixture(&store).await;
    second_confirmation(&store).await;
    store
        .register_wallet("wid-history-c", "ct(history-c)", GAID_C)
        .await
        .unwrap();
    let assignment = store
        .create_assignment(&new(&f, f.alice, 100, true))
        .await
        .unwrap();
    let none: &[String] = &[];
    let forbidden = |result: Result<amphora_store::RegisteredUser, StoreError>| match result {
        Err(StoreError::Forbidden(why)) => {
            assert_eq!(why, amphora_store::Forbidden::UngrantedAssignments)
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    forbidden(
        store
            .add_registered_user_gaid(f.issuer, f.alice, GAID_C, Some(none))
            .await,
    );
    let alice = store
        .registered_user(f.issuer, f.alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.gaids.len(), 1, "nothing was added");
    // granted the asset: allowed
    let granted = [ASSET.to_string()];
    let alice = store
        .add_registered_user_gaid(f.issuer, f.alice, GAID_C, Some(&granted))
        .await
        .unwrap();
    assert_eq!(alice.gaids.len(), 2);
    forbidden(
        store
            .set_default_gaid(f.issuer, f.alice, GAID_C, Some(none))
            .await,
    );
    assert_ne!(
        store
            .registered_user(f.issuer, f.alice)
            .await
            .unwrap()
            .unwrap()
            .default_gaid
            .as_deref(),
        Some(GAID_C)
    );
    // the issuer is not restricted
    let alice = store
        .set_default_gaid(f.issuer, f.alice, GAID_C, None)
        .await
        .unwrap();
    assert_eq!(alice.default_gaid.as_deref(), Some(GAID_C));
    // once nothing is left to distribute, a manager may change the GAIDs
    store
        .delete_assignment(f.issuer, ASSET, assignment.id)
        .await
        .unwrap();
    let gaid_a = crate::assignments::GAID_A;
    store
        .set_default_gaid(f.issuer, f.alice, gaid_a, Some(none))
        .await
        .unwrap();
}
