//! `Store::holdings_json`, the ownerships report built by the database, against
//! `Store::holdings` (the same rows, order and values) at the tip and at every past height of
//! the report fixture: the treasury as `ISSUER`, registered users by name and id, a wallet of
//! nobody, a lost output, and an asset nobody holds yet.

use amphora_store::{Holding, Store, TREASURY_OWNER};
use amphora_testenv::store as fixtures;
use serde_json::{json, Value};

use crate::contract::{on_postgres, on_sqlite};
use crate::reports::{fixture, history, lose_bobs_output, ASSET};

contract!(
    holdings_json_is_the_holdings_at_every_height,
    holdings_json_is_none_for_an_asset_the_issuer_does_not_see,
);

/// What the ownerships report says of one holding (reference §7 `Ownership`).
pub(crate) fn expected(holding: &Holding) -> Value {
    let (owner, user) = match (&holding.is_treasury, &holding.registered_user) {
        (true, _) => (json!(TREASURY_OWNER), Value::Null),
        (false, Some((id, name))) => (json!(name), json!(id)),
        (false, None) => (Value::Null, Value::Null),
    };
    json!({"owner": owner, "amount": holding.amount, "GAID": holding.gaid, "registered_user": user})
}

/// Asserts that the JSON of `height` is the holdings of `height`, object by object, key order
/// included; returns the number of holders.
async fn assert_same(store: &Store, issuer: i64, height: Option<i64>) -> usize {
    let text = json_of(store, issuer, height).await;
    let parsed: Vec<serde_json::Map<String, Value>> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not a JSON array of objects at {height:?} ({e}): {text}"));
    let holdings = store.holdings(ASSET, height).await.unwrap();
    let wanted: Vec<Value> = holdings.iter().map(expected).collect();
    let got: Vec<Value> = parsed.iter().cloned().map(Value::Object).collect();
    assert_eq!(got, wanted, "holdings at {height:?}");
    for object in &parsed {
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys, ["owner", "amount", "GAID", "registered_user"]);
    }
    parsed.len()
}

/// The report's JSON of the fixture's asset at `height`, as its issuer sees it.
async fn json_of(store: &Store, issuer: i64, height: Option<i64>) -> String {
    store
        .holdings_json(issuer, ASSET, height)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the issuer sees its asset ({height:?})"))
        .json
}

async fn holdings_json_is_the_holdings_at_every_height(store: Store) {
    let ids = fixture(&store).await;
    assert_eq!(json_of(&store, ids.issuer, None).await, "[]");
    assert_eq!(json_of(&store, ids.issuer, Some(0)).await, "[]");
    history(&store).await;
    lose_bobs_output(&store).await;
    let mut counts = Vec::new();
    for height in [None, Some(0), Some(1), Some(2), Some(3), Some(4), Some(5)] {
        counts.push(assert_same(&store, ids.issuer, height).await);
    }
    // tip and height 5: the treasury and C (Bob's output lost); heights 2–3: the treasury,
    // Alice and Bob; height 4: the treasury, C and Bob
    assert_eq!(counts, [2, 0, 1, 3, 3, 3, 2]);
    let at_two: Value = serde_json::from_str(&json_of(&store, ids.issuer, Some(2)).await).unwrap();
    assert_eq!(
        at_two,
        json!([
            {"owner": "ISSUER", "amount": 500, "GAID": null, "registered_user": null},
            {"owner": "Alice", "amount": 300, "GAID": "GAreportA", "registered_user": ids.alice},
            {"owner": "Bob", "amount": 200, "GAID": "GAreportB", "registered_user": ids.bob},
        ])
    );
}

async fn holdings_json_is_none_for_an_asset_the_issuer_does_not_see(store: Store) {
    let ids = fixture(&store).await;
    history(&store).await;
    let other = fixtures::issuer(&store, "json-other-issuer").await;
    for height in [None, Some(2)] {
        assert_eq!(
            store.holdings_json(other, ASSET, height).await.unwrap(),
            None
        );
        let unknown = store
            .holdings_json(ids.issuer, "no-such-asset", height)
            .await;
        assert_eq!(unknown.unwrap(), None);
    }
    store.delete_asset(ids.issuer, ASSET).await.unwrap();
    for height in [None, Some(2)] {
        let deleted = store.holdings_json(ids.issuer, ASSET, height).await;
        assert_eq!(deleted.unwrap(), None, "deleted, at {height:?}");
    }
}
