//! A caught-up follower hears of the node's next block at once (`waitforblockheight`), on the
//! node of the run: with a poll interval of a minute, a new block is still indexed in seconds.

use std::time::Duration;

use amphora_follower::{Follower, FollowerConfig};
use amphora_store::Store;
use amphora_testenv::TestNode;

#[tokio::test]
async fn a_new_block_is_indexed_without_waiting_for_the_poll_interval() {
    let node = TestNode::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite:{}", dir.path().join("a.db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let follower = Follower::new(
        store.clone(),
        node.rpc().clone(),
        FollowerConfig {
            poll_interval: Duration::from_secs(60),
            ..FollowerConfig::default()
        },
    )
    .spawn();
    let indexed = |height: i64| {
        follower.wait_for(Duration::from_secs(10), move |s| {
            s.tip_height == Some(height) && s.lag == Some(0)
        })
    };
    assert!(indexed(0).await.is_some(), "{:?}", follower.status());
    for height in 1..=3 {
        node.mine(1).await;
        let status = indexed(height).await;
        assert!(
            status.is_some(),
            "block {height} not indexed within 10 s of a 60 s poll: {:?}",
            follower.status()
        );
    }
    follower.shutdown().await;
}
