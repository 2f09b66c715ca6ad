//! The platform runs the chain follower: started with the node (the test node of the run,
//! through `elements_url`), indexing its blocks, reported in the state, stopped (lease
//! released) on shutdown.

use std::time::Duration;

use amphora_server::{Config, Platform};

use crate::chain::platform_node;

#[tokio::test]
async fn the_platform_runs_the_chain_follower_and_stops_it_on_shutdown() {
    let (chain, node) = platform_node().await;
    // blocks the follower has to index
    chain.mine(3).await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        key_passphrase: Some("test passphrase".into()),
        node,
        ..Config::default()
    };
    let platform = Platform::prepare(&config).await.unwrap();
    let node = platform.state().node().unwrap().clone();
    let store = platform.state().store().clone();
    // the follower indexes every block
    let mut indexed = None;
    for _ in 0..600 {
        let height = node.get_block_count().await.unwrap() as i64;
        let status = platform.state().follower_status().expect("a follower runs");
        if status.is_leader && status.tip_height == Some(height) && status.lag == Some(0) {
            indexed = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = indexed.unwrap_or_else(|| {
        panic!(
            "the follower did not catch up: {:?}",
            platform.state().follower_status()
        )
    });
    assert_eq!(status.last_error, None);
    let tip = store.chain_tip().await.unwrap().unwrap();
    assert_eq!(Some(tip.height), status.tip_height);
    let holder = store.follower_lease().await.unwrap().unwrap().holder;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(platform.run(async move {
        let _ = stopped.await;
    }));
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    // the lease was released on the way out: another replica may follow at once
    let store = amphora_store::Store::connect(&config.database_url())
        .await
        .unwrap();
    assert!(
        store.follower_lease().await.unwrap().is_none(),
        "lease of {holder} still held"
    );
    store.close().await;
}
