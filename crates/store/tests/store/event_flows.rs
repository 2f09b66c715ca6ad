//! Every store flow writes its event in its own transaction: the issuance, confirmations from
//! blocks, assignments, distributions (created, confirmed, cancelled), reissuances, burns,
//! locks, co-signing decisions, ownership changes, lost outputs and reorgs with their
//! compensating events; a refused change writes none.

use amphora_core::event::EventType;
use amphora_store::{
    BurnCompletion, CompletedBy, CosignDecisionAsset, DistributionItem, Event, NewCosignDecision,
    NewDistribution, OutputOwner, OutputSpend, PaidBatch, ReissuanceCompletion, Store, TxKind,
    UtxoRef,
};
use serde_json::json;

use crate::assignments::{block, fixture, new, second_confirmation, treasury, txid, ASSET, GAID_A};
use crate::contract::{on_postgres, on_sqlite};

contract!(
    every_flow_emits_its_event_in_order,
    refused_changes_write_no_event,
    reorgs_compensate_chain_events_once,
    an_issuance_indexed_before_its_broadcast_is_issued_then_confirmed,
);

async fn all(store: &Store, issuer: i64) -> Vec<Event> {
    store
        .events_after(issuer, 0, &[], None, 1000)
        .await
        .unwrap()
}

fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn distribution(issuer: i64, uuid: &str, assignment: i64) -> NewDistribution {
    NewDistribution {
        uuid: uuid.into(),
        issuer_id: issuer,
        asset_uuid: ASSET.into(),
        batches: 1,
        items: vec![DistributionItem {
            assignment_id: assignment,
            gaid: GAID_A.into(),
            receiving_address: "el1addr0".into(),
            script_pubkey: "001400".into(),
            batch: 0,
        }],
    }
}

fn wallet(tx: u8, vout: i64, amount: i64, height: i64) -> amphora_store::NewAssetOutput {
    amphora_store::NewAssetOutput {
        owner: OutputOwner::Wallet {
            wid: amphora_testenv::store::wid_of(GAID_A),
            gaid: GAID_A.into(),
        },
        ..treasury(tx, vout, amount, height)
    }
}

