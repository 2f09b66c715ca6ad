//! Distribution end to end: `amphora serve` on the node of the run (see `support.rs`), investor wallets
//! registered on the platform, assignments, `distributions/create`, and the `amphora confirm`
//! binary paying and confirming the distribution; then a wrong transaction refused, and a
//! distribution paid without any confirm call completed by the chain follower. A distribution
//! split over two transactions of 60 confidential outputs each: the second is sent once the
//! first is in a block.

use std::time::{Duration, Instant};

use crate::distribute_bench::{descriptors, register_holders, unthrottled};
use crate::support::{until, Options, Platform};
use amphora_rpc::{Amount, AssetPayment};
use amphora_wallet::PlatformClient;
use serde_json::{json, Value};

const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn distribute_with_the_confirm_binary_and_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(dir.path(), Options::default()).await;
    let root = platform.url.clone();
    let treasury_address = platform.treasury().get_new_address(None).await.unwrap();
    let api = platform.api().await;

    // An asset issued to the treasury wallet, and two investors with registered wallets.
    let issued = api
        .ok(
            "POST",
            "/assets/issue",
            Some(json!({"name": "Distributed asset", "amount": 1_000_000,
                "destination_address": treasury_address, "domain": "example.com",
                "ticker": "DST", "pubkey": PUBKEY})),
            201,
        )
        .await;
    let asset = issued["asset_uuid"].as_str().unwrap().to_string();
    let asset_id = issued["asset_id"].as_str().unwrap().parse().unwrap();
    let node = platform.node();
    let mut users = Vec::new();
    for name in ["Alice", "Bob"] {
        let wallet_dir = dir.path().join(format!("wallet-{name}"));
        let (mut wallet, _) = amphora_wallet::Wallet::create(&wallet_dir, node.clone())
            .await
            .unwrap();
        let registered = wallet.register(&root).await.unwrap();
        let user = api
            .ok(
                "POST",
                "/registered_users/add",
                Some(json!({"name": name, "GAID": registered.gaid})),
                201,
            )
            .await;
        users.push(user["id"].as_i64().unwrap());
    }
    let (alice, bob) = (users[0], users[1]);
    let assign = |user: i64, amount: i64| {
        json!({"assignments": [{"registered_user": user, "amount": amount,
            "ready_for_distribution": true}]})
    };
    // The first assignment waits for the issuance's 2 confirmations (indexed by the follower).
    let create = format!("/assets/{asset}/assignments/create");
    api.first_assignment(&create, assign(alice, 500)).await;
    api.ok("POST", &create, Some(assign(bob, 300)), 200).await;

    // Distribute with the confirm binary.
    let file = api
        .get(&format!("/assets/{asset}/distributions/create/"))
        .await;
    let uuid = file["distribution_uuid"].as_str().unwrap().to_string();
    assert_eq!(file["map_address_amount"].as_object().unwrap().len(), 2);
    let path = dir.path().join("distribution.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let started = Instant::now();
    let output = platform
        .confirm(dir.path(), &["distribute", "-f", path.to_str().unwrap()])
        .output()
        .unwrap();
    eprintln!("amphora confirm distribute took {:?}", started.elapsed());
    assert!(
        output.status.success(),
        "confirm failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let done = api
        .get(&format!("/assets/{asset}/distributions/{uuid}"))
        .await;
    assert_eq!(done["distribution_status"], "CONFIRMED", "{done}");
    let paid = &done["transactions"][0];
    let first_txid = paid["txid"].as_str().unwrap().to_string();
    assert_eq!(paid["assignments"].as_array().unwrap().len(), 2);
    let assignments = api.get(&format!("/assets/{asset}/assignments")).await;
    assert!(assignments
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["is_distributed"] == true));
    let summary = api.get(&format!("/registered_users/{alice}/summary")).await;
    assert_eq!(summary[0]["distributions_sum"], 500);
    assert_eq!(summary[0]["balance"], 500);
    // A repeated confirm is idempotent.
    let repeat = json!({"tx_data": {"txid": first_txid, "details": []}, "change_data": []});
    let confirm = format!("/assets/{asset}/distributions/{uuid}/confirm");
    let (status, _) = api.call("POST", &confirm, Some(repeat.clone())).await;
    assert_eq!(status, 200);

    // A wrong transaction is refused and changes nothing.
    api.ok("POST", &create, Some(assign(bob, 100)), 200).await;
    let file = api
        .get(&format!("/assets/{asset}/distributions/create"))
        .await;
    let second = file["distribution_uuid"].as_str().unwrap().to_string();
    let confirm = format!("/assets/{asset}/distributions/{second}/confirm");
    let (status, reply) = api.call("POST", &confirm, Some(repeat)).await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["Error"].as_str().unwrap().contains("pays none"),
        "{reply}"
    );
    let pending = api
        .get(&format!("/assets/{asset}/distributions/{second}"))
        .await;
    assert_eq!(pending["distribution_status"], "UNCONFIRMED");

    // Paid without a confirm call: the follower completes it.
    let treasury = platform.treasury();
    let payments: Vec<AssetPayment> = file["map_address_amount"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(address, amount)| AssetPayment {
            address: address.clone(),
            amount: Amount::from_units((amount.as_f64().unwrap() * 1e8).round() as i64),
            asset: asset_id,
        })
        .collect();
    treasury.send_many(&payments).await.unwrap();
    until(
        "the follower to complete the distribution",
        Duration::from_secs(60),
        || async {
            let (_, reply) = api
                .call(
                    "GET",
                    &format!("/assets/{asset}/distributions/{second}"),
                    None,
                )
                .await;
            (reply["distribution_status"] == "CONFIRMED").then_some(())
        },
    )
    .await;
    let lost = api.get(&format!("/assets/{asset}/lost-outputs")).await;
    assert_eq!(
        lost["lost_outputs"],
        json!([]),
        "treasury inputs are not lost"
    );
    let summary = api.get(&format!("/registered_users/{bob}/summary")).await;
    assert_eq!(summary[0]["distributions_sum"], 400);
    // The first confirm run handed over the treasury's view key, so the follower also indexed
    // the treasury's confidential change of the payment no confirm call reported.
    let balance = api.get(&format!("/assets/{asset}/balance")).await;
    let treasury_holds: Vec<i64> = balance["confirmed_balance"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["owner"] == "ISSUER")
        .map(|h| h["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(treasury_holds, [1_000_000 - 900], "{balance}");
}

/// Elements Core refuses a transaction into its mempool when its unconfirmed ancestors and it
/// pass 101,000 vbytes, and its wallet then keeps the transaction without broadcasting it (and
/// `sendmany` still answers its txid): one transaction of 60 confidential outputs is about
/// 74,000 vbytes, so the second of a split distribution must wait until the first is in a
/// block. On Elements Core the stand-in miner mines a block milliseconds after a send, while
/// the next send follows at once: without the wait the second transaction is never
/// broadcast.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_distribution_in_two_full_transactions_sends_the_second_after_the_first_is_mined() {
    const HOLDERS: usize = 120;
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(dir.path(), unthrottled()).await;
    let root = platform.url.clone();
    let api = platform.api().await;
    let treasury_address = platform.treasury().get_new_address(None).await.unwrap();
    let issued = api
        .ok(
            "POST",
            "/assets/issue",
            Some(json!({"name": "Split asset", "amount": HOLDERS as i64 * 10,
                "destination_address": treasury_address, "domain": "example.com",
                "ticker": "SPL", "pubkey": PUBKEY})),
            201,
        )
        .await;
    let asset = issued["asset_uuid"].as_str().unwrap().to_string();
    let server_xpub = PlatformClient::new(&root, None)
        .unwrap()
        .server_xpub()
        .await
        .unwrap();
    let holders = descriptors(&server_xpub, &root, HOLDERS as u32);
    let users = register_holders(
        PlatformClient::new(&root, None).unwrap(),
        api.clone(),
        holders,
    )
    .await;
    let create = format!("/assets/{asset}/assignments/create");
    let assign = |user: i64| {
        json!({"assignments": [{"registered_user": user, "amount": 10,
            "ready_for_distribution": true}]})
    };
    api.first_assignment(&create, assign(users[0])).await;
    for user in &users[1..] {
        api.ok("POST", &create, Some(assign(*user)), 200).await;
    }
    let file = api
        .get(&format!("/assets/{asset}/distributions/create"))
        .await;
    let uuid = file["distribution_uuid"].as_str().unwrap().to_string();
    assert_eq!(
        file["transactions"].as_array().map(Vec::len),
        Some(2),
        "{file}"
    );
    let path = dir.path().join("distribution.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let output = platform
        .confirm(dir.path(), &["distribute", "-f", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "confirm failed: {stderr}");

    let done = api
        .get(&format!("/assets/{asset}/distributions/{uuid}"))
        .await;
    assert_eq!(done["distribution_status"], "CONFIRMED", "{done}");
    let txids: Vec<String> = done["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["txid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(txids.len(), 2, "{done}");
    assert!(
        stderr.contains(&format!(
            "Waiting for transaction {} to be in a block before the next one spends its change",
            txids[0]
        )),
        "{stderr}"
    );
    // The second spends the first's change, from a later block.
    let node = platform.node();
    let (first, second): (Value, Value) = (
        node.call("getrawtransaction", &[json!(txids[0]), json!(true)])
            .await
            .unwrap(),
        node.call("getrawtransaction", &[json!(txids[1]), json!(true)])
            .await
            .unwrap(),
    );
    assert!(
        second["vin"]
            .as_array()
            .unwrap()
            .iter()
            .any(|input| input["txid"] == txids[0]),
        "{second}"
    );
    let mut heights = Vec::new();
    for tx in [&first, &second] {
        let hash = tx["blockhash"].as_str().unwrap().parse().unwrap();
        heights.push(node.get_block_header_info(&hash).await.unwrap().height);
    }
    assert!(heights[0] < heights[1], "{heights:?}");
    let summary = api
        .get(&format!("/registered_users/{}/summary", users[119]))
        .await;
    assert_eq!(summary[0]["balance"], 10, "{summary}");
}
