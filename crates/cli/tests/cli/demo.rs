//! `amphora demo` against `amphora serve` started with its defaults (embedded node, default
//! block interval, the issuer account and password it generates and prints), except its own
//! data directory and free ports. The demo must exit 0 and print every step, and afterwards the
//! platform, asked over HTTP with the issuer's token, must report for the asset the demo issued
//! the summary the demo printed, consistent ownerships and no lost outputs.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{amphora, Killed};
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

/// What `amphora serve` prints on its first start.
struct Banner {
    url: String,
    node_rpc: String,
    username: String,
    password: String,
}

/// Starts `amphora serve` with defaults but `data_dir` and free ports; reads its banner.
fn serve(dir: &Path, data_dir: &Path) -> (Killed, Banner) {
    let mut child = amphora(dir)
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--node-rpc-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let child = Killed(child);
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.trim_start().starts_with("Log in:");
        lines.push(line);
        if done {
            break;
        }
    }
    let text = lines.join("\n");
    let value = |label: &str| -> String {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no '{label}' in the banner:\n{text}"))
    };
    let listening = value("Amphora ");
    let url = listening
        .split_once("listening on ")
        .unwrap_or_else(|| panic!("no address in the banner:\n{text}"))
        .1
        .to_string();
    let banner = Banner {
        url,
        node_rpc: value("RPC:"),
        username: value("username:"),
        password: value("password:"),
    };
    (child, banner)
}

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

/// GET `path` under /api with the issuer's token; the status must be 200.
async fn get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    let response = http
        .get(format!("{base}/api{path}"))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_against_serve_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let work_dir = dir.path().join("demo");
    let (_serving, banner) = serve(dir.path(), &data_dir);
    assert!(
        data_dir.join("regtest").join("rpc-password").is_file(),
        "serve wrote no embedded node password in {}",
        data_dir.display()
    );

    // The demo's default node URL is the embedded node on its default port 18884; this node
    // listens on a free port, so the demo is given the treasury URL serve printed.
    let mut demo = amphora(dir.path());
    demo.arg("demo")
        .args(["-u", &banner.username, "-p", &banner.password])
        .args(["--url", &banner.url])
        .args(["-n", &format!("{}/wallet/treasury", banner.node_rpc)])
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
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{}/api/user/obtain_token", banner.url))
        .json(&json!({"username": banner.username, "password": banner.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (base, token) = (banner.url.as_str(), token.as_str());

    let assets = get(&http, base, token, "/assets").await;
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

    let summary = get(&http, base, token, &format!("/assets/{uuid}/summary")).await;
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

    let ownerships = get(&http, base, token, &format!("/assets/{uuid}/ownerships")).await;
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

    let lost = get(&http, base, token, &format!("/assets/{uuid}/lost-outputs")).await;
    assert_eq!(
        lost,
        json!({"lost_outputs": [], "reissuance_lost_outputs": []})
    );
    let balance = get(&http, base, token, &format!("/assets/{uuid}/balance")).await;
    assert_eq!(balance["lost_outputs"], json!([]), "{balance}");
}