/// The fixture's flow up to a confirmed distribution paid in block 3 whose treasury input the
/// follower marked lost: returns the issuer.
async fn distributed(store: &Store) -> i64 {
    let f = fixture(store).await;
    second_confirmation(store).await;
    let a = store
        .create_assignment(&new(&f, f.alice, 300, true))
        .await
        .unwrap();
    let b = store
        .create_assignment(&new(&f, f.alice, 100, false))
        .await
        .unwrap();
    store
        .delete_assignment(f.issuer, ASSET, b.id)
        .await
        .unwrap();
    store
        .create_distribution(&distribution(f.issuer, "d-1", a.id))
        .await
        .unwrap();
    store
        .apply_block(&block(
            3,
            vec![(txid(9), TxKind::Unknown)],
            vec![wallet(9, 0, 300, 3)],
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
        uuid: "d-1".into(),
        batches: vec![0],
        txid: txid(9),
        height: 3,
        block_time: 1_700_000_180,
        recorded_by: "follower".into(),
        payments: vec![(a.id, 0)],
        outputs: vec![wallet(9, 0, 300, 3), treasury(9, 1, 700, 3)],
    };
    store.record_distribution_batch(&paid).await.unwrap();
    // Recording it again changes nothing and emits nothing.
    store.record_distribution_batch(&paid).await.unwrap();
    f.issuer
}

async fn every_flow_emits_its_event_in_order(store: Store) {
    let issuer = distributed(&store).await;
    let events = all(&store, issuer).await;
    assert_eq!(
        types(&events),
        [
            "asset.issued",
            "ownership.changed",
            "asset.confirmed",
            "assignment.created",
            "assignment.created",
            "assignment.deleted",
            "distribution.created",
            "ownership.changed",
            "output.lost",
            "distribution.confirmed",
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.asset_uuid.as_deref() == Some(ASSET)));
    let issued = &events[0];
    assert_eq!(issued.data["asset_id"], "aa".repeat(32));
    assert_eq!(issued.data["amount"], 1_000);
    assert_eq!(issued.block_height, None);
    // Block 1: the treasury got the issuance.
    assert_eq!(events[1].block_height, Some(1));
    assert_eq!(
        events[1].data["holders"],
        json!([{"owner": "treasury", "gaid": null, "delta": 1000, "balance": 1000}])
    );
    // Block 2 gave the issuance its second confirmation.
    assert_eq!(events[2].block_height, Some(2));
    assert_eq!(events[2].data["issuance_height"], 1);
    assert_eq!(events[2].data["txid"], txid(1));
    assert_eq!(events[3].data["amount"], 300);
    assert_eq!(events[5].data["amount"], 100);
    assert_eq!(events[5].data["ready_for_distribution"], false);
    assert_eq!(events[6].data["distribution_uuid"], "d-1");
    assert_eq!(events[6].data["amount"], 300);
    // Block 3: the treasury's 1,000 left (its change was not known yet), Alice got 300.
    assert_eq!(events[7].block_height, Some(3));
    assert_eq!(
        events[7].data["holders"],
        json!([
            {"owner": "treasury", "gaid": null, "delta": -1000, "balance": 0},
            {"owner": "wallet", "gaid": GAID_A, "delta": 300, "balance": 300},
        ])
    );
    assert_eq!(events[8].data["txid"], txid(1));
    assert_eq!(events[8].data["spent_txid"], txid(9));
    assert_eq!(events[8].data["amount"], 1000);
    assert_eq!(events[9].block_height, Some(3));
    assert_eq!(
        events[9].data,
        json!({"uuid": "d-1", "txids": [txid(9)], "recorded_by": "follower"})
    );

    // Locks: a change emits, setting the same lock again does not.
    store.set_asset_locked(issuer, ASSET, true).await.unwrap();
    store.set_asset_locked(issuer, ASSET, true).await.unwrap();
    store.set_asset_locked(issuer, ASSET, false).await.unwrap();
    // A cancelled distribution.
    let f_user = store.registered_users(issuer).await.unwrap()[0].id;
    let c = store
        .create_assignment(&amphora_store::NewAssignment {
            issuer_id: issuer,
            asset_uuid: ASSET.into(),
            input: amphora_core::assignment::validate_assignment(f_user, 50, true, None).unwrap(),
            creator_manager_id: None,
        })
        .await;
    // The treasury's change (700) covers it.
    let c = c.unwrap();
    store
        .create_distribution(&distribution(issuer, "d-2", c.id))
        .await
        .unwrap();
    store
        .cancel_distribution(issuer, ASSET, "d-2")
        .await
        .unwrap();
    // Co-signing decisions about the asset.
    let moved = CosignDecisionAsset {
        asset_uuid: ASSET.into(),
        issuer_id: issuer,
        asset_id: "aa".repeat(32),
        amount: 40,
    };
    store
        .record_cosign_decision(&NewCosignDecision {
            txid: Some("t1".into()),
            approved: true,
            sender_gaid: Some(GAID_A.into()),
            recipient_gaids: vec!["GAother".into()],
            assets: vec![moved.clone()],
            ..NewCosignDecision::default()
        })
        .await
        .unwrap();
    store
        .record_cosign_decision(&NewCosignDecision {
            txid: Some("t2".into()),
            approved: false,
            reasons: vec!["asset_locked".into()],
            error: Some("the asset is locked".into()),
            assets: vec![moved],
            ..NewCosignDecision::default()
        })
        .await
        .unwrap();
    // A decision about no managed asset is no issuer's event.
    store
        .record_cosign_decision(&NewCosignDecision {
            reasons: vec!["invalid_pset".into()],
            ..NewCosignDecision::default()
        })
        .await
        .unwrap();
    // A reissuance and a burn, completed by the follower and by a confirm call.
    let utxo = UtxoRef {
        txid: txid(1),
        vout: 1,
    };
    let reissue = store
        .create_reissue_request(ASSET, 500, std::slice::from_ref(&utxo))
        .await
        .unwrap();
    let completion = ReissuanceCompletion {
        txid: txid(20),
        vin: 0,
        vout: None,
        destination_address: None,
        block_hash: String::new(),
        height: 4,
        completed_by: CompletedBy::Follower,
    };
    store
        .complete_reissuance(reissue.id, &completion, &[])
        .await
        .unwrap();
    // The confirm call that comes later changes nothing and emits nothing.
    let mut later = completion.clone();
    later.completed_by = CompletedBy::Confirm;
    store
        .complete_reissuance(reissue.id, &later, &[])
        .await
        .unwrap();
    let burn = store.create_burn_request(ASSET, 70, &[utxo]).await.unwrap();
    let burnt = BurnCompletion {
        txid: txid(21),
        block_hash: "bb".repeat(32),
        height: 5,
        completed_by: CompletedBy::Confirm,
    };
    store.complete_burn(burn.id, &burnt, &[]).await.unwrap();
    store.complete_burn(burn.id, &burnt, &[]).await.unwrap();

    let events = all(&store, issuer).await;
    let rest = &events[10..];
    assert_eq!(
        types(rest),
        [
            "asset.locked",
            "asset.unlocked",
            "assignment.created",
            "distribution.created",
            "distribution.cancelled",
            "transfer.approved",
            "transfer.refused",
            "reissuance.confirmed",
            "burn.confirmed",
        ]
    );
    assert_eq!(
        rest[0].data,
        json!({"asset_id": "aa".repeat(32), "is_locked": true})
    );
    assert_eq!(rest[4].data, json!({"distribution_uuid": "d-2"}));
    assert_eq!(rest[5].data["approved"], true);
    assert_eq!(rest[5].data["amount"], 40);
    assert_eq!(rest[5].data["recipient_gaids"], json!(["GAother"]));
    assert_eq!(rest[6].data["reasons"], json!(["asset_locked"]));
    assert_eq!(
        rest[7].data,
        json!({"request_id": reissue.id, "txid": txid(20), "amount": 500, "completed_by": "follower"})
    );
    assert_eq!(rest[7].block_height, Some(4));
    assert_eq!(rest[8].data["amount"], 70);
    assert_eq!(rest[8].data["completed_by"], "confirm");
    assert_eq!(rest[8].block_height, Some(5));
    // The ids are the feed's order.
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
    let every: std::collections::BTreeSet<EventType> =
        events.iter().map(|e| e.event_type).collect();
    // All but payouts (tested with the payout flow) and reorgs (below).
    assert_eq!(every.len(), EventType::ALL.len() - 2, "{every:?}");
}

async fn refused_changes_write_no_event(store: Store) {
    let f = fixture(&store).await;
    let before = all(&store, f.issuer).await.len();
    // One confirmation only: refused.
    assert!(store
        .create_assignment(&new(&f, f.alice, 300, true))
        .await
        .is_err());
    second_confirmation(&store).await;
    let before = before + 1; // asset.confirmed
                             // Bob is not in the asset's category; more than the treasury holds; an unknown asset.
    assert!(store
        .create_assignment(&new(&f, f.bob, 10, true))
        .await
        .is_err());
    assert!(store
        .create_assignment(&new(&f, f.alice, 5_000, true))
        .await
        .is_err());
    assert!(store
        .set_asset_locked(f.issuer + 1, ASSET, true)
        .await
        .is_err());
    let a = store
        .create_assignment(&new(&f, f.alice, 300, true))
        .await
        .unwrap();
    // A distribution the treasury cannot cover is refused whole.
    let mut too_much = distribution(f.issuer, "d-x", a.id);
    too_much.items.push(DistributionItem {
        assignment_id: a.id + 999,
        ..too_much.items[0].clone()
    });
    assert!(store.create_distribution(&too_much).await.is_err());
    // A payment of an assignment outside the distribution is refused whole.
    store
        .create_distribution(&distribution(f.issuer, "d-1", a.id))
        .await
        .unwrap();
    let wrong = PaidBatch {
        uuid: "d-1".into(),
        batches: vec![0],
        txid: txid(9),
        height: 3,
        block_time: 0,
        recorded_by: "confirm".into(),
        payments: vec![(a.id + 1000, 0)],
        outputs: vec![],
    };
    assert!(store.record_distribution_batch(&wrong).await.is_err());
    // A block that does not extend the tip.
    assert!(store
        .apply_block(&block(9, vec![], vec![treasury(3, 0, 5, 9)], vec![]))
        .await
        .is_err());
    let events = all(&store, f.issuer).await;
    assert_eq!(
        types(&events[before..]),
        ["assignment.created", "distribution.created"]
    );
}

async fn reorgs_compensate_chain_events_once(store: Store) {
    let issuer = distributed(&store).await;
    let events = all(&store, issuer).await;
    let id_of = |kind: &str, height: i64| -> i64 {
        events
            .iter()
            .find(|e| e.event_type.as_str() == kind && e.block_height == Some(height))
            .unwrap_or_else(|| panic!("no {kind} at {height}"))
            .id
    };
    let (owned_3, lost_3) = (id_of("ownership.changed", 3), id_of("output.lost", 3));
    store.rollback_to(2).await.unwrap();
    let reorg = store
        .events_after(issuer, 0, &[EventType::ChainReorg], None, 10)
        .await
        .unwrap();
    assert_eq!(reorg.len(), 1);
    assert_eq!(reorg[0].block_height, Some(2));
    assert_eq!(reorg[0].asset_uuid.as_deref(), Some(ASSET));
    assert_eq!(
        reorg[0].data,
        json!({"undone_from_height": 3, "undone_event_ids": [owned_3, lost_3]})
    );
    // Nothing was deleted.
    assert_eq!(
        all(&store, issuer).await.len(),
        events.len() + 1,
        "events are never deleted"
    );
    // The replacing block 3 emits anew; a deeper reorg then names block 2's and the new
    // block 3's events, not those the first reorg already undid.
    store
        .apply_block(&block(
            3,
            vec![(txid(9), TxKind::Distribution)],
            vec![wallet(9, 0, 300, 3)],
            vec![OutputSpend {
                txid: txid(1),
                vout: 0,
                spent_txid: txid(9),
                spent_vin: 0,
                lost: false,
            }],
        ))
        .await
        .unwrap();
    let after_replay = all(&store, issuer).await;
    let new_owned_3 = after_replay.last().unwrap();
    assert_eq!(new_owned_3.event_type, EventType::OwnershipChanged);
    assert_eq!(new_owned_3.block_height, Some(3));
    store.rollback_to(1).await.unwrap();
    let reorgs = store
        .events_after(issuer, 0, &[EventType::ChainReorg], None, 10)
        .await
        .unwrap();
    assert_eq!(reorgs.len(), 2);
    assert_eq!(reorgs[1].block_height, Some(1));
    assert_eq!(
        reorgs[1].data,
        json!({
            "undone_from_height": 3,
            "undone_event_ids": [id_of("asset.confirmed", 2), new_owned_3.id],
        })
    );
}

async fn an_issuance_indexed_before_its_broadcast_is_issued_then_confirmed(store: Store) {
    let issuer = store.create_issuer("early", "h").await.unwrap().id;
    let mut asset = crate::contract::new_asset(issuer, ASSET);
    asset.is_reissuable = false;
    store.create_asset(&asset).await.unwrap();
    let mut tx = crate::contract::issuance_tx(7);
    tx.txid = txid(1);
    store.set_asset_issuance_tx(ASSET, &tx).await.unwrap();
    // The follower indexes the issuance and a second block before the broadcast is recorded.
    store
        .apply_block(&block(
            1,
            vec![(txid(1), TxKind::Issuance)],
            vec![treasury(1, 0, 1_000, 1)],
            vec![],
        ))
        .await
        .unwrap();
    second_confirmation(&store).await;
    assert_eq!(types(&all(&store, issuer).await), ["ownership.changed"]);
    store.set_asset_broadcast(ASSET, None, None).await.unwrap();
    let events = all(&store, issuer).await;
    assert_eq!(
        types(&events),
        ["ownership.changed", "asset.issued", "asset.confirmed"]
    );
    assert_eq!(events[2].block_height, Some(2));
    assert_eq!(events[2].data["issuance_height"], 1);
    // Later blocks do not confirm it again.
    store
        .apply_block(&block(3, vec![], vec![], vec![]))
        .await
        .unwrap();
    assert_eq!(all(&store, issuer).await.len(), 3);
}
