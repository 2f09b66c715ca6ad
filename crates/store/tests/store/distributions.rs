//! Distributions on both engines: eligibility, create, cancel and re-create, recording the
//! paying transaction (idempotent, one transaction, lost inputs attributed), outstanding
//! batches for the follower, and the registered user's summary afterwards.

use amphora_core::assignment::validate_assignment;
use amphora_store::{
    BatchRecorded, DistributionItem, DistributionStatus, NewAssetOutput, NewDistribution,
    OutputOwner, OutputSpend, PaidBatch, Store, StoreError, TxKind, UNKNOWN_BLINDER,
};
use chrono::{Duration, Utc};

use crate::assignments::{
    block, fixture, new, second_confirmation, treasury, txid, Fixture, ASSET, GAID_A,
};
use crate::contract::{on_postgres, on_sqlite};

contract!(
    eligibility_create_cancel_and_recreate,
    recording_a_payment_is_atomic_and_idempotent,
);

fn items(ids: &[i64]) -> Vec<DistributionItem> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| DistributionItem {
            assignment_id: *id,
            gaid: GAID_A.into(),
            receiving_address: format!("el1addr{i}"),
            script_pubkey: format!("0014{i:02x}"),
            batch: 0,
        })
        .collect()
}

fn distribution(f: &Fixture, uuid: &str, ids: &[i64]) -> NewDistribution {
    NewDistribution {
        uuid: uuid.into(),
        issuer_id: f.issuer,
        asset_uuid: ASSET.into(),
        batches: 1,
        items: items(ids),
    }
}

