//! A follower that applies many blocks per transaction ends, over a reorg inside its last
//! batch, in the same state as one that applies one block per transaction: the same index,
//! totals and events, on the node of the run.

use std::time::Duration;

use amphora_follower::{Follower, FollowerConfig, FollowerHandle};
use amphora_rpc::Amount;
use amphora_store::Store;

use crate::common::{Issued, Platform, Registered};

/// A follower on `store` applying at most `blocks_per_transaction` blocks per transaction.
fn follower(platform: &Platform, store: &Store, blocks_per_transaction: usize) -> FollowerHandle {
    Follower::new(
        store.clone(),
        platform.rpc.clone(),
        FollowerConfig {
            poll_interval: Duration::from_millis(50),
            holder: format!("per-{blocks_per_transaction}"),
            blocks_per_transaction,
            ..FollowerConfig::default()
        },
    )
    .spawn()
}

/// Runs a follower on `store` until it indexed the node's tip, then stops it.
async fn caught_up(platform: &Platform, store: &Store, blocks_per_transaction: usize) {
    let handle = follower(platform, store, blocks_per_transaction);
    platform.caught_up(&handle).await;
    handle.shutdown().await;
}

/// Pays `amount` of the asset to the wallet's address `index` from the treasury.
async fn pay(platform: &Platform, issued: &Issued, wallet: &Registered, amount: i64, index: u32) {
    platform
        .treasury
        .send_to_address(
            &wallet.address(index),
            Amount::from_units(amount),
            Some(&issued.asset),
        )
        .await
        .unwrap();
}

/// What the followers wrote, for comparison.
async fn state(store: &Store, asset: &str, tip: i64) -> String {
    let mut blocks = Vec::new();
    for height in 0..=tip + 1 {
        blocks.push(store.indexed_block(height).await.unwrap());
    }
    let issuer = store
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let events: Vec<_> = store
        .events_after(issuer, 0, &[], None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event_type, e.asset_uuid, e.block_height, e.data))
        .collect();
    format!(
        "tip {:?}\nblocks {blocks:?}\noutputs {:?}\ntxs {:?}\ntotals {:?}\nholdings {:?}\n\
         events {events:?}",
        store.chain_tip().await.unwrap(),
        store.asset_outputs(asset).await.unwrap(),
        store.indexed_asset_txs(asset).await.unwrap(),
        store.asset_totals(asset).await.unwrap(),
        store.holdings(asset, None).await.unwrap(),
    )
}

#[tokio::test]
async fn a_batched_follower_ends_as_one_block_per_transaction_over_a_reorg() {
    let platform = Platform::start().await;
    // the second store: the same issuer, asset and wallet rows, in the same order
    let dir = tempfile::tempdir().unwrap();
    let single = Store::connect(&format!(
        "sqlite:{}",
        dir.path().join("single.db").display()
    ))
    .await
    .unwrap();
    single.migrate().await.unwrap();
    platform.mine(60).await;
    let stores = [&platform.store, &single];
    let issued = platform.issue_recorded_in(&stores, 1_000).await;
    let wallet = platform.register_wallet_in(&stores, 0).await;
    platform.mine(40).await;
    pay(&platform, &issued, &wallet, 100, 0).await;
    platform.mine(30).await;
    let stranger = platform.other.get_new_address(None).await.unwrap();
    platform
        .treasury
        .send_to_address(&stranger, Amount::from_units(50), Some(&issued.asset))
        .await
        .unwrap();
    platform.mine(20).await;
    pay(&platform, &issued, &wallet, 200, 1).await;
    platform.mine(1).await;
    platform.mine(25).await;

    caught_up(&platform, &platform.store, 500).await;
    caught_up(&platform, &single, 1).await;
    let tip = platform.height().await;
    assert_eq!(
        state(&platform.store, &issued.uuid, tip).await,
        state(&single, &issued.uuid, tip).await
    );

    // the node drops the last 26 blocks (inside the batched follower's last transaction), the
    // payment among them goes back to the mempool, and a longer branch replaces them
    let fork = tip - 26;
    let first = platform.rpc.get_block_hash(fork as u64 + 1).await.unwrap();
    let _: serde_json::Value = platform
        .rpc
        .call("invalidateblock", &[serde_json::json!(first.to_string())])
        .await
        .unwrap();
    let fresh = platform.other.get_new_address(None).await.unwrap();
    platform.rpc.generate_to_address(30, &fresh).await.unwrap();
    caught_up(&platform, &platform.store, 500).await;
    caught_up(&platform, &single, 1).await;
    let tip = platform.height().await;
    assert_eq!(tip, fork + 30);
    let batched = state(&platform.store, &issued.uuid, tip).await;
    assert_eq!(batched, state(&single, &issued.uuid, tip).await);
    assert!(batched.contains("ChainReorg"), "{batched}");
    let wallet_outputs = platform
        .store
        .asset_outputs(&issued.uuid)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.output.owner.kind() == "wallet")
        .count();
    // the payment below the fork stays; the one above it is confirmed again when the node
    // put it back in its mempool before the new branch was mined (the embedded node does,
    // Elements Core may not yet)
    assert!((1..=2).contains(&wallet_outputs), "{wallet_outputs}");
    single.close().await;
    platform.stop().await;
}
