//! Benchmark of one distribution transaction on a node: a wallet's `sendmany` to 60
//! confidential addresses of an issued asset (what `amphora confirm distribute` asks for each
//! transaction of a distribution file), the block that confirms it, the empty block of its
//! second confirmation, and the wallet's `gettransaction`. Run on the embedded node and, with
//! `ELEMENTSD_EXE` set, on Elements Core in the same run as the reference.
//!
//! `cargo run --release -p amphora-testenv --example sendmany_bench [-- <transactions> <recipients>]`
//! (defaults: 20 transactions of 60 recipients).

use std::time::{Duration, Instant};

use amphora_rpc::{Amount, AssetPayment};
use amphora_testenv::{NodeKind, TestNode};
use elements::AssetId;

/// Per-round timings.
#[derive(Default)]
struct Round {
    sendmany: Duration,
    first_block: Duration,
    second_block: Duration,
    gettransaction: Duration,
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn summary(name: &str, values: &[Duration]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort();
    let mean = values.iter().sum::<Duration>() / values.len().max(1) as u32;
    format!(
        "{name:<16} mean {:>8.1} ms  median {:>8.1} ms  max {:>8.1} ms  first {:>8.1} ms  last {:>8.1} ms",
        millis(mean),
        millis(sorted[sorted.len() / 2]),
        millis(*sorted.last().expect("rounds")),
        millis(values[0]),
        millis(*values.last().expect("rounds")),
    )
}

async fn run(kind: NodeKind, transactions: usize, recipients: usize) {
    let node = TestNode::start_kind(kind).await;
    let treasury = node.claim_free_coins("treasury").await;
    let holders = node.create_wallet("holders").await;
    let issued = node
        .issue_asset(&treasury, (transactions * recipients * 10) as i64, 0, false)
        .await;
    let asset: AssetId = issued.asset;
    let mut addresses = Vec::with_capacity(transactions * recipients);
    for _ in 0..transactions * recipients {
        addresses.push(holders.get_new_address(None).await.expect("getnewaddress"));
    }
    node.mine(1).await;
    let mut rounds = Vec::with_capacity(transactions);
    for chunk in addresses.chunks(recipients) {
        let payments: Vec<AssetPayment> = chunk
            .iter()
            .map(|address| AssetPayment {
                address: address.to_string(),
                amount: Amount::from_units(10),
                asset,
            })
            .collect();
        let mut round = Round::default();
        let started = Instant::now();
        let txid = treasury.send_many(&payments).await.expect("sendmany");
        round.sendmany = started.elapsed();
        let started = Instant::now();
        node.mine(1).await;
        round.first_block = started.elapsed();
        let started = Instant::now();
        node.mine(1).await;
        round.second_block = started.elapsed();
        let started = Instant::now();
        let tx = treasury
            .get_transaction(&txid)
            .await
            .expect("gettransaction");
        round.gettransaction = started.elapsed();
        assert_eq!(tx.confirmations, 2, "{txid}");
        rounds.push(round);
    }
    let column = |f: fn(&Round) -> Duration| rounds.iter().map(f).collect::<Vec<_>>();
    let total: Duration = rounds
        .iter()
        .map(|r| r.sendmany + r.first_block + r.second_block + r.gettransaction)
        .sum();
    let label = match kind {
        NodeKind::Embedded => "embedded node",
        NodeKind::Elementsd => "elementsd 23.3.3 (reference)",
    };
    println!("{label}: {transactions} transactions of {recipients} confidential recipients");
    println!("  {}", summary("sendmany", &column(|r| r.sendmany)));
    println!(
        "  {}",
        summary("block (the tx)", &column(|r| r.first_block))
    );
    println!(
        "  {}",
        summary("block (empty)", &column(|r| r.second_block))
    );
    println!(
        "  {}",
        summary("gettransaction", &column(|r| r.gettransaction))
    );
    println!(
        "  per transaction, all four: {:.1} ms",
        millis(total / transactions as u32)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let transactions: usize = args
        .next()
        .map(|a| a.parse().expect("transactions: a number"))
        .unwrap_or(20);
    let recipients: usize = args
        .next()
        .map(|a| a.parse().expect("recipients: a number"))
        .unwrap_or(60);
    run(NodeKind::Embedded, transactions, recipients).await;
    if NodeKind::from_env() == NodeKind::Elementsd {
        run(NodeKind::Elementsd, transactions, recipients).await;
    } else {
        println!("(set ELEMENTSD_EXE to measure Elements Core beside it)");
    }
}
