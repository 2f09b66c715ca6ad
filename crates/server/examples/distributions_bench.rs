//! Distributions to many registered users, through the router (no TCP) on SQLite: the
//! assignment creates (every rule, under the asset's lock), `GET distributions/create` (a fresh
//! address of each user's wallet, the stamped assignments and the confirm file), and the
//! database side of a confirm (`Store::record_distribution_batch` with one output per user).
//!
//! `cargo run --release -p amphora-server --example distributions_bench [-- <users>]` (default
//! 1,000); `BENCH_SQLITE_DURABILITY=full` opens SQLite with an `fsync` per commit instead of
//! the default `normal` (see `amphora_store::SqliteDurability`).
//! Every user has its own registered AMP2 wallet (ELIP-153 descriptors of one software signer,
//! one account each). The chain is written with `Store::apply_block` as the follower writes it.

// A benchmark, run by hand: a failed step ends the run with its panic message.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use amphora_core::Network;
use amphora_cosigner::PlatformKey;
use amphora_server::credentials::hash_password;
use amphora_server::{app, AppState};
use amphora_store::{
    IndexedTx, IssuanceTx, NewAsset, NewAssetOutput, OutputOwner, PaidBatch, PoolSettings,
    SqliteDurability, Store, TxKind,
};
use amphora_testenv::store as fixtures;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const ASSET: &str = "00000000-0000-4000-8000-00000000d157";

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("token {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let users: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("numeric argument"))
        .unwrap_or(1_000);
    let dir = tempfile::tempdir().unwrap();
    // BENCH_SQLITE_DURABILITY=full measures the per-commit fsync (default: `normal`)
    let durability: SqliteDurability = std::env::var("BENCH_SQLITE_DURABILITY")
        .map(|v| serde_json::from_value(Value::String(v)).expect("normal or full"))
        .unwrap_or_default();
    let settings = PoolSettings {
        sqlite_durability: durability,
        ..PoolSettings::default()
    };
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = Store::connect_with(&url, &settings).await.unwrap();
    println!("SQLite durability: {durability:?}");
    store.migrate().await.unwrap();
    let key = PlatformKey::from_mnemonic(MNEMONIC, Network::LiquidRegtest).unwrap();
    let state = AppState::new(
        store.clone(),
        PlatformKey::from_mnemonic(MNEMONIC, Network::LiquidRegtest).unwrap(),
        Network::LiquidRegtest,
        Duration::from_secs(3600),
    );
    let router = app(state);
    let issuer = store
        .create_issuer("bench", &hash_password("bench password").unwrap())
        .await
        .unwrap()
        .id;
    let request = Request::post("/api/user/obtain_token")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"username":"bench","password":"bench password"}"#,
        ))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let token = serde_json::from_slice::<Value>(&bytes).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();

    let issued = users as i64 * 1_000;
    let asset = NewAsset {
        name: "Bench asset".into(),
        amount: issued,
        ticker: "BNCH".into(),
        is_confidential: false,
        transfer_restricted: false,
        ..fixtures::non_reissuable(fixtures::new_asset(issuer, ASSET))
    };
    let issuance_txid = fixtures::txid(0x11);
    let issuance = IssuanceTx {
        tx_hex: "00".into(),
        ..fixtures::without_token(fixtures::issuance_tx(0xab, &issuance_txid))
    };
    fixtures::issued_asset(&store, &asset, &issuance).await;
    let treasury = |txid: &str, vout: i64, amount: i64, height: i64| {
        fixtures::asset_output(ASSET, txid, vout, amount, OutputOwner::Treasury, height)
    };
    store
        .apply_block(&fixtures::block_update(
            1,
            vec![IndexedTx {
                asset_uuid: ASSET.into(),
                txid: issuance_txid.clone(),
                position: 1,
                kind: TxKind::Issuance,
            }],
            vec![treasury(&issuance_txid, 0, issued, 1)],
        ))
        .await
        .unwrap();
    store
        .apply_block(&fixtures::block_update(2, vec![], vec![]))
        .await
        .unwrap();

    let started = Instant::now();
    let signer = lwk_signer::SwSigner::new_with_network(
        MNEMONIC,
        amphora_cosigner::key::lwk_network(Network::LiquidRegtest),
    )
    .unwrap();
    let amp2 = lwk_wollet::amp2::Amp2::new(
        key.xpub_info().keyorigin_xpub,
        "http://127.0.0.1:1/amp2".to_string(),
    )
    .unwrap();
    let mut ids = Vec::with_capacity(users);
    for account in 0..users {
        let descriptor = amp2
            .elip153_from_signer(&signer, account as u32)
            .unwrap()
            .to_string();
        let wallet = key.check_descriptor(&descriptor).unwrap();
        store
            .register_wallet(&wallet.wid, &wallet.descriptor, wallet.gaid.as_str())
            .await
            .unwrap();
        let user = store
            .create_registered_user(
                issuer,
                &format!("User {account}"),
                false,
                Some(wallet.gaid.as_str()),
                None,
            )
            .await
            .unwrap();
        ids.push(user.id);
    }
    println!(
        "{users} wallets and registered users set up in {:.1?}",
        started.elapsed()
    );

    let started = Instant::now();
    let create = format!("/api/assets/{ASSET}/assignments/create");
    // flat or not: the rate of each tenth of the creates, first to last
    let tenth = (users / 10).max(1);
    let mut tenths = Vec::new();
    let mut tenth_started = Instant::now();
    for (n, id) in ids.iter().enumerate() {
        let body = json!({"assignments": [{"registered_user": id, "amount": 1_000,
            "ready_for_distribution": true}]});
        let (status, reply) = call(&router, "POST", &create, &token, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        if (n + 1) % tenth == 0 {
            tenths.push(per_second(tenth, tenth_started.elapsed()));
            tenth_started = Instant::now();
        }
    }
    let elapsed = started.elapsed();
    println!(
        "assignments/create: {users} in {elapsed:.1?} ({:.0}/s)",
        per_second(users, elapsed)
    );
    let rates: Vec<String> = tenths.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "assignments/create per tenth ({tenth} creates each, first to last): {}/s",
        rates.join(", ")
    );

    let started = Instant::now();
    let (status, file) = call(
        &router,
        "GET",
        &format!("/api/assets/{ASSET}/distributions/create"),
        &token,
        None,
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{file}");
    let batches = file["transactions"].as_array().map_or(1, Vec::len);
    println!(
        "distributions/create: {users} recipients in {elapsed:.1?} ({:.0} recipients/s), {batches} transaction(s)",
        per_second(users, elapsed)
    );

    let uuid = file["distribution_uuid"].as_str().unwrap().to_string();
    let assignments = store.distribution_assignments(&uuid).await.unwrap();
    let paying_txid = "22".repeat(32);
    let mut paid = PaidBatch {
        uuid: uuid.clone(),
        batches: (0..batches as i64).collect(),
        txid: paying_txid.clone(),
        height: 3,
        block_time: 1_700_000_180,
        recorded_by: "confirm".into(),
        payments: Vec::new(),
        outputs: Vec::new(),
    };
    for (vout, assignment) in assignments.iter().enumerate() {
        paid.payments.push((assignment.id, vout as i64));
        paid.outputs.push(NewAssetOutput {
            owner: OutputOwner::Wallet {
                wid: "bench".into(),
                gaid: assignment.gaid.clone().unwrap(),
            },
            ..treasury(&paying_txid, vout as i64, assignment.amount, 3)
        });
    }
    let started = Instant::now();
    store.record_distribution_batch(&paid).await.unwrap();
    let elapsed = started.elapsed();
    println!(
        "record_distribution_batch (the confirm's database transaction): {users} outputs in {elapsed:.1?}"
    );
    let (_, done) = call(
        &router,
        "GET",
        &format!("/api/assets/{ASSET}/distributions/{uuid}"),
        &token,
        None,
    )
    .await;
    assert_eq!(done["distribution_status"], "CONFIRMED");
}
