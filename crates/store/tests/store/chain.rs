//! The chain index: applying blocks, rolling back a reorg, the follower lease, and the
//! confirmation and treasury-balance reads built on it.

use std::time::Duration;

use amphora_store::{
    BlockUpdate, IndexedBlock, IndexedTx, NewAsset, NewAssetOutput, OutputOwner, OutputSpend,
    Store, StoreError, TxKind, UNKNOWN_BLINDER,
};
use amphora_testenv::store::{self as fixtures, txid};

use crate::contract::{on_postgres, on_sqlite};

contract!(
    blocks_apply_in_order_and_spend_outputs,
    rollback_undoes_blocks_spends_and_losses,
    confirmations_and_treasury_balance,
    follower_lease_has_one_holder,
    leased_writes_are_fenced,
    batched_blocks_apply_all_or_nothing,
    tracked_assets_wallets_and_unspent_lookup,
);

const ASSET: &str = "asset-1";

/// An issued asset `uuid` of a new issuer.
async fn issued_asset(store: &Store, uuid: &str) -> i64 {
    let issuer = fixtures::issuer(store, &format!("issuer-{uuid}")).await;
    let asset = NewAsset {
        is_confidential: false,
        ..fixtures::new_asset(issuer, uuid)
    };
    store.create_asset(&asset).await.unwrap();
    store
        .set_asset_issuance_tx(uuid, &fixtures::issuance_tx(0xaa, &txid(1)))
        .await
        .unwrap();
    issuer
}

fn hash(height: i64) -> String {
    format!("{:064x}", height + 1000)
}

fn fork_hash(height: i64) -> String {
    format!("{:064x}", height + 9000)
}

fn block(height: i64, hash_of: fn(i64) -> String, prev: String) -> IndexedBlock {
    IndexedBlock {
        height,
        block_hash: hash_of(height),
        prev_hash: prev,
        block_time: 1_700_000_000 + height,
    }
}

fn empty(height: i64) -> BlockUpdate {
    BlockUpdate {
        block: block(height, hash, hash(height - 1)),
        txs: vec![],
        outputs: vec![],
        spends: vec![],
    }
}

fn output(tx: u8, vout: i64, amount: i64, owner: OutputOwner, height: i64) -> NewAssetOutput {
    NewAssetOutput {
        txid: txid(tx),
        vout,
        asset_uuid: ASSET.into(),
        is_token: false,
        amount,
        script_pubkey: "0014".into(),
        owner,
        asset_blinder: UNKNOWN_BLINDER.into(),
        amount_blinder: UNKNOWN_BLINDER.into(),
        height,
    }
}

fn tx(n: u8, position: i64, kind: TxKind) -> IndexedTx {
    IndexedTx {
        asset_uuid: ASSET.into(),
        txid: txid(n),
        position,
        kind,
    }
}

fn wallet() -> OutputOwner {
    OutputOwner::Wallet {
        wid: "wid-a".into(),
        gaid: "GAa".into(),
    }
}

/// Blocks 1..=3: issuance of 1000 to the treasury at 1, a transfer of 400 to a wallet at 2
/// (change 600), and at 3 an unattributed spend of the wallet's output (lost).
async fn three_blocks(store: &Store) {
    let mut b1 = empty(1);
    b1.txs.push(tx(1, 1, TxKind::Issuance));
    b1.outputs
        .push(output(1, 0, 1_000, OutputOwner::Treasury, 1));
    store.apply_block(&b1).await.unwrap();
    let mut b2 = empty(2);
    b2.txs.push(tx(2, 1, TxKind::Transfer));
    b2.outputs.push(output(2, 0, 400, wallet(), 2));
    b2.outputs.push(output(2, 1, 600, OutputOwner::Treasury, 2));
    b2.spends.push(OutputSpend {
        txid: txid(1),
        vout: 0,
        spent_txid: txid(2),
        spent_vin: 0,
        lost: false,
    });
    store.apply_block(&b2).await.unwrap();
    let mut b3 = empty(3);
    b3.txs.push(tx(3, 1, TxKind::Unknown));
    b3.spends.push(OutputSpend {
        txid: txid(2),
        vout: 0,
        spent_txid: txid(3),
        spent_vin: 0,
        lost: true,
    });
    store.apply_block(&b3).await.unwrap();
}

