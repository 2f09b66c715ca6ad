//! The embedded node after a crash (no clean shutdown, as after `kill -9`): what an answered
//! RPC created is still there, and unconfirmed wallet transactions are put back into the
//! mempool, as Elements Core's `mempool.dat` and wallets do.

use std::path::Path;
use std::time::Duration;

use amphora_regtest::{Node, NodeConfig, NodeHandle};
use amphora_rpc::{Amount, Auth, ElementsRpc, RetryPolicy};
use elements::Txid;

async fn start(datadir: &Path) -> (NodeHandle, ElementsRpc) {
    let node = Node::start(NodeConfig {
        datadir: Some(datadir.to_path_buf()),
        rpc_user: Some("user".into()),
        rpc_password: Some("pass".into()),
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
    .expect("client")
    .with_retry(RetryPolicy::none());
    (node, rpc)
}

/// Stops serving without the clean shutdown's flush: what is on disk is what survives.
async fn crash(node: NodeHandle) {
    node.request_stop();
    node.stopped().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
}

async fn mempool(rpc: &ElementsRpc) -> Vec<Txid> {
    rpc.get_raw_mempool().await.unwrap()
}

#[tokio::test]
async fn embedded_node_keeps_an_answered_send_across_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (node, rpc) = start(dir.path()).await;
    rpc.create_wallet("w").await.unwrap();
    let wallet = rpc.wallet("w");
    wallet.rescan_blockchain().await.unwrap();
    let address = wallet.get_new_address(None).await.unwrap();
    let txid = wallet
        .send_to_address(&address, Amount::from_units(150_000_000), None)
        .await
        .unwrap();
    crash(node).await;

    let (node, rpc) = start(dir.path()).await;
    assert_eq!(
        mempool(&rpc).await,
        vec![txid],
        "the mempool survived the crash"
    );
    let wallet = rpc.wallet("w");
    let tx = wallet.get_transaction(&txid).await.unwrap();
    assert_eq!(tx.confirmations, 0);
    rpc.generate_to_address(1, &address).await.unwrap();
    assert_eq!(
        wallet.get_transaction(&txid).await.unwrap().confirmations,
        1
    );
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn embedded_node_puts_unconfirmed_wallet_transactions_back_into_a_lost_mempool() {
    let dir = tempfile::tempdir().unwrap();
    let (node, rpc) = start(dir.path()).await;
    rpc.create_wallet("w").await.unwrap();
    let wallet = rpc.wallet("w");
    wallet.rescan_blockchain().await.unwrap();
    let address = wallet.get_new_address(None).await.unwrap();
    // a parent and a child spending its change, both unconfirmed
    let parent = wallet
        .send_to_address(&address, Amount::from_units(150_000_000), None)
        .await
        .unwrap();
    let child = wallet
        .send_to_address(&address, Amount::from_units(50_000_000), None)
        .await
        .unwrap();
    crash(node).await;
    let mempool_file = dir.path().join("liquidregtest").join("mempool.dat");
    assert!(mempool_file.is_file());
    std::fs::remove_file(&mempool_file).unwrap();

    let (node, rpc) = start(dir.path()).await;
    let mut found = mempool(&rpc).await;
    found.sort();
    let mut expected = vec![parent, child];
    expected.sort();
    assert_eq!(found, expected, "the wallet resubmitted both");
    node.shutdown().await.unwrap();
}
