//! The events outbox: appending, reading after an id with filters, paging and issuer isolation.

use amphora_core::event::{AssetLock, DistributionCancelled, EventData, EventType, OutputLost};
use amphora_store::{NewEvent, Store, MAX_EVENTS_PER_READ};

use crate::contract::{on_postgres, on_sqlite};

contract!(
    events_append_and_read_in_order,
    events_filter_by_type_and_asset_and_page,
    events_are_isolated_per_issuer,
);

fn lock(is_locked: bool) -> EventData {
    EventData::AssetLock(AssetLock {
        asset_id: None,
        is_locked,
    })
}

fn cancelled(uuid: &str) -> EventData {
    EventData::DistributionCancelled(DistributionCancelled {
        distribution_uuid: uuid.into(),
    })
}

async fn events_append_and_read_in_order(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let first = store
        .append_event(&NewEvent::new(a.id, Some("u-1"), lock(true)))
        .await
        .unwrap();
    assert_eq!(first.event_type, EventType::AssetLocked);
    assert_eq!(first.asset_uuid.as_deref(), Some("u-1"));
    assert_eq!(first.block_height, None);
    assert_eq!(first.data["is_locked"], true);
    let lost = EventData::OutputLost(OutputLost {
        txid: "aa".repeat(32),
        vout: 1,
        is_token: false,
        amount: 5,
        owner: "wallet".into(),
        gaid: Some("GA1".into()),
        spent_txid: "bb".repeat(32),
    });
    let second = store
        .append_event(&NewEvent::new(a.id, Some("u-1"), lost.clone()).at_height(7))
        .await
        .unwrap();
    assert!(second.id > first.id, "ids increase");
    assert_eq!(second.block_height, Some(7));
    assert_eq!(
        EventData::from_json(second.event_type, second.data.clone()).unwrap(),
        lost
    );
    assert_eq!(store.event(second.id).await.unwrap(), Some(second.clone()));
    assert_eq!(store.event(second.id + 100).await.unwrap(), None);
    let all = store.events_after(a.id, 0, &[], None, 100).await.unwrap();
    assert_eq!(all, vec![first.clone(), second.clone()]);
    let after = store
        .events_after(a.id, first.id, &[], None, 100)
        .await
        .unwrap();
    assert_eq!(after, vec![second.clone()]);
    assert!(store
        .events_after(a.id, second.id, &[], None, 100)
        .await
        .unwrap()
        .is_empty());
    // The signal moved with each append.
    let mut signal = store.event_signal();
    signal.borrow_and_update();
    store
        .append_event(&NewEvent::new(a.id, None, cancelled("d")))
        .await
        .unwrap();
    assert!(signal.has_changed().unwrap());
}

async fn events_filter_by_type_and_asset_and_page(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let mut ids = Vec::new();
    for n in 0..6 {
        let asset = if n % 2 == 0 { "u-1" } else { "u-2" };
        let data = if n % 3 == 0 {
            lock(true)
        } else {
            cancelled("d")
        };
        let event = store
            .append_event(&NewEvent::new(a.id, Some(asset), data))
            .await
            .unwrap();
        ids.push(event.id);
    }
    let ids_of = |events: Vec<amphora_store::Event>| -> Vec<i64> {
        events.into_iter().map(|e| e.id).collect()
    };
    let locks = store
        .events_after(a.id, 0, &[EventType::AssetLocked], None, 100)
        .await
        .unwrap();
    assert_eq!(ids_of(locks), vec![ids[0], ids[3]]);
    let two_types = store
        .events_after(
            a.id,
            0,
            &[EventType::AssetLocked, EventType::DistributionCancelled],
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(ids_of(two_types), ids);
    let u2 = store
        .events_after(a.id, 0, &[], Some("u-2"), 100)
        .await
        .unwrap();
    assert_eq!(ids_of(u2), vec![ids[1], ids[3], ids[5]]);
    let u2_locks = store
        .events_after(a.id, 0, &[EventType::AssetLocked], Some("u-2"), 100)
        .await
        .unwrap();
    assert_eq!(ids_of(u2_locks), vec![ids[3]]);
    // Pages of 4 then the rest, resumed from the last id seen.
    let page = store.events_after(a.id, 0, &[], None, 4).await.unwrap();
    assert_eq!(ids_of(page), ids[..4].to_vec());
    let rest = store
        .events_after(a.id, ids[3], &[], None, 4)
        .await
        .unwrap();
    assert_eq!(ids_of(rest), ids[4..].to_vec());
    // A manager's grants: only events of those assets.
    let granted = store
        .events_after_in(a.id, 0, &[], Some(&["u-1".to_string()]), 100)
        .await
        .unwrap();
    assert_eq!(ids_of(granted), vec![ids[0], ids[2], ids[4]]);
    assert!(store
        .events_after_in(a.id, 0, &[], Some(&[]), 100)
        .await
        .unwrap()
        .is_empty());
    // Limits are capped.
    assert!(store
        .events_after(a.id, 0, &[], None, 0)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .events_after(a.id, 0, &[], None, MAX_EVENTS_PER_READ + 5)
            .await
            .unwrap()
            .len(),
        6
    );
}

async fn events_are_isolated_per_issuer(store: Store) {
    let a = store.create_issuer("alice", "h").await.unwrap();
    let b = store.create_issuer("bob", "h").await.unwrap();
    let mine = store
        .append_event(&NewEvent::new(a.id, Some("u-1"), lock(true)))
        .await
        .unwrap();
    let theirs = store
        .append_event(&NewEvent::new(b.id, Some("u-1"), lock(false)))
        .await
        .unwrap();
    assert_eq!(
        store.events_after(a.id, 0, &[], None, 100).await.unwrap(),
        vec![mine]
    );
    assert_eq!(
        store
            .events_after(b.id, 0, &[], Some("u-1"), 100)
            .await
            .unwrap(),
        vec![theirs]
    );
}
