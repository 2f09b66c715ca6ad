//! The JSON-RPC server over real HTTP: envelope, status codes, auth, batches, cookie file,
//! node methods, persistence across restarts and the `stop` RPC.

use std::net::SocketAddr;

use amphora_regtest::chain::ChainName;
use amphora_regtest::{Node, NodeConfig, NodeHandle};
use serde_json::{json, Value};

const GENESIS: &str = "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21";
/// The transcript's mining address (a confidential `el1` address).
const MINING_ADDRESS: &str = "ert1qfzmw6u70pnttvwvfr2p3r0hwdx4qynl9swy7a4";

fn config(datadir: Option<std::path::PathBuf>) -> NodeConfig {
    NodeConfig {
        datadir,
        chain: ChainName::LiquidRegtest,
        rpc_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        rpc_user: Some("user".into()),
        rpc_password: Some("pass".into()),
        ..NodeConfig::default()
    }
}

async fn post(node: &NodeHandle, path: &str, body: Value, auth: (&str, &str)) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", node.rpc_url()))
        .basic_auth(auth.0, Some(auth.1))
        .json(&body)
        .send()
        .await
        .expect("http");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn call(node: &NodeHandle, method: &str, params: Value) -> (u16, Value) {
    post(
        node,
        "/",
        json!({"jsonrpc": "1.0", "id": "t", "method": method, "params": params}),
        ("user", "pass"),
    )
    .await
}

