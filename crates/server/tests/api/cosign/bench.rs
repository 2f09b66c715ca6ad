//! Benchmark of co-signing decisions over the router, run by hand.

use axum::http::StatusCode;
use lwk_wollet::Chain;
use serde_json::json;

use super::pset::{transfer, Coin, Out};
use super::{scene_with, sign_raw};
use crate::common::TestApp;

/// Benchmark, run by hand (`cargo test -p amphora-server --test api bench_cosign -- --ignored
/// --nocapture`; figures in BENCHMARKS.md, "Co-signer"): co-signing decisions over the router on
/// SQLite, no webhook, PSETs of 2 inputs (asset, L-BTC) and 3 outputs (recipient, L-BTC change,
/// fee). Prints throughput and latency percentiles; asserts only that every request is approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_cosign_decisions() {
    // one wallet signs everything: no per-wallet limit in the way
    let s = scene_with(TestApp::new().await.with_security(|s| {
        s.amp2_limits.per_wallet = amphora_server::rate_limit::Rate {
            per_minute: 60_000_000,
            burst: 1_000_000,
        }
    }))
    .await;
    let lbtc = s.funder.lbtc;
    let count: usize = std::env::var("BENCH_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(200);
    let bob = s.bob.address(Chain::External, 0);
    let change = s.alice.address(Chain::Internal, 0);
    let mut bodies: Vec<String> = Vec::with_capacity(count);
    for i in 0..count {
        {
            let (pset, _) = transfer(
                &s.funder,
                &[
                    Coin {
                        owner: &s.alice,
                        chain: Chain::External,
                        index: i as u32 % 40,
                        asset: s.asset,
                        value: 1000,
                    },
                    Coin {
                        owner: &s.alice,
                        chain: Chain::External,
                        index: 40 + i as u32 % 10,
                        asset: lbtc,
                        value: 10_000,
                    },
                ],
                &[
                    Out::To(&bob, s.asset, 1000),
                    Out::To(&change, lbtc, 9_000),
                    Out::Fee(lbtc, 1_000),
                ],
            )
            .await;
            bodies.push(json!({ "pset": pset.to_string() }).to_string());
        }
    }
    let mut latencies = Vec::with_capacity(count);
    let started = std::time::Instant::now();
    for body in &bodies {
        let t = std::time::Instant::now();
        let reply = sign_raw(&s.app, body).await;
        latencies.push(t.elapsed());
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    let sequential = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "co-sign, sequential: {count} decisions in {:.2?} = {:.0}/s; p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        sequential,
        count as f64 / sequential.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        latencies[latencies.len() - 1]
    );
    let started = std::time::Instant::now();
    let tasks: Vec<_> = bodies
        .chunks(count.div_ceil(8))
        .map(|chunk| {
            let router = s.app.router.clone();
            let chunk = chunk.to_vec();
            tokio::spawn(async move {
                for body in chunk {
                    let request = axum::http::Request::post("/amp2/wallets/sign")
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(body))
                        .unwrap();
                    let response = tower::ServiceExt::oneshot(router.clone(), request)
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let parallel = started.elapsed();
    println!(
        "co-sign, 8 concurrent clients: {count} decisions in {:.2?} = {:.0}/s",
        parallel,
        count as f64 / parallel.as_secs_f64()
    );
}
