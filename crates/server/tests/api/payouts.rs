//! Payouts and the cap table as CSV through the real router, over the chain index of
//! [`Reported::index_history`]: Alice 300, Bob 200 and the treasury 500 at height 2; at height 3
//! Alice's 300 moved to wallet C of nobody; at height 5 Bob's output is lost.

use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::reports::Reported;

/// A payout asset the platform does not track (like L-BTC for the index).
const FOREIGN: &str = "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225";

async fn create(r: &Reported, body: Value) -> (StatusCode, Value) {
    let reply = r
        .app
        .post(&r.path("payouts/create"), &r.token, &body.to_string())
        .await;
    (reply.status, reply.body)
}

/// Reads a CSV answer with a CSV parser: the header and the records.
fn parse_csv(raw: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(raw);
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

async fn get_csv(
    r: &Reported,
    path: &str,
    accept: Option<&str>,
) -> (Vec<String>, Vec<Vec<String>>) {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("authorization", format!("token {}", r.token));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let reply = r
        .app
        .call(request.body(axum::body::Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{path}");
    assert_eq!(
        reply.headers["content-type"], "text/csv; charset=utf-8",
        "{path}"
    );
    parse_csv(&reply.raw)
}

#[tokio::test]
async fn a_payout_shares_the_total_by_largest_remainder_and_is_reported() {
    let r = Reported::new().await;
    r.index_history().await;
    let (alice, bob) = (r.alice, r.bob);

    // At height 2: 1001 × 300/500 = 600.6 and 1001 × 200/500 = 400.4; the unit left goes to
    // the larger remainder (Alice).
    let (status, file) = create(
        &r,
        json!({"payout_asset": FOREIGN, "total_amount": 1001, "record_height": 2,
            "description": "2026 dividend"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    assert_eq!(file["command"], "payout");
    assert_eq!(file["min_supported_client_script_version"], 2);
    assert_eq!(file["asset_uuid"], r.asset.as_str());
    assert_eq!(file["payout_asset"], FOREIGN);
    assert_eq!(file["record_height"], 2);
    assert_eq!(file["treasury_holding"], 500);
    assert_eq!(file["unregistered_holding"], 0);
    let lines = file["lines"].as_array().unwrap();
    let line_of = |user: i64| lines.iter().find(|l| l["registered_user"] == user).unwrap();
    assert_eq!(line_of(alice)["holding"], 300);
    assert_eq!(line_of(alice)["amount"], 601);
    assert_eq!(line_of(alice)["GAID"], r.gaids[0].as_str());
    assert_eq!(line_of(bob)["amount"], 400);
    let amounts = file["map_address_amount"].as_object().unwrap();
    assert_eq!(amounts.len(), 2);
    let alice_address = line_of(alice)["receiving_address"].as_str().unwrap();
    assert_eq!(amounts[alice_address], json!(0.00000601));
    assert!(file["map_address_asset"]
        .as_object()
        .unwrap()
        .values()
        .all(|a| a == FOREIGN));
    assert!(
        file.get("transactions").is_none(),
        "one transaction: {file}"
    );
    let uuid = file["payout_uuid"].as_str().unwrap().to_string();

    // The report, and its lines as CSV.
    let details = r.get(&r.path(&format!("payouts/{uuid}"))).await;
    assert_eq!(details["payout_status"], "UNCONFIRMED");
    assert_eq!(details["total_amount"], 1001);
    assert_eq!(details["description"], "2026 dividend");
    assert_eq!(details["transactions_expected"], 1);
    assert_eq!(details["lines"].as_array().unwrap().len(), 2);
    let listed = r.get(&r.path("payouts")).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (header, rows) = get_csv(&r, &r.path(&format!("payouts/{uuid}?format=csv")), None).await;
    assert_eq!(
        header,
        [
            "registered_user_id",
            "name",
            "GAID",
            "holding",
            "amount",
            "txid",
            "vout"
        ]
    );
    assert_eq!(rows.len(), 2);
    let alice_row = rows.iter().find(|row| row[0] == alice.to_string()).unwrap();
    assert_eq!(alice_row[1], "Alice");
    assert_eq!(alice_row[2], r.gaids[0]);
    assert_eq!(
        (alice_row[3].as_str(), alice_row[4].as_str()),
        ("300", "601")
    );
    assert_eq!((alice_row[5].as_str(), alice_row[6].as_str()), ("", ""));
    let summary = r
        .get(&format!("/api/registered_users/{alice}/summary"))
        .await;
    assert_eq!(summary[0]["payouts"][0]["payout_uuid"], uuid.as_str());
    assert_eq!(summary[0]["payouts"][0]["amount"], 601);

    // At height 3 Alice's units are in C (nobody's): Bob alone is paid, C's units are named.
    let (status, file) = create(
        &r,
        json!({"payout_asset": FOREIGN, "total_amount": 7, "record_height": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    assert_eq!(file["unregistered_holding"], 300);
    assert_eq!(file["lines"].as_array().unwrap().len(), 1);
    assert_eq!(file["lines"][0]["registered_user"], bob);
    assert_eq!(file["lines"][0]["amount"], 7);

    // Cancelled before payment: gone from the reports; cancelling again is refused.
    let cancel = r.path(&format!("payouts/{uuid}/cancel"));
    let reply = r.app.delete(&cancel, &r.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["payout_status"], "CANCELLED");
    let reply = r
        .app
        .get(&r.path(&format!("payouts/{uuid}")), &r.token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = r.app.delete(&cancel, &r.token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert!(reply.body["Error"]
        .as_str()
        .unwrap()
        .contains("already cancelled"));
}

#[tokio::test]
async fn bad_payouts_are_refused_with_the_reason() {
    let r = Reported::new().await;
    r.index_history().await;
    let refused = |body: Value| {
        let r = &r;
        async move {
            let (status, reply) = create(r, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
            reply.to_string()
        }
    };
    let reply = refused(json!({"payout_asset": "xyz", "total_amount": 0})).await;
    assert!(
        reply.contains("payout_asset") && reply.contains("total_amount"),
        "{reply}"
    );
    let reply =
        refused(json!({"payout_asset": FOREIGN, "total_amount": 5, "record_height": 99})).await;
    assert!(reply.contains("above the chain index"), "{reply}");
    // At the tip (5) Bob's output is lost and C is nobody's: nobody is eligible.
    let reply = refused(json!({"payout_asset": FOREIGN, "total_amount": 5})).await;
    assert!(reply.contains("Nobody is eligible"), "{reply}");
    // The security itself as payout asset: the treasury's confirmed 400 do not cover 10000.
    let asset_id = r.get(&format!("/api/assets/{}", r.asset)).await["asset_id"].clone();
    let reply =
        refused(json!({"payout_asset": asset_id, "total_amount": 10_000, "record_height": 2}))
            .await;
    assert!(reply.contains("insufficient confirmed funds"), "{reply}");
    let reply = refused(json!({"payout_asset": FOREIGN, "total_amount": 5, "extra": 1})).await;
    assert!(reply.contains("extra"), "{reply}");
    assert!(r
        .get(&r.path("payouts"))
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn managers_read_payouts_of_granted_assets_only() {
    let r = Reported::new().await;
    r.index_history().await;
    let (status, file) = create(
        &r,
        json!({"payout_asset": FOREIGN, "total_amount": 10, "record_height": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let (manager_id, manager) = r.app.manager(&r.token, "payout-manager").await;
    let list = r.path("payouts");
    assert_eq!(
        r.app.get(&list, &manager).await.status,
        StatusCode::FORBIDDEN
    );
    let grant = format!("/api/managers/{manager_id}/assets/{}/add", r.asset);
    assert_eq!(
        r.app.put(&grant, &r.token, None).await.status,
        StatusCode::OK
    );
    let reply = r.app.get(&list, &manager).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body.as_array().unwrap().len(), 1);
    let body = json!({"payout_asset": FOREIGN, "total_amount": 10}).to_string();
    let reply = r.app.post(&r.path("payouts/create"), &manager, &body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_cap_table_is_csv_on_request() {
    let r = Reported::new().await;
    r.index_history().await;
    // A name that needs RFC 4180 quoting.
    let bob_name = "Bob \"B\", Ltd.";
    let edit = format!("/api/registered_users/{}/edit", r.bob);
    let body = json!({ "name": bob_name }).to_string();
    let reply = r.app.put(&edit, &r.token, Some(&body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let expected_header = ["registered_user_id", "name", "GAID", "amount", "percent"];
    for (path, accept) in [
        (r.path("ownerships/2?format=csv"), None),
        (r.path("ownerships?height=2&format=csv"), None),
        (r.path("ownerships/2"), Some("text/csv")),
    ] {
        let (header, rows) = get_csv(&r, &path, accept).await;
        assert_eq!(header, expected_header, "{path}");
        assert_eq!(
            rows,
            vec![
                vec![
                    "".to_string(),
                    "ISSUER".into(),
                    "".into(),
                    "500".into(),
                    "50.0000".into()
                ],
                vec![
                    r.alice.to_string(),
                    "Alice".into(),
                    r.gaids[0].clone(),
                    "300".into(),
                    "30.0000".into()
                ],
                vec![
                    r.bob.to_string(),
                    bob_name.into(),
                    r.gaids[1].clone(),
                    "200".into(),
                    "20.0000".into()
                ],
            ],
            "{path}"
        );
    }
    // At height 3 wallet C of nobody is its own row, with its GAID only.
    let (_, rows) = get_csv(&r, &r.path("ownerships/3?format=csv"), None).await;
    let c = rows.iter().find(|row| row[2] == r.gaids[2]).unwrap();
    assert_eq!(c[..2], ["".to_string(), "".to_string()]);
    assert_eq!(c[4], "30.0000");
    // JSON stays the default; an unknown format is a 400.
    let json = r.get(&r.path("ownerships/2")).await;
    assert_eq!(json.as_array().unwrap().len(), 3);
    let reply = r
        .app
        .get(&r.path("ownerships/2?format=xml"), &r.token)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert!(reply.body.to_string().contains("format"));
}
