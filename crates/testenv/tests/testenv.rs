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

/// `sendmany` from `wallet`: `amount` L-BTC to each of `addresses`.
async fn send_each(
    wallet: &amphora_rpc::ElementsRpc,
    addresses: &[String],
    amount: f64,
) -> elements::Txid {
    let amounts: serde_json::Map<String, Value> = addresses
        .iter()
        .map(|a| (a.clone(), json!(amount)))
        .collect();
    wallet
        .call("sendmany", &[json!(""), Value::Object(amounts)])
        .await
        .unwrap()
}

/// Elements Core's package limits, on the node of the run. A second send of 60 confidential
/// outputs chained on the first, still unconfirmed (about 74,000 vbytes each), passes the first
/// one's 101,000-vbyte descendant limit: the mempool refuses it, yet the wallet keeps it and
/// `sendmany` answers its txid. Unbroadcast, it is untrusted, spends the first one's change and
/// has no coins of its own, so the wallet has nothing left to spend. Small chained sends are
/// accepted, with their relatives in `getmempoolentry`.
#[tokio::test]
async fn a_send_past_the_mempool_package_limits_is_kept_by_the_wallet_unbroadcast() {
    let node = TestNode::start().await;
    let wallet = node.claim_free_coins("sender").await;
    let receiver = node.create_wallet("receiver").await;
    let mut addresses = Vec::new();
    for _ in 0..120 {
        addresses.push(receiver.get_new_address(None).await.unwrap());
    }

    // Small sends chain: relatives on both sides.
    let parent = send_each(&wallet, &addresses[..1], 1.0).await;
    let child = send_each(&wallet, &addresses[1..2], 1.0).await;
    let parent_entry = node.rpc().get_mempool_entry(&parent).await.unwrap();
    let child_entry = node.rpc().get_mempool_entry(&child).await.unwrap();
    let (parent_size, child_size) = (
        parent_entry["vsize"].as_u64().unwrap(),
        child_entry["vsize"].as_u64().unwrap(),
    );
    assert_eq!(parent_entry["descendantcount"], 2, "{parent_entry}");
    assert_eq!(parent_entry["descendantsize"], parent_size + child_size);
    assert_eq!(parent_entry["ancestorcount"], 1, "{parent_entry}");
    assert_eq!(parent_entry["spentby"], json!([child.to_string()]));
    assert_eq!(child_entry["ancestorcount"], 2, "{child_entry}");
    assert_eq!(child_entry["ancestorsize"], parent_size + child_size);
    assert_eq!(child_entry["depends"], json!([parent.to_string()]));
    assert_eq!(child_entry["descendantcount"], 1, "{child_entry}");
    node.mine(1).await;

    let first = send_each(&wallet, &addresses[..60], 0.0001).await;
    let entry = node.rpc().get_mempool_entry(&first).await.unwrap();
    assert!(
        entry["vsize"].as_u64().unwrap() > 101_000 / 2,
        "two such sends pass the limit: {entry}"
    );
    let second = send_each(&wallet, &addresses[60..], 0.0001).await;
    assert_eq!(node.rpc().get_raw_mempool().await.unwrap(), vec![first]);
    let missing = node.rpc().get_mempool_entry(&second).await.unwrap_err();
    assert_eq!(missing.code(), Some(-5), "{missing}");
    assert_eq!(missing.node_message(), Some("Transaction not in mempool"));
    let kept: Value = wallet
        .call("gettransaction", &[json!(second)])
        .await
        .unwrap();
    assert_eq!(kept["confirmations"], 0, "{kept}");
    assert_eq!(kept["trusted"], false, "{kept}");
    let refused = node
        .rpc()
        .send_raw_transaction(kept["hex"].as_str().unwrap())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(-26), "{refused}");
    assert_eq!(
        refused.node_message().map(str::to_owned),
        Some(format!(
            "too-long-mempool-chain, exceeds descendant size limit for tx {first} [limit: 101000]"
        ))
    );
    let unspent: Value = wallet.call("listunspent", &[json!(0)]).await.unwrap();
    assert!(
        unspent
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["txid"] != first.to_string() && u["txid"] != second.to_string()),
        "the first's change is spent, the second has no coins: {unspent}"
    );
    let broke = wallet
        .call::<Value>("sendtoaddress", &[json!(addresses[0]), json!(0.0001)])
        .await
        .unwrap_err();
    assert_eq!(broke.code(), Some(-6), "{broke}");
    assert_eq!(broke.node_message(), Some("Insufficient funds"));
}
