//! The whole AMP tutorial end to end, over real HTTP: `amphora serve` on the node of the run
//! (its embedded node mining at once, or a real `elementsd`; see `support.rs`), investor wallets from the wallet library, and the `amphora confirm` binary as the issuer runs
//! it. Issue, authorize, category, registered users, assignments, distribution, a reissuance
//! interrupted after its broadcast and finished with `--use-existing`, and a burn never confirmed
//! by the client (the platform completes it from the chain; `--use-existing` later adds the
//! change). Then the summary, ownerships, distributions, reissuances and activities must be
//! exactly what the tutorial did, and so must the asset's events (`GET /api/events`).

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{run_ok, wait_confirmed, Options, Platform, TIMEOUT};
use amphora_rpc::{AddressType, Amount};
use amphora_testenv::pg::PgSchema;
use serde_json::json;

const PASSWORD: &str = "tutorial password 1";
const ISSUED: i64 = 100_000;
const REISSUED: i64 = 50_000;
const BURNT: i64 = 10_000;
const INVESTORS: [(&str, i64); 2] = [("Alice Example", 30_000), ("Bob Example", 20_000)];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_whole_tutorial_over_http() {
    tutorial(None).await;
}

/// The same on PostgreSQL (the events' advisory lock and every flow's transaction there).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_whole_tutorial_over_http_on_postgres() {
    let schema = PgSchema::create("tutorial").await;
    tutorial(Some(schema.url())).await;
}

