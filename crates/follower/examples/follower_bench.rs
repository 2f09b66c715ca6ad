//! Benchmark: blocks indexed per second by the chain follower.
//!
//! Builds a regtest chain of `BENCH_BLOCKS` blocks (default 10,000) on the embedded node with
//! managed-asset traffic: a managed asset issued to the treasury wallet, then every
//! `BENCH_TX_EVERY` blocks (default 20) a confidential payment of the asset from the
//! treasury to a registered AMP2 wallet (which the follower unblinds with the wallet's view
//! key). Then one follower indexes the whole chain from an empty SQLite index (or
//! `BENCH_DATABASE_URL`) and the rate is printed.
//!
//! Then, caught up, it mines 20 blocks one by one and prints how long after each `generate`
//! call the follower had indexed it (p50 and max).
//!
//! Then the same-run references (`BENCH_REFERENCE=0` skips them): the same blocks only read
//! from the node (the follower's batched `getblockhash` + `getblock` requests, one at a
//! time, no indexing), and a second follower applying one block per database transaction
//! (`blocks_per_transaction: 1`) on a fresh SQLite store.
//!
//! `cargo run --release -p amphora-follower --example follower_bench`.

use std::str::FromStr;
use std::time::{Duration, Instant};

use amphora_core::Network;
use amphora_cosigner::PlatformKey;
use amphora_follower::{Follower, FollowerConfig};
use amphora_regtest::{Node, NodeConfig};
use amphora_rpc::types::UnspentOutput;
use amphora_rpc::{Amount, Auth, ElementsRpc};
use amphora_store::{NewAsset, Store};
use amphora_testenv::store as fixtures;
use elements::AddressParams;
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;
use lwk_wollet::WolletDescriptor;
use serde_json::json;

const SERVER_MNEMONIC: &str =
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";
const USER_MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// New blocks mined one by one once the follower caught up, to time their indexing.
const LATENCY_BLOCKS: usize = 20;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let blocks = env_u64("BENCH_BLOCKS", 10_000);
    let every = env_u64("BENCH_TX_EVERY", 20).max(1);
    let node = Node::start(NodeConfig {
        rpc_listen: "127.0.0.1:0".parse()?,
        ..NodeConfig::default()
    })
    .await?;
    let (user, password) = node.credentials();
    let rpc = ElementsRpc::new(node.rpc_url(), Auth::UserPass { user, password })?;
    rpc.create_wallet("treasury").await?;
    let treasury = rpc.wallet("treasury");
    treasury.rescan_blockchain().await?;
    let miner = treasury.get_new_address(None).await?;

    let dir = tempfile::tempdir()?;
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite:{}", dir.path().join("bench.db").display()));
    let store = Store::connect(&url).await?;
    store.migrate().await?;

    // the managed asset and the registered wallet
    let issued = treasury
        .issue_asset(
            Amount::from_units(1_000_000_000),
            Amount::from_units(1),
            false,
        )
        .await?;
    // the wallet unblinds its own outputs: where the asset and the token went
    let mut vouts = Vec::new();
    for id in [issued.asset, issued.token] {
        let found: Vec<UnspentOutput> = treasury
            .call(
                "listunspent",
                &[
                    json!(0),
                    json!(9_999_999),
                    json!([]),
                    json!(true),
                    json!({ "asset": id }),
                ],
            )
            .await?;
        let output = found
            .into_iter()
            .find(|u| u.txid == issued.txid)
            .ok_or("issuance output not in the treasury wallet")?;
        vouts.push((i64::from(output.vout), output.address.unwrap_or_default()));
    }
    let (asset_vout, destination) = vouts[0].clone();
    let token_vout = vouts[1].0;
    let rows = Rows {
        issued: issued.clone(),
        asset_vout,
        token_vout,
        destination,
    };
    let wallet = rows.record(&store).await?;
    let wallet_descriptor = WolletDescriptor::from_str(&wallet.descriptor)?;

    // the chain
    let build = Instant::now();
    let mut payments = 0u32;
    let mut height = rpc.get_block_count().await?;
    while height < blocks {
        if height % every == 0 {
            let address = wallet_descriptor
                .address(payments % 80, &AddressParams::ELEMENTS)?
                .to_string();
            treasury
                .send_to_address(&address, Amount::from_units(10), Some(&issued.asset))
                .await?;
            payments += 1;
            rpc.generate_to_address(1, &miner).await?;
            height += 1;
        } else {
            let n = (every - height % every).min(blocks - height);
            rpc.generate_to_address(n, &miner).await?;
            height += n;
        }
    }
    println!(
        "built {height} blocks with {payments} managed-asset payments in {:.1?}",
        build.elapsed()
    );

    // the measurement
    let start = Instant::now();
    let follower = Follower::new(store.clone(), rpc.clone(), FollowerConfig::default()).spawn();
    let target = height as i64;
    let status = follower
        .wait_for(Duration::from_secs(600), |s| s.tip_height == Some(target))
        .await
        .ok_or("the follower did not reach the tip in 10 minutes")?;
    let elapsed = start.elapsed();
    // caught up: how long after the node has a new block it is indexed (the follower waits
    // with `waitforblockheight`; its default 500 ms poll interval is only the fallback)
    let (mut from_call, mut from_answer) = (Vec::new(), Vec::new());
    for n in 1..=LATENCY_BLOCKS {
        let called = Instant::now();
        rpc.generate_to_address(1, &miner).await?;
        let answered = Instant::now();
        let height = target + n as i64;
        follower
            .wait_for(Duration::from_secs(10), |s| s.tip_height == Some(height))
            .await
            .ok_or("a new block was not indexed within 10 s")?;
        from_call.push(called.elapsed());
        from_answer.push(answered.elapsed());
    }
    from_call.sort();
    from_answer.sort();
    follower.shutdown().await;
    let outputs = store.asset_outputs("bench-asset").await?;
    let wallet_outputs = outputs
        .iter()
        .filter(|o| o.output.owner.kind() == "wallet")
        .count();
    println!(
        "indexed {} blocks in {:.2?}: {:.0} blocks/s ({} outputs of the asset, {} to the \
         registered wallet, engine {:?})",
        status.blocks_indexed,
        elapsed,
        status.blocks_indexed as f64 / elapsed.as_secs_f64(),
        outputs.len(),
        wallet_outputs,
        store.engine()
    );
    let (mid, last) = (LATENCY_BLOCKS / 2, LATENCY_BLOCKS - 1);
    println!(
        "new block indexed ({LATENCY_BLOCKS} blocks) after the node's generate answer: p50 \
         {:.1?}, max {:.1?}; after the generate call: p50 {:.1?}, max {:.1?}",
        from_answer[mid], from_answer[last], from_call[mid], from_call[last]
    );
    if wallet_outputs != payments as usize {
        return Err(format!("expected {payments} wallet outputs, found {wallet_outputs}").into());
    }
    if env_u64("BENCH_REFERENCE", 1) != 0 {
        references(&rpc, &rows, dir.path()).await?;
    }
    store.close().await;
    node.shutdown().await?;
    Ok(())
}

