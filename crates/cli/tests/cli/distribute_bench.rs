//! Benchmark (ignored): a distribution to many holders end to end, on `amphora serve` and the
//! node of the run (the embedded node with `--block-interval 0`, or `elementsd` with
//! `ELEMENTSD_EXE` and an auto-miner standing in for it).
//!
//! `cargo test --release -p amphora --test cli bench_distribution -- --ignored --nocapture`
//! (`BENCH_HOLDERS`, default 10,000). Set up, not measured: an asset issued to the treasury,
//! one registered AMP2 wallet (ELIP-153, one software signer, an account each) and registered
//! user per holder. Measured: the assignment creates one after the other over HTTP (rate per
//! tenth, first to last), then end to end `GET distributions/create`, the `amphora confirm
//! distribute` binary (one `sendmany` per transaction of at most 60 recipients, 2
//! confirmations each, one confirm call each) until the platform shows the distribution
//! confirmed. Printed beside it: what the official confirm script's fixed waits (60 s after
//! sending, 15 s before confirming) would add up to for the same transactions.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{until, Api, Options, Platform};
use amphora_wallet::PlatformClient;
use serde_json::json;

const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;
const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
/// Parallel clients registering the holders (set-up only).
const SETUP_CLIENTS: usize = 4;
/// The official confirm script's fixed wait per transaction: 60 s after sending it, 15 s
/// before confirming it.
const SCRIPT_WAIT_PER_TX: Duration = Duration::from_secs(60 + 15);

/// Registers holders `accounts` (wallet, then registered user); their registered user ids.
pub(crate) async fn register_holders(
    platform: PlatformClient,
    api: Api,
    descriptors: Vec<(u32, String)>,
) -> Vec<i64> {
    let mut ids = Vec::with_capacity(descriptors.len());
    for (account, descriptor) in descriptors {
        let registered = platform.register(&descriptor).await.unwrap();
        let gaid = registered.gaid.expect("the platform gives the GAID");
        let user = api
            .ok(
                "POST",
                "/registered_users/add",
                Some(json!({"name": format!("Holder {account}"), "GAID": gaid})),
                201,
            )
            .await;
        ids.push(user["id"].as_i64().unwrap());
    }
    ids
}

/// ELIP-153 descriptors of accounts `0..count` of one software signer for the platform key.
pub(crate) fn descriptors(server_xpub: &str, platform: &str, count: u32) -> Vec<(u32, String)> {
    let signer =
        lwk_signer::SwSigner::new_with_network(MNEMONIC, lwk_common::Network::default_regtest())
            .unwrap();
    let amp2 =
        lwk_wollet::amp2::Amp2::new(server_xpub.to_string(), format!("{platform}/amp2")).unwrap();
    (0..count)
        .map(|account| {
            let descriptor = amp2.elip153_from_signer(&signer, account).unwrap();
            (account, descriptor.to_string())
        })
        .collect()
}

