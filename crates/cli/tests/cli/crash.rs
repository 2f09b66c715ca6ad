//! The crash harness: `amphora serve` (with its embedded node, or against a real `elementsd`
//! with `ELEMENTSD_EXE`) and the `amphora confirm` client are killed with `SIGKILL` at named
//! steps of the issue, distribute, reissue and burn flows (`AMPHORA_CRASH_AT`, see
//! `amphora_core::crash`), on
//! SQLite and on PostgreSQL (a fresh schema per flow and engine). After each kill the server is
//! started again on the same data directory and database and the client is run again as a user
//! would (plain, then with the `--use-existing` value it names), and the harness checks that
//! nothing was paid twice, every output is still tracked (no lost outputs), the reports equal
//! the chain, and no request is left without a way forward.
//!
//! One platform serves every case of a flow (cases run one after another on it) to keep the
//! cost small: blocks come at once (`--block-interval 0` or the auto-miner).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use amphora_core::crash;
use amphora_rpc::AddressType;
use serde_json::{json, Value};

use crate::support::{until, Api, Options, Platform, Schema, TIMEOUT};

mod transfer;

const PASSWORD: &str = "crash harness password";
const PUBKEY: &str = "02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084";
/// Longest a crash point may take to fire once its step is reached.
const KILL_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

/// One platform of the harness on `engine`, in a directory of its own.
struct Harness {
    platform: Platform,
    api: Api,
    dir: tempfile::TempDir,
    _schema: Option<Schema>,
}

impl Harness {
    async fn start(engine: Engine, tag: &str) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let schema = (engine == Engine::Postgres).then(|| Schema::create(&format!("crash_{tag}")));
        let options = Options {
            issuer_password: Some(PASSWORD.into()),
            data_dir: Some(dir.path().join("data")),
            database_url: schema.as_ref().map(Schema::url),
            ..Options::default()
        };
        let platform = Platform::start(dir.path(), options).await;
        let api = platform.api().await;
        Harness {
            platform,
            api,
            dir,
            _schema: schema,
        }
    }

    /// Restarts `amphora serve`, armed to die at `crash_at` when given; logs in again.
    async fn restart(&mut self, crash_at: Option<&str>) {
        match crash_at {
            Some(point) => self.platform.restart(&[(crash::CRASH_AT_ENV, point)]),
            None => self.platform.restart(&[]),
        }
        self.api = self.platform.api().await;
    }

    /// Issues `amount` to the treasury (reissuable with a token there when `reissuable`); the
    /// platform's answer, `None` when it died meanwhile.
    async fn issue(&self, name: &str, amount: u64, reissuable: bool) -> Option<(u16, Value)> {
        let treasury = self.platform.treasury();
        let destination = treasury.get_new_address(None).await.unwrap();
        let mut body = json!({"name": name, "amount": amount,
            "destination_address": destination, "domain": "example.com",
            "ticker": "CRSH", "pubkey": PUBKEY});
        if reissuable {
            // as the tutorial issues one: confidential, the token to a blinded address
            body["is_confidential"] = json!(true);
            body["is_reissuable"] = json!(true);
            body["reissuance_amount"] = json!(1);
            let address = treasury
                .get_new_address(Some(AddressType::Blech32))
                .await
                .unwrap();
            body["reissuance_address"] = json!(address);
        }
        self.api.try_call("POST", "/assets/issue", Some(body)).await
    }

    /// The platform's asset named `name`, waiting until its issuance is indexed with `amount`.
    async fn issued(&self, name: &str, amount: i64) -> Value {
        until(
            &format!("{name} to be issued and indexed"),
            TIMEOUT,
            || async {
                let (_, assets) = self.api.try_call("GET", "/assets", None).await?;
                let asset = assets
                    .as_array()?
                    .iter()
                    .find(|a| a["name"] == json!(name))?
                    .clone();
                let uuid = asset["asset_uuid"].as_str()?;
                let (status, summary) = self
                    .api
                    .try_call("GET", &format!("/assets/{uuid}/summary"), None)
                    .await?;
                (status == 200 && summary["issued"] == json!(amount)).then_some(asset)
            },
        )
        .await
    }
}

