//! Assignment rules on both engines: issuance confirmations, GAID, categories, one ready
//! assignment per user, the treasury bound (also under concurrent creates), lock, delete, and
//! the registered user's summary.

use amphora_core::assignment::{validate_assignment, AssignmentRuleError};
use amphora_store::{
    BlockUpdate, Conflict, IndexedTx, NewAsset, NewAssetOutput, NewAssignment, OutputOwner, Store,
    StoreError, TxKind, UNKNOWN_BLINDER,
};
use amphora_testenv::store::{self as fixtures, indexed_block};

use crate::contract::{on_postgres, on_sqlite};

contract!(
    every_assignment_rule_is_enforced,
    concurrent_creates_never_exceed_the_treasury,
    lock_and_delete_respect_distributions,
);

pub(crate) const ASSET: &str = "assign-asset";
pub(crate) const GAID_A: &str = "GAassignA";
pub(crate) const GAID_B: &str = "GAassignB";

pub(crate) use amphora_testenv::store::txid;

/// The issuer, its users (Alice: GAID A and the asset's category; Bob: GAID B, no category;
/// Carol: no GAID) and the category.
pub(crate) struct Fixture {
    pub issuer: i64,
    pub alice: i64,
    pub bob: i64,
    pub carol: i64,
}

/// A block at `height` with the given index rows.
pub(crate) fn block(
    height: i64,
    txs: Vec<(String, TxKind)>,
    outputs: Vec<NewAssetOutput>,
    spends: Vec<amphora_store::OutputSpend>,
) -> BlockUpdate {
    BlockUpdate {
        block: indexed_block(height),
        txs: txs
            .into_iter()
            .enumerate()
            .map(|(i, (txid, kind))| IndexedTx {
                asset_uuid: ASSET.into(),
                txid,
                position: i as i64 + 1,
                kind,
            })
            .collect(),
        outputs,
        spends,
    }
}

/// A treasury output of the asset.
pub(crate) fn treasury(tx: u8, vout: i64, amount: i64, height: i64) -> NewAssetOutput {
    NewAssetOutput {
        txid: txid(tx),
        vout,
        asset_uuid: ASSET.into(),
        is_token: false,
        amount,
        script_pubkey: "0014aa".into(),
        owner: OutputOwner::Treasury,
        asset_blinder: UNKNOWN_BLINDER.into(),
        amount_blinder: UNKNOWN_BLINDER.into(),
        height,
    }
}

/// The fixture with an issuance of 1,000 to the treasury in block 1 (one confirmation).
pub(crate) async fn fixture(store: &Store) -> Fixture {
    let issuer = fixtures::issuer(store, "assign-issuer").await;
    let asset = NewAsset {
        name: "Assigned".into(),
        ticker: "ASG".into(),
        ..fixtures::non_reissuable(fixtures::new_asset(issuer, ASSET))
    };
    let issuance = fixtures::without_token(fixtures::issuance_tx(0xaa, &txid(1)));
    fixtures::issued_asset(store, &asset, &issuance).await;
    for gaid in [GAID_A, GAID_B] {
        fixtures::registered_wallet(store, gaid).await;
    }
    let alice = fixtures::registered_user(store, issuer, "Alice", Some(GAID_A)).await;
    let bob = fixtures::registered_user(store, issuer, "Bob", Some(GAID_B)).await;
    let carol = fixtures::registered_user(store, issuer, "Carol", None).await;
    let category = store
        .create_category(issuer, "Accredited", "")
        .await
        .unwrap()
        .id;
    store
        .add_category_registered_user(issuer, category, alice)
        .await
        .unwrap();
    store
        .add_asset_category(issuer, ASSET, category)
        .await
        .unwrap();
    store
        .apply_block(&block(
            1,
            vec![(txid(1), TxKind::Issuance)],
            vec![treasury(1, 0, 1_000, 1)],
            vec![],
        ))
        .await
        .unwrap();
    Fixture {
        issuer,
        alice,
        bob,
        carol,
    }
}

/// Adds an empty block: the issuance gets its second confirmation.
pub(crate) async fn second_confirmation(store: &Store) {
    store
        .apply_block(&block(2, vec![], vec![], vec![]))
        .await
        .unwrap();
}

pub(crate) fn new(f: &Fixture, user: i64, amount: i64, ready: bool) -> NewAssignment {
    NewAssignment {
        issuer_id: f.issuer,
        asset_uuid: ASSET.into(),
        input: validate_assignment(user, amount, ready, None).unwrap(),
        creator_manager_id: None,
    }
}

fn refused(
    result: Result<amphora_store::Assignment, StoreError>,
    rule: impl Fn(&AssignmentRuleError) -> bool,
) {
    match result {
        Err(StoreError::Conflict(Conflict::Assignment(refusal))) => {
            assert!(rule(&refusal), "unexpected refusal {refusal:?}")
        }
        other => panic!("expected an assignment rule's refusal, got {other:?}"),
    }
}

/// The user is refused for lacking the asset's categories.
fn missing_categories(user: i64) -> impl Fn(&AssignmentRuleError) -> bool {
    move |rule| {
        matches!(rule, AssignmentRuleError::MissingCategories { registered_user, missing }
            if *registered_user == user && !missing.is_empty())
    }
}