async fn blocks_apply_in_order_and_spend_outputs(store: Store) {
    issued_asset(&store, ASSET).await;
    assert_eq!(store.chain_tip().await.unwrap(), None);
    three_blocks(&store).await;
    let tip = store.chain_tip().await.unwrap().unwrap();
    assert_eq!((tip.height, tip.block_hash.clone()), (3, hash(3)));
    assert_eq!(
        store.indexed_block(2).await.unwrap().unwrap().prev_hash,
        hash(1)
    );

    let outputs = store.asset_outputs(ASSET).await.unwrap();
    assert_eq!(outputs.len(), 3);
    let txs = store.indexed_asset_txs(ASSET).await.unwrap();
    let kinds: Vec<_> = txs.iter().map(|(h, t)| (*h, t.kind)).collect();
    assert_eq!(
        kinds,
        [
            (1, TxKind::Issuance),
            (2, TxKind::Transfer),
            (3, TxKind::Unknown)
        ]
    );
    let issued = store.asset_output(&txid(1), 0).await.unwrap().unwrap();
    assert_eq!(issued.spent, Some((txid(2), 0, 2)));
    assert!(!issued.is_lost);
    let lost = store.asset_output(&txid(2), 0).await.unwrap().unwrap();
    assert_eq!(lost.output.owner, wallet());
    assert_eq!(lost.spent, Some((txid(3), 0, 3)));
    assert!(lost.is_lost);

    // a block that does not extend the tip changes nothing
    for bad in [empty(3), empty(5), {
        let mut b = empty(4);
        b.block.prev_hash = fork_hash(3);
        b
    }] {
        let err = store.apply_block(&bad).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }
    assert_eq!(store.chain_tip().await.unwrap().unwrap().height, 3);

    // outputs recorded by a confirm call first are kept as they were
    let mut change = output(4, 0, 50, OutputOwner::Treasury, 4);
    change.asset_blinder = "11".repeat(32);
    store.record_asset_outputs(&[change.clone()]).await.unwrap();
    let mut b4 = empty(4);
    b4.outputs.push(output(4, 0, 50, OutputOwner::Treasury, 4));
    store.apply_block(&b4).await.unwrap();
    let kept = store.asset_output(&txid(4), 0).await.unwrap().unwrap();
    assert_eq!(kept.output, change);
}

async fn rollback_undoes_blocks_spends_and_losses(store: Store) {
    issued_asset(&store, ASSET).await;
    three_blocks(&store).await;
    store.rollback_to(1).await.unwrap();
    let tip = store.chain_tip().await.unwrap().unwrap();
    assert_eq!((tip.height, tip.block_hash), (1, hash(1)));
    assert!(store.indexed_block(2).await.unwrap().is_none());
    let outputs = store.asset_outputs(ASSET).await.unwrap();
    assert_eq!(outputs.len(), 1, "outputs above the fork are gone");
    assert_eq!(outputs[0].spent, None, "spends above the fork are undone");
    assert!(!outputs[0].is_lost);
    assert_eq!(store.tx_confirmations(&txid(2)).await.unwrap(), None);
    assert_eq!(store.tx_confirmations(&txid(1)).await.unwrap(), Some(1));

    // the other branch applies on top of the fork point
    let mut b2 = BlockUpdate {
        block: block(2, fork_hash, hash(1)),
        txs: vec![tx(5, 1, TxKind::Burn)],
        outputs: vec![output(5, 0, 1_000, OutputOwner::Burn, 2)],
        spends: vec![OutputSpend {
            txid: txid(1),
            vout: 0,
            spent_txid: txid(5),
            spent_vin: 0,
            lost: false,
        }],
    };
    store.apply_block(&b2).await.unwrap();
    assert_eq!(store.treasury_balance(ASSET, 0).await.unwrap(), 0);
    // applying the same block again is refused
    b2.block.block_hash = fork_hash(7);
    assert!(store.apply_block(&b2).await.is_err());

    // rolling back below the first block empties the index
    store.rollback_to(0).await.unwrap();
    assert_eq!(store.chain_tip().await.unwrap(), None);
    assert!(store.asset_outputs(ASSET).await.unwrap().is_empty());
    store.apply_block(&empty(1)).await.unwrap();
}

