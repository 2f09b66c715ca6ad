//! Throughput and latency of `GET /api/assets/{u}/ownerships` and `GET …/summary` over real
//! HTTP, with an asset held by many registered wallets, next to an empty axum handler served the
//! same way on the same machine; and the server's memory.
//!
//! `cargo run --release -p amphora-server --example reports_bench [-- <holders> <requests>
//! <concurrency>]` (defaults: 10,000 holders, 2,000 requests per endpoint, 8 concurrent
//! clients). The index is written with `Store::apply_block`, exactly as the chain follower
//! writes it: one issuance to the treasury, then one distribution block paying each holder
//! (every holder a registered user of the issuer with its own GAID), then an empty block (so
//! that `?height=2` is a past height, answered from the history while the current state reads
//! the maintained holder rows). The registered users and wallets are written in bulk, in one
//! transaction (the same rows as the store's calls, checked against a user made by them).
//!
//! The server runs in a child process (this example again, with `REPORTS_BENCH_SERVE` set to the
//! database URL): its `VmHWM` and `VmRSS` are the server's memory alone. The clients, the empty
//! handler and the reference (the same holdings as sqlx rows + serde, the way the route
//! answered before the database built the JSON) run in this process.

// A benchmark, run by hand: a failed step ends the run with its panic message.
#![allow(clippy::unwrap_used)]

mod populate;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use amphora_core::Network;
use amphora_cosigner::PlatformKey;
use amphora_server::routes::reports::OwnershipDto;
use amphora_server::{app, AppState};
use amphora_store::Store;
use axum::routing::get;
use axum::Router;
use tokio::io::AsyncReadExt;

use populate::{populate, ASSET};

const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
/// Set in the server's child process: the database URL it serves.
const SERVE: &str = "REPORTS_BENCH_SERVE";

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .map(|a| a.parse().expect("numeric argument"))
        .unwrap_or(default)
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// The child process: serves the real router on the database at `url`, prints its base URL,
/// and exits when its standard input closes (the parent is done or gone).
async fn serve_child(url: &str) {
    // as `amphora` does at its start
    amphora_server::memory::return_large_blocks();
    let store = Store::connect(url).await.unwrap();
    let key = PlatformKey::from_mnemonic(MNEMONIC, Network::LiquidRegtest).unwrap();
    let state = AppState::new(
        store,
        key,
        Network::LiquidRegtest,
        Duration::from_secs(3600),
    );
    let base = serve(app(state)).await;
    println!("{base}");
    let mut sink = Vec::new();
    tokio::io::stdin().read_to_end(&mut sink).await.unwrap();
}

/// Starts the server's child process on `url`; returns it and its base URL.
fn spawn_server(url: &str) -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(SERVE, url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_string())
}

/// Sends `requests` GETs to `url` from `concurrency` clients; returns (req/s, p50, p99).
async fn measure(
    url: &str,
    token: Option<&str>,
    requests: usize,
    concurrency: usize,
) -> (f64, Duration, Duration) {
    let client = reqwest::Client::new();
    // Warm up: connections and caches.
    for _ in 0..concurrency {
        send(&client, url, token).await;
    }
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let client = client.clone();
        let url = url.to_string();
        let token = token.map(str::to_string);
        let share = requests / concurrency + usize::from(w < requests % concurrency);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            for _ in 0..share {
                let sent = Instant::now();
                send(&client, &url, token.as_deref()).await;
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (requests as f64 / elapsed.as_secs_f64(), at(0.50), at(0.99))
}

async fn send(client: &reqwest::Client, url: &str, token: Option<&str>) {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("token {token}"));
    }
    let response = request.send().await.expect("request");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.bytes().await.expect("body");
}

/// Where one request's time goes, sequentially and without HTTP: the store queries alone, then
/// the JSON serialisation of the ownerships (median of 20 runs each).
async fn breakdown(store: &Store) {
    const RUNS: usize = 20;
    let issuer = store.issuer_by_username("bench").await.unwrap().unwrap().id;
    async fn median<F, Fut>(mut f: F) -> Duration
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let started = Instant::now();
            f().await;
            times.push(started.elapsed());
        }
        times.sort();
        times[RUNS / 2]
    }
    let holdings = median(|| async {
        store.holdings(ASSET, None).await.unwrap();
    })
    .await;
    let totals = median(|| async {
        store.asset_totals(ASSET).await.unwrap();
    })
    .await;
    let history = median(|| async {
        store.holdings_from_history(ASSET, None).await.unwrap();
    })
    .await;
    let totals_history = median(|| async {
        store.asset_totals_from_history(ASSET).await.unwrap();
    })
    .await;
    let json_tip = median(|| async {
        store.holdings_json(issuer, ASSET, None).await.unwrap();
    })
    .await;
    let json_past = median(|| async {
        store.holdings_json(issuer, ASSET, Some(2)).await.unwrap();
    })
    .await;
    let rows = store.holdings(ASSET, None).await.unwrap();
    let json = median(|| {
        let dtos: Vec<OwnershipDto> = rows.iter().cloned().map(Into::into).collect();
        async move {
            serde_json::to_vec(&dtos).unwrap();
        }
    })
    .await;
    println!(
        "Sequential, no HTTP (median of {RUNS}): Store::holdings {holdings:.2?} (from history \
         {history:.2?}), Store::asset_totals {totals:.2?} (from history {totals_history:.2?}), \
         serde JSON of those holdings {json:.2?}; the ownerships JSON built by the database \
         (Store::holdings_json, what the route answers) {json_tip:.2?} (at a past height \
         {json_past:.2?})"
    );
}

