//! The activities and transactions reports: paging, sorting and filtering.

use amphora_store::UNKNOWN_BLINDER;
use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{txid, Reported, ISSUANCE};

#[tokio::test]
async fn activities_and_txs_page_sort_and_filter() {
    let r = Reported::new().await;
    r.index_history().await;

    let all = r.get(&r.path("activities")).await;
    let rows = all.as_array().unwrap();
    let summary: Vec<(String, String, i64, i64)> = rows
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap().to_string(),
                a["txid"].as_str().unwrap().to_string(),
                a["vout"].as_i64().unwrap(),
                a["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected = vec![
        ("issuance".to_string(), txid(ISSUANCE), 0, 1_000),
        ("distribution".to_string(), txid(2), 0, 300),
        ("distribution".to_string(), txid(2), 1, 200),
        ("distribution".to_string(), txid(2), 2, 500),
        ("transaction".to_string(), txid(3), 0, 300),
        ("burn".to_string(), txid(4), 0, 100),
        ("burn".to_string(), txid(4), 1, 400),
        ("lost".to_string(), txid(2), 1, 200),
    ];
    assert_eq!(summary, expected);
    let alice_row = &rows[1];
    assert_eq!(alice_row["registered user"], r.alice);
    assert_eq!(alice_row["registered_user"], r.alice);
    assert_eq!(alice_row["GAID"], r.gaids[0]);
    assert_eq!(alice_row["blockheight"], 2);
    assert_eq!(alice_row["asset_blinder"], UNKNOWN_BLINDER);
    assert_eq!(alice_row["datetime"], "2023-11-14T22:15:20Z");
    assert_eq!(rows[7]["blockheight"], 5);

    let reported = &r;
    let page = |query: &str| {
        let path = reported.path(&format!("activities?{query}"));
        async move {
            let body = reported.get(&path).await;
            body.as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    (
                        a["txid"].as_str().unwrap()[..2].to_string(),
                        a["vout"].as_i64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let ids = |list: &[(u8, i64)]| {
        list.iter()
            .map(|(t, v)| (format!("{t:02x}"), *v))
            .collect::<Vec<_>>()
    };
    assert_eq!(page("start=2&count=2").await, ids(&[(2, 0), (2, 1)]));
    // start=0 is the first row too (clients counting from 0 send it), as is start=1.
    assert_eq!(page("start=0&count=2").await, ids(&[(ISSUANCE, 0), (2, 0)]));
    assert_eq!(page("start=1&count=2").await, ids(&[(ISSUANCE, 0), (2, 0)]));
    assert_eq!(page("start=-2").await, ids(&[(4, 1), (2, 1)]));
    assert_eq!(page("start=-100&count=1").await, ids(&[(ISSUANCE, 0)]));
    assert_eq!(page("start=50").await, ids(&[]));
    assert_eq!(page("count=0").await, ids(&[]));
    assert_eq!(
        page("height_start=3&height_stop=4").await,
        ids(&[(3, 0), (4, 0), (4, 1)])
    );
    assert_eq!(
        page("sortcolumn=amount&sortorder=desc&count=2").await,
        ids(&[(ISSUANCE, 0), (2, 2)])
    );
    assert_eq!(
        page("sortcolumn=6&sortorder=asc&count=1").await,
        ids(&[(4, 0)]),
        "column 6 is amount"
    );
    assert_eq!(page("sortorder=DESC&count=1").await, ids(&[(2, 1)]));
    // Parameters as a JSON body on GET (amp-rs), numbers or strings.
    let reply = r
        .app
        .send(
            Method::GET,
            &r.path("activities"),
            Some(&r.token),
            Some(r#"{"start": 1, "count": "1", "height_start": 3}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body[0]["txid"], txid(3));

    for (query, field) in [
        ("start=first", "start"),
        ("count=-1", "count"),
        ("count=many", "count"),
        ("sortorder=sideways", "sortorder"),
        ("sortcolumn=colour", "sortcolumn"),
        ("sortcolumn=99", "sortcolumn"),
        ("height_start=-3", "height_start"),
    ] {
        let reply = r
            .app
            .get(&r.path(&format!("activities?{query}")), &r.token)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(reply.body[field].is_array(), "{query}: {:?}", reply.body);
    }
    let reply = r
        .app
        .send(Method::GET, &r.path("txs"), Some(&r.token), Some("[1]"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // Transactions: oldest first with inputs and outputs.
    let txs = r.get(&r.path("txs")).await;
    let order: Vec<&str> = txs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["issuance", "distribution", "transfer", "burn", "unknown"]
    );
    let issuance = &txs[0];
    assert_eq!(issuance["is_issuance"], true);
    assert_eq!(issuance["is_distribution"], false);
    assert_eq!(issuance["outputs"][0]["asset_blinder"], UNKNOWN_BLINDER);
    assert_eq!(issuance["outputs"][0]["is_spent"], true);
    assert_eq!(issuance["unblinded_url"], format!("/tx/{}", txid(ISSUANCE)));
    let distribution = &txs[1];
    assert_eq!(distribution["inputs"][0]["prev_txid"], txid(ISSUANCE));
    assert_eq!(distribution["inputs"][0]["is_treasury"], true);
    assert_eq!(distribution["outputs"][0]["registered_user"], r.alice);
    assert_eq!(distribution["outputs"][0]["GAID"], r.gaids[0]);
    assert_eq!(txs[3]["outputs"][0]["is_burnt"], true);
    assert_eq!(txs[4]["inputs"][0]["is_lost"], true);
    assert_eq!(txs[4]["outputs"], json!([]));

    let last = r.get(&r.path("txs?start=-1")).await;
    assert_eq!(last[0]["txid"], txid(5));
    let newest_first = r.get(&r.path("txs?sortorder=desc&count=2")).await;
    assert_eq!(newest_first[0]["txid"], txid(5));
    assert_eq!(newest_first[1]["txid"], txid(4));

    let one = r.get(&r.path(&format!("txs/{}", txid(2)))).await;
    assert_eq!(one, txs[1]);
    let upper = r
        .get(&r.path(&format!("txs/{}", txid(2).to_uppercase())))
        .await;
    assert_eq!(upper["txid"], txid(2));
    let reply = r
        .app
        .get(&r.path(&format!("txs/{}", txid(9))), &r.token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