async fn tutorial(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(
        dir.path(),
        Options {
            issuer_password: Some(PASSWORD.into()),
            database_url,
            ..Options::default()
        },
    )
    .await;
    let url = platform.url.clone();
    let treasury = platform.treasury();
    let node = platform.node();
    let api = platform.api().await;

    // Issue to the treasury wallet and wait for 2 confirmations.
    let destination = treasury
        .get_new_address(Some(AddressType::Blech32))
        .await
        .unwrap();
    let pubkey = treasury
        .get_address_info(&destination)
        .await
        .unwrap()
        .pubkey
        .unwrap();
    let issuance = json!({
        "name": "Tutorial Security", "amount": ISSUED, "destination_address": destination,
        "domain": "example.com", "ticker": "TUTO", "pubkey": pubkey, "precision": 2,
        "is_confidential": true, "is_reissuable": true, "reissuance_amount": 1,
        "reissuance_address": treasury.get_new_address(Some(AddressType::Blech32)).await.unwrap(),
        "transfer_restricted": true,
    });
    let issued = api.ok("POST", "/assets/issue", Some(issuance), 201).await;
    let uuid = issued["asset_uuid"].as_str().unwrap().to_string();
    let asset_id = issued["asset_id"].as_str().unwrap().to_string();
    let asset = format!("/assets/{uuid}");
    wait_confirmed(&treasury, issued["txid"].as_str().unwrap()).await;
    let authorized = api
        .until_status("GET", &format!("{asset}/register-authorized"), None, 200)
        .await;
    assert_eq!(authorized["is_authorized"], true);

    // A category the asset requires, and two registered users with new wallets in it.
    let category = api
        .ok(
            "POST",
            "/categories/add",
            Some(json!({"name": "Tutorial", "description": "KYC done"})),
            201,
        )
        .await;
    let category_id = category["id"].as_i64().unwrap();
    api.ok(
        "PUT",
        &format!("/categories/{category_id}/assets/{uuid}/add"),
        None,
        200,
    )
    .await;
    let mut users = Vec::new();
    for (name, amount) in INVESTORS {
        let wallet_dir = dir.path().join(name.replace(' ', "-"));
        let (mut wallet, _) = amphora_wallet::Wallet::create(&wallet_dir, node.clone())
            .await
            .unwrap();
        let registered = wallet.register(&url).await.unwrap();
        let body = json!({"name": name, "GAID": registered.gaid, "is_company": false});
        let user = api
            .ok("POST", "/registered_users/add", Some(body), 201)
            .await;
        let id = user["id"].as_i64().unwrap();
        api.ok(
            "PUT",
            &format!("/categories/{category_id}/registered_users/{id}/add"),
            None,
            200,
        )
        .await;
        users.push((id, registered.gaid, amount));
    }

    // Assign and distribute with the confirm binary.
    for (id, _, amount) in &users {
        let body = json!({"assignments": [{"registered_user": id, "amount": amount, "ready_for_distribution": true}]});
        api.until_status(
            "POST",
            &format!("{asset}/assignments/create"),
            Some(body),
            200,
        )
        .await;
    }
    let file = dir.path().join("distribution.json");
    let distribution = api
        .ok("GET", &format!("{asset}/distributions/create/"), None, 200)
        .await;
    std::fs::write(&file, distribution.to_string()).unwrap();
    run_ok(platform.confirm(dir.path(), &["distribute", "-f", file.to_str().unwrap()]));

    // Reissue; the client is killed right after the broadcast, then finishes with
    // --use-existing TXID:VIN.
    let request = api
        .until_status(
            "POST",
            &format!("{asset}/reissue-request"),
            Some(json!({"amount_to_reissue": REISSUED})),
            200,
        )
        .await;
    assert_eq!(request["amount"], json!(0.0005));
    let file = dir.path().join("reissue.json");
    std::fs::write(&file, request.to_string()).unwrap();
    let mut child = platform
        .confirm(dir.path(), &["reissue", "-f", file.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The confirm client reports its progress on stderr.
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut sent = String::new();
    let mut seen = String::new();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.trim().strip_prefix("Reissuance transaction ") {
            sent = rest.trim_end_matches('.').replace(" vin ", ":");
            break;
        }
        seen.push_str(&line);
        line.clear();
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(sent.contains(':'), "no reissuance printed: {seen}");
    run_ok(platform.confirm(
        dir.path(),
        &[
            "reissue",
            "-f",
            file.to_str().unwrap(),
            "--use-existing",
            &sent,
        ],
    ));
    let reissue_txid = sent.split(':').next().unwrap().to_string();

    // Burn without any confirm call: the follower completes it from the chain.
    let request = api
        .until_status(
            "POST",
            &format!("{asset}/burn-request"),
            Some(json!({"amount": BURNT})),
            200,
        )
        .await;
    let burn_txid = treasury
        .destroy_amount(&asset_id.parse().unwrap(), Amount::from_units(BURNT))
        .await
        .unwrap()
        .to_string();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let burns = api.ok("GET", &format!("{asset}/burns"), None, 200).await;
        if burns[0]["txid"] == burn_txid.as_str() {
            assert_eq!(burns[0]["amount"], BURNT);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the burn was never completed: {burns}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The client run later with --use-existing records the treasury's change.
    let file = dir.path().join("burn.json");
    std::fs::write(&file, request.to_string()).unwrap();
    run_ok(platform.confirm(
        dir.path(),
        &[
            "burn",
            "-f",
            file.to_str().unwrap(),
            "--use-existing",
            &burn_txid,
        ],
    ));

    // What the platform reports.
    let summary = api.ok("GET", &format!("{asset}/summary"), None, 200).await;
    for (key, value) in [
        ("asset_id", json!(asset_id)),
        ("issued", json!(ISSUED)),
        ("reissued", json!(REISSUED)),
        ("assigned", json!(50_000)),
        ("distributed", json!(50_000)),
        ("burned", json!(BURNT)),
        ("registered_users", json!(2)),
    ] {
        assert_eq!(summary[key], value, "summary.{key}: {summary}");
    }
    let ownerships = api
        .ok("GET", &format!("{asset}/ownerships"), None, 200)
        .await;
    let owned = |gaid: Option<&str>| -> i64 {
        ownerships
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["GAID"].as_str() == gaid)
            .map(|o| o["amount"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(
        owned(None),
        ISSUED + REISSUED - 50_000 - BURNT,
        "{ownerships}"
    );
    for (_, gaid, amount) in &users {
        assert_eq!(owned(Some(gaid)), *amount, "{ownerships}");
    }
    assert_eq!(ownerships.as_array().unwrap().len(), 3, "{ownerships}");
    let balance = api.ok("GET", &format!("{asset}/balance"), None, 200).await;
    assert_eq!(balance["lost_outputs"], json!([]), "{balance}");

    let distributions = api
        .ok("GET", &format!("{asset}/distributions"), None, 200)
        .await;
    assert_eq!(
        distributions.as_array().unwrap().len(),
        1,
        "{distributions}"
    );
    assert_eq!(distributions[0]["distribution_status"], "CONFIRMED");
    let paid: i64 = distributions[0]["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["assignments"].as_array().unwrap().clone())
        .map(|a| a["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(paid, 50_000);

    let reissuances = api
        .ok("GET", &format!("{asset}/reissuances"), None, 200)
        .await;
    assert_eq!(reissuances.as_array().unwrap().len(), 1, "{reissuances}");
    assert_eq!(reissuances[0]["txid"], reissue_txid.as_str());
    assert_eq!(reissuances[0]["reissuance_amount"], REISSUED);

    let activities = api
        .ok("GET", &format!("{asset}/activities"), None, 200)
        .await;
    // One row per output, oldest transaction first: the issuance, the distribution's two
    // payments and the treasury's change, the reissued units, the burnt units and the burn's
    // change (recorded by the late --use-existing run).
    let rows = activities.as_array().unwrap();
    let kinds: Vec<&str> = rows.iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "issuance",
            "distribution",
            "distribution",
            "distribution",
            "reissuance",
            "burn",
            "burn"
        ],
        "{activities}"
    );
    let mut seen: Vec<(String, Option<i64>, i64)> = rows
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap().to_string(),
                a["registered user"].as_i64(),
                a["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    let (alice, bob) = (users[0].0, users[1].0);
    let mut expected: Vec<(String, Option<i64>, i64)> = [
        ("issuance", None, ISSUED),
        ("distribution", Some(alice), 30_000),
        ("distribution", Some(bob), 20_000),
        ("distribution", None, ISSUED - 50_000),
        ("reissuance", None, REISSUED),
        ("burn", None, BURNT),
        ("burn", None, ISSUED - 50_000 - BURNT),
    ]
    .into_iter()
    .map(|(k, u, a)| (k.to_string(), u, a))
    .collect();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected, "{activities}");
    let txid_of = |kind: &str| -> Vec<&str> {
        rows.iter()
            .filter(|a| a["type"] == kind)
            .map(|a| a["txid"].as_str().unwrap())
            .collect()
    };
    assert_eq!(txid_of("reissuance"), [reissue_txid.as_str()]);
    assert_eq!(txid_of("burn"), [burn_txid.as_str(), burn_txid.as_str()]);

    // The confirm runs handed the platform the treasury's view key (dumpmasterblindingkey).
    let view_key = api
        .ok("GET", &format!("{asset}/treasury-view-key"), None, 200)
        .await;
    assert_eq!(view_key["registered"], true, "{view_key}");

    // A reissuance that is never confirmed by the client: the follower completes the request
    // from the chain (the view key opens the reissued units' output), and the reissuance token
    // it spent is not lost.
    api.until_status(
        "POST",
        &format!("{asset}/reissue-request"),
        Some(json!({"amount_to_reissue": 7_000})),
        200,
    )
    .await;
    let unconfirmed = treasury
        .reissue_asset(&asset_id.parse().unwrap(), Amount::from_units(7_000))
        .await
        .unwrap()
        .txid
        .to_string();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let reissuances = api
            .ok("GET", &format!("{asset}/reissuances"), None, 200)
            .await;
        if reissuances.as_array().unwrap().len() == 2 {
            assert_eq!(reissuances[1]["txid"], unconfirmed.as_str());
            assert_eq!(reissuances[1]["reissuance_amount"], 7_000);
            assert_eq!(
                reissuances[1]["confirmed_in_block"].as_str().unwrap().len(),
                64
            );
            // the fields strict AMP clients require, taken from the chain
            assert!(reissuances[1]["vout"].is_i64(), "{reissuances}");
            let destination = reissuances[1]["destination_address"]
                .as_str()
                .unwrap_or_else(|| panic!("no destination address: {reissuances}"));
            let info = treasury.get_address_info(destination).await.unwrap();
            assert!(info.ismine, "{destination} is not the treasury's");
            break;
        }
        assert!(Instant::now() < deadline, "never completed: {reissuances}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let lost = api
        .ok("GET", &format!("{asset}/lost-outputs"), None, 200)
        .await;
    assert_eq!(
        lost,
        json!({"lost_outputs": [], "reissuance_lost_outputs": []})
    );
    // Every unit the treasury node holds is the treasury's in the index, the change and the
    // reissued units of the transactions no confirm call reported included.
    let node_balance = treasury.get_balances().await.unwrap();
    let held = node_balance
        .get(asset_id.as_str())
        .copied()
        .unwrap_or_default();
    let balance = api.ok("GET", &format!("{asset}/balance"), None, 200).await;
    let indexed: i64 = balance["confirmed_balance"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["owner"] == "ISSUER")
        .map(|h| h["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(Amount::from_units(indexed), held, "{balance}");

    // Every change of the tutorial is an event of the asset, in order. Ownership changes come
    // with the blocks (how many depends on how transactions share blocks), so they are checked
    // apart: the investors' balances moved by exactly their assignments.
    let events = api
        .ok(
            "GET",
            &format!("/events?asset_uuid={uuid}&limit=1000"),
            None,
            200,
        )
        .await;
    let events = events["results"].as_array().unwrap().clone();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|t| *t != "ownership.changed")
        .collect();
    assert_eq!(
        kinds,
        [
            "asset.issued",
            "asset.confirmed",
            "assignment.created",
            "assignment.created",
            "distribution.created",
            "distribution.confirmed",
            "reissuance.confirmed",
            "burn.confirmed",
            "reissuance.confirmed",
        ],
        "{events:?}"
    );
    let of = |kind: &str| -> Vec<&serde_json::Value> {
        events.iter().filter(|e| e["type"] == kind).collect()
    };
    assert_eq!(of("asset.issued")[0]["data"]["txid"], issued["txid"]);
    let reissued = of("reissuance.confirmed");
    assert_eq!(reissued[0]["data"]["txid"], reissue_txid.as_str());
    assert_eq!(reissued[1]["data"]["completed_by"], "follower");
    assert_eq!(of("burn.confirmed")[0]["data"]["txid"], burn_txid.as_str());
    assert_eq!(of("burn.confirmed")[0]["data"]["completed_by"], "follower");
    for chain_event in [
        "asset.confirmed",
        "distribution.confirmed",
        "burn.confirmed",
    ] {
        assert!(of(chain_event)[0]["block_height"].is_i64(), "{chain_event}");
    }
    for (_, gaid, amount) in &users {
        let moved: i64 = of("ownership.changed")
            .iter()
            .flat_map(|e| e["data"]["holders"].as_array().unwrap().clone())
            .filter(|h| h["gaid"].as_str() == Some(gaid.as_str()))
            .map(|h| h["delta"].as_i64().unwrap())
            .sum();
        assert_eq!(moved, *amount, "{gaid}: {events:?}");
    }
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}