/// The load averages of `/proc/loadavg` (1, 5 and 15 minutes).
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `VmHWM` and `VmRSS` of process `pid`.
fn memory(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let lines: Vec<String> = status
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.join(", ")
}

#[tokio::main]
async fn main() {
    if let Ok(url) = std::env::var(SERVE) {
        return serve_child(&url).await;
    }
    let holders = arg(1, 10_000).max(2);
    let requests = arg(2, 2_000);
    let concurrency = arg(3, 8).max(1);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let first_user = populate(&store, &url, holders).await.unwrap();
    breakdown(&store).await;

    // the reference for the ownerships: the rows decoded by sqlx and serialised by serde, as
    // the route answered before the database built the JSON (no authentication here)
    let rows_store = store.clone();
    let rows_then_serde = serve(Router::new().route(
        "/ownerships",
        get(move || {
            let store = rows_store.clone();
            async move {
                let rows = store.holdings(ASSET, None).await.unwrap();
                let dtos: Vec<OwnershipDto> = rows.into_iter().map(Into::into).collect();
                axum::Json(dtos)
            }
        }),
    ))
    .await;
    let empty = serve(Router::new().route("/empty", get(|| async { "" }))).await;
    let (mut server, base) = spawn_server(&url);
    let login = reqwest::Client::new()
        .post(format!("{base}/api/user/obtain_token"))
        .json(&serde_json::json!({"username": "bench", "password": "bench password"}))
        .send()
        .await
        .unwrap();
    let token: serde_json::Value = login.json().await.unwrap();
    let token = token["token"].as_str().expect("token").to_string();

    let ownerships = format!("{base}/api/assets/{ASSET}/ownerships");
    let body = reqwest::Client::new()
        .get(&ownerships)
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.len(), holders + 1, "every holder and the treasury");

    println!("load average at the start: {}", load_average());
    println!("| Endpoint ({holders} holders, {concurrency} clients, {requests} requests) | req/s | p50 | p99 |");
    println!("|---|---|---|---|");
    for (name, url, token) in [
        ("empty axum handler", format!("{empty}/empty"), None),
        (
            "GET /api/assets/{u}/summary",
            format!("{base}/api/assets/{ASSET}/summary"),
            Some(token.as_str()),
        ),
        (
            "GET /api/assets/{u}/ownerships",
            ownerships.clone(),
            Some(token.as_str()),
        ),
        (
            "GET /api/assets/{u}/ownerships?height=2 (past height, from history)",
            format!("{ownerships}?height=2"),
            Some(token.as_str()),
        ),
        (
            "reference: the same holdings as sqlx rows + serde (no auth, this process)",
            format!("{rows_then_serde}/ownerships"),
            None,
        ),
    ] {
        let (rate, p50, p99) = measure(&url, token, requests, concurrency).await;
        println!("| {name} | {rate:.0} | {p50:.2?} | {p99:.2?} |");
    }
    // The same report while its holder rows change: a holder's user renamed every 10 ms from
    // this process (each rename is a new version of the rows, so the server builds the text
    // again for the next request after it).
    let issuer = store.issuer_by_username("bench").await.unwrap().unwrap().id;
    let renamer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0u64.. {
                let name = format!("Renamed {n}");
                store
                    .rename_registered_user(issuer, first_user, &name)
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let (rate, p50, p99) = measure(&ownerships, Some(&token), requests, concurrency).await;
    renamer.abort();
    println!(
        "| GET /api/assets/{{u}}/ownerships while a holder is renamed every 10 ms | {rate:.0} | \
         {p50:.2?} | {p99:.2?} |"
    );
    println!("load average at the end: {}", load_average());
    println!("(ownerships body: {} bytes)", body.len());
    println!("server process (alone): {}", memory(server.id()));
    drop(server.stdin.take());
    server.wait().unwrap();
}
