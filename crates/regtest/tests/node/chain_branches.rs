//! Branches as Elements Core keeps them: `invalidateblock` keeps the disconnected blocks
//! marked invalid, `reconsiderblock` makes them valid again and the node reconnects the
//! branch with more work (on a tie the branch received first, as Elements Core 23 does), over
//! the chain and over RPC.

use amphora_regtest::{Node, NodeConfig};
use serde_json::{json, Value};

use crate::chain_common::*;

/// A chain with a confirmed payment in block 2 of the 3 blocks above genesis; returns the
/// fixture, the payment's txid and the three block hashes.
fn chain_with_payment() -> (Fixture, elements::Txid, Vec<elements::BlockHash>) {
    let mut f = Fixture::new();
    let (sk, pk) = key(31);
    let (prevout, spent) = f.fund(p2wpkh(&pk), 5_000_000);
    let mut t = tx(
        vec![input(prevout)],
        vec![
            explicit(f.policy, 5_000_000 - FEE, p2wpkh(&pk)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    sign_p2wpkh(&f.secp, &mut t, 0, &sk, &spent);
    let txid = f.chain.submit_transaction(t).expect("accepted");
    let mut hashes = vec![f.chain.tip().1];
    for _ in 0..2 {
        hashes.push(f.chain.mine_block(p2wpkh(&pk)).expect("mined"));
    }
    assert_eq!(f.chain.height(), 3);
    (f, txid, hashes)
}

#[test]
fn a_reconsidered_branch_with_more_blocks_is_reconnected() {
    let (mut f, txid, hashes) = chain_with_payment();
    let tip = f.chain.tip();
    assert_eq!(
        f.chain.invalidate_block(&hashes[1]).expect("invalidated"),
        2
    );
    assert_eq!(f.chain.height(), 1);
    assert!(f.chain.tx(&txid).expect("in the mempool").block.is_none());

    // Reconsidering the lower block makes its descendant valid too: the whole branch is back,
    // the payment confirmed in it again and out of the mempool.
    assert!(f.chain.reconsider_block(&hashes[1]).expect("reconsidered"));
    assert_eq!(f.chain.tip(), tip);
    let found = f.chain.tx(&txid).expect("confirmed");
    assert_eq!(found.block.expect("in a block").hash, hashes[1]);
    assert_eq!(f.chain.mempool().count(), 0);

    // Reconsidering a block of the active chain changes nothing; an unknown one is unknown.
    assert!(f.chain.reconsider_block(&hashes[2]).expect("known"));
    assert_eq!(f.chain.tip(), tip);
    let unknown: elements::BlockHash = "11".repeat(32).parse().unwrap();
    assert!(!f.chain.reconsider_block(&unknown).expect("no error"));
}

#[test]
fn on_a_tie_the_branch_received_first_wins() {
    let (mut f, txid, hashes) = chain_with_payment();
    f.chain.invalidate_block(&hashes[1]).expect("invalidated");
    // A competing branch of the same length (the payment mined again in its first block).
    let other: Vec<_> = (0..2)
        .map(|_| {
            f.chain
                .mine_block(Script::new_op_return(&[7]))
                .expect("mined")
        })
        .collect();
    assert_eq!(f.chain.height(), 3);
    // Elements Core 23.3.3 answers the same sequence with the reconsidered branch active
    // and the other one a "valid-fork".
    assert!(f.chain.reconsider_block(&hashes[2]).expect("reconsidered"));
    assert_eq!(f.chain.tip().1, hashes[2], "the branch received first");
    assert_eq!(f.chain.tx(&txid).unwrap().block.unwrap().hash, hashes[1]);

    // Invalidating it again leaves the other branch, valid and as long: followed at once.
    f.chain.invalidate_block(&hashes[1]).expect("invalidated");
    assert_eq!(f.chain.tip().1, other[1]);
    assert_eq!(f.chain.tx(&txid).unwrap().block.unwrap().hash, other[0]);
}

#[test]
fn a_shorter_reconsidered_branch_stays_aside() {
    let (mut f, _, hashes) = chain_with_payment();
    f.chain.invalidate_block(&hashes[1]).expect("invalidated");
    let other: Vec<_> = (0..3)
        .map(|_| {
            f.chain
                .mine_block(Script::new_op_return(&[7]))
                .expect("mined")
        })
        .collect();
    assert!(f.chain.reconsider_block(&hashes[1]).expect("reconsidered"));
    assert_eq!(f.chain.tip(), (4, other[2]));
}

async fn call(url: &str, method: &str, params: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .basic_auth("u", Some("p"))
        .json(&json!({"jsonrpc": "1.0", "id": "t", "method": method, "params": params}))
        .send()
        .await
        .expect("reply")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn reconsiderblock_over_rpc() {
    let node = Node::start(NodeConfig {
        rpc_user: Some("u".into()),
        rpc_password: Some("p".into()),
        ..NodeConfig::default()
    })
    .await
    .expect("node");
    let url = node.rpc_url().to_string();
    let address = "ert1qfzmw6u70pnttvwvfr2p3r0hwdx4qynl9swy7a4";
    let mined = call(&url, "generatetoaddress", json!([3, address])).await;
    let hashes = mined["result"].as_array().unwrap().clone();
    call(&url, "invalidateblock", json!([hashes[0]])).await;
    assert_eq!(call(&url, "getblockcount", json!([])).await["result"], 0);
    let genesis = call(&url, "getblockhash", json!([0])).await["result"].clone();
    assert_eq!(
        call(&url, "getchaintips", json!([])).await["result"],
        json!([
            {"height": 3, "hash": hashes[2], "branchlen": 3, "status": "invalid"},
            {"height": 0, "hash": genesis, "branchlen": 0, "status": "active"},
        ])
    );
    // The invalidated blocks are still known, off the active chain (as Elements Core 23.3.3
    // answers): -1 confirmations, their parent, no next block; marking one again is fine.
    let header = call(&url, "getblockheader", json!([hashes[1]])).await["result"].clone();
    assert_eq!(header["confirmations"], -1);
    assert_eq!(header["height"], 2);
    assert_eq!(header["previousblockhash"], hashes[0]);
    assert!(header.get("nextblockhash").is_none(), "{header}");
    let block = call(&url, "getblock", json!([hashes[2], 1])).await["result"].clone();
    assert_eq!(block["confirmations"], -1);
    assert_eq!(block["tx"].as_array().map(Vec::len), Some(1));
    let reply = call(&url, "invalidateblock", json!([hashes[1]])).await;
    assert_eq!(reply, json!({"result": null, "error": null, "id": "t"}));
    // Reconsidering the lowest block clears its descendants too.
    let reply = call(&url, "reconsiderblock", json!({"blockhash": hashes[0]})).await;
    assert_eq!(reply, json!({"result": null, "error": null, "id": "t"}));
    assert_eq!(call(&url, "getblockcount", json!([])).await["result"], 3);
    assert_eq!(
        call(&url, "getbestblockhash", json!([])).await["result"],
        hashes[2]
    );
    assert_eq!(
        call(&url, "getchaintips", json!([])).await["result"],
        json!([{"height": 3, "hash": hashes[2], "branchlen": 0, "status": "active"}])
    );
    let reply = call(&url, "reconsiderblock", json!(["11".repeat(32)])).await;
    assert_eq!(
        reply["error"],
        json!({"code": -5, "message": "Block not found"})
    );
    node.shutdown().await.expect("shutdown");
}

#[test]
fn a_block_mined_again_as_the_invalidated_one_is_refused() {
    let mut f = Fixture::new();
    let (_, pk) = key(32);
    // Blocks mined faster than one a second run ahead of the clock (each comes after the
    // median time past), so a block mined again on the same parent gets the time of the one it
    // replaces: with the same coinbase it is that block, which Elements Core refuses.
    for _ in 0..40 {
        f.chain.mine_block(p2wpkh(&pk)).expect("mined");
    }
    let (height, hash) = f.chain.tip();
    f.chain.invalidate_block(&hash).expect("invalidated");
    let refused = f.chain.mine_block(p2wpkh(&pk)).unwrap_err();
    assert!(
        refused.to_string().contains("duplicate-invalid"),
        "{refused}"
    );
    assert_eq!(f.chain.height(), height - 1);
    // Another coinbase makes another block.
    let (_, other) = key(33);
    let mined = f.chain.mine_block(p2wpkh(&other)).expect("mined");
    assert_ne!(mined, hash);
    assert_eq!(f.chain.tip(), (height, mined));
}