/// The platform's options with the AMP2 registration limits lifted (one client registers
/// every holder).
pub(crate) fn unthrottled() -> Options {
    let unlimited = || "100000000".to_string();
    Options {
        env: vec![
            ("AMPHORA_AMP2_ADDRESS_PER_MINUTE", unlimited()),
            ("AMPHORA_AMP2_ADDRESS_BURST", unlimited()),
            ("AMPHORA_AMP2_WALLET_PER_MINUTE", unlimited()),
            ("AMPHORA_AMP2_WALLET_BURST", unlimited()),
        ],
        ..Options::default()
    }
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
async fn bench_distribution_end_to_end() {
    let holders: usize = std::env::var("BENCH_HOLDERS")
        .map(|v| v.parse().expect("BENCH_HOLDERS: a number"))
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(dir.path(), unthrottled()).await;
    let node_kind = if platform.is_elementsd() {
        "elementsd (auto-miner)"
    } else {
        "embedded node, --block-interval 0"
    };
    println!("node: {node_kind}; {holders} holders");
    let root = platform.url.clone();
    let api = platform.api().await;

    // Set-up: the asset, then every holder's wallet and registered user.
    let started = Instant::now();
    let treasury_address = platform.treasury().get_new_address(None).await.unwrap();
    let issued = api
        .ok(
            "POST",
            "/assets/issue",
            Some(
                json!({"name": "Bench asset", "amount": holders as i64 * 1_000,
                "destination_address": treasury_address, "domain": "example.com",
                "ticker": "BNCH", "pubkey": PUBKEY}),
            ),
            201,
        )
        .await;
    let asset = issued["asset_uuid"].as_str().unwrap().to_string();
    let client = PlatformClient::new(&root, None).unwrap();
    let server_xpub = client.server_xpub().await.unwrap();
    let count = u32::try_from(holders).unwrap();
    let all = {
        let root = root.clone();
        tokio::task::spawn_blocking(move || descriptors(&server_xpub, &root, count))
            .await
            .unwrap()
    };
    let chunk = holders.div_ceil(SETUP_CLIENTS).max(1);
    let tasks: Vec<_> = all
        .chunks(chunk)
        .map(|part| {
            let client = PlatformClient::new(&root, None).unwrap();
            tokio::spawn(register_holders(client, api.clone(), part.to_vec()))
        })
        .collect();
    let mut users = Vec::with_capacity(holders);
    for task in tasks {
        users.extend(task.await.unwrap());
    }
    println!(
        "set-up: asset issued, {holders} wallets and registered users in {:.1?}",
        started.elapsed()
    );
    // The follower derives each new wallet's look-ahead scripts before it indexes the next
    // block: one block, once indexed, shows it knows every wallet (set-up, timed apart).
    let started = Instant::now();
    let node = platform.treasury();
    node.generate_to_address(1, &amphora_testenv::burn_address())
        .await
        .unwrap();
    let height = node.get_block_count().await.unwrap();
    until(
        "the follower to index the new wallets",
        Duration::from_secs(900),
        || async {
            let health = api.health().await;
            (health["follower"]["indexed_height"].as_u64() >= Some(height)).then_some(())
        },
    )
    .await;
    println!(
        "set-up: the follower indexed the {holders} new wallets and block {height} in {:.1?}",
        started.elapsed()
    );

    // The assignment creates, one after the other (the first waits for the issuance's
    // confirmations, not measured).
    let create = format!("/assets/{asset}/assignments/create");
    let assign = |user: i64| {
        json!({"assignments": [{"registered_user": user, "amount": 1_000,
            "ready_for_distribution": true}]})
    };
    api.first_assignment(&create, assign(users[0])).await;
    let rest = &users[1..];
    let tenth = (rest.len() / 10).max(1);
    let mut tenths = Vec::new();
    let started = Instant::now();
    let mut tenth_started = started;
    for (n, user) in rest.iter().enumerate() {
        api.ok("POST", &create, Some(assign(*user)), 200).await;
        if (n + 1) % tenth == 0 {
            tenths.push(format!("{:.0}", per_second(tenth, tenth_started.elapsed())));
            tenth_started = Instant::now();
        }
    }
    let elapsed = started.elapsed();
    println!(
        "assignments/create over HTTP: {} in {elapsed:.1?} ({:.0}/s); per tenth: {}/s",
        rest.len(),
        per_second(rest.len(), elapsed),
        tenths.join(", ")
    );

    // End to end: the distribution file, the confirm binary, the platform's view.
    let started = Instant::now();
    let file = api
        .get(&format!("/assets/{asset}/distributions/create"))
        .await;
    let created = started.elapsed();
    let uuid = file["distribution_uuid"].as_str().unwrap().to_string();
    let transactions = file["transactions"].as_array().map_or(1, Vec::len);
    assert_eq!(
        file["map_address_amount"].as_object().unwrap().len(),
        holders
    );
    let path = dir.path().join("distribution.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let confirm_started = Instant::now();
    let mut child = platform
        .confirm(dir.path(), &["distribute", "-f", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The confirm client's progress lines on stderr, each with when it came.
    let lines: Arc<Mutex<Vec<(Duration, String)>>> = Arc::default();
    let reader = {
        let lines = lines.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines
                    .lock()
                    .unwrap()
                    .push((confirm_started.elapsed(), line));
            }
        })
    };
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    reader.join().unwrap();
    let confirm_took = confirm_started.elapsed();
    let lines = lines.lock().unwrap().clone();
    assert!(
        status.success(),
        "confirm failed: {}",
        lines
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let done = api
        .get(&format!("/assets/{asset}/distributions/{uuid}"))
        .await;
    let total = started.elapsed();
    assert_eq!(done["distribution_status"], "CONFIRMED", "{done}");
    let sends: Vec<Duration> = lines
        .iter()
        .filter(|(_, line)| line.starts_with("Distribute transaction "))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(sends.len(), transactions, "one sendmany per transaction");
    let first_send = sends.first().copied().unwrap_or_default();
    let last_send = sends.last().copied().unwrap_or_default();
    let script = SCRIPT_WAIT_PER_TX * u32::try_from(transactions).unwrap();
    println!("distribution to {holders} holders, {transactions} transactions ({node_kind}):");
    println!("  distributions/create: {created:.1?}");
    println!(
        "  amphora confirm distribute: {confirm_took:.1?} (log-in and checks {first_send:.1?}, \
         {transactions} sendmany {:.1?}, confirmations and confirm calls {:.1?})",
        last_send.saturating_sub(first_send),
        confirm_took.saturating_sub(last_send)
    );
    println!("  end to end: {total:.1?} (target: 60 s)");
    println!(
        "  reference, the official confirm script's fixed waits alone: {transactions} x (60 + 15) s \
         = {:.0} s",
        script.as_secs_f64()
    );
}
