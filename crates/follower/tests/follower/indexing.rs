//! What the follower records: issuances, lost outputs, outputs of registered wallets, and a
//! restart that resumes from the cursor.

use amphora_rpc::Amount;
use amphora_store::{OutputOwner, TxKind, UNKNOWN_BLINDER};

use crate::common::Platform;

#[tokio::test]
async fn issuance_is_indexed_into_the_treasury() {
    let platform = Platform::start().await;
    let issued = platform.issue(1_000).await;
    let follower = platform.follower(platform.store.clone(), "a");
    let status = platform.caught_up(&follower).await;
    assert!(status.is_leader);
    assert_eq!(status.lag, Some(0));
    assert_eq!(status.last_error, None);

    let outputs = platform.store.asset_outputs(&issued.uuid).await.unwrap();
    assert_eq!(outputs.len(), 2, "{outputs:?}");
    let units = outputs.iter().find(|o| !o.output.is_token).unwrap();
    assert_eq!(units.output.txid, issued.txid.to_string());
    assert_eq!(units.output.amount, issued.amount);
    assert_eq!(units.output.owner, OutputOwner::Treasury);
    assert_eq!(units.spent, None);
    let token = outputs.iter().find(|o| o.output.is_token).unwrap();
    assert_eq!(
        (token.output.amount, &token.output.owner),
        (1, &OutputOwner::Treasury)
    );

    let txs = platform
        .store
        .indexed_asset_txs(&issued.uuid)
        .await
        .unwrap();
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0].1.kind, TxKind::Issuance);
    let txid = issued.txid.to_string();
    assert_eq!(
        platform
            .store
            .asset_tx_confirmations(&issued.uuid, &txid)
            .await
            .unwrap(),
        Some(1)
    );
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
            .treasury_balance(&issued.uuid, 2)
            .await
            .unwrap(),
        0
    );
    platform.mine(2).await;
    platform.caught_up(&follower).await;
    assert_eq!(
        platform
            .store
            .asset_tx_confirmations(&issued.uuid, &txid)
            .await
            .unwrap(),
        Some(3)
    );
    assert_eq!(
        platform
            .store
            .treasury_balance(&issued.uuid, 3)
            .await
            .unwrap(),
        1_000
    );
    follower.shutdown().await;
    platform.stop().await;
}

#[tokio::test]
async fn a_send_to_an_unknown_address_loses_the_treasury_output() {
    let platform = Platform::start().await;
    let issued = platform.issue(1_000).await;
    let follower = platform.follower(platform.store.clone(), "a");
    platform.caught_up(&follower).await;

    let stranger = platform.other.get_new_address(None).await.unwrap();
    let send = platform
        .treasury
        .send_to_address(&stranger, Amount::from_units(400), Some(&issued.asset))
        .await
        .unwrap();
    platform.mine(1).await;
    platform.caught_up(&follower).await;

    let outputs = platform.store.asset_outputs(&issued.uuid).await.unwrap();
    let units = outputs.iter().find(|o| !o.output.is_token).unwrap();
    assert_eq!(
        units.spent.as_ref().map(|s| s.0.clone()),
        Some(send.to_string())
    );
    assert!(units.is_lost, "an unattributed spend loses the output");
    assert!(
        outputs.iter().all(|o| o.output.txid != send.to_string()),
        "nothing of the send is identifiable"
    );
    let txs = platform
        .store
        .indexed_asset_txs(&issued.uuid)
        .await
        .unwrap();
    assert_eq!(txs.last().unwrap().1.txid, send.to_string());
    assert_eq!(txs.last().unwrap().1.kind, TxKind::Unknown);
    assert_eq!(
        platform
            .store
            .treasury_balance(&issued.uuid, 0)
            .await
            .unwrap(),
        0
    );
    follower.shutdown().await;
    platform.stop().await;
}

#[tokio::test]
async fn outputs_to_a_registered_wallet_are_unblinded_and_owned_by_its_gaid() {
    let platform = Platform::start().await;
    let issued = platform.issue(1_000).await;
    let wallet = platform.register_wallet(0).await;
    let follower = platform.follower(platform.store.clone(), "a");
    platform.caught_up(&follower).await;

    // everything to the wallet, at an address the platform handed out far beyond the
    // look-ahead of what the chain shows used: a transfer, nothing lost
    let mut index = 0;
    for _ in 0..=250 {
        index = platform
            .store
            .take_wallet_address_index(&wallet.wid)
            .await
            .unwrap();
    }
    assert_eq!(index, 250);
    let send = platform
        .treasury
        .send_to_address(
            &wallet.address(index),
            Amount::from_units(1_000),
            Some(&issued.asset),
        )
        .await
        .unwrap();
    platform.mine(1).await;
    platform.caught_up(&follower).await;

    let outputs = platform.store.asset_outputs(&issued.uuid).await.unwrap();
    let received: Vec<_> = outputs
        .iter()
        .filter(|o| o.output.txid == send.to_string())
        .collect();
    assert_eq!(received.len(), 1, "{outputs:?}");
    let received = &received[0].output;
    assert_eq!(
        received.owner,
        OutputOwner::Wallet {
            wid: wallet.wid.clone(),
            gaid: wallet.gaid.clone()
        }
    );
    assert_eq!(received.amount, 1_000);
    assert!(!received.is_token);
    assert_ne!(
        received.asset_blinder, UNKNOWN_BLINDER,
        "confidential output unblinded"
    );
    assert_ne!(received.amount_blinder, UNKNOWN_BLINDER);
    let spent_issuance = outputs
        .iter()
        .find(|o| o.output.txid == issued.txid.to_string() && !o.output.is_token)
        .unwrap();
    assert!(!spent_issuance.is_lost);
    assert!(spent_issuance.spent.is_some());
    let txs = platform
        .store
        .indexed_asset_txs(&issued.uuid)
        .await
        .unwrap();
    assert_eq!(txs.last().unwrap().1.kind, TxKind::Transfer);
    assert_eq!(
        platform
            .store
            .treasury_balance(&issued.uuid, 0)
            .await
            .unwrap(),
        0
    );
    follower.shutdown().await;
    platform.stop().await;
}

