//! The embedded node's instant mining (`block_interval` zero) and `waitfornewblock`, which
//! hears of a block the moment it is connected (embedded-node internals: the block timer and
//! the tip notification).

use std::time::{Duration, Instant};

use amphora_regtest::{MiningPolicy, Node, NodeConfig};
use amphora_rpc::{Amount, Auth, ElementsRpc};
use serde_json::{json, Value};

async fn instant_node() -> (amphora_regtest::NodeHandle, ElementsRpc) {
    let node = Node::start(NodeConfig {
        rpc_user: Some("user".into()),
        rpc_password: Some("pass".into()),
        block_interval: Some(Duration::ZERO),
        mining_policy: MiningPolicy::WhileUnconfirmed { confirmations: 2 },
        ..NodeConfig::default()
    })
    .await
    .expect("node");
    let rpc = ElementsRpc::new(
        node.rpc_url(),
        Auth::UserPass {
            user: "user".into(),
            password: "pass".into(),
        },
    )
    .expect("client");
    (node, rpc)
}

#[tokio::test]
async fn embedded_instant_mining_confirms_twice_at_once_then_idles() {
    let (node, rpc) = instant_node().await;
    assert_eq!(
        rpc.get_block_count().await.unwrap(),
        0,
        "idle with nothing to confirm"
    );
    rpc.create_wallet("w").await.unwrap();
    let wallet = rpc.wallet("w");
    wallet.rescan_blockchain().await.unwrap();
    let address = wallet.get_new_address(None).await.unwrap();
    let started = Instant::now();
    let txid = wallet
        .send_to_address(&address, Amount::from_units(150_000_000), None)
        .await
        .unwrap();
    loop {
        let tx = wallet.get_transaction(&txid).await.unwrap();
        if tx.confirmations >= 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not confirmed twice within 2 s: {tx:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        rpc.get_block_count().await.unwrap(),
        2,
        "exactly two blocks"
    );
    node.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn embedded_wait_rpcs_answer_at_the_awaited_block_or_at_their_timeout() {
    let (node, rpc) = instant_node().await;
    let genesis = rpc.get_best_block_hash().await.unwrap();

    // No block: the timeout (ms) passes and the current tip is answered.
    let started = Instant::now();
    let tip: Value = rpc.call("waitfornewblock", &[json!(150)]).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150), "{tip}");
    assert_eq!(tip, json!({"hash": genesis.to_string(), "height": 0}));

    // A block mined while a call waits ends the wait with the new tip.
    let waiting = {
        let rpc = rpc.clone();
        tokio::spawn(async move { rpc.call::<Value>("waitfornewblock", &[json!(10_000)]).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    rpc.create_wallet("m").await.unwrap();
    let address = rpc.wallet("m").get_new_address(None).await.unwrap();
    let hash = rpc.generate_to_address(1, &address).await.unwrap()[0];
    let woke = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("woken by the block")
        .unwrap()
        .unwrap();
    assert_eq!(woke, json!({"hash": hash.to_string(), "height": 1}));

    // waitforblockheight answers at once for a height already reached, waits for a higher one
    let started = Instant::now();
    let reached: Value = rpc
        .call("waitforblockheight", &[json!(1), json!(5_000)])
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(reached, json!({"hash": hash.to_string(), "height": 1}));
    let higher = {
        let rpc = rpc.clone();
        tokio::spawn(async move {
            rpc.call::<Value>("waitforblockheight", &[json!(3), json!(10_000)])
                .await
        })
    };
    rpc.generate_to_address(1, &address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!higher.is_finished(), "height 2 is not height 3");
    let third = rpc.generate_to_address(1, &address).await.unwrap()[0];
    let woke = tokio::time::timeout(Duration::from_secs(2), higher)
        .await
        .expect("woken at height 3")
        .unwrap()
        .unwrap();
    assert_eq!(woke, json!({"hash": third.to_string(), "height": 3}));
    let missing = rpc
        .call::<Value>("waitforblockheight", &[])
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("waitforblockheight height ( timeout )"),
        "{missing}"
    );

    // A type error, as Elements Core answers it (`get_int()` on a string).
    let wrong = rpc
        .call::<Value>("waitfornewblock", &[json!("soon")])
        .await
        .unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("JSON value is not an integer as expected"),
        "{wrong}"
    );
    node.shutdown().await.expect("shutdown");
}