async fn every_assignment_rule_is_enforced(store: Store) {
    let f = fixture(&store).await;
    refused(
        store.create_assignment(&new(&f, f.alice, 10, true)).await,
        |rule| *rule == AssignmentRuleError::IssuanceNotConfirmed { confirmations: 1 },
    );
    second_confirmation(&store).await;
    // No GAID is no obstacle to an assignment (the seed's rule; the distribution refuses):
    // Carol, without one, is refused only for the asset's category.
    refused(
        store.create_assignment(&new(&f, f.carol, 10, true)).await,
        missing_categories(f.carol),
    );
    refused(
        store.create_assignment(&new(&f, f.bob, 10, true)).await,
        missing_categories(f.bob),
    );
    let first = store
        .create_assignment(&new(&f, f.alice, 600, true))
        .await
        .unwrap();
    assert_eq!(
        (
            first.amount,
            first.ready_for_distribution,
            first.is_distributed
        ),
        (600, true, false)
    );
    refused(
        store.create_assignment(&new(&f, f.alice, 10, true)).await,
        |rule| {
            *rule
                == AssignmentRuleError::AlreadyReady {
                    registered_user: f.alice,
                }
        },
    );
    store
        .create_assignment(&new(&f, f.alice, 400, false))
        .await
        .unwrap();
    refused(
        store.create_assignment(&new(&f, f.alice, 1, false)).await,
        |rule| {
            *rule
                == AssignmentRuleError::InsufficientFunds {
                    requested: 1,
                    assigned: 1_000,
                    treasury: 1_000,
                }
        },
    );
    assert_eq!(
        store.treasury_confirmed_balance(ASSET).await.unwrap(),
        1_000
    );
    assert_eq!(store.assignment_totals(ASSET).await.unwrap(), (1_000, 0));
    // Unknown user or asset.
    assert!(matches!(
        store.create_assignment(&new(&f, 999_999, 1, false)).await,
        Err(StoreError::NotFound)
    ));
    let mut other = new(&f, f.alice, 1, false);
    other.asset_uuid = "nope".into();
    assert!(matches!(
        store.create_assignment(&other).await,
        Err(StoreError::NotFound)
    ));
    let listed = store.assignments(f.issuer, ASSET, None).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(store
        .assignments(f.issuer, ASSET, Some(true))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .assignments(f.issuer, ASSET, Some(false))
            .await
            .unwrap()
            .len(),
        2
    );
    // Another issuer sees nothing.
    assert!(store
        .assignments(f.issuer + 1000, ASSET, None)
        .await
        .unwrap()
        .is_empty());
    let summary = store
        .registered_user_summary(f.issuer, f.alice)
        .await
        .unwrap();
    assert_eq!(summary.len(), 1);
    assert_eq!(
        (summary[0].assignments_sum, summary[0].distributions_sum),
        (1_000, 0)
    );
    assert_eq!(
        summary[0].asset_id.as_deref(),
        Some("aa".repeat(32).as_str())
    );
    crate::aggregates::assert_aggregates_match(&store, ASSET).await;
}

async fn concurrent_creates_never_exceed_the_treasury(store: Store) {
    let f = fixture(&store).await;
    second_confirmation(&store).await;
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let store = store.clone();
            let request = new(&f, f.alice, 100, false);
            tokio::spawn(async move { store.create_assignment(&request).await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::Conflict(Conflict::Assignment(
                AssignmentRuleError::InsufficientFunds { requested: 100, .. },
            ))) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(created, 10);
    assert_eq!(store.assignment_totals(ASSET).await.unwrap(), (1_000, 0));
    crate::aggregates::assert_aggregates_match(&store, ASSET).await;
}

async fn lock_and_delete_respect_distributions(store: Store) {
    let f = fixture(&store).await;
    second_confirmation(&store).await;
    let a = store
        .create_assignment(&new(&f, f.alice, 300, true))
        .await
        .unwrap();
    let locked = store
        .set_assignment_locked(f.issuer, ASSET, a.id, true)
        .await
        .unwrap();
    assert!(locked.is_locked);
    let unlocked = store
        .set_assignment_locked(f.issuer, ASSET, a.id, false)
        .await
        .unwrap();
    assert!(!unlocked.is_locked);
    assert!(matches!(
        store
            .set_assignment_locked(f.issuer, ASSET, 424_242, true)
            .await,
        Err(StoreError::NotFound)
    ));
    store
        .delete_assignment(f.issuer, ASSET, a.id)
        .await
        .unwrap();
    assert!(store
        .assignment(f.issuer, ASSET, a.id)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        store.delete_assignment(f.issuer, ASSET, a.id).await,
        Err(StoreError::NotFound)
    ));
    // The deleted one no longer counts: a new ready assignment of the full balance fits.
    let b = store
        .create_assignment(&new(&f, f.alice, 1_000, true))
        .await
        .unwrap();
    assert_eq!(b.amount, 1_000);
    crate::aggregates::assert_aggregates_match(&store, ASSET).await;
}
