//! Distribution end to end: `amphora serve` with its embedded node, investor wallets
//! registered on the platform, assignments, `distributions/create`, and the `amphora confirm`
//! binary paying and confirming the distribution; then a wrong transaction refused, and a
//! distribution paid without any confirm call completed by the chain follower.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{amphora, Killed};
use amphora_rpc::{Amount, AssetPayment, Auth, ElementsRpc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PUBKEY: &str = "02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084";

fn value<'a>(banner: &'a str, label: &str) -> &'a str {
    banner
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no '{label}' in {banner}"))
        .trim()
}

/// The issuer's API session.
struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("authorization", format!("token {}", self.token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, reply) = self.call(method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {reply}");
        reply
    }
}

/// Polls `check` every 250 ms until it returns `Some`, for at most `limit`.
async fn until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn distribute_with_the_confirm_binary_and_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = amphora(dir.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--node-rpc-listen",
            "127.0.0.1:0",
        ])
        .args(["--block-interval", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.trim_start().starts_with("Log in:") {
            break;
        }
    }
    let _serving = Killed(child);
    let root = value(&banner, "AMP API:")
        .trim_end_matches("/api")
        .to_string();
    let rpc = value(&banner, "RPC:").to_string();
    let treasury_address = value(&banner, "Treasury address (destination_address):").to_string();
    let username = value(&banner, "username:").to_string();
    let password = value(&banner, "password:").to_string();

    let client = reqwest::Client::new();
    let token = until("a token", Duration::from_secs(30), || async {
        let reply = client
            .post(format!("{root}/api/user/obtain_token"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .ok()?;
        let body = reply.json::<Value>().await.ok()?;
        let token = body["token"].as_str().map(str::to_string);
        if token.is_none() {
            eprintln!("obtain_token answered {body}");
        }
        token
    })
    .await;
    let api = Api {
        client,
        base: format!("{root}/api"),
        token,
    };

    // An asset issued to the treasury wallet, and two investors with registered wallets.
    let issued = api
        .ok(
            Method::POST,
            "/assets/issue",
            Some(json!({"name": "Distributed asset", "amount": 1_000_000,
                "destination_address": treasury_address, "domain": "example.com",
                "ticker": "DST", "pubkey": PUBKEY})),
        )
        .await;
    let asset = issued["asset_uuid"].as_str().unwrap().to_string();
    let asset_id = issued["asset_id"].as_str().unwrap().parse().unwrap();
    let node = ElementsRpc::new(&rpc, Auth::None).unwrap();
    let mut users = Vec::new();
    for name in ["Alice", "Bob"] {
        let wallet_dir = dir.path().join(format!("wallet-{name}"));
        let (mut wallet, _) = amphora_wallet::Wallet::create(&wallet_dir, node.clone())
            .await
            .unwrap();
        let registered = wallet.register(&root).await.unwrap();
        let user = api
            .ok(
                Method::POST,
                "/registered_users/add",
                Some(json!({"name": name, "GAID": registered.gaid})),
            )
            .await;
        users.push(user["id"].as_i64().unwrap());
    }
    let (alice, bob) = (users[0], users[1]);
    let assign = |user: i64, amount: i64| {
        json!({"assignments": [{"registered_user": user, "amount": amount,
            "ready_for_distribution": true}]})
    };
    // The first assignment waits for the issuance's 2 confirmations (indexed by the follower).
    let create = format!("/assets/{asset}/assignments/create");
    until(
        "the issuance to be assignable",
        Duration::from_secs(60),
        || async {
            let (status, reply) = api
                .call(Method::POST, &create, Some(assign(alice, 500)))
                .await;
            match status {
                StatusCode::OK => Some(()),
                _ => {
                    let error = reply["Error"].as_str().unwrap_or_default();
                    assert!(error.contains("confirmation"), "{status} {reply}");
                    None
                }
            }
        },
    )
    .await;
    api.ok(Method::POST, &create, Some(assign(bob, 300))).await;

    // Distribute with the confirm binary.
    let file = api
        .ok(
            Method::GET,
            &format!("/assets/{asset}/distributions/create/"),
            None,
        )
        .await;
    let uuid = file["distribution_uuid"].as_str().unwrap().to_string();
    assert_eq!(file["map_address_amount"].as_object().unwrap().len(), 2);
    let path = dir.path().join("distribution.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let started = Instant::now();
    let output = amphora(dir.path())
        .args(["confirm", "-u", &username, "-p", &password])
        .args(["-n", &format!("{rpc}/wallet/treasury")])
        .args(["--poll-interval", "250ms", "--confirmation-timeout", "2m"])
        .args(["distribute", "-f", path.to_str().unwrap()])
        .output()
        .unwrap();
    eprintln!("amphora confirm distribute took {:?}", started.elapsed());
    assert!(
        output.status.success(),
        "confirm failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let done = api
        .ok(
            Method::GET,
            &format!("/assets/{asset}/distributions/{uuid}"),
            None,
        )
        .await;
    assert_eq!(done["distribution_status"], "CONFIRMED", "{done}");
    let paid = &done["transactions"][0];
    let first_txid = paid["txid"].as_str().unwrap().to_string();
    assert_eq!(paid["assignments"].as_array().unwrap().len(), 2);
    let assignments = api
        .ok(Method::GET, &format!("/assets/{asset}/assignments"), None)
        .await;
    assert!(assignments
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["is_distributed"] == true));
    let summary = api
        .ok(
            Method::GET,
            &format!("/registered_users/{alice}/summary"),
            None,
        )
        .await;
    assert_eq!(summary[0]["distributions_sum"], 500);
    assert_eq!(summary[0]["balance"], 500);
    // A repeated confirm is idempotent.
    let repeat = json!({"tx_data": {"txid": first_txid, "details": []}, "change_data": []});
    let confirm = format!("/assets/{asset}/distributions/{uuid}/confirm");
    let (status, _) = api.call(Method::POST, &confirm, Some(repeat.clone())).await;
    assert_eq!(status, StatusCode::OK);

    // A wrong transaction is refused and changes nothing.
    api.ok(Method::POST, &create, Some(assign(bob, 100))).await;
    let file = api
        .ok(
            Method::GET,
            &format!("/assets/{asset}/distributions/create"),
            None,
        )
        .await;
    let second = file["distribution_uuid"].as_str().unwrap().to_string();
    let confirm = format!("/assets/{asset}/distributions/{second}/confirm");
    let (status, reply) = api.call(Method::POST, &confirm, Some(repeat)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert!(
        reply["Error"].as_str().unwrap().contains("pays none"),
        "{reply}"
    );
    let pending = api
        .ok(
            Method::GET,
            &format!("/assets/{asset}/distributions/{second}"),
            None,
        )
        .await;
    assert_eq!(pending["distribution_status"], "UNCONFIRMED");

    // Paid without a confirm call: the follower completes it.
    let treasury = node.wallet("treasury");
    let payments: Vec<AssetPayment> = file["map_address_amount"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(address, amount)| AssetPayment {
            address: address.clone(),
            amount: Amount::from_units((amount.as_f64().unwrap() * 1e8).round() as i64),
            asset: asset_id,
        })
        .collect();
    treasury.send_many(&payments).await.unwrap();
    until(
        "the follower to complete the distribution",
        Duration::from_secs(60),
        || async {
            let (_, reply) = api
                .call(
                    Method::GET,
                    &format!("/assets/{asset}/distributions/{second}"),
                    None,
                )
                .await;
            (reply["distribution_status"] == "CONFIRMED").then_some(())
        },
    )
    .await;
    let (status, lost) = api
        .call(Method::GET, &format!("/assets/{asset}/lost-outputs"), None)
        .await;
    if status == StatusCode::OK {
        assert_eq!(
            lost["lost_outputs"],
            json!([]),
            "treasury inputs are not lost"
        );
    }
    let summary = api
        .ok(
            Method::GET,
            &format!("/registered_users/{bob}/summary"),
            None,
        )
        .await;
    assert_eq!(summary[0]["distributions_sum"], 400);
}