/// `amphora confirm <args>` run again as a user would after a crash that came after the
/// payment was sent: the plain run must refuse to pay again and name its `--use-existing`
/// value, and the run with that value must succeed. The value.
fn rerun_as_a_user(platform: &Platform, dir: &Path, args: &[&str]) -> String {
    let output = platform.confirm(dir, args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{args:?} paid again: {text}");
    let (_, rest) = text
        .split_once("\"--use-existing ")
        .unwrap_or_else(|| panic!("the refused rerun names no --use-existing: {text}"));
    let existing = rest.split('"').next().unwrap().to_string();
    let mut again = args.to_vec();
    again.extend(["--use-existing", &existing]);
    let output = platform.confirm(dir, &again).output().unwrap();
    assert!(
        output.status.success(),
        "{again:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    existing
}

/// Runs `amphora confirm <args>` killed at `point`: by the crash point in the client, or by the
/// server's (the client, which lost its platform or its embedded node, is then killed as a user
/// would stop it); the server is started again in both cases.
async fn kill_during(h: &mut Harness, who: &str, point: &str, args: &[&str]) {
    if who == "server" {
        h.restart(Some(point)).await;
        let mut client = h.platform.confirm(h.dir.path(), args);
        let mut client = client
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        h.platform.wait_killed(KILL_WAIT).await;
        let _ = client.kill();
        let _ = client.wait();
        h.restart(None).await;
    } else {
        let output = h
            .platform
            .confirm(h.dir.path(), args)
            .env(crash::CRASH_AT_ENV, point)
            .output()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(output.status.signal(), Some(9), "{point}: {output:?}");
    }
}

/// Issue: the server dies before the node is asked to broadcast the stored transaction, and
/// right after the node accepted it; restarted, the platform finishes the issuance by itself,
/// exactly once.
async fn issue_flow(engine: Engine) {
    let mut h = Harness::start(engine, &format!("issue_{engine:?}")).await;
    for (n, point) in [crash::ISSUE_BEFORE_BROADCAST, crash::ISSUE_AFTER_BROADCAST]
        .into_iter()
        .enumerate()
    {
        let name = format!("Crash issue {n}");
        let amount = 1_000 + n as u64;
        h.restart(Some(point)).await;
        let answer = h.issue(&name, amount, false).await;
        assert!(answer.is_none(), "{point}: the server answered {answer:?}");
        h.platform.wait_killed(KILL_WAIT).await;
        h.restart(None).await;
        let asset = h.issued(&name, amount as i64).await;
        // Exactly one issuance of it on chain, paying the treasury once.
        let asset_id = asset["asset_id"].as_str().unwrap();
        let issuances: Vec<Value> = h
            .platform
            .wallet(amphora_testenv::PLATFORM_WALLET)
            .call("listissuances", &[])
            .await
            .unwrap();
        let of_asset: Vec<&Value> = issuances
            .iter()
            .filter(|i| i["asset"] == json!(asset_id))
            .collect();
        assert_eq!(of_asset.len(), 1, "{point}: {of_asset:?}");
        let held = h
            .platform
            .treasury()
            .list_unspent(Some(&asset_id.parse().unwrap()))
            .await
            .unwrap();
        let units: i64 = held.iter().map(|u| u.amount.units()).sum();
        assert_eq!(units, amount as i64, "{point}");
        let (_, assets) = h.api.try_call("GET", "/assets", None).await.unwrap();
        let named = assets
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["name"] == json!(name));
        assert_eq!(named.count(), 1, "{point}: one asset per request");
    }
}

/// Distribute: the server dies during the confirm call (before and after it records the
/// payment) and in the follower's block transaction; the client dies right after its broadcast
/// and before its confirm call. Each time the user's plain rerun pays nobody twice and the
/// distribution ends confirmed with one transaction, every output tracked. Then the investor's
/// co-signed transfers, on the same platform (`transfer`).
async fn distribute_flow(engine: Engine) {
    let mut h = Harness::start(engine, &format!("distribute_{engine:?}")).await;
    let name = "Crash distribution";
    let issued = h
        .issue(name, 1_000_000, false)
        .await
        .expect("the issuance answer");
    assert_eq!(issued.0, 201, "{}", issued.1);
    let asset = h.issued(name, 1_000_000).await;
    let uuid = asset["asset_uuid"].as_str().unwrap().to_string();
    let wallet_dir = h.dir.path().join("investor");
    let (mut wallet, _) = amphora_wallet::Wallet::create(&wallet_dir, h.platform.node())
        .await
        .unwrap();
    let registered = wallet.register(&h.platform.url).await.unwrap();
    let user = h
        .api
        .ok(
            "POST",
            "/registered_users/add",
            Some(json!({"name": "Investor", "GAID": registered.gaid})),
            201,
        )
        .await["id"]
        .as_i64()
        .unwrap();

    // (who dies, the crash point)
    let cases = [
        ("server", crash::DISTRIBUTION_CONFIRM_BEFORE_RECORD),
        ("server", crash::DISTRIBUTION_CONFIRM_AFTER_RECORD),
        ("server", crash::FOLLOWER_BLOCK_TRANSACTION),
        ("client", crash::CONFIRM_AFTER_SEND),
        ("client", crash::CONFIRM_BEFORE_CONFIRM_CALL),
    ];
    let mut distributed = 0;
    for (n, (who, point)) in cases.into_iter().enumerate() {
        let amount = 100 + n as i64;
        h.api
            .until_status(
                "POST",
                &format!("/assets/{uuid}/assignments/create"),
                Some(
                    json!({"assignments": [{"registered_user": user, "amount": amount,
                    "ready_for_distribution": true}]}),
                ),
                200,
            )
            .await;
        let file = h
            .api
            .get(&format!("/assets/{uuid}/distributions/create/"))
            .await;
        let distribution = file["distribution_uuid"].as_str().unwrap().to_string();
        let path = h.dir.path().join(format!("distribution-{n}.json"));
        std::fs::write(&path, file.to_string()).unwrap();
        let args = ["distribute", "-f", path.to_str().unwrap()];
        kill_during(&mut h, who, point, &args).await;
        let txid = rerun_as_a_user(&h.platform, h.dir.path(), &args);
        distributed += amount;

        let done = h
            .api
            .get(&format!("/assets/{uuid}/distributions/{distribution}"))
            .await;
        assert_eq!(done["distribution_status"], "CONFIRMED", "{point}: {done}");
        let paid: Vec<&str> = done["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["txid"].as_str().unwrap())
            .collect();
        assert_eq!(paid, vec![txid.as_str()], "{point}: one transaction");
        // Nothing paid twice: each address of the file got exactly one wallet send.
        let history: Vec<Value> = h
            .platform
            .treasury()
            .call("listtransactions", &[json!("*"), json!(10_000)])
            .await
            .unwrap();
        for address in file["map_address_amount"].as_object().unwrap().keys() {
            let unconfidential = address
                .parse::<elements::Address>()
                .unwrap()
                .to_unconfidential()
                .to_string();
            let sends: std::collections::BTreeSet<&str> = history
                .iter()
                .filter(|e| e["category"] == "send" && e["address"] == json!(unconfidential))
                .map(|e| e["txid"].as_str().unwrap())
                .collect();
            assert_eq!(sends.len(), 1, "{point}: {address} paid by {sends:?}");
        }
        // The reports equal the chain, every output tracked.
        let summary = h
            .api
            .until(&format!("/assets/{uuid}/summary"), |s| {
                s["distributed"] == json!(distributed)
            })
            .await;
        assert_eq!(summary["issued"], json!(1_000_000), "{point}");
        let lost = h.api.get(&format!("/assets/{uuid}/lost-outputs")).await;
        assert_eq!(lost["lost_outputs"], json!([]), "{point}");
        let user_summary = h
            .api
            .get(&format!("/registered_users/{user}/summary"))
            .await;
        assert_eq!(user_summary[0]["balance"], json!(distributed), "{point}");
    }
    let asset_id = asset["asset_id"].as_str().unwrap();
    transfer::transfer_flow(&mut h, &uuid, asset_id, &mut wallet, user, distributed).await;
}

/// Reissue and burn: the server dies during the confirm call and in the follower's block
/// transaction (the one that completes the request), the client right after its broadcast and
/// before its confirm call; the user's plain rerun refuses to send again and names
/// `--use-existing`, which completes the request; the summary counts each once and the
/// treasury holds on chain exactly what was issued, reissued and burnt.
async fn reissue_burn_flow(engine: Engine) {
    let mut h = Harness::start(engine, &format!("reissue_{engine:?}")).await;
    let name = "Crash reissuance";
    let issued = h
        .issue(name, 1_000_000, true)
        .await
        .expect("the issuance answer");
    assert_eq!(issued.0, 201, "{}", issued.1);
    let asset = h.issued(name, 1_000_000).await;
    let uuid = asset["asset_uuid"].as_str().unwrap().to_string();
    let asset_id: elements::AssetId = asset["asset_id"].as_str().unwrap().parse().unwrap();
    let cases = [
        ("reissue", "server", crash::REISSUE_CONFIRM_BEFORE_RECORD),
        ("reissue", "server", crash::FOLLOWER_BLOCK_TRANSACTION),
        ("reissue", "client", crash::CONFIRM_AFTER_SEND),
        ("reissue", "client", crash::CONFIRM_BEFORE_CONFIRM_CALL),
        ("burn", "server", crash::BURN_CONFIRM_BEFORE_RECORD),
        // `destroyamount` may burn from outputs the file does not list: the rerun must still
        // find the earlier burn (it once burnt a second time, README "Reliability").
        ("burn", "client", crash::CONFIRM_AFTER_SEND),
        ("burn", "server", crash::FOLLOWER_BLOCK_TRANSACTION),
        ("burn", "client", crash::CONFIRM_BEFORE_CONFIRM_CALL),
    ];
    let (mut reissued, mut burned) = (0, 0);
    for (n, (command, who, point)) in cases.into_iter().enumerate() {
        let amount = 1_000 + n as i64;
        let (path, body) = match command {
            "reissue" => ("reissue-request", json!({"amount_to_reissue": amount})),
            _ => ("burn-request", json!({"amount": amount})),
        };
        let request = h
            .api
            .until_status("POST", &format!("/assets/{uuid}/{path}"), Some(body), 200)
            .await;
        let file = h.dir.path().join(format!("{command}-{n}.json"));
        std::fs::write(&file, request.to_string()).unwrap();
        let args = [command, "-f", file.to_str().unwrap()];
        kill_during(&mut h, who, point, &args).await;
        let existing = rerun_as_a_user(&h.platform, h.dir.path(), &args);
        let txid = existing.split(':').next().unwrap();
        let (list, total) = match command {
            "reissue" => {
                reissued += amount;
                ("reissuances", ("reissued", reissued))
            }
            _ => {
                burned += amount;
                let id = request["burn_request_id"].as_i64().unwrap();
                let state = h
                    .api
                    .get(&format!("/assets/{uuid}/burn-requests/{id}"))
                    .await;
                assert_eq!(state["status"], "confirmed", "{point}: {state}");
                assert_eq!(state["txid"], json!(txid), "{point}: {state}");
                ("burns", ("burned", burned))
            }
        };
        let done = h.api.get(&format!("/assets/{uuid}/{list}")).await;
        let with_txid = done
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["txid"] == json!(txid))
            .count();
        assert_eq!(with_txid, 1, "{command} {point}: {done}");
        let summary = h.api.get(&format!("/assets/{uuid}/summary")).await;
        assert_eq!(
            summary[total.0],
            json!(total.1),
            "{command} {point}: {summary}"
        );
        // Nothing sent twice: the treasury holds what the chain says was issued, reissued
        // and burnt once each (unconfirmed outputs included).
        let balances = h
            .platform
            .treasury()
            .get_balances_min_conf(0)
            .await
            .unwrap();
        let held = balances.get(&asset_id.to_string()).map(|a| a.units());
        assert_eq!(
            held.unwrap_or(0),
            1_000_000 + reissued - burned,
            "{command} {point}: the treasury's units"
        );
        let lost = h.api.get(&format!("/assets/{uuid}/lost-outputs")).await;
        assert_eq!(lost["lost_outputs"], json!([]), "{command} {point}");
        assert_eq!(
            lost["reissuance_lost_outputs"],
            json!([]),
            "{command} {point}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_reissuance_or_burn_is_sent_once_on_sqlite_and_postgres() {
    tokio::join!(
        reissue_burn_flow(Engine::Sqlite),
        reissue_burn_flow(Engine::Postgres)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_issuance_completes_once_on_sqlite_and_postgres() {
    tokio::join!(issue_flow(Engine::Sqlite), issue_flow(Engine::Postgres));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_distribution_or_transfer_completes_once_on_sqlite_and_postgres() {
    tokio::join!(
        distribute_flow(Engine::Sqlite),
        distribute_flow(Engine::Postgres)
    );
}