#[tokio::test]
async fn envelope_status_codes_and_batches() {
    let node = Node::start(config(None)).await.expect("node");
    let (status, body) = call(&node, "getbestblockhash", json!([])).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"result": GENESIS, "error": null, "id": "t"}));

    let (status, body) = call(&node, "nosuchmethod", json!([])).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"result": null, "error": {"code": -32601, "message": "Method not found"}, "id": "t"})
    );

    let (status, body) = call(&node, "getblockhash", json!([5])).await;
    assert_eq!(status, 500);
    assert_eq!(
        body["error"],
        json!({"code": -8, "message": "Block height out of range"})
    );

    // JSON-RPC 2.0 and id-less requests get the same Core-23 envelope.
    let (status, body) = post(
        &node,
        "/",
        json!({"jsonrpc": "2.0", "id": 7, "method": "getblockcount"}),
        ("user", "pass"),
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({"result": 0, "error": null, "id": 7}))
    );
    let (status, body) = post(
        &node,
        "/",
        json!({"method": "getblockcount", "params": []}),
        ("user", "pass"),
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({"result": 0, "error": null, "id": null}))
    );

    let (status, body) = post(
        &node,
        "/",
        json!([{"id": 1, "method": "getblockcount"}, {"id": 2, "method": "nosuchmethod"}]),
        ("user", "pass"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body[0], json!({"result": 0, "error": null, "id": 1}));
    assert_eq!(body[1]["error"]["code"], json!(-32601));

    // Named parameters.
    let (_, body) = post(
        &node,
        "/",
        json!({"id": 1, "method": "getblockhash", "params": {"height": 0}}),
        ("user", "pass"),
    )
    .await;
    assert_eq!(body["result"], json!(GENESIS));

    let (status, _) = post(
        &node,
        "/",
        json!({"method": "getblockcount"}),
        ("user", "wrong"),
    )
    .await;
    assert_eq!(status, 401);
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn chain_methods_answer_like_elements() {
    let node = Node::start(config(None)).await.expect("node");
    let (_, info) = call(&node, "getnetworkinfo", json!([])).await;
    assert!(info["result"]["subversion"]
        .as_str()
        .unwrap()
        .contains("Elements Core"));
    assert!(info["result"]["version"].as_i64().unwrap() >= 230000);

    let (_, mined) = call(&node, "generatetoaddress", json!([3, MINING_ADDRESS])).await;
    let hashes = mined["result"].as_array().expect("hashes").clone();
    assert_eq!(hashes.len(), 3);
    let (_, count) = call(&node, "getblockcount", json!([])).await;
    assert_eq!(count["result"], json!(3));

    let (_, chain) = call(&node, "getblockchaininfo", json!([])).await;
    let chain = &chain["result"];
    assert_eq!(chain["chain"], json!("liquidregtest"));
    assert_eq!(chain["blocks"], json!(3));
    assert_eq!(chain["verificationprogress"], json!(1.0));
    assert_eq!(
        chain["current_params_root"],
        json!("3700bdb2975ff8e0dadaaba2b33857b0ca2610c950a92b1db725025e3647a8e1")
    );

    let (_, block) = call(&node, "getblock", json!([hashes[0], 1])).await;
    let block = &block["result"];
    assert_eq!(block["height"], json!(1));
    assert_eq!(block["confirmations"], json!(3));
    assert_eq!(
        block["dynamic_parameters"]["current"]["type"],
        json!("full")
    );
    let keys: Vec<&str> = block
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "hash",
            "confirmations",
            "height",
            "version",
            "versionHex",
            "merkleroot",
            "time",
            "mediantime",
            "signblock_witness_hex",
            "dynamic_parameters",
            "nTx",
            "previousblockhash",
            "nextblockhash",
            "strippedsize",
            "size",
            "weight",
            "tx"
        ]
    );
    let (_, block2) = call(&node, "getblock", json!([hashes[1], 2])).await;
    let coinbase = &block2["result"]["tx"][0];
    assert_eq!(
        coinbase["vout"][0]["scriptPubKey"]["address"],
        json!(MINING_ADDRESS)
    );
    assert_eq!(
        block2["result"]["dynamic_parameters"]["current"]["type"],
        json!("compact")
    );
    let (_, raw) = call(&node, "getblock", json!([hashes[2], 0])).await;
    assert!(raw["result"].as_str().unwrap().len() > 100);

    let (_, header) = call(&node, "getblockheader", json!([hashes[2]])).await;
    assert_eq!(header["result"]["previousblockhash"], hashes[1]);

    // The genesis free coins: an OP_TRUE output found by scantxoutset raw() and gettxout.
    let (_, scan) = call(&node, "scantxoutset", json!(["start", ["raw(51)"]])).await;
    let unspent = &scan["result"]["unspents"][0];
    assert_eq!(unspent["amount"], json!(21_000_000.0));
    let (_, txout) = call(&node, "gettxout", json!([unspent["txid"], 0])).await;
    assert_eq!(txout["result"]["value"], json!(21_000_000.0));
    assert_eq!(txout["result"]["coinbase"], json!(false));

    let (status, bad) = call(&node, "sendrawtransaction", json!(["00"])).await;
    assert_eq!(status, 500);
    assert_eq!(bad["error"]["code"], json!(-22));
    let (_, missing) = call(&node, "getrawtransaction", json!(["00".repeat(32), true])).await;
    assert_eq!(missing["error"]["code"], json!(-5));
    let (_, invalidated) = call(&node, "invalidateblock", json!([hashes[2]])).await;
    assert_eq!(
        invalidated,
        json!({"result": null, "error": null, "id": "t"})
    );
    let (_, count) = call(&node, "getblockcount", json!([])).await;
    assert_eq!(count["result"], json!(2));
    let (_, fee) = call(&node, "estimatesmartfee", json!([2])).await;
    assert_eq!(
        fee["result"],
        json!({"errors": ["Insufficient data or no feerate found"], "blocks": 0})
    );
    let (_, mempool) = call(&node, "getmempoolinfo", json!([])).await;
    assert_eq!(mempool["result"]["size"], json!(0));
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn cookie_auth_persistence_and_stop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(Some(dir.path().to_path_buf()));
    cfg.rpc_user = None;
    cfg.rpc_password = None;
    let node = Node::start(cfg.clone()).await.expect("node");
    let cookie = std::fs::read_to_string(node.cookie_path().expect("cookie")).expect("cookie file");
    let (user, password) = cookie.split_once(':').expect("user:password");
    assert_eq!(user, "__cookie__");
    let (status, mined) = post(
        &node,
        "/",
        json!({"id": 1, "method": "generatetoaddress", "params": [2, MINING_ADDRESS]}),
        (user, password),
    )
    .await;
    assert_eq!(status, 200);
    let tip = mined["result"][1].clone();
    let (_, stopped) = post(
        &node,
        "/",
        json!({"id": 1, "method": "stop"}),
        (user, password),
    )
    .await;
    assert_eq!(stopped["result"], json!("Elements server stopping"));
    node.stopped().await;
    node.shutdown().await.expect("clean shutdown");

    let node = Node::start(cfg).await.expect("restart");
    let cookie = std::fs::read_to_string(node.cookie_path().expect("cookie")).expect("cookie file");
    let (user, password) = cookie.split_once(':').expect("user:password");
    let (_, best) = post(
        &node,
        "/",
        json!({"id": 1, "method": "getbestblockhash"}),
        (user, password),
    )
    .await;
    assert_eq!(best["result"], tip);
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn block_timer_mines_on_its_own() {
    let mut cfg = config(None);
    cfg.block_interval = Some(std::time::Duration::from_millis(40));
    let node = Node::start(cfg).await.expect("node");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, count) = call(&node, "getblockcount", json!([])).await;
    assert!(count["result"].as_u64().expect("height") >= 2, "{count}");
    node.shutdown().await.expect("shutdown");
}

