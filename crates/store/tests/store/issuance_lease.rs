//! Issuance ownership: recovery only takes over issuances no live replica owns, and two
//! replicas never both take one.

use std::time::Duration;

use amphora_store::{IssuanceStatus, Store};

use crate::contract::{issuance_tx, new_asset, on_postgres, on_sqlite};

contract!(
    a_live_replicas_issuance_is_never_claimed,
    an_expired_or_unowned_issuance_is_claimed_once,
    concurrent_claims_have_one_winner,
);

const LONG: Duration = Duration::from_secs(60);

async fn a_live_replicas_issuance_is_never_claimed(store: Store) {
    let issuer = store.create_issuer("alice", "h").await.unwrap();
    let pending = store
        .create_owned_issuance(&new_asset(issuer.id, "u-1"), "replica-a", LONG)
        .await
        .unwrap();
    assert_eq!(pending.status, IssuanceStatus::Pending);
    store
        .set_asset_issuance_tx("u-1", &issuance_tx(1))
        .await
        .unwrap();
    assert!(store
        .claim_orphaned_issuances("replica-b", LONG)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .renew_issuance_lease("u-1", "replica-a", LONG)
        .await
        .unwrap());
    assert!(!store
        .renew_issuance_lease("u-1", "replica-b", LONG)
        .await
        .unwrap());
    assert!(store
        .claim_orphaned_issuances("replica-b", LONG)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.issuance_owner("u-1").await.unwrap().as_deref(),
        Some("replica-a")
    );
    // Still unfinished (the owner is at work), not failed.
    assert_eq!(store.unfinished_issuances().await.unwrap().len(), 1);
}

async fn an_expired_or_unowned_issuance_is_claimed_once(store: Store) {
    let issuer = store.create_issuer("alice", "h").await.unwrap();
    store
        .create_owned_issuance(
            &new_asset(issuer.id, "u-1"),
            "replica-a",
            Duration::from_millis(50),
        )
        .await
        .unwrap();
    // Written without an owner (before the owner column, or by `create_asset`).
    store
        .create_asset(&new_asset(issuer.id, "u-2"))
        .await
        .unwrap();
    // Released by its owner after a transient failure.
    store
        .create_owned_issuance(&new_asset(issuer.id, "u-3"), "replica-c", LONG)
        .await
        .unwrap();
    store
        .release_issuance_lease("u-3", "replica-c")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;

    let claimed: Vec<String> = store
        .claim_orphaned_issuances("replica-b", LONG)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.issuance.uuid)
        .collect();
    assert_eq!(claimed.len(), 3);
    for uuid in ["u-1", "u-2", "u-3"] {
        assert!(claimed.iter().any(|c| c == uuid), "{uuid}");
        assert_eq!(
            store.issuance_owner(uuid).await.unwrap().as_deref(),
            Some("replica-b")
        );
    }
    // Claimed now: nobody else gets them, and the old owner cannot renew.
    assert!(store
        .claim_orphaned_issuances("replica-d", LONG)
        .await
        .unwrap()
        .is_empty());
    assert!(!store
        .renew_issuance_lease("u-1", "replica-a", LONG)
        .await
        .unwrap());
    // A finished issuance is not renewed or claimed.
    store.set_asset_failed("u-2", "refused").await.unwrap();
    assert!(!store
        .renew_issuance_lease("u-2", "replica-b", LONG)
        .await
        .unwrap());
}

async fn concurrent_claims_have_one_winner(store: Store) {
    let issuer = store.create_issuer("alice", "h").await.unwrap();
    for n in 0..5 {
        store
            .create_asset(&new_asset(issuer.id, &format!("u-{n}")))
            .await
            .unwrap();
    }
    let claims: Vec<_> = (0..4)
        .map(|r| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_orphaned_issuances(&format!("replica-{r}"), LONG)
                    .await
                    .unwrap()
                    .len()
            })
        })
        .collect();
    let mut total = 0;
    for claim in claims {
        total += claim.await.unwrap();
    }
    assert_eq!(total, 5, "every issuance is claimed exactly once");
}
