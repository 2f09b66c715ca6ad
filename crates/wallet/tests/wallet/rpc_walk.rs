//! The chain walk through the real JSON-RPC client (`amphora-rpc`): a test chain of blocks built
//! offline is served over HTTP with Elements Core's method names and answer shapes, and the
//! walk follows it through new blocks, mempool transactions and reorgs.
//!
//! This is a test fixture serving known blocks, not a node: it does not validate anything. The
//! last test walks the node of the run instead (`TestNode::start`: the embedded node, or a real
//! `elementsd` with `ELEMENTSD_EXE`) through a payment and an `invalidateblock` reorg.

use std::sync::{Arc, Mutex};

use crate::common::*;
use amphora_rpc::{Amount, Auth, ElementsRpc, RetryPolicy};
use amphora_testenv::TestNode;
use amphora_wallet::chain_index::{ChainIndex, REORG_WINDOW};
use amphora_wallet::sync::{node_chain, walk};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use elements::encode::serialize_hex;
use elements::{BlockHash, Transaction};
use serde_json::{json, Value};

#[derive(Default)]
struct Served {
    chain: Vec<elements::Block>,
    mempool: Vec<Transaction>,
}

type Shared = Arc<Mutex<Served>>;

fn answer(served: &Served, method: &str, params: &[Value]) -> Result<Value, (i64, String)> {
    let not_found = || (-5, "Block not found".to_string());
    match method {
        "getblockcount" => Ok(json!(served.chain.len() - 1)),
        "getblockhash" => {
            let h = params[0].as_u64().unwrap() as usize;
            let block = served
                .chain
                .get(h)
                .ok_or((-8, "Block height out of range".into()))?;
            Ok(json!(block.block_hash().to_string()))
        }
        "getblock" => {
            let hash: BlockHash = params[0].as_str().unwrap().parse().unwrap();
            assert_eq!(params[1], json!(0), "the wallet reads raw blocks");
            let block = served
                .chain
                .iter()
                .find(|b| b.block_hash() == hash)
                .ok_or_else(not_found)?;
            Ok(json!(serialize_hex(block)))
        }
        "getrawmempool" => Ok(json!(served
            .mempool
            .iter()
            .map(|t| t.txid().to_string())
            .collect::<Vec<_>>())),
        "getrawtransaction" => {
            let txid = params[0].as_str().unwrap();
            let tx = served
                .mempool
                .iter()
                .find(|t| t.txid().to_string() == txid)
                .ok_or((-5, "No such mempool transaction".into()))?;
            Ok(json!(serialize_hex(tx)))
        }
        "getblockchaininfo" => {
            let tip = served.chain.last().unwrap();
            Ok(json!({
                "chain": "liquidregtest", "blocks": served.chain.len() - 1,
                "headers": served.chain.len() - 1, "bestblockhash": tip.block_hash().to_string(),
                "time": tip.header.time, "mediantime": tip.header.time,
                "verificationprogress": 1.0, "initialblockdownload": false,
                "size_on_disk": 0, "pruned": false, "warnings": ""
            }))
        }
        "dumpassetlabels" => Ok(json!({ "bitcoin": lbtc().to_string() })),
        other => Err((-32601, format!("Method not found: {other}"))),
    }
}

async fn rpc(State(shared): State<Shared>, Json(request): Json<Value>) -> Json<Value> {
    let method = request["method"].as_str().unwrap_or_default().to_string();
    let params = request["params"].as_array().cloned().unwrap_or_default();
    let served = shared.lock().unwrap();
    Json(match answer(&served, &method, &params) {
        Ok(result) => json!({"result": result, "error": null, "id": request["id"]}),
        Err((code, message)) => {
            json!({"result": null, "error": {"code": code, "message": message}, "id": request["id"]})
        }
    })
}

async fn serve(shared: Shared) -> ElementsRpc {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/", post(rpc)).with_state(shared);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    ElementsRpc::new(&url, Auth::None)
        .unwrap()
        .with_retry(RetryPolicy::none())
}