async fn wallet_call(node: &NodeHandle, wallet: &str, method: &str, params: Value) -> Value {
    let (status, body) = post(
        node,
        &format!("/wallet/{wallet}"),
        json!({"jsonrpc": "1.0", "id": "t", "method": method, "params": params}),
        ("user", "pass"),
    )
    .await;
    assert_eq!(status, 200, "{method}: {body}");
    body["result"].clone()
}

async fn block_count(node: &NodeHandle) -> u64 {
    let (_, count) = call(node, "getblockcount", json!([])).await;
    count["result"].as_u64().expect("height")
}

#[tokio::test]
async fn timer_mines_only_while_a_transaction_lacks_confirmations() {
    let interval = std::time::Duration::from_millis(50);
    let mut cfg = config(None);
    cfg.block_interval = Some(interval);
    cfg.mining_policy = amphora_regtest::MiningPolicy::WhileUnconfirmed { confirmations: 2 };
    let node = Node::start(cfg).await.expect("node");
    // Nothing to confirm: the chain stays at genesis.
    tokio::time::sleep(interval * 5).await;
    assert_eq!(block_count(&node).await, 0);

    let (_, created) = call(&node, "createwallet", json!(["w"])).await;
    assert_eq!(created["result"]["name"], "w", "{created}");
    wallet_call(&node, "w", "rescanblockchain", json!([])).await;
    let address = wallet_call(&node, "w", "getnewaddress", json!([])).await;
    let txid = wallet_call(&node, "w", "sendtoaddress", json!([address, 1.5])).await;
    assert!(txid.is_string(), "{txid}");

    // The timer mines until the transaction has 2 confirmations, then stops.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let tx = wallet_call(&node, "w", "gettransaction", json!([txid])).await;
        if tx["confirmations"].as_i64().unwrap_or(0) >= 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not confirmed: {tx}");
        tokio::time::sleep(interval).await;
    }
    tokio::time::sleep(interval * 3).await;
    let height = block_count(&node).await;
    assert_eq!(height, 2, "exactly two blocks confirm the transaction");
    tokio::time::sleep(interval * 5).await;
    assert_eq!(block_count(&node).await, height, "idle once confirmed");
    node.shutdown().await.expect("shutdown");
}
