//! `amphora demo` against `amphora serve` started with its defaults (the issuer account and
//! password it generates and prints), except its own data directory, free ports and the node of
//! the run (its embedded node with `--block-interval 0`, or a real `elementsd`; see
//! `support.rs`). The demo must exit 0 and print every step, and afterwards the
//! platform, asked over HTTP with the issuer's token, must report for the asset the demo issued
//! the summary the demo printed, consistent ownerships and no lost outputs.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{amphora, Options, Platform};
use serde_json::{json, Value};

/// How long the whole demo may take (the chain steps wait for 2 confirmations several times).
const DEMO_TIMEOUT: Duration = Duration::from_secs(900);
/// What the demo issues, reissues, distributes and burns (crates/cli/src/demo.rs).
const ISSUED: i64 = 100_000;
const REISSUED: i64 = 50_000;
const DISTRIBUTED: i64 = 50_000;
const BURNT: i64 = 10_000;
/// The step headings the demo prints, in order.
const STEPS: [&str; 13] = [
    "[1] Issuer login at ",
    "[2] Issue a transfer-restricted, reissuable asset to the treasury wallet",
    "[3] Wait for 2 confirmations of the issuance",
    "[4] Authorize the asset (register-authorized)",
    "[5] Create a category and require it for the asset",
    "[6] Registered users with new investor wallets",
    "[7] Assign amounts to the registered users",
    "[8] Distribute the assignments and confirm the distribution",
    "[9] Reissue 50000 units and confirm",
    "[10] Burn 10000 units and confirm",
    "[11] Summary",
    "[12] Ownerships",
    "[13] Reissuances",
];

/// Runs `command` to its end (killing it after `timeout`); its status and its whole output.
fn run_with_timeout(mut command: Command, timeout: Duration) -> (bool, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut from: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = from.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let output = format!(
        "{}\n--- stderr ---\n{}",
        stdout.join().unwrap(),
        stderr.join().unwrap()
    );
    match status {
        Some(status) => (status.success(), output),
        None => panic!("amphora demo still running after {timeout:?}:\n{output}"),
    }
}

/// The JSON the demo printed under `heading`, up to the next step heading.
fn printed_json(output: &str, heading: &str, next: &str) -> Value {
    let start = output.find(heading).unwrap() + heading.len();
    let end = start + output[start..].find(next).unwrap();
    serde_json::from_str(output[start..end].trim())
        .unwrap_or_else(|e| panic!("{heading}: not JSON ({e}):\n{}", &output[start..end]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_against_serve_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let work_dir = dir.path().join("demo");
    let options = Options {
        data_dir: Some(data_dir.clone()),
        ..Options::default()
    };
    let platform = Platform::start(dir.path(), options).await;
    if !platform.is_elementsd() {
        assert!(
            data_dir.join("regtest").join("rpc-password").is_file(),
            "serve wrote no embedded node password in {}",
            data_dir.display()
        );
    }

    // The demo's default node URL is the embedded node on its default port 18884; this node
    // listens on a free port (or is elementsd), so the demo is given the treasury URL.
    let mut demo = amphora(dir.path());
    demo.arg("demo")
        .args(["-u", &platform.username, "-p", &platform.password])
        .args(["--url", &platform.url])
        .args(["-n", &platform.treasury_url()])
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--work-dir")
        .arg(&work_dir)
        .args(["--timeout", "5m"]);
    let (success, output) =
        tokio::task::spawn_blocking(move || run_with_timeout(demo, DEMO_TIMEOUT))
            .await
            .unwrap();
    assert!(success, "amphora demo failed:\n{output}");

    // Every step, in order, then the closing line naming the asset.
    let mut from = 0;
    for step in STEPS {
        let at = output[from..]
            .find(step)
            .unwrap_or_else(|| panic!("step '{step}' not printed in order:\n{output}"));
        from += at + step.len();
    }
    let uuid = output
        .lines()
        .find_map(|l| l.strip_prefix("Done: asset "))
        .and_then(|rest| rest.split_once('.'))
        .unwrap_or_else(|| panic!("no 'Done: asset' line:\n{output}"))
        .0
        .to_string();
    let printed_summary = printed_json(&output, "[11] Summary", "[12] Ownerships");
    let printed_ownerships = printed_json(&output, "[12] Ownerships", "[13] Reissuances");
    for file in ["distribution", "reissue", "burn"] {
        let path = work_dir.join(format!("{file}-{}.json", &uuid[..8]));
        assert!(path.is_file(), "no confirm file {}", path.display());
    }

    // What the platform reports, over HTTP with the issuer's token.
    let api = platform.api().await;
    let assets = api.get("/assets").await;
    let listed: Vec<&Value> = assets
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["asset_uuid"] == json!(uuid))
        .collect();
    assert_eq!(listed.len(), 1, "asset {uuid} not listed once: {assets}");
    assert_eq!(listed[0]["name"], json!("Amphora Demo Security"));
    assert_eq!(listed[0]["ticker"], json!("ADEMO"));
    let asset_id = listed[0]["asset_id"].clone();

    let summary = api.get(&format!("/assets/{uuid}/summary")).await;
    assert_eq!(
        summary, printed_summary,
        "summary differs from the printed one"
    );
    for (key, value) in [
        ("asset_id", asset_id),
        ("issued", json!(ISSUED)),
        ("reissued", json!(REISSUED)),
        ("assigned", json!(DISTRIBUTED)),
        ("distributed", json!(DISTRIBUTED)),
        ("burned", json!(BURNT)),
        ("registered_users", json!(2)),
    ] {
        assert_eq!(summary[key], value, "summary.{key}: {summary}");
    }

    let ownerships = api.get(&format!("/assets/{uuid}/ownerships")).await;
    assert_eq!(
        ownerships, printed_ownerships,
        "ownerships differ from the printed ones"
    );
    let owned = |registered: bool| -> i64 {
        ownerships
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["GAID"].is_string() == registered)
            .map(|o| o["amount"].as_i64().unwrap())
            .sum()
    };
    let amount = |key: &str| summary[key].as_i64().unwrap();
    assert_eq!(
        owned(true) + owned(false),
        amount("issued") + amount("reissued") - amount("burned"),
        "{ownerships}"
    );
    assert_eq!(owned(true), amount("distributed"), "{ownerships}");

    let lost = api.get(&format!("/assets/{uuid}/lost-outputs")).await;
    assert_eq!(
        lost,
        json!({"lost_outputs": [], "reissuance_lost_outputs": []})
    );
    let balance = api.get(&format!("/assets/{uuid}/balance")).await;
    assert_eq!(balance["lost_outputs"], json!([]), "{balance}");
}