async fn confirmations_and_treasury_balance(store: Store) {
    issued_asset(&store, ASSET).await;
    assert_eq!(store.treasury_balance(ASSET, 0).await.unwrap(), 0);
    assert_eq!(
        store.asset_tx_confirmations(ASSET, &txid(1)).await.unwrap(),
        None
    );

    let mut b1 = empty(1);
    b1.txs.push(tx(1, 1, TxKind::Issuance));
    b1.outputs
        .push(output(1, 0, 1_000, OutputOwner::Treasury, 1));
    let mut token = output(1, 1, 1, OutputOwner::Treasury, 1);
    token.is_token = true;
    b1.outputs.push(token);
    store.apply_block(&b1).await.unwrap();
    assert_eq!(
        store.asset_tx_confirmations(ASSET, &txid(1)).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        store
            .asset_tx_confirmations("other", &txid(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.treasury_balance(ASSET, 1).await.unwrap(), 1_000);
    assert_eq!(store.treasury_balance(ASSET, 2).await.unwrap(), 0);

    // block 2: 300 to a wallet, 700 change to the treasury
    let mut b2 = empty(2);
    b2.txs.push(tx(2, 1, TxKind::Distribution));
    b2.outputs.push(output(2, 0, 300, wallet(), 2));
    b2.outputs.push(output(2, 1, 700, OutputOwner::Treasury, 2));
    b2.spends.push(OutputSpend {
        txid: txid(1),
        vout: 0,
        spent_txid: txid(2),
        spent_vin: 0,
        lost: false,
    });
    store.apply_block(&b2).await.unwrap();
    assert_eq!(
        store.asset_tx_confirmations(ASSET, &txid(1)).await.unwrap(),
        Some(2)
    );
    assert_eq!(
        store.asset_tx_confirmations(ASSET, &txid(2)).await.unwrap(),
        Some(1)
    );
    assert_eq!(store.treasury_balance(ASSET, 1).await.unwrap(), 700);
    // the change has one confirmation only; the spent issuance output no longer counts
    assert_eq!(store.treasury_balance(ASSET, 2).await.unwrap(), 0);
    store.apply_block(&empty(3)).await.unwrap();
    assert_eq!(store.treasury_balance(ASSET, 2).await.unwrap(), 700);

    let tokens = store.treasury_outputs(ASSET, true, 1).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!((tokens[0].output.vout, tokens[0].output.amount), (1, 1));
    let units = store.treasury_outputs(ASSET, false, 1).await.unwrap();
    assert_eq!(units.len(), 1);
    assert_eq!(
        (units[0].output.txid.clone(), units[0].output.vout),
        (txid(2), 1)
    );

    // a lost treasury output stops counting
    let mut b4 = empty(4);
    b4.txs.push(tx(4, 1, TxKind::Unknown));
    b4.spends.push(OutputSpend {
        txid: txid(2),
        vout: 1,
        spent_txid: txid(4),
        spent_vin: 0,
        lost: true,
    });
    store.apply_block(&b4).await.unwrap();
    assert_eq!(store.treasury_balance(ASSET, 0).await.unwrap(), 0);
}

async fn follower_lease_has_one_holder(store: Store) {
    let ttl = Duration::from_secs(60);
    assert_eq!(store.follower_lease().await.unwrap(), None);
    assert!(store.acquire_follower_lease("a", ttl).await.unwrap());
    assert!(!store.acquire_follower_lease("b", ttl).await.unwrap());
    // renewing keeps it
    assert!(store.acquire_follower_lease("a", ttl).await.unwrap());
    assert_eq!(store.follower_lease().await.unwrap().unwrap().holder, "a");
    // releasing by someone else does nothing; by the holder frees it
    store.release_follower_lease("b").await.unwrap();
    assert!(!store.acquire_follower_lease("b", ttl).await.unwrap());
    store.release_follower_lease("a").await.unwrap();
    assert!(store.acquire_follower_lease("b", ttl).await.unwrap());
    // an expired lease is taken over
    assert!(store
        .acquire_follower_lease("b", Duration::ZERO)
        .await
        .unwrap());
    assert!(store.acquire_follower_lease("a", ttl).await.unwrap());
    assert!(!store.acquire_follower_lease("b", ttl).await.unwrap());

    // concurrent take-over attempts on an expired lease: exactly one wins
    store.release_follower_lease("a").await.unwrap();
    let attempts = (0..8).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .acquire_follower_lease(&format!("r{n}"), ttl)
                .await
                .unwrap()
        })
    });
    let mut winners = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        winners += usize::from(attempt.await.unwrap());
    }
    assert_eq!(winners, 1);
}

