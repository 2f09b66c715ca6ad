//! The test environment on the node this run asks for (`ELEMENTSD_EXE` or the embedded one):
//! free coins, mining, the auto-miner's confirmations, and that a dropped node is gone.

use std::time::{Duration, Instant};

use amphora_rpc::{Amount, RetryPolicy};
use amphora_testenv::{NodeKind, TestNode, INITIAL_FREE_COINS, TREASURY_FUNDING_LBTC};

#[tokio::test]
async fn the_node_of_this_run_claims_free_coins_and_mines() {
    let node = TestNode::start().await;
    assert_eq!(node.kind(), NodeKind::from_env());
    assert_eq!(node.height().await, 0);
    let (platform, treasury) = node.provision_platform_wallets().await;
    assert_eq!(node.height().await, 1);
    let treasury_balance = treasury.get_balances().await.unwrap();
    assert_eq!(
        treasury_balance.get("bitcoin").map(|a| a.units()),
        Some(TREASURY_FUNDING_LBTC * 100_000_000)
    );
    let platform_balance = platform.get_balances().await.unwrap();
    let left = platform_balance.get("bitcoin").unwrap().units();
    let spent = INITIAL_FREE_COINS as i64 - left;
    // the treasury's funding and a fee of a few hundred satoshis
    assert!(
        spent > TREASURY_FUNDING_LBTC * 100_000_000
            && spent < TREASURY_FUNDING_LBTC * 100_000_000 + 100_000,
        "spent {spent}"
    );
    let hashes = node.mine(3).await;
    assert_eq!(hashes.len(), 3);
    assert_eq!(node.height().await, 4);
}

#[tokio::test]
async fn the_auto_miner_confirms_twice_then_idles() {
    let node = TestNode::start().await;
    let wallet = node.claim_free_coins("wallet").await;
    let _miner = node.automine(2);
    let address = wallet.get_new_address(None).await.unwrap();
    let txid = wallet
        .send_to_address(&address, Amount::from_units(100_000), None)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tx = wallet.get_transaction(&txid).await.unwrap();
        if tx.confirmations >= 2 {
            assert_eq!(
                tx.confirmations, 2,
                "no block beyond the second confirmation"
            );
            break;
        }
        assert!(Instant::now() < deadline, "not confirmed twice: {tx:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let height = node.height().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        node.height().await,
        height,
        "the miner idles once confirmed"
    );
    assert_eq!(
        wallet.get_transaction(&txid).await.unwrap().confirmations,
        2
    );
}

#[tokio::test]
async fn a_dropped_node_answers_no_more() {
    let node = TestNode::start().await;
    let rpc = node.rpc().clone().with_retry(RetryPolicy::none());
    rpc.get_block_count().await.unwrap();
    let pid = node.process_id();
    assert_eq!(pid.is_some(), node.is_elementsd());
    let started = Instant::now();
    drop(node);
    if let Some(pid) = pid {
        // stopped and reaped: no process (not even a zombie) is left
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "elementsd {pid} survived its TestNode"
        );
        assert!(started.elapsed() < amphora_testenv::STOP_TIMEOUT + Duration::from_secs(5));
    }
    // the embedded node's server ends on its runtime: give it a moment
    let deadline = Instant::now() + Duration::from_secs(10);
    while rpc.get_block_count().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the node still answers after drop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