#[tokio::test]
async fn a_restart_resumes_from_the_cursor_without_double_counting() {
    let platform = Platform::start().await;
    let first_asset = platform.issue(500).await;
    let follower = platform.follower(platform.store.clone(), "a");
    let before = platform.caught_up(&follower).await;
    follower.shutdown().await;

    let second_asset = platform.issue(700).await;
    platform.mine(3).await;
    let follower = platform.follower(platform.store.clone(), "a");
    let after = platform.caught_up(&follower).await;
    let new_blocks = (after.tip_height.unwrap() - before.tip_height.unwrap()) as u64;
    assert_eq!(
        after.blocks_indexed, new_blocks,
        "only the new blocks are read"
    );

    for (asset, amount) in [(&first_asset, 500), (&second_asset, 700)] {
        let outputs = platform.store.asset_outputs(&asset.uuid).await.unwrap();
        assert_eq!(outputs.len(), 2, "recorded once: {outputs:?}");
        assert_eq!(
            platform
                .store
                .treasury_balance(&asset.uuid, 1)
                .await
                .unwrap(),
            amount
        );
        assert_eq!(
            platform
                .store
                .indexed_asset_txs(&asset.uuid)
                .await
                .unwrap()
                .len(),
            1
        );
    }
    follower.shutdown().await;
    platform.stop().await;
}

/// A follower catching up from an empty index over many blocks that touch nothing, with an
/// issuance and its unattributed spend among them: the blocks that touch nothing are applied
/// many per transaction, each managed block with the ones before it, so the spend still finds
/// the issued output and every block is in the index.
#[tokio::test]
async fn catching_up_over_empty_blocks_keeps_every_managed_block() {
    let platform = Platform::start().await;
    platform.mine(120).await;
    let issued = platform.issue(1_000).await;
    platform.mine(120).await;
    let stranger = platform.other.get_new_address(None).await.unwrap();
    let send = platform
        .treasury
        .send_to_address(&stranger, Amount::from_units(400), Some(&issued.asset))
        .await
        .unwrap();
    platform.mine(120).await;

    // 50 blocks per transaction: each stretch of empty blocks takes several
    let follower = amphora_follower::Follower::new(
        platform.store.clone(),
        platform.rpc.clone(),
        amphora_follower::FollowerConfig {
            poll_interval: std::time::Duration::from_millis(50),
            holder: "a".into(),
            blocks_per_transaction: 50,
            ..amphora_follower::FollowerConfig::default()
        },
    )
    .spawn();
    let status = platform.caught_up(&follower).await;
    let tip = status.tip_height.unwrap();
    assert_eq!(status.blocks_indexed, tip as u64 + 1, "every block from 0");
    for height in [0, 1, 50, 51, 120, 121, 122, 242, tip - 1, tip] {
        let indexed = platform.store.indexed_block(height).await.unwrap();
        let node = platform.rpc.get_block_hash(height as u64).await.unwrap();
        assert_eq!(indexed.map(|b| b.block_hash), Some(node.to_string()));
    }
    let outputs = platform.store.asset_outputs(&issued.uuid).await.unwrap();
    let units = outputs.iter().find(|o| !o.output.is_token).unwrap();
    assert_eq!(
        units.spent.as_ref().map(|s| s.0.clone()),
        Some(send.to_string())
    );
    assert!(units.is_lost);
    let confirmations = platform
        .store
        .asset_tx_confirmations(&issued.uuid, &send.to_string())
        .await
        .unwrap();
    assert_eq!(confirmations, Some(120));
    let totals = platform.store.asset_totals(&issued.uuid).await.unwrap();
    assert_eq!(totals.issued, 1_000);
    assert_eq!(totals.reissuance_tokens, 1);
    assert_eq!(
        platform
            .store
            .treasury_confirmed_balance(&issued.uuid)
            .await
            .unwrap(),
        0
    );
    follower.shutdown().await;
    platform.stop().await;
}
