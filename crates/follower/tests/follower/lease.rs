//! Two followers on one database: only the lease holder indexes; the other takes over once
//! the holder stops.

use amphora_store::Store;

use crate::common::{Platform, WAIT};

#[tokio::test]
async fn only_the_lease_holder_indexes_and_the_other_takes_over() {
    let platform = Platform::start().await;
    let issued = platform.issue(1_000).await;
    let a = platform.follower(platform.store.clone(), "replica-a");
    platform.caught_up(&a).await;
    assert!(a.status().is_leader);

    // a second replica, with its own connections to the same database
    let other_store = Store::connect(&platform.db_url).await.unwrap();
    let b = platform.follower(other_store.clone(), "replica-b");
    b.wait_for(WAIT, |s| {
        s.tip_height.is_none() && !s.is_leader && s.last_error.is_none()
    })
    .await
    .expect("b polls");
    platform.mine(2).await;
    platform.caught_up(&a).await;
    // b polls as often as a but indexes nothing
    let status = b.status();
    assert!(!status.is_leader);
    assert_eq!(status.blocks_indexed, 0);
    assert_eq!(
        platform
            .store
            .follower_lease()
            .await
            .unwrap()
            .unwrap()
            .holder,
        "replica-a"
    );

    // the holder stops (releasing the lease): b takes over and indexes the next blocks
    a.shutdown().await;
    platform.mine(2).await;
    let taken = platform.caught_up(&b).await;
    assert!(taken.is_leader);
    assert_eq!(taken.blocks_indexed, 2, "b resumes from a's cursor");
    assert_eq!(
        other_store.follower_lease().await.unwrap().unwrap().holder,
        "replica-b"
    );
    let outputs = platform.store.asset_outputs(&issued.uuid).await.unwrap();
    assert_eq!(outputs.len(), 2);
    b.shutdown().await;
    other_store.close().await;
    platform.stop().await;
}