#[tokio::test]
async fn walk_follows_blocks_mempool_and_reorgs() {
    let platform = platform();
    let alice = user(&platform, ALICE);
    let addr = alice.descriptor.address(0, PARAMS).unwrap();
    let mut chain = Chain::new();
    chain.mine(vec![funding(
        &[(&addr, share(), 10), (&addr, lbtc(), 1000)],
        1,
    )]);
    chain.mine(vec![]);
    let shared: Shared = Arc::new(Mutex::new(Served {
        chain: chain.blocks.clone(),
        mempool: vec![],
    }));
    let node = serve(shared.clone()).await;

    let params = node_chain(&node).await.unwrap();
    assert_eq!(params.name, "liquidregtest");
    assert_eq!(params.policy_asset, lbtc());
    assert_eq!(params.genesis_hash, chain.blocks[0].block_hash());

    let mut index = ChainIndex::new(alice.descriptor.clone(), 0).unwrap();
    let mut saves = 0;
    let report = walk(&node, &mut index, |_| {
        saves += 1;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(
        (report.blocks, report.confirmed_txs, report.height),
        (3, 1, 2)
    );
    assert_eq!((report.reorged, report.mempool_txs), (0, 0));
    assert!(saves >= 1);
    let mut w = wollet(&alice);
    sync(&index, &mut w);
    assert_eq!(balance(&w, share()), 10);

    // A payment waiting in the mempool.
    let pending = funding(&[(&addr, share(), 5)], 2);
    shared.lock().unwrap().mempool = vec![pending.clone(), funding(&[], 3)];
    let report = walk(&node, &mut index, |_| Ok(())).await.unwrap();
    assert_eq!((report.blocks, report.mempool_txs), (0, 1));
    sync(&index, &mut w);
    assert_eq!(balance(&w, share()), 15);

    // Reorg: blocks 2.. replaced by three new ones, the pending payment mined in the last.
    chain.reorg(2, vec![]);
    chain.mine(vec![]);
    chain.mine(vec![pending.clone()]);
    {
        let mut served = shared.lock().unwrap();
        served.chain = chain.blocks.clone();
        served.mempool.clear();
    }
    let report = walk(&node, &mut index, |_| Ok(())).await.unwrap();
    assert_eq!(
        (report.reorged, report.blocks, report.confirmed_txs),
        (1, 3, 1)
    );
    assert_eq!(
        index.tip().unwrap().block_hash(),
        chain.blocks[4].block_hash()
    );
    assert!(!report.rescanned);
    sync(&index, &mut w);
    assert_eq!(balance(&w, share()), 15);
    assert_eq!(
        w.transaction(&pending.txid()).unwrap().unwrap().height,
        Some(4)
    );

    // The node's chain gets shorter and the funding block itself is replaced: the wallet is
    // left with nothing.
    chain.blocks.truncate(1);
    chain.mine(vec![]);
    shared.lock().unwrap().chain = chain.blocks.clone();
    let report = walk(&node, &mut index, |_| Ok(())).await.unwrap();
    assert_eq!((report.reorged, report.blocks, report.height), (4, 1, 1));
    assert_eq!(index.transactions().count(), 0);
}

#[tokio::test]
async fn reorg_below_the_window_walks_again_from_the_start() {
    let platform = platform();
    let alice = user(&platform, ALICE);
    let addr = alice.descriptor.address(3, PARAMS).unwrap();
    let mut chain = Chain::new();
    for _ in 0..REORG_WINDOW + 5 {
        chain.mine(vec![]);
    }
    let shared: Shared = Arc::new(Mutex::new(Served {
        chain: chain.blocks.clone(),
        mempool: vec![],
    }));
    let node = serve(shared.clone()).await;
    let mut index = ChainIndex::new(alice.descriptor.clone(), 0).unwrap();
    walk(&node, &mut index, |_| Ok(())).await.unwrap();
    // Everything from height 2 is replaced; the new chain pays the wallet at height 2.
    chain.reorg(2, vec![funding(&[(&addr, share(), 7)], 9)]);
    shared.lock().unwrap().chain = chain.blocks.clone();
    let report = walk(&node, &mut index, |_| Ok(())).await.unwrap();
    assert!(report.rescanned);
    assert_eq!(report.height, 2);
    assert_eq!(report.confirmed_txs, 1);
    let mut w = wollet(&alice);
    sync(&index, &mut w);
    assert_eq!(balance(&w, share()), 7);
}

#[tokio::test]
async fn walk_follows_the_node_through_a_payment_and_invalidateblock() {
    let node = TestNode::start().await;
    let treasury = node.claim_free_coins("treasury").await;
    node.mine(1).await;
    let platform = platform();
    let alice = user(&platform, ALICE);
    let addr = alice.descriptor.address(0, PARAMS).unwrap().to_string();
    let mut index = ChainIndex::new(alice.descriptor.clone(), 0).unwrap();
    let report = walk(node.rpc(), &mut index, |_| Ok(())).await.unwrap();
    assert_eq!((report.height, report.confirmed_txs), (1, 0));

    // Unconfirmed, then confirmed at height 2.
    let txid = treasury
        .send_to_address(&addr, Amount::from_units(100_000), None)
        .await
        .unwrap();
    let report = walk(node.rpc(), &mut index, |_| Ok(())).await.unwrap();
    assert_eq!((report.blocks, report.mempool_txs), (0, 1));
    let mined = node.mine(1).await;
    let report = walk(node.rpc(), &mut index, |_| Ok(())).await.unwrap();
    assert_eq!(
        (
            report.blocks,
            report.confirmed_txs,
            report.mempool_txs,
            report.height
        ),
        (1, 1, 0, 2)
    );

    // The block is invalidated: the payment is back in the mempool, the walk undoes the block.
    let _: Value = node
        .rpc()
        .call("invalidateblock", &[json!(mined[0].to_string())])
        .await
        .unwrap();
    let mempool: Vec<String> = node.rpc().call("getrawmempool", &[]).await.unwrap();
    assert_eq!(mempool, [txid.to_string()]);
    let report = walk(node.rpc(), &mut index, |_| Ok(())).await.unwrap();
    assert_eq!(
        (
            report.reorged,
            report.blocks,
            report.mempool_txs,
            report.height
        ),
        (1, 0, 1, 1)
    );
    assert!(!report.rescanned);

    // A block paying elsewhere (mined again at once to the same address, it could be the
    // invalidated block itself, which the node refuses) confirms it again on a new branch.
    let elsewhere = treasury.get_new_address(None).await.unwrap();
    let remined = node.rpc().generate_to_address(1, &elsewhere).await.unwrap();
    assert_ne!(remined, mined);
    let report = walk(node.rpc(), &mut index, |_| Ok(())).await.unwrap();
    assert_eq!(
        (
            report.reorged,
            report.blocks,
            report.confirmed_txs,
            report.height
        ),
        (0, 1, 1, 2)
    );
    assert_eq!(index.tip().unwrap().block_hash(), remined[0]);
    assert_eq!(index.transactions().count(), 1);
    node.stop().await;
}
