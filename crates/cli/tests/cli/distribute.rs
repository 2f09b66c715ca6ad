//! Distribution end to end: `amphora serve` on the node of the run (see `support.rs`), investor wallets
//! registered on the platform, assignments, `distributions/create`, and the `amphora confirm`
//! binary paying and confirming the distribution; then a wrong transaction refused, and a
//! distribution paid without any confirm call completed by the chain follower. A distribution
//! split over two transactions of 60 confidential outputs each: the second is sent once the
//! first is in a block; killed after its first send, `--resume` finishes it.

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
    let (status, answer) = api.call("POST", &confirm, Some(repeat.clone())).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer, done,
        "the confirm answers the distribution as recorded"
    );

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
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(dir.path(), unthrottled()).await;
    let api = platform.api().await;
    let Split {
        asset,
        uuid,
        path,
        users,
        ..
    } = distribution_to(&platform, &api, dir.path(), 120, 10).await;
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

/// A distribution file written in `dir`, with what it pays.
struct Split {
    asset: String,
    asset_id: elements::AssetId,
    uuid: String,
    path: std::path::PathBuf,
    file: Value,
    users: Vec<i64>,
}

/// An asset issued to the treasury (twice what the distribution pays), `holders` registered
/// wallets with an assignment of `amount` each, and the distribution file of them all (two
/// transactions for more than 60 holders).
async fn distribution_to(
    platform: &Platform,
    api: &crate::support::Api,
    dir: &std::path::Path,
    holders: usize,
    amount: i64,
) -> Split {
    let root = platform.url.clone();
    let treasury_address = platform.treasury().get_new_address(None).await.unwrap();
    let issued = api
        .ok(
            "POST",
            "/assets/issue",
            Some(
                json!({"name": "Split asset", "amount": 2 * holders as i64 * amount,
                "destination_address": treasury_address, "domain": "example.com",
                "ticker": "SPL", "pubkey": PUBKEY}),
            ),
            201,
        )
        .await;
    let asset = issued["asset_uuid"].as_str().unwrap().to_string();
    let asset_id = issued["asset_id"].as_str().unwrap().parse().unwrap();
    let server_xpub = PlatformClient::new(&root, None)
        .unwrap()
        .server_xpub()
        .await
        .unwrap();
    let wallets = descriptors(&server_xpub, &root, holders as u32);
    let users = register_holders(
        PlatformClient::new(&root, None).unwrap(),
        api.clone(),
        wallets,
    )
    .await;
    let create = format!("/assets/{asset}/assignments/create");
    let assign = |user: i64| {
        json!({"assignments": [{"registered_user": user, "amount": amount,
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
    let transactions = if holders > 60 { Some(2) } else { None };
    assert_eq!(
        file["transactions"].as_array().map(Vec::len),
        transactions,
        "{file}"
    );
    let path = dir.join("distribution.json");
    std::fs::write(&path, file.to_string()).unwrap();
    Split {
        asset,
        asset_id,
        uuid,
        path,
        file,
        users,
    }
}

/// A split distribution whose `amphora confirm` run is killed right after it sent the first
/// transaction: the plain rerun refuses and names `--resume`; the run with `--resume` confirms
/// the first transaction without sending it again, sends the second and confirms it. Every
/// address is paid by exactly one transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_split_distribution_killed_after_its_first_send_is_finished_with_resume() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(dir.path(), unthrottled()).await;
    let api = platform.api().await;
    let split = distribution_to(&platform, &api, dir.path(), 61, 10).await;
    let args = ["distribute", "-f", split.path.to_str().unwrap()];
    let output = platform
        .confirm(dir.path(), &args)
        .env(
            amphora_core::crash::CRASH_AT_ENV,
            amphora_core::crash::CONFIRM_AFTER_SEND,
        )
        .output()
        .unwrap();
    assert_eq!(output.status.signal(), Some(9), "{output:?}");
    let sent = wallet_sends(&platform, &split.file).await;
    let first: std::collections::BTreeSet<&String> = sent.values().collect();
    assert_eq!(
        first.len(),
        1,
        "one transaction sent before the kill: {first:?}"
    );
    let first = (*first.iter().next().unwrap()).clone();

    let output = platform.confirm(dir.path(), &args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the rerun paid again: {stderr}");
    assert!(
        stderr.contains("already paid 1 of the 2 transactions") && stderr.contains("\"--resume\""),
        "{stderr}"
    );
    assert_eq!(
        wallet_sends(&platform, &split.file).await,
        sent,
        "nothing sent"
    );

    let mut resume = args.to_vec();
    resume.push("--resume");
    let output = platform.confirm(dir.path(), &resume).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "--resume failed: {stderr}");
    let done = api
        .get(&format!(
            "/assets/{}/distributions/{}",
            split.asset, split.uuid
        ))
        .await;
    assert_eq!(done["distribution_status"], "CONFIRMED", "{done}");
    let txids: Vec<&str> = done["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["txid"].as_str().unwrap())
        .collect();
    assert_eq!(txids.len(), 2, "{done}");
    assert_eq!(txids[0], first);
    let sent = wallet_sends(&platform, &split.file).await;
    for address in split.file["map_address_amount"].as_object().unwrap().keys() {
        assert!(
            sent.contains_key(&unconfidential(address)),
            "{address} unpaid"
        );
    }
    let payers: std::collections::BTreeSet<&String> = sent.values().collect();
    assert_eq!(payers.len(), 2, "{payers:?}");
    let summary = api
        .get(&format!("/registered_users/{}/summary", split.users[60]))
        .await;
    assert_eq!(summary[0]["balance"], 10, "{summary}");
}

/// The treasury wallet's sends to the addresses of `file`: by the (unconfidential) address paid,
/// the paying transaction; an address paid twice fails the test.
async fn wallet_sends(
    platform: &Platform,
    file: &Value,
) -> std::collections::BTreeMap<String, String> {
    let addresses: std::collections::BTreeSet<String> = file["map_address_amount"]
        .as_object()
        .unwrap()
        .keys()
        .map(|a| unconfidential(a))
        .collect();
    let history: Vec<Value> = platform
        .treasury()
        .call("listtransactions", &[json!("*"), json!(10_000)])
        .await
        .unwrap();
    let mut sends = std::collections::BTreeMap::new();
    for entry in history.iter().filter(|e| e["category"] == "send") {
        let (Some(address), Some(txid)) = (entry["address"].as_str(), entry["txid"].as_str())
        else {
            continue;
        };
        if !addresses.contains(address) {
            continue;
        }
        let before = sends.insert(address.to_string(), txid.to_string());
        assert!(before.is_none(), "{address} paid twice: {history:?}");
    }
    sends
}

fn unconfidential(address: &str) -> String {
    address
        .parse::<elements::Address>()
        .unwrap()
        .to_unconfidential()
        .to_string()
}

/// A transaction paying a recipient another amount than assigned is refused with both amounts,
/// from the chain index (the follower unblinded the output first), and records nothing (the
/// follower does not take it for the distribution either); the right payment then confirms.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_of_another_amount_is_refused_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(dir.path(), unthrottled()).await;
    let api = platform.api().await;
    let treasury = platform.treasury();
    let Split {
        asset,
        asset_id,
        uuid,
        file,
        users,
        ..
    } = distribution_to(&platform, &api, dir.path(), 1, 500).await;
    let address = file["map_address_amount"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let pay = |units: i64| AssetPayment {
        address: address.clone(),
        amount: Amount::from_units(units),
        asset: asset_id,
    };
    let wrong = treasury.send_many(&[pay(499)]).await.unwrap();
    let confirm = format!("/assets/{asset}/distributions/{uuid}/confirm");
    let body = json!({"tx_data": {"txid": wrong.to_string(), "details": []}, "change_data": []});
    let refusal = until(
        "the wrong payment's refusal (2 confirmations, indexed)",
        Duration::from_secs(120),
        || async {
            let (status, reply) = api.call("POST", &confirm, Some(body.clone())).await;
            let text = reply["Error"].as_str().unwrap_or_default().to_string();
            (status == 400 && text.contains("pays 499 of asset")).then_some(text)
        },
    )
    .await;
    assert!(
        refusal.contains(&format!("expects 500 of asset {asset_id}")),
        "{refusal}"
    );
    let pending = api
        .get(&format!("/assets/{asset}/distributions/{uuid}"))
        .await;
    assert_eq!(pending["distribution_status"], "UNCONFIRMED", "{pending}");
    assert_eq!(pending["transactions"], json!([]), "{pending}");
    let assignments = api.get(&format!("/assets/{asset}/assignments")).await;
    assert_eq!(assignments[0]["is_distributed"], false, "{assignments}");

    // The right amount completes it, confirmed with the treasury's change.
    let right = treasury.send_many(&[pay(500)]).await.unwrap();
    let unspent: Vec<Value> = treasury.call("listunspent", &[]).await.unwrap();
    let change: Vec<Value> = unspent
        .into_iter()
        .filter(|u| u["txid"] == right.to_string() && u["asset"] == asset_id.to_string())
        .collect();
    let body = json!({"tx_data": {"txid": right.to_string(), "details": []},
        "change_data": change});
    let done = until(
        "the right payment's confirmation (2 confirmations, indexed)",
        Duration::from_secs(120),
        || async {
            let (status, reply) = api.call("POST", &confirm, Some(body.clone())).await;
            (status == 200).then_some(reply)
        },
    )
    .await;
    assert_eq!(done["distribution_status"], "CONFIRMED", "{done}");
    assert_eq!(done["transactions"][0]["txid"], right.to_string(), "{done}");
    let summary = api
        .get(&format!("/registered_users/{}/summary", users[0]))
        .await;
    assert_eq!(summary[0]["distributions_sum"], 500, "{summary}");
}