async fn leased_writes_are_fenced(store: Store) {
    let ttl = Duration::from_secs(60);
    // without the lease nothing is written
    let err = store
        .apply_block_leased("a", ttl, &empty(1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.chain_tip().await.unwrap(), None);

    assert!(store.acquire_follower_lease("a", ttl).await.unwrap());
    store.apply_block_leased("a", ttl, &empty(1)).await.unwrap();
    store.apply_block_leased("a", ttl, &empty(2)).await.unwrap();
    assert!(store.apply_block_leased("b", ttl, &empty(3)).await.is_err());
    assert!(store.rollback_to_leased("b", ttl, 1).await.is_err());
    assert_eq!(store.chain_tip().await.unwrap().unwrap().height, 2);

    // a holder whose lease expired and was taken over is fenced off
    assert!(store
        .acquire_follower_lease("a", Duration::ZERO)
        .await
        .unwrap());
    assert!(store.apply_block_leased("a", ttl, &empty(3)).await.is_err());
    assert!(store.acquire_follower_lease("b", ttl).await.unwrap());
    assert!(store.apply_block_leased("a", ttl, &empty(3)).await.is_err());
    store.rollback_to_leased("b", ttl, 1).await.unwrap();
    assert_eq!(store.chain_tip().await.unwrap().unwrap().height, 1);
}

/// Many blocks in one transaction (a follower catching up): all of them or none, each extending
/// the one before, fenced by the lease, and the rows of every block written.
async fn batched_blocks_apply_all_or_nothing(store: Store) {
    issued_asset(&store, ASSET).await;
    let ttl = Duration::from_secs(60);
    assert!(store.acquire_follower_lease("a", ttl).await.unwrap());
    store.apply_blocks_leased("a", ttl, &[]).await.unwrap();
    assert_eq!(store.chain_tip().await.unwrap(), None);

    let mut b2 = empty(2);
    b2.txs.push(tx(1, 1, TxKind::Issuance));
    b2.outputs
        .push(output(1, 0, 1000, OutputOwner::Treasury, 2));
    store
        .apply_blocks_leased("a", ttl, &[empty(1), b2, empty(3)])
        .await
        .unwrap();
    assert_eq!(store.chain_tip().await.unwrap().unwrap().height, 3);
    assert_eq!(store.indexed_block(2).await.unwrap().unwrap().height, 2);
    assert_eq!(store.treasury_confirmed_balance(ASSET).await.unwrap(), 1000);
    assert_eq!(store.asset_totals(ASSET).await.unwrap().issued, 1000);

    // a gap inside the batch: nothing of it is written
    let err = store
        .apply_blocks_leased("a", ttl, &[empty(4), empty(6)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // a block that does not extend the one before it (another branch's block 5)
    let mut stray = empty(5);
    stray.block.prev_hash = fork_hash(4);
    let err = store
        .apply_blocks_leased("a", ttl, &[empty(4), stray])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // another holder
    let err = store
        .apply_blocks_leased("b", ttl, &[empty(4)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.chain_tip().await.unwrap().unwrap().height, 3);
    assert_eq!(store.indexed_block(4).await.unwrap(), None);

    store
        .apply_blocks_leased("a", ttl, &[empty(4), empty(5)])
        .await
        .unwrap();
    assert_eq!(store.chain_tip().await.unwrap().unwrap().height, 5);
    crate::aggregates::assert_aggregates_match(&store, ASSET).await;
}

async fn tracked_assets_wallets_and_unspent_lookup(store: Store) {
    let issuer = issued_asset(&store, ASSET).await;
    store
        .add_treasury_addresses(issuer, ASSET, &["el1extra".to_string()])
        .await
        .unwrap();
    let tracked = store.tracked_assets().await.unwrap();
    assert_eq!(tracked.len(), 1);
    let asset = &tracked[0];
    assert_eq!(asset.asset_id, "aa".repeat(32));
    assert_eq!(asset.token_id, Some("bb".repeat(32)));
    assert_eq!(asset.issuance_txid, txid(1));
    assert_eq!((asset.asset_vout, asset.reissuance_vout), (0, Some(1)));
    assert_eq!((asset.amount, asset.reissuance_amount), (1_000, 1));
    assert_eq!(
        asset.treasury_addresses,
        ["el1dest", "el1extra", "el1token"]
    );
    store.delete_asset(issuer, ASSET).await.unwrap();
    assert!(store.tracked_assets().await.unwrap().is_empty());

    store.register_wallet("w1", "ct(1)", "GA1").await.unwrap();
    store.register_wallet("w2", "ct(2)", "GA2").await.unwrap();
    let wallets = store.all_registered_wallets().await.unwrap();
    let mut wids: Vec<_> = wallets.iter().map(|w| w.wid.as_str()).collect();
    wids.sort();
    assert_eq!(wids, ["w1", "w2"]);

    three_blocks(&store).await;
    assert!(store.unspent_outputs_of(&[]).await.unwrap().is_empty());
    let many: Vec<String> = (0..1200)
        .map(|n| format!("{n:064x}"))
        .chain([txid(2), txid(1)])
        .collect();
    let unspent = store.unspent_outputs_of(&many).await.unwrap();
    assert_eq!(unspent.len(), 1, "only the treasury change is unspent");
    assert_eq!(
        (unspent[0].output.txid.clone(), unspent[0].output.vout),
        (txid(2), 1)
    );
}
