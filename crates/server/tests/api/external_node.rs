//! `amphora serve --elements-url` against an operator's node (the node of the run: Elements
//! Core with `ELEMENTSD_EXE`, the embedded node otherwise): start-up refuses a node without a
//! transaction index with what to change, and provides the `platform` wallet.

use amphora_server::config::Secret;
use amphora_server::{Config, Platform};
use amphora_testenv::{NodeKind, TestNode, TestNodeOptions, PLATFORM_WALLET};

fn config_for(node: &TestNode, dir: &std::path::Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("data"),
        issuer_username: Some("operator".into()),
        issuer_password: Some("operator password".into()),
        key_passphrase: Some("test passphrase".into()),
        node: amphora_server::NodeConfig {
            elements_url: Some(Secret::new(node.url_with_credentials(""))),
            ..Default::default()
        },
        ..Config::default()
    }
}

#[tokio::test]
async fn a_node_without_txindex_is_refused_at_start_with_what_to_change() {
    let node = TestNode::start_with(NodeKind::from_env(), TestNodeOptions { txindex: false }).await;
    let dir = tempfile::tempdir().unwrap();
    let Err(err) = Platform::prepare(&config_for(&node, dir.path())).await else {
        panic!("a node without txindex is refused");
    };
    let text = err.to_string();
    assert!(text.contains("txindex=1"), "{text}");
    assert!(text.contains("elements.conf"), "{text}");
    // nothing was created on the node
    assert!(node.rpc().list_wallets().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_node_with_txindex_gets_its_platform_wallet_and_serves() {
    let node = TestNode::start().await;
    assert!(node.rpc().list_wallets().await.unwrap().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::prepare(&config_for(&node, dir.path()))
        .await
        .expect("the platform starts on a node with txindex");
    assert_eq!(
        node.rpc().list_wallets().await.unwrap(),
        vec![PLATFORM_WALLET.to_string()],
        "the platform wallet is created and loaded"
    );
    let addr = platform.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(platform.run(async move {
        let _ = stopped.await;
    }));
    let health: serde_json::Value = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["node"]["status"], "ok", "{health}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
