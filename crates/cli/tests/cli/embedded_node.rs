//! `amphora serve` and its Elements node: the embedded regtest node with zero configuration
//! (JSON-RPC, funded wallets, mining to 2 confirmations then idling, restart), and
//! `--elements-url` using another node instead.
//!
//! Embedded-only: these tests are about the embedded node `amphora serve` starts (its default
//! port, password file, wallets and timer), so they run on it whatever `ELEMENTSD_EXE` says;
//! the other CLI tests run `amphora serve` on the node of the run (`support.rs`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::amphora;
use amphora_rpc::{Amount, Auth, ElementsRpc};
use amphora_testenv::TestNode;

/// Starts `amphora serve <args>` and reads its banner up to the line starting with `last`.
fn start(dir: &Path, args: &[&str], last: &str) -> (Serving, String) {
    let mut child = amphora(dir)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.trim_start().starts_with(last);
        banner.push(line);
        if done {
            break;
        }
    }
    let banner = banner.join("\n");
    let serving = Serving(Some(child));
    assert!(banner.contains(last), "serve exited early: {banner}");
    (serving, banner)
}

/// Kills the child if a test panics before stopping it.
struct Serving(Option<Child>);

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn stop(mut serving: Serving) {
    let mut child = serving.0.take().expect("running");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            return;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value after `label` on the banner line that has it.
fn banner_value<'a>(banner: &'a str, label: &str) -> &'a str {
    banner
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no '{label}' in {banner}"))
        .trim()
}

/// L-BTC of a wallet, confirmed or not.
async fn lbtc(wallet: &ElementsRpc) -> i64 {
    let info = wallet.get_wallet_info().await.unwrap();
    let units = |amounts: &amphora_rpc::types::AssetAmounts| {
        amounts.get("bitcoin").map(|a| a.units()).unwrap_or(0)
    };
    units(&info.balance) + units(&info.unconfirmed_balance)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn zero_configuration_runs_the_embedded_node_and_restarts_with_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let (child, banner) = start(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--block-interval", "1"],
        "Log in:",
    );
    let url = banner_value(&banner, "RPC:").to_string();
    assert!(url.starts_with("http://amphora:"), "{banner}");
    assert!(url.ends_with("@127.0.0.1:18884"), "{banner}");
    assert!(
        banner.contains(&format!("amphora confirm -n {url}/wallet/treasury")),
        "{banner}"
    );
    let treasury_address =
        banner_value(&banner, "Treasury address (destination_address):").to_string();
    let password_file = dir.path().join("amphora-data/regtest/rpc-password");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&password_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let node = ElementsRpc::new(&url, Auth::None).unwrap();
    assert_eq!(
        node.get_blockchain_info().await.unwrap().chain,
        "liquidregtest"
    );
    let mut wallets = node.list_wallets().await.unwrap();
    wallets.sort();
    assert_eq!(wallets, ["platform", "treasury"]);
    let platform = node.wallet("platform");
    let treasury = node.wallet("treasury");
    assert!(lbtc(&platform).await > 0);
    assert!(
        lbtc(&treasury).await >= 1_000 * 100_000_000,
        "the treasury is funded on first start"
    );

    // A payment to the treasury reaches 2 confirmations on its own, then mining stops.
    let txid = platform
        .send_to_address(&treasury_address, Amount::from_units(150_000_000), None)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let tx = treasury.get_transaction(&txid).await.unwrap();
        if tx.confirmations >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {} confirmations",
            tx.confirmations
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let height = node.get_block_count().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        node.get_block_count().await.unwrap(),
        height,
        "idle when confirmed"
    );
    stop(child);

    // A restart keeps the chain, the wallets and the credentials.
    let (child, banner) = start(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--block-interval", "1"],
        "Confirm:",
    );
    assert_eq!(banner_value(&banner, "RPC:"), url, "{banner}");
    assert!(!banner.contains("Created the issuer"), "{banner}");
    assert!(node.get_block_count().await.unwrap() >= height);
    let tx = treasury.get_transaction(&txid).await.unwrap();
    assert!(tx.confirmations >= 2);
    let mut wallets = node.list_wallets().await.unwrap();
    wallets.sort();
    assert_eq!(wallets, ["platform", "treasury"]);
    stop(child);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn elements_url_uses_that_node_and_starts_no_embedded_one() {
    let other = TestNode::embedded().await;
    let root = other.url().to_string();
    let elements_url = other.url_with_credentials("");
    let (user, password) = other.credentials();
    let dir = tempfile::tempdir().unwrap();
    let (child, banner) = start(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--elements-url", &elements_url],
        "Log in:",
    );
    assert!(
        banner.contains(&format!("Elements node: {root}/")),
        "{banner}"
    );
    assert!(!banner.contains("Embedded"), "{banner}");
    assert!(
        !banner.contains(&format!("{user}:{password}")) && !banner.contains(&password),
        "credentials are not printed: {banner}"
    );
    assert!(!dir.path().join("amphora-data/regtest").exists());
    let node = ElementsRpc::new(&elements_url, Auth::None).unwrap();
    assert_eq!(node.list_wallets().await.unwrap(), ["platform"]);
    stop(child);

    // The chain must match the configured network.
    let out = amphora(dir.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "testnet-data",
            "--network",
            "liquidtestnet",
            "--elements-url",
            &elements_url,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("runs chain 'liquidregtest'") && stderr.contains("liquidtestnet"),
        "{stderr}"
    );
    other.stop().await;
}

#[test]
fn the_embedded_node_runs_liquidregtest_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = amphora(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--network", "liquidv1"])
        .env("AMPHORA_KEY_PASSPHRASE", "a long passphrase")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("liquidregtest only") && stderr.contains("--elements-url"),
        "{stderr}"
    );
    assert!(!dir.path().join("amphora-data").exists(), "nothing created");
}
