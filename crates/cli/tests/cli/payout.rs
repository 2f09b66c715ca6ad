//! Payouts end to end (issue 16's "Done when"): `amphora serve` on the node of the run, a
//! security distributed to three investors (unequal amounts), a co-signed transfer between two
//! of them, a second asset issued as the payout asset, one payout at a height before the
//! transfer and one after, both paid with the `amphora confirm payout` binary and checked on
//! chain (the investors' wallets) and in the reports; then an L-BTC payout paid without any
//! confirm call, completed by the chain follower.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::support::{run_ok, until, Api, Platform};
use amphora_rpc::{Amount, AssetPayment};
use amphora_wallet::{SendRequest, Wallet};
use elements::AssetId;
use serde_json::{json, Value};

const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;

/// Issues `amount` of a new asset to the treasury; (uuid, asset id).
async fn issue(
    api: &Api,
    platform: &Platform,
    name: &str,
    ticker: &str,
    amount: i64,
) -> (String, AssetId) {
    let destination = platform.treasury().get_new_address(None).await.unwrap();
    let issued = api
        .ok(
            "POST",
            "/assets/issue",
            Some(
                json!({"name": name, "amount": amount, "destination_address": destination,
                "domain": "example.com", "ticker": ticker, "pubkey": PUBKEY}),
            ),
            201,
        )
        .await;
    (
        issued["asset_uuid"].as_str().unwrap().to_string(),
        issued["asset_id"].as_str().unwrap().parse().unwrap(),
    )
}

/// Creates a payout, pays it with `amphora confirm payout` and gives its confirmed report.
async fn pay_out(platform: &Platform, api: &Api, dir: &Path, asset: &str, body: Value) -> Value {
    let file = api
        .ok(
            "POST",
            &format!("/assets/{asset}/payouts/create"),
            Some(body),
            200,
        )
        .await;
    let uuid = file["payout_uuid"].as_str().unwrap().to_string();
    let path = dir.join(format!("payout-{uuid}.json"));
    std::fs::write(&path, file.to_string()).unwrap();
    run_ok(platform.confirm(dir, &["payout", "-f", path.to_str().unwrap()]));
    let report = api.get(&format!("/assets/{asset}/payouts/{uuid}")).await;
    assert_eq!(report["payout_status"], "CONFIRMED", "{report}");
    assert_payout_event(api, asset, &uuid).await;
    report
}

