//! Throughput and latency of `GET /api/assets/{u}/ownerships` and `GET …/summary` over real
//! HTTP, with an asset held by many registered wallets, next to an empty axum handler served the
//! same way on the same machine.
//!
//! `cargo run -p amphora-server --example reports_bench [-- <holders> <requests> <concurrency>]`
//! (defaults: 10,000 holders, 2,000 requests per endpoint, 8 concurrent clients). The index is
//! written with `Store::apply_block`, exactly as the chain follower writes it: one issuance to
//! the treasury, then one distribution block paying each holder (every holder a registered user
//! of the issuer with its own GAID), then an empty block (so that `?height=2` is a past
//! height, answered from the history while the current state reads the maintained aggregates).
//! Prints the process's resident memory at the end (server and clients together).

// A benchmark, run by hand: a failed step ends the run with its panic message.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use amphora_core::Network;
use amphora_cosigner::PlatformKey;
use amphora_server::credentials::hash_password;
use amphora_server::routes::reports::OwnershipDto;
use amphora_server::{app, AppState};
use amphora_store::{
    BlockUpdate, IndexedBlock, IndexedTx, IssuanceTx, NewAsset, NewAssetOutput, OutputOwner,
    OutputSpend, Store, TxKind, UNKNOWN_BLINDER,
};
use axum::routing::get;
use axum::Router;

const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const ASSET: &str = "00000000-0000-4000-8000-000000000001";

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .map(|a| a.parse().expect("numeric argument"))
        .unwrap_or(default)
}

fn txid(n: u32) -> String {
    format!("{n:064x}")
}

fn block(height: i64, txs: Vec<IndexedTx>, outputs: Vec<NewAssetOutput>) -> BlockUpdate {
    BlockUpdate {
        block: IndexedBlock {
            height,
            block_hash: format!("{:064x}", height + 1),
            prev_hash: format!("{:064x}", height),
            block_time: 1_700_000_000 + height * 60,
        },
        txs,
        outputs,
        spends: vec![],
    }
}

fn output(tx: u32, vout: i64, amount: i64, owner: OutputOwner, height: i64) -> NewAssetOutput {
    NewAssetOutput {
        txid: txid(tx),
        vout,
        asset_uuid: ASSET.into(),
        is_token: false,
        amount,
        script_pubkey: "0014aa".into(),
        owner,
        asset_blinder: UNKNOWN_BLINDER.into(),
        amount_blinder: UNKNOWN_BLINDER.into(),
        height,
    }
}

/// An issuer, its asset, `holders` registered users with a wallet each, and the index.
async fn populate(store: &Store, holders: usize) -> amphora_store::Result<()> {
    let issuer = store
        .create_issuer("bench", &hash_password("bench password").unwrap())
        .await?;
    store
        .create_asset(&NewAsset {
            uuid: ASSET.into(),
            issuer_id: issuer.id,
            name: "Benchmark asset".into(),
            amount: 1_000_000_000,
            destination_address: "el1bench".into(),
            domain: "example.com".into(),
            ticker: "BENCH".into(),
            pubkey: "02ab".into(),
            precision: 0,
            is_confidential: false,
            is_reissuable: false,
            reissuance_amount: 0,
            reissuance_address: String::new(),
            transfer_restricted: true,
            issuer_authorization_endpoint: None,
            contract_json: "{}".into(),
            contract_hash: "00".repeat(32),
        })
        .await?;
    let issuance = IssuanceTx {
        asset_id: "ab".repeat(32),
        reissuance_token_id: None,
        tx_hex: "00".into(),
        txid: txid(1),
        vin: 0,
        asset_vout: 0,
        reissuance_vout: None,
    };
    store.set_asset_issuance_tx(ASSET, &issuance).await?;
    store.set_asset_broadcast(ASSET, None, None).await?;
    let tx = |n: u32, kind| IndexedTx {
        asset_uuid: ASSET.into(),
        txid: txid(n),
        position: 1,
        kind,
    };
    let total = 1_000_000_000;
    store
        .apply_block(&block(
            1,
            vec![tx(1, TxKind::Issuance)],
            vec![output(1, 0, total, OutputOwner::Treasury, 1)],
        ))
        .await?;
    let mut outputs = Vec::with_capacity(holders + 1);
    for i in 0..holders {
        let gaid = format!("GAbench{i:08}");
        let wid = format!("wid-bench-{i}");
        store
            .register_wallet(&wid, &format!("ct(bench-{i})"), &gaid)
            .await?;
        store
            .create_registered_user(issuer.id, &format!("Holder {i}"), false, Some(&gaid), None)
            .await?;
        let owner = OutputOwner::Wallet { wid, gaid };
        outputs.push(output(2, i as i64, 1 + i as i64, owner, 2));
    }
    let paid: i64 = outputs.iter().map(|o| o.amount).sum();
    outputs.push(output(
        2,
        holders as i64,
        total - paid,
        OutputOwner::Treasury,
        2,
    ));
    let mut distribution = block(2, vec![tx(2, TxKind::Distribution)], outputs);
    distribution.spends = vec![OutputSpend {
        txid: txid(1),
        vout: 0,
        spent_txid: txid(2),
        spent_vin: 0,
        lost: false,
    }];
    store.apply_block(&distribution).await?;
    // one more block, so that height 2 is a past height
    store.apply_block(&block(3, vec![], vec![])).await?;
    Ok(())
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
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
        store.holdings_json(ASSET, None).await.unwrap();
    })
    .await;
    let json_past = median(|| async {
        store.holdings_json(ASSET, Some(2)).await.unwrap();
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

#[tokio::main]
async fn main() {
    let holders = arg(1, 10_000);
    let requests = arg(2, 2_000);
    let concurrency = arg(3, 8).max(1);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let started = Instant::now();
    populate(&store, holders).await.unwrap();
    eprintln!("populated {holders} holders in {:.1?}", started.elapsed());
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

    let key = PlatformKey::from_mnemonic(MNEMONIC, Network::LiquidRegtest).unwrap();
    let state = AppState::new(
        store,
        key,
        Network::LiquidRegtest,
        Duration::from_secs(3600),
    );
    let base = serve(app(state)).await;
    let empty = serve(Router::new().route("/empty", get(|| async { "" }))).await;
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
            "reference: the same holdings as sqlx rows + serde (no auth)",
            format!("{rows_then_serde}/ownerships"),
            None,
        ),
        (
            "GET /api/assets/{u}/ownerships?height=2 (past height, from history)",
            format!("{ownerships}?height=2"),
            Some(token.as_str()),
        ),
    ] {
        let (rate, p50, p99) = measure(&url, token, requests, concurrency).await;
        println!("| {name} | {rate:.0} | {p50:.2?} | {p99:.2?} |");
    }
    println!("(ownerships body: {} bytes)", body.len());
    // server, clients and the populated data share this process: an upper bound of the
    // server's memory
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines() {
        if line.starts_with("VmRSS") || line.starts_with("VmHWM") {
            println!("process {line}");
        }
    }
}