async fn eligibility_create_cancel_and_recreate(store: Store) {
    let f = fixture(&store).await;
    second_confirmation(&store).await;
    let ready = store
        .create_assignment(&new(&f, f.alice, 300, true))
        .await
        .unwrap();
    let not_ready = store
        .create_assignment(&new(&f, f.alice, 100, false))
        .await
        .unwrap();
    let mut vesting = new(&f, f.alice, 50, false);
    vesting.input = validate_assignment(
        f.alice,
        50,
        false,
        Some((Utc::now() + Duration::days(1)).timestamp()),
    )
    .unwrap();
    store.create_assignment(&vesting).await.unwrap();
    let now = Utc::now();
    let eligible = store
        .eligible_assignments(f.issuer, ASSET, now)
        .await
        .unwrap();
    assert_eq!(eligible.len(), 1);
    assert_eq!(eligible[0].assignment.id, ready.id);
    assert_eq!(eligible[0].default_gaid.as_deref(), Some(GAID_A));
    store
        .set_assignment_locked(f.issuer, ASSET, ready.id, true)
        .await
        .unwrap();
    assert!(store
        .eligible_assignments(f.issuer, ASSET, now)
        .await
        .unwrap()
        .is_empty());
    store
        .set_assignment_locked(f.issuer, ASSET, ready.id, false)
        .await
        .unwrap();

    // An assignment that is not eligible cannot be stamped: nothing is recorded.
    let err = store
        .create_distribution(&distribution(&f, "d-bad", &[ready.id, not_ready.id]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(store
        .distribution(f.issuer, ASSET, "d-bad")
        .await
        .unwrap()
        .is_none());

    let d1 = store
        .create_distribution(&distribution(&f, "d-1", &[ready.id]))
        .await
        .unwrap();
    assert_eq!(d1.status, DistributionStatus::Unconfirmed);
    let stamped = store
        .assignment(f.issuer, ASSET, ready.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stamped.distribution_uuid.as_deref(), Some("d-1"));
    assert_eq!(stamped.receiving_address.as_deref(), Some("el1addr0"));
    assert!(store
        .eligible_assignments(f.issuer, ASSET, now)
        .await
        .unwrap()
        .is_empty());
    // Part of a distribution: no lock, no delete.
    assert!(matches!(
        store
            .set_assignment_locked(f.issuer, ASSET, ready.id, true)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.delete_assignment(f.issuer, ASSET, ready.id).await,
        Err(StoreError::Conflict(_))
    ));
    let outstanding = store.outstanding_distribution_batches(None).await.unwrap();
    assert_eq!(outstanding.len(), 1);
    assert_eq!(outstanding[0].assignments[0].id, ready.id);
    // By receiving script: only the batches with a recipient on one of the scripts.
    let to = |asset: &'static str, scripts: &[&str]| {
        let scripts: Vec<String> = scripts.iter().map(|s| s.to_string()).collect();
        let store = store.clone();
        async move {
            store
                .outstanding_distribution_batches_to(asset, &scripts)
                .await
                .unwrap()
        }
    };
    let paying = to(ASSET, &["0014ff", "001400"]).await;
    assert_eq!(paying.len(), 1);
    assert_eq!(
        (paying[0].distribution_uuid.as_str(), paying[0].batch),
        ("d-1", 0)
    );
    assert_eq!(paying[0].assignments[0].id, ready.id);
    assert!(to(ASSET, &["0014ff"]).await.is_empty());
    assert!(to("another-asset", &["001400"]).await.is_empty());

    let cancelled = store
        .cancel_distribution(f.issuer, ASSET, "d-1")
        .await
        .unwrap();
    assert_eq!(cancelled.status, DistributionStatus::Cancelled);
    assert!(matches!(
        store.cancel_distribution(f.issuer, ASSET, "d-1").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store
        .distributions(f.issuer, ASSET)
        .await
        .unwrap()
        .is_empty());
    let released = store
        .assignment(f.issuer, ASSET, ready.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(released.distribution_uuid, None);
    assert_eq!(released.receiving_address, None);
    assert!(store
        .outstanding_distribution_batches(Some(ASSET))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .outstanding_distribution_batches_to(ASSET, &["001400".into()])
        .await
        .unwrap()
        .is_empty());

    // A new distribution works after the cancel.
    store
        .create_distribution(&distribution(&f, "d-2", &[ready.id]))
        .await
        .unwrap();
    let listed = store.distributions(f.issuer, ASSET).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].uuid, "d-2");
    assert!(matches!(
        store.cancel_distribution(f.issuer + 99, ASSET, "d-2").await,
        Err(StoreError::NotFound)
    ));
    crate::aggregates::assert_aggregates_match(&store, ASSET).await;
}

fn wallet_output(tx: u8, vout: i64, amount: i64, height: i64) -> NewAssetOutput {
    NewAssetOutput {
        owner: OutputOwner::Wallet {
            wid: amphora_testenv::store::wid_of(GAID_A),
            gaid: GAID_A.into(),
        },
        asset_blinder: "11".repeat(32),
        amount_blinder: "22".repeat(32),
        ..treasury(tx, vout, amount, height)
    }
}

async fn recording_a_payment_is_atomic_and_idempotent(store: Store) {
    let f = fixture(&store).await;
    second_confirmation(&store).await;
    let a = store
        .create_assignment(&new(&f, f.alice, 300, true))
        .await
        .unwrap();
    store
        .create_distribution(&distribution(&f, "d-pay", &[a.id]))
        .await
        .unwrap();
    // The follower indexed the paying transaction (9) first and, not recognising it, marked
    // the treasury input lost; the change output (vout 1) was unknown to it.
    store
        .apply_block(&block(
            3,
            vec![(txid(9), TxKind::Unknown)],
            vec![wallet_output(9, 0, 300, 3)],
            vec![OutputSpend {
                txid: txid(1),
                vout: 0,
                spent_txid: txid(9),
                spent_vin: 0,
                lost: true,
            }],
        ))
        .await
        .unwrap();
    let paid = PaidBatch {
        uuid: "d-pay".into(),
        batches: vec![0],
        txid: txid(9),
        height: 3,
        block_time: 1_700_000_180,
        recorded_by: "confirm".into(),
        payments: vec![(a.id, 0)],
        outputs: vec![wallet_output(9, 0, 300, 3), treasury(9, 1, 700, 3)],
    };
    // A payment for an assignment outside the distribution changes nothing.
    let mut wrong = paid.clone();
    wrong.payments.push((a.id + 1000, 5));
    assert!(matches!(
        store.record_distribution_batch(&wrong).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.asset_output(&txid(9), 1).await.unwrap().is_none());

    assert_eq!(
        store.record_distribution_batch(&paid).await.unwrap(),
        BatchRecorded::Recorded { confirmed: true }
    );
    assert_eq!(
        store.record_distribution_batch(&paid).await.unwrap(),
        BatchRecorded::AlreadyRecorded
    );
    let mut other = paid.clone();
    other.txid = txid(10);
    assert!(matches!(
        store.record_distribution_batch(&other).await,
        Err(StoreError::Conflict(_))
    ));
    let d = store
        .distribution(f.issuer, ASSET, "d-pay")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, DistributionStatus::Confirmed);
    assert_eq!(d.transactions.len(), 1);
    assert_eq!(
        (
            d.transactions[0].txid.as_str(),
            d.transactions[0].included_blockheight
        ),
        (txid(9).as_str(), 3)
    );
    let done = store
        .assignment(f.issuer, ASSET, a.id)
        .await
        .unwrap()
        .unwrap();
    assert!(done.is_distributed);
    assert_eq!(
        (done.txid.as_deref(), done.vout),
        (Some(txid(9).as_str()), Some(0))
    );
    // The input is attributed (not lost), the change is the treasury's, the wallet output got
    // no new blinders (it had them).
    let input = store.asset_output(&txid(1), 0).await.unwrap().unwrap();
    assert!(!input.is_lost);
    let change = store.asset_output(&txid(9), 1).await.unwrap().unwrap();
    assert_eq!(change.output.owner, OutputOwner::Treasury);
    assert_eq!(change.output.asset_blinder, UNKNOWN_BLINDER);
    assert_eq!(store.treasury_confirmed_balance(ASSET).await.unwrap(), 700);
    assert!(matches!(
        store.cancel_distribution(f.issuer, ASSET, "d-pay").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store
        .outstanding_distribution_batches(None)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .outstanding_distribution_batches_to(ASSET, &["001400".into()])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.distribution_batches_paid_by(&txid(9)).await.unwrap(),
        vec![("d-pay".to_string(), 0)]
    );
    assert_eq!(store.assignment_totals(ASSET).await.unwrap(), (300, 300));
    let summary = store
        .registered_user_summary(f.issuer, f.alice)
        .await
        .unwrap();
    assert_eq!(
        (
            summary[0].assignments_sum,
            summary[0].distributions_sum,
            summary[0].balance
        ),
        (300, 300, 300)
    );
    // Distributed: the user may get a new ready assignment, bounded by the treasury (700).
    store
        .create_assignment(&new(&f, f.alice, 700, true))
        .await
        .unwrap();
    crate::aggregates::assert_aggregates_match(&store, ASSET).await;
}