/// The same-run references (see the module docs).
async fn references(
    rpc: &ElementsRpc,
    rows: &Rows,
    dir: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let tip = rpc.get_block_count().await?;
    let read = Instant::now();
    let mut next = 0;
    while next <= tip {
        let last = tip.min(next + 49);
        rpc.get_blocks_at(next..=last).await?;
        next = last + 1;
    }
    let read = read.elapsed();
    println!(
        "reference: reading the {} blocks from the node alone (batches of 50 getblockhash + \
         getblock, one at a time, no indexing): {read:.2?}, {:.0} blocks/s",
        tip + 1,
        (tip + 1) as f64 / read.as_secs_f64()
    );
    let url = format!("sqlite:{}", dir.join("reference.db").display());
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    rows.record(&store).await?;
    let start = Instant::now();
    let config = FollowerConfig {
        blocks_per_transaction: 1,
        ..FollowerConfig::default()
    };
    let follower = Follower::new(store.clone(), rpc.clone(), config).spawn();
    let target = tip as i64;
    let status = follower
        .wait_for(Duration::from_secs(600), |s| s.tip_height == Some(target))
        .await
        .ok_or("the reference follower did not reach the tip in 10 minutes")?;
    let elapsed = start.elapsed();
    follower.shutdown().await;
    println!(
        "reference: one block per transaction (SQLite): {} blocks in {elapsed:.2?}, {:.0} \
         blocks/s",
        status.blocks_indexed,
        status.blocks_indexed as f64 / elapsed.as_secs_f64()
    );
    store.close().await;
    Ok(())
}

/// The rows the follower starts from: the managed asset and the registered wallet.
struct Rows {
    issued: amphora_rpc::types::IssuedAsset,
    asset_vout: i64,
    token_vout: i64,
    destination: String,
}

impl Rows {
    /// Records the asset and the wallet in `store`; the wallet.
    async fn record(
        &self,
        store: &Store,
    ) -> Result<amphora_cosigner::RegisteredWallet, Box<dyn std::error::Error>> {
        let Rows {
            issued,
            asset_vout,
            token_vout,
            destination,
        } = self;
        let (asset_vout, token_vout, destination) = (*asset_vout, *token_vout, destination.clone());
        let issuer = store.create_issuer("bench", "h").await?;
        let asset = NewAsset {
            name: "Bench".into(),
            amount: 1_000_000_000,
            destination_address: destination,
            ticker: "BNCH".into(),
            is_confidential: false,
            reissuance_address: String::new(),
            ..fixtures::new_asset(issuer.id, "bench-asset")
        };
        let issuance = fixtures::node_issuance_tx(issued, asset_vout, token_vout);
        fixtures::issued_asset(store, &asset, &issuance).await;
        let key = PlatformKey::from_mnemonic(SERVER_MNEMONIC, Network::LiquidRegtest)?;
        let amp2 = Amp2::new(
            key.xpub_info().keyorigin_xpub,
            "http://127.0.0.1:1/amp2".into(),
        )?;
        let signer = SwSigner::new_with_network(
            USER_MNEMONIC,
            amphora_cosigner::key::lwk_network(Network::LiquidRegtest),
        )?;
        let descriptor = amp2
            .elip153_from_signer(&signer, 0)?
            .descriptor()
            .to_string();
        let wallet = key.check_descriptor(&descriptor)?;
        store
            .register_wallet(&wallet.wid, &wallet.descriptor, wallet.gaid.as_str())
            .await?;
        Ok(wallet)
    }
}