/// The security's events hold exactly one `payout.confirmed` of payout `uuid`, with its
/// block height; returns its data.
async fn assert_payout_event(api: &Api, asset: &str, uuid: &str) -> Value {
    let events = api
        .get(&format!(
            "/events?asset_uuid={asset}&types=payout.confirmed"
        ))
        .await;
    let mine: Vec<&Value> = events["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["uuid"] == uuid)
        .collect();
    assert_eq!(mine.len(), 1, "{events}");
    assert!(mine[0]["block_height"].is_i64(), "{events}");
    mine[0]["data"].clone()
}

/// Each line's amount by registered user.
fn amounts(report: &Value) -> BTreeMap<i64, i64> {
    report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["registered_user"].as_i64().unwrap(),
                l["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The wallet's balance of `asset`, base units, as its own chain view sees it.
async fn held(wallet: &mut Wallet, asset: AssetId) -> u64 {
    wallet.sync().await.unwrap();
    let balance = wallet.balance().await.unwrap();
    balance
        .assets
        .iter()
        .find(|a| a.asset.asset_id == asset)
        .map_or(0, |a| a.amount)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payouts_before_and_after_a_transfer_are_paid_and_checked_on_chain() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(dir.path(), Default::default()).await;
    let root = platform.url.clone();
    let api = platform.api().await;
    let node = platform.node();
    let treasury = platform.treasury();

    let (security, _) = issue(&api, &platform, "Dividend share", "DIV", 1_000_000).await;
    let (usd, usd_id) = issue(&api, &platform, "Stable coin", "USDX", 10_000_000).await;
    let mut users = Vec::new();
    let mut wallets = Vec::new();
    for name in ["Alice", "Bob", "Carol"] {
        let (mut wallet, _) =
            Wallet::create(&dir.path().join(format!("wallet-{name}")), node.clone())
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
        wallets.push(wallet);
    }
    let (alice, bob, carol) = (users[0], users[1], users[2]);

    // Distribute 500, 300 and 200 (the first assignment waits for the issuance's index).
    let create = format!("/assets/{security}/assignments/create");
    for (user, amount) in [(alice, 500), (bob, 300), (carol, 200)] {
        let body = json!({"assignments": [{"registered_user": user, "amount": amount,
            "ready_for_distribution": true}]});
        api.until_status("POST", &create, Some(body), 200).await;
    }
    let file = api
        .get(&format!("/assets/{security}/distributions/create"))
        .await;
    let path = dir.path().join("distribution.json");
    std::fs::write(&path, file.to_string()).unwrap();
    run_ok(platform.confirm(dir.path(), &["distribute", "-f", path.to_str().unwrap()]));
    let before_transfer = node.get_block_count().await.unwrap() as i64;

    // Alice sends 100 to Bob (co-signed by the platform once the asset is authorized for
    // transfers; L-BTC from the treasury pays the fee).
    api.until_status(
        "GET",
        &format!("/assets/{security}/register-authorized"),
        None,
        200,
    )
    .await;
    let alice_address = wallets[0].address(None).await.unwrap().address;
    let bob_address = wallets[1].address(None).await.unwrap().address;
    let fee_money = treasury
        .send_to_address(&alice_address, Amount::from_units(100_000), None)
        .await
        .unwrap();
    crate::support::wait_confirmed(&treasury, &fee_money.to_string()).await;
    wallets[0].sync().await.unwrap();
    let security_id = file["asset_id"].as_str().unwrap().to_string();
    wallets[0]
        .send(&SendRequest {
            asset: security_id,
            to: bob_address,
            amount: "100".into(),
            fee_rate: None,
        })
        .await
        .unwrap();
    api.until(&format!("/assets/{security}/ownerships"), |o| {
        o.as_array()
            .unwrap()
            .iter()
            .any(|h| h["registered_user"] == bob && h["amount"] == 400)
    })
    .await;

    // Before the transfer: 1_000_001 × (500, 300, 200)/1000; the unit left goes to Alice's
    // remainder (.5). After it: 1001 × (400, 400, 200)/1000; Alice and Bob tie at .4 and the
    // unit goes to the lower registered user id (Alice).
    let first = pay_out(
        &platform,
        &api,
        dir.path(),
        &security,
        json!({"payout_asset": usd_id.to_string(), "total_amount": 1_000_001,
            "record_height": before_transfer, "description": "before"}),
    )
    .await;
    assert_eq!(
        amounts(&first),
        BTreeMap::from([(alice, 500_001), (bob, 300_000), (carol, 200_000)])
    );
    let second = pay_out(
        &platform,
        &api,
        dir.path(),
        &security,
        json!({"payout_asset": usd_id.to_string(), "total_amount": 1001}),
    )
    .await;
    assert_eq!(
        amounts(&second),
        BTreeMap::from([(alice, 401), (bob, 400), (carol, 200)])
    );
    assert!(second["record_height"].as_i64().unwrap() > before_transfer);

    // Every line is paid on chain: each investor's wallet holds its two shares.
    for (i, user) in users.iter().enumerate() {
        for report in [&first, &second] {
            let line = report["lines"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["registered_user"] == *user)
                .unwrap();
            assert!(line["txid"].is_string() && line["vout"].is_i64(), "{line}");
        }
        let expected = amounts(&first)[user] + amounts(&second)[user];
        assert_eq!(
            held(&mut wallets[i], usd_id).await,
            expected as u64,
            "user {user}"
        );
    }
    // The reports: the payout asset's ownerships and the treasury's change (not lost).
    let ownerships = api.get(&format!("/assets/{usd}/ownerships")).await;
    let treasury_usd: i64 = ownerships
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["owner"] == "ISSUER")
        .map(|o| o["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(treasury_usd, 10_000_000 - 1_000_001 - 1001, "{ownerships}");
    let lost = api.get(&format!("/assets/{usd}/lost-outputs")).await;
    assert_eq!(lost["lost_outputs"], json!([]), "{lost}");
    let summary = api.get(&format!("/registered_users/{alice}/summary")).await;
    let entry = summary
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["asset_uuid"] == security.as_str())
        .unwrap();
    assert_eq!(entry["payouts"].as_array().unwrap().len(), 2, "{entry}");
    let listed = api.get(&format!("/assets/{security}/payouts")).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // An L-BTC payout paid straight from the treasury's node: the follower completes it.
    let labels: Value = node.call("dumpassetlabels", &[]).await.unwrap();
    let lbtc: AssetId = labels["bitcoin"].as_str().unwrap().parse().unwrap();
    let file = api
        .ok(
            "POST",
            &format!("/assets/{security}/payouts/create"),
            Some(json!({"payout_asset": lbtc.to_string(), "total_amount": 3000})),
            200,
        )
        .await;
    let uuid = file["payout_uuid"].as_str().unwrap().to_string();
    let payments: Vec<AssetPayment> = file["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| AssetPayment {
            address: l["receiving_address"].as_str().unwrap().to_string(),
            amount: Amount::from_units(l["amount"].as_i64().unwrap()),
            asset: lbtc,
        })
        .collect();
    // Attacks on the confirm call, each refused with nothing recorded: a transaction that paid
    // other addresses (the first payout's), and one that pays every line one unit short
    // (which the follower must not take as the payment either).
    let confirm = format!("/assets/{security}/payouts/{uuid}/confirm");
    let first_txid = first["lines"][0]["txid"].as_str().unwrap().to_string();
    let short: Vec<AssetPayment> = payments
        .iter()
        .map(|p| AssetPayment {
            amount: Amount::from_units(p.amount.units() - 1),
            ..p.clone()
        })
        .collect();
    let short_txid = treasury.send_many(&short).await.unwrap().to_string();
    crate::support::wait_confirmed(&treasury, &short_txid).await;
    for txid in [first_txid, short_txid] {
        let body = json!({"tx_data": {"txid": txid, "details": []}, "change_data": []});
        let (status, reply) = api.call("POST", &confirm, Some(body)).await;
        assert_eq!(status, 400, "{txid}: {reply}");
        assert!(reply["Error"].is_string(), "{reply}");
        let report = api.get(&format!("/assets/{security}/payouts/{uuid}")).await;
        assert_eq!(report["payout_status"], "UNCONFIRMED", "{report}");
    }
    treasury.send_many(&payments).await.unwrap();
    until(
        "the follower to complete the L-BTC payout",
        Duration::from_secs(60),
        || async {
            let (_, reply) = api
                .call("GET", &format!("/assets/{security}/payouts/{uuid}"), None)
                .await;
            (reply["payout_status"] == "CONFIRMED").then_some(reply)
        },
    )
    .await;
    let data = assert_payout_event(&api, &security, &uuid).await;
    assert_eq!(data["recorded_by"], "follower", "{data}");
}
