//! The test environment on the node this run asks for (`ELEMENTSD_EXE` or the embedded one):
//! free coins, mining, the auto-miner's confirmations, that a dropped node is gone, and a
//! wallet transaction conflicted by a block while its wallet was away.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use amphora_rpc::{Amount, RetryPolicy};
use amphora_testenv::{NodeKind, TestNode, INITIAL_FREE_COINS, TREASURY_FUNDING_LBTC};
use serde_json::{json, Value};

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

/// A wallet transaction whose input a block spent while the wallet was away (unloaded, its
/// mempool lost in a restart) is conflicted as Elements Core 23 marks it: negative
/// `confirmations`, `trusted` false, the other spender in `walletconflicts`, no coins, and it is
/// not resubmitted, neither at `loadwallet` nor when the node starts again.
#[tokio::test]
async fn a_wallet_transaction_whose_input_a_block_spent_is_conflicted() {
    let mut node = TestNode::start().await;
    let funder = node.claim_free_coins("funder").await;
    let wallet = node.create_wallet("w").await;
    let address = wallet.get_new_address(None).await.unwrap();
    funder
        .send_to_address(&address, Amount::from_units(100_000_000), None)
        .await
        .unwrap();
    node.mine(1).await;
    let coins = wallet.list_unspent(None).await.unwrap();
    assert_eq!(coins.len(), 1, "{coins:?}");
    let coin = json!([{"txid": coins[0].txid, "vout": coins[0].vout}]);
    // The double spend, built (not sent) while the coin is unspent: to the wallet itself.
    let own = wallet.get_new_address(None).await.unwrap();
    let raw = wallet
        .create_raw_transaction(&coin, &json!([{own: 0.9999}, {"fee": 0.0001}]))
        .await
        .unwrap();
    let blinded = wallet.blind_raw_transaction(&raw, true).await.unwrap();
    let double = wallet
        .sign_raw_transaction_with_wallet(&blinded)
        .await
        .unwrap();
    assert!(double.complete);
    let first = wallet
        .send_to_address(
            &amphora_testenv::burn_address(),
            Amount::from_units(50_000_000),
            None,
        )
        .await
        .unwrap();
    // unloaded (not loaded at start), then the first spend's mempool is lost
    let _: Value = node
        .rpc()
        .call("unloadwallet", &[json!("w"), json!(false)])
        .await
        .unwrap();
    node.restart_without_mempool().await;
    let second = node.rpc().send_raw_transaction(&double.hex).await.unwrap();
    node.mine(1).await;
    let _: Value = node
        .rpc()
        .call("loadwallet", &[json!("w"), json!(true)])
        .await
        .unwrap();
    let wallet = node.wallet("w");
    let status = |txid: elements::Txid| {
        let wallet = wallet.clone();
        async move {
            let tx: Value = wallet.call("gettransaction", &[json!(txid)]).await.unwrap();
            tx
        }
    };
    let conflicted = status(first).await;
    assert_eq!(conflicted["confirmations"], json!(-1), "{conflicted}");
    assert_eq!(conflicted["trusted"], json!(false), "{conflicted}");
    assert_eq!(
        conflicted["walletconflicts"],
        json!([second.to_string()]),
        "{conflicted}"
    );
    assert!(conflicted.get("blockhash").is_none(), "{conflicted}");
    let winner = status(second).await;
    assert_eq!(winner["confirmations"], json!(1), "{winner}");
    assert_eq!(
        winner["walletconflicts"],
        json!([first.to_string()]),
        "{winner}"
    );
    assert!(
        node.rpc().get_raw_mempool().await.unwrap().is_empty(),
        "loadwallet resubmitted nothing"
    );
    let balance = wallet.get_balances().await.unwrap();
    assert_eq!(
        balance.get("bitcoin").map(|a| a.units()),
        Some(99_990_000),
        "only the block's spend counts"
    );

    // A restart with the wallet loaded: still conflicted, one block deeper, not resubmitted.
    node.restart_without_mempool().await;
    node.mine(1).await;
    let wallet = node.wallet("w");
    let tx: Value = wallet
        .call("gettransaction", &[json!(first)])
        .await
        .unwrap();
    assert_eq!(tx["confirmations"], json!(-2), "{tx}");
    assert!(node.rpc().get_raw_mempool().await.unwrap().is_empty());
    let listed: Value = wallet
        .call("listtransactions", &[json!("*"), json!(100)])
        .await
        .unwrap();
    let entries: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["txid"] == json!(first.to_string()))
        .collect();
    assert!(!entries.is_empty(), "{listed}");
    for entry in entries {
        assert_eq!(entry["confirmations"], json!(-2), "{entry}");
        assert_eq!(
            entry["walletconflicts"],
            json!([second.to_string()]),
            "{entry}"
        );
    }
}

/// `blindrawtransaction` of an unblinded issuance with a reissuance token (`rawissueasset`
/// `"blind": false`, to confidential addresses): Elements blinds new issuances by default, which
/// changes the token id under the output paying it, and refuses; with `blind_issuances` false
/// it blinds the outputs only, the issuance stays explicit and the transaction is valid. The
/// embedded node answers the same.
#[tokio::test]
async fn an_unblinded_issuance_is_blinded_only_when_asked_not_to_blind_issuances() {
    let node = TestNode::start().await;
    let wallet = node.claim_free_coins("issuer").await;
    let asset_address = wallet.get_new_address(None).await.unwrap();
    let token_address = wallet.get_new_address(None).await.unwrap();
    let unfunded = wallet
        .create_raw_transaction(&json!([]), &json!([{ "data": "00" }]))
        .await
        .unwrap();
    let funded = wallet
        .fund_raw_transaction(&unfunded, &json!({ "fee_rate": 10 }))
        .await
        .unwrap();
    let request = amphora_rpc::RawIssuanceRequest {
        asset_amount: Amount::from_units(1_000),
        asset_address: asset_address.clone(),
        token_amount: Amount::from_units(1),
        token_address: Some(token_address),
        blind: false,
        contract_hash: None,
    };
    let issued = wallet
        .raw_issue_asset(&funded.hex, &[request])
        .await
        .unwrap()
        .remove(0);

    let refused = wallet
        .blind_raw_transaction(&issued.hex, true)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(-8), "{refused}");
    assert!(
        refused
            .to_string()
            .contains("Are you sure each asset type to blind is represented in the inputs?"),
        "{refused}"
    );

    let blinded = wallet
        .blind_raw_transaction(&issued.hex, false)
        .await
        .unwrap();
    let signed = wallet
        .sign_raw_transaction_with_wallet(&blinded)
        .await
        .unwrap();
    assert!(signed.complete);
    let accepted = node
        .rpc()
        .test_mempool_accept(&[signed.hex.as_str()])
        .await
        .unwrap();
    assert!(accepted[0].allowed, "{accepted:?}");
    let tx: elements::Transaction =
        elements::encode::deserialize(&hex::decode(&signed.hex).unwrap()).unwrap();
    let issuance = &tx.input[issued.vin as usize].asset_issuance;
    assert!(issuance.amount.is_explicit() && issuance.inflation_keys.is_explicit());
    assert!(
        tx.output
            .iter()
            .filter(|o| o.asset.is_confidential())
            .count()
            >= 2
    );
}
