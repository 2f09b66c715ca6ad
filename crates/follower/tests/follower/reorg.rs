//! A 3-block reorg: the follower rolls back to the fork point (`invalidateblock`), follows the
//! old branch when the node takes it back (`reconsiderblock`), and indexes a longer new branch.

use amphora_core::event::EventType;
use amphora_rpc::Amount;
use amphora_store::{OutputOwner, TxKind};

use crate::common::{Platform, WAIT};

#[tokio::test]
async fn a_three_block_reorg_rolls_back_and_forward() {
    let platform = Platform::start().await;
    let issued = platform.issue(1_000).await;
    let wallet = platform.register_wallet(0).await;
    let follower = platform.follower(platform.store.clone(), "a");
    platform.caught_up(&follower).await;
    let fork = platform.height().await;

    // three blocks: a transfer to the wallet in the first
    let send = platform
        .treasury
        .send_to_address(
            &wallet.address(0),
            Amount::from_units(1_000),
            Some(&issued.asset),
        )
        .await
        .unwrap();
    platform.mine(3).await;
    platform.caught_up(&follower).await;
    let old_tip = platform.rpc.get_best_block_hash().await.unwrap();
    assert_eq!(
        platform
            .store
            .asset_outputs(&issued.uuid)
            .await
            .unwrap()
            .len(),
        3
    );

    // the node drops them: the follower rolls back to the fork point
    let first = platform.rpc.get_block_hash(fork as u64 + 1).await.unwrap();
    let _: serde_json::Value = platform
        .rpc
        .call("invalidateblock", &[serde_json::json!(first.to_string())])
        .await
        .unwrap();
    assert_eq!(platform.height().await, fork);
    let status = follower
        .wait_for(WAIT, |s| s.tip_height == Some(fork) && s.reorgs == 1)
        .await
        .unwrap_or_else(|| panic!("no rollback: {:?}", follower.status()));
    assert_eq!(status.last_error, None);
    let outputs = platform.store.asset_outputs(&issued.uuid).await.unwrap();
    assert_eq!(outputs.len(), 2, "the transfer's output is gone");
    assert!(outputs.iter().all(|o| o.spent.is_none() && !o.is_lost));
    assert_eq!(
        platform
            .store
            .treasury_balance(&issued.uuid, 1)
            .await
            .unwrap(),
        1_000
    );
    assert_eq!(
        platform
            .store
            .tx_confirmations(&send.to_string())
            .await
            .unwrap(),
        None
    );

    // the node takes the branch back (it has more work than the fork point): rolled forward
    let _: serde_json::Value = platform
        .rpc
        .call("reconsiderblock", &[serde_json::json!(first.to_string())])
        .await
        .unwrap();
    assert_eq!(platform.height().await, fork + 3);
    assert_eq!(platform.rpc.get_best_block_hash().await.unwrap(), old_tip);
    let status = platform.caught_up(&follower).await;
    assert_eq!((status.reorgs, status.last_error), (1, None));
    assert_eq!(
        platform
            .store
            .asset_outputs(&issued.uuid)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        platform
            .store
            .tx_confirmations(&send.to_string())
            .await
            .unwrap(),
        Some(3)
    );

    // dropped again, and a longer branch (the transfer back from the mempool) confirms it
    // again, once. Its blocks pay a fresh address: a block equal to an invalidated one (same
    // parent, transactions and time) would be refused as a duplicate of an invalid block.
    let _: serde_json::Value = platform
        .rpc
        .call("invalidateblock", &[serde_json::json!(first.to_string())])
        .await
        .unwrap();
    follower
        .wait_for(WAIT, |s| s.tip_height == Some(fork) && s.reorgs == 2)
        .await
        .unwrap_or_else(|| panic!("no second rollback: {:?}", follower.status()));
    let fresh = platform.other.get_new_address(None).await.unwrap();
    platform.rpc.generate_to_address(4, &fresh).await.unwrap();
    let status = platform.caught_up(&follower).await;
    assert_eq!(status.tip_height, Some(fork + 4));
    assert_ne!(
        platform.rpc.get_block_hash(fork as u64 + 1).await.unwrap(),
        first
    );
    let outputs = platform.store.asset_outputs(&issued.uuid).await.unwrap();
    assert_eq!(outputs.len(), 3, "{outputs:?}");
    let received = outputs
        .iter()
        .find(|o| o.output.txid == send.to_string())
        .unwrap();
    assert_eq!(received.output.height, fork + 1);
    assert!(matches!(received.output.owner, OutputOwner::Wallet { .. }));
    let txs = platform
        .store
        .indexed_asset_txs(&issued.uuid)
        .await
        .unwrap();
    assert_eq!(txs.len(), 2);
    assert_eq!(txs[1].1.kind, TxKind::Transfer);
    assert_eq!(
        platform
            .store
            .tx_confirmations(&send.to_string())
            .await
            .unwrap(),
        Some(4)
    );

    // The events: the transfer's block moved the wallet's balance three times (the first
    // branch, the branch taken back, the longer branch); each of the two rollbacks emitted a
    // chain.reorg at the fork naming the ownership change it undid, and nothing was deleted.
    let issuer = platform
        .store
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let events = platform
        .store
        .events_after(issuer, 0, &[], Some(&issued.uuid), 1000)
        .await
        .unwrap();
    let at = |kind: EventType, height: i64| -> Vec<i64> {
        events
            .iter()
            .filter(|e| e.event_type == kind && e.block_height == Some(height))
            .map(|e| e.id)
            .collect()
    };
    let moved = at(EventType::OwnershipChanged, fork + 1);
    assert_eq!(moved.len(), 3, "{events:#?}");
    let reorgs: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == EventType::ChainReorg)
        .collect();
    assert_eq!(reorgs.len(), 2, "{events:#?}");
    for (reorg, undone) in reorgs.iter().zip(&moved) {
        assert_eq!(reorg.block_height, Some(fork));
        assert_eq!(reorg.data["undone_from_height"], fork + 3);
        let ids = reorg.data["undone_event_ids"].as_array().unwrap();
        assert!(ids.contains(&serde_json::json!(undone)), "{reorg:?}");
        assert!(reorg.id > *undone);
    }
    assert!(
        reorgs[1].id < moved[2],
        "the longer branch emitted anew after the reorg"
    );
    let wallet_moves = events.iter().find(|e| e.id == moved[2]).unwrap().data["holders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["gaid"] == wallet.gaid.as_str())
        .map(|h| h["delta"].as_i64().unwrap())
        .sum::<i64>();
    assert_eq!(wallet_moves, 1_000);
    follower.shutdown().await;
    platform.stop().await;
}
