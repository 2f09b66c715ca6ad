//! The registered users on the maintained holder rows (migration 0019) against the history
//! computation, on both engines: after users are renamed, GAIDs linked to users of one issuer
//! or of two, a user deleted (its GAID unlinked) and the GAID linked to another user, with
//! blocks and a reorg between, `Store::holdings` at the tip and `Store::holdings_json` at the
//! tip and at every past height equal what the history gives with the users as they are now.

use amphora_store::Store;
use serde_json::Value;

use super::{
    assert_aggregates_match, issuer_json, run_step, setup, Step, TxSpec, Walk, ASSETS, GAIDS,
};
use crate::contract::{on_postgres, on_sqlite};
use crate::holdings_json::expected;

contract!(holder_rows_follow_user_renames_and_relinks);

/// Asserts that the ownerships JSON of every asset, at the tip and at every height of the
/// walk, is the history's holdings (with today's users), and the maintained figures too.
pub(crate) async fn assert_reports_match(store: &Store, tip: i64) {
    for asset in ASSETS {
        assert_aggregates_match(store, asset).await;
        for height in std::iter::once(None).chain((0..=tip).map(Some)) {
            let text = issuer_json(store, asset, height).await;
            let got: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{asset} at {height:?}: not JSON ({e}): {text}"));
            let history = store.holdings_from_history(asset, height).await.unwrap();
            let wanted: Value = history.iter().map(expected).collect();
            assert_eq!(got, wanted, "ownerships of {asset} at {height:?}");
        }
    }
}

/// A distribution of `asset` paying the treasury and each GAID (owner codes 0–4).
fn pay_everyone(asset: usize, base: i64) -> Step {
    Step::Block(vec![TxSpec {
        asset,
        kind: 2,
        outputs: (0..5)
            .map(|code| (code, false, base + code as i64))
            .collect(),
        spends: vec![(0, false)],
    }])
}

async fn holder_rows_follow_user_renames_and_relinks(store: Store) {
    let (issuer, users) = setup(&store).await;
    let mut walk = Walk::default();
    let mut blocks = vec![
        pay_everyone(0, 10),
        pay_everyone(1, 20),
        pay_everyone(2, 30),
    ];
    blocks.push(pay_everyone(0, 40));
    for block in &blocks {
        run_step(&store, &mut walk, block, issuer, users).await;
    }
    assert_reports_match(&store, walk.tip()).await;

    // a rename, with characters JSON escapes
    store
        .rename_registered_user(issuer, users[0], "Uno \"quoted\" \\ ünï")
        .await
        .unwrap();
    assert_reports_match(&store, walk.tip()).await;
    // the fourth GAID becomes a new user's, who is renamed, then deleted (the GAID unlinked)
    run_step(&store, &mut walk, &Step::ToggleUser, issuer, users).await;
    let fourth = walk.fourth.expect("the fourth GAID's user");
    assert_reports_match(&store, walk.tip()).await;
    store
        .rename_registered_user(issuer, fourth, "Quatre")
        .await
        .unwrap();
    assert_reports_match(&store, walk.tip()).await;
    run_step(&store, &mut walk, &pay_everyone(1, 50), issuer, users).await;
    run_step(&store, &mut walk, &Step::ToggleUser, issuer, users).await;
    assert_reports_match(&store, walk.tip()).await;
    // relinked to another user; the second issuer's GAID linked to a user of the first
    for gaid in [GAIDS[3], GAIDS[2]] {
        store
            .add_registered_user_gaid(issuer, users[1], gaid, None)
            .await
            .unwrap();
        assert_reports_match(&store, walk.tip()).await;
    }
    store
        .rename_registered_user(issuer, users[1], "Dos")
        .await
        .unwrap();
    assert_reports_match(&store, walk.tip()).await;
    // blocks on top and a reorg under the relinked users
    run_step(&store, &mut walk, &pay_everyone(2, 60), issuer, users).await;
    run_step(&store, &mut walk, &pay_everyone(0, 70), issuer, users).await;
    assert_reports_match(&store, walk.tip()).await;
    run_step(&store, &mut walk, &Step::Reorg(2), issuer, users).await;
    assert_reports_match(&store, walk.tip()).await;
    let text = issuer_json(&store, ASSETS[0], None).await;
    assert!(text.contains(r#""owner":"Dos","amount":"#), "{text}");
    assert!(text.contains(r#"Uno \"quoted\" \\ ünï"#), "{text}");
}
