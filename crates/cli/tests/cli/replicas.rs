//! Several `amphora serve` replicas on one PostgreSQL schema and one Elements node (the node of
//! the run, `TestNode::start`: the embedded node, or a real `elementsd` with `ELEMENTSD_EXE`): writes through either replica are seen by both, concurrent
//! assignment creates through both never over-assign the treasury, exactly one replica follows
//! the chain, and when it is killed the other takes the follower lease over and indexes on. A
//! distribution created through one replica, paid by `amphora confirm` from the node's treasury
//! wallet and confirmed through the other reads the same on both (status, transactions,
//! ownerships, summary), two distribution creates racing through both make exactly one, and the
//! survivor of a killed follower answers the same.
//!
//! Needs PostgreSQL (`AMPHORA_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/
//! test`): the replicas' schema is an `amphora_testenv::pg::PgSchema`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{amphora, spawn_until, Api, Killed};
use amphora_store::{PoolSettings, Store};
use amphora_testenv::pg::PgSchema;
use amphora_testenv::{TestNode, TREASURY_WALLET};
use serde_json::{json, Value};

const PASSWORD: &str = "replica test password";

/// Starts a replica on `data_dir` (shared: one platform key) and returns it with its base URL.
fn replica(data_dir: &Path, database_url: &str, node_url: &str) -> (Killed, String) {
    let mut command = amphora(data_dir.parent().unwrap());
    command
        .env("AMPHORA_ISSUER_PASSWORD", PASSWORD)
        .env("AMPHORA_KEY_PASSPHRASE", "replica key passphrase")
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(["--database-url", database_url, "--elements-url", node_url])
        .args(["--database-max-connections", "4"]);
    let (proc, banner) = spawn_until(command, "Amphora ");
    let url = banner[banner.find("http://").unwrap()..].trim().to_string();
    (proc, url)
}

async fn until<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    crate::support::until(what, Duration::from_secs(120), check).await
}

/// The node of the run with its `platform` and `treasury` wallets, `n` replicas on one fresh
/// schema, an issued asset of `amount` with 2 confirmations indexed, and a registered user with
/// a GAID.
struct Cluster {
    replicas: Vec<(Killed, String)>,
    api: Api,
    store: Store,
    asset: String,
    user: i64,
    // dropped last: the processes above go first
    node: TestNode,
    _dir: tempfile::TempDir,
    _schema: PgSchema,
}

impl Cluster {
    async fn start(tag: &str, n: usize, amount: u64) -> Cluster {
        let schema = PgSchema::create(&format!("replicas_{tag}")).await;
        let dir = tempfile::tempdir().unwrap();

        // The node, its platform wallet holding the genesis coins, a funded treasury.
        let node = TestNode::start().await;
        let (_, treasury) = node.provision_platform_wallets().await;
        let node_url = node.url_with_credentials("");

        // The replicas share one schema and one data directory (one platform key).
        let data = dir.path().join("data");
        let replicas: Vec<_> = (0..n)
            .map(|_| replica(&data, &schema.url(), &node_url))
            .collect();
        let first = replicas[0].1.clone();
        let last = replicas[n - 1].1.clone();
        let api = Api::login(&last, "issuer", PASSWORD).await;

        // An asset issued through the first replica, a registered user with a GAID added
        // through the last.
        let destination = treasury.get_new_address(None).await.unwrap();
        let (status, asset) = api
            .call_url(
                "POST",
                &format!("{first}/api/assets/issue"),
                Some(json!({
                    "name": "Replicated Security", "amount": amount,
                    "destination_address": destination, "domain": "example.com",
                    "ticker": "REPL", "pubkey":
                    amphora_testenv::ISSUER_PUBKEY,
                })),
            )
            .await;
        assert_eq!(status, 201, "{asset}");
        let uuid = asset["asset_uuid"].as_str().unwrap().to_string();
        node.mine(2).await;

        let wallet_dir = dir.path().join("wallet");
        let wallet = |args: &[&str]| {
            let output = amphora(dir.path())
                .args(["wallet", "--json", "--wallet-dir"])
                .arg(&wallet_dir)
                .args(["--node-url", &node_url, "--platform", &last])
                .args(args)
                .output()
                .unwrap();
            assert!(output.status.success(), "{output:?}");
            serde_json::from_slice::<Value>(&output.stdout).unwrap()
        };
        wallet(&["create"]);
        let gaid = wallet(&["register"])["gaid"].as_str().unwrap().to_string();
        let (status, user) = api
            .call_url(
                "POST",
                &format!("{last}/api/registered_users/add"),
                Some(json!({"name": "Investor", "is_company": false})),
            )
            .await;
        assert_eq!(status, 201, "{user}");
        let user = user["id"].as_i64().unwrap();
        let (status, body) = api
            .call_url(
                "POST",
                &format!("{first}/api/registered_users/{user}/gaids/add"),
                Some(json!(gaid)),
            )
            .await;
        assert!(status < 300, "{status} {body}");

        // The store, as the replicas see it.
        let pool = PoolSettings {
            max_connections: 2,
            ..PoolSettings::default()
        };
        let store = Store::connect_with(&schema.url(), &pool).await.unwrap();
        let cluster = Cluster {
            replicas,
            api,
            store,
            asset: uuid,
            user,
            node,
            _dir: dir,
            _schema: schema,
        };
        cluster.until_indexed().await;
        let balance = cluster
            .store
            .treasury_balance(&cluster.asset, 2)
            .await
            .unwrap();
        assert_eq!(balance, i64::try_from(amount).unwrap());
        cluster
    }

    /// Waits until the chain index reaches the node's tip.
    async fn until_indexed(&self) {
        let tip = i64::try_from(self.node.height().await).unwrap();
        until("the chain index to reach the node's tip", || async {
            let indexed = self.store.chain_tip().await.unwrap().map(|b| b.height);
            (indexed == Some(tip)).then_some(())
        })
        .await;
    }

    /// `GET {base}/api/assets/{asset}{path}`, which must answer 200.
    async fn get(&self, base: &str, path: &str) -> Value {
        let url = format!("{base}/api/assets/{}{path}", self.asset);
        let (status, body) = self.api.call_url("GET", &url, None).await;
        assert_eq!(status, 200, "{base} {path}: {body}");
        body
    }

    /// Creates an assignment of `amount` (`ready` for distribution or not) through the replica
    /// at `base`.
    fn create_assignment(
        &self,
        base: &str,
        amount: i64,
        ready: bool,
    ) -> tokio::task::JoinHandle<(u16, Value)> {
        let api = self.api.clone();
        let url = format!("{base}/api/assets/{}/assignments/create", self.asset);
        let body = json!({"assignments": [{"registered_user": self.user, "amount": amount,
            "ready_for_distribution": ready}]});
        tokio::spawn(async move { api.call_url("POST", &url, Some(body)).await })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_one_database_and_hand_the_follower_over() {
    let mut cluster = Cluster::start("handover", 2, 1_000).await;
    let a = cluster.replicas[0].1.clone();
    let b = cluster.replicas[1].1.clone();

    // 20 concurrent assignments of 100 through both replicas: exactly 10 fit the treasury.
    let attempts: Vec<_> = (0..20)
        .map(|i| cluster.create_assignment(if i % 2 == 0 { &a } else { &b }, 100, false))
        .collect();
    let mut created = 0;
    for attempt in attempts {
        let (status, body) = attempt.await.unwrap();
        match status {
            200 => created += 1,
            400 => assert!(body["Error"].is_string(), "{body}"),
            other => panic!("{other} {body}"),
        }
    }
    assert_eq!(created, 10);
    let uuid = cluster.asset.clone();
    for replica in [&a, &b] {
        let (status, list) = cluster
            .api
            .call_url(
                "GET",
                &format!("{replica}/api/assets/{uuid}/assignments"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 10);
        let total: i64 = list.iter().map(|x| x["amount"].as_i64().unwrap()).sum();
        assert_eq!(total, 1_000);
    }

    // Exactly one replica follows; kill it (no clean release): the other takes the lease over
    // once it expires and indexes on.
    let store = &cluster.store;
    let lease = store
        .follower_lease()
        .await
        .unwrap()
        .expect("a follower holds the lease");
    let holder = cluster
        .replicas
        .iter()
        .position(|(proc, _)| lease.holder.contains(&format!("-{}-", proc.0.id())))
        .unwrap_or_else(|| panic!("lease holder {} is neither replica", lease.holder));
    let (killed, _) = cluster.replicas.remove(holder);
    drop(killed);
    let (survivor, survivor_url) = &cluster.replicas[0];
    cluster.node.mine(3).await;
    cluster.until_indexed().await;
    let lease = store.follower_lease().await.unwrap().unwrap();
    assert!(
        lease.holder.contains(&format!("-{}-", survivor.0.id())),
        "{}",
        lease.holder
    );
    // Nothing counted twice or lost across the hand-over.
    assert_eq!(store.treasury_balance(&uuid, 2).await.unwrap(), 1_000);
    let (status, health) = cluster
        .api
        .call_url("GET", &format!("{survivor_url}/healthz"), None)
        .await;
    assert_eq!(status, 200, "{health}");
    let (status, list) = cluster
        .api
        .call_url(
            "GET",
            &format!("{survivor_url}/api/assets/{uuid}/assignments"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 10);
}

/// Ownership rows in a stable order (owner, GAID), to compare two replicas' answers.
fn sorted(ownerships: Value) -> Vec<Value> {
    let mut rows = ownerships.as_array().expect("ownerships is a list").clone();
    rows.sort_by_key(|row| (row["owner"].to_string(), row["GAID"].to_string()));
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_distribute_once_and_agree_on_ownership() {
    let mut cluster = Cluster::start("distribute", 2, 1_000).await;
    let a = cluster.replicas[0].1.clone();
    let b = cluster.replicas[1].1.clone();
    let user = cluster.user;

    // 10 concurrent ready assignments of 100 through both replicas: a registered user has at
    // most one ready assignment per asset, so exactly one is created.
    let attempts: Vec<_> = (0..10)
        .map(|i| cluster.create_assignment(if i % 2 == 0 { &a } else { &b }, 100, true))
        .collect();
    let mut created = 0;
    for attempt in attempts {
        let (status, body) = attempt.await.unwrap();
        match status {
            200 => created += 1,
            400 => assert!(body["Error"].is_string(), "{body}"),
            other => panic!("{other} {body}"),
        }
    }
    assert_eq!(created, 1);
    let listed = cluster.get(&a, "/assignments").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(cluster.get(&b, "/assignments").await, listed);

    // Created through A, paid from the node's treasury wallet by `amphora confirm`, confirmed
    // through B (the file's base_url is pointed at B).
    let file = cluster.get(&a, "/distributions/create/").await;
    let first = file["distribution_uuid"].as_str().unwrap().to_string();
    let units: i64 = file["map_address_amount"]
        .as_object()
        .unwrap()
        .values()
        .map(|btc| (btc.as_f64().unwrap() * 1e8).round() as i64)
        .sum();
    assert_eq!(units, 100, "{file}");
    let a_host = a.trim_start_matches("http://");
    let b_host = b.trim_start_matches("http://");
    let text = file.to_string().replace(a_host, b_host);
    assert!(text.contains(b_host), "no base_url naming A in {file}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("distribution.json");
    std::fs::write(&path, text).unwrap();
    // Blocks come while the client waits for its 2 confirmations (the treasury pays the fees).
    let mining = cluster.node.automine(2);
    let confirm = {
        let mut command = amphora(dir.path());
        command
            .args(["confirm", "-u", "issuer", "-p", PASSWORD])
            .args([
                "-n",
                &cluster
                    .node
                    .url_with_credentials(&format!("/wallet/{TREASURY_WALLET}")),
            ])
            .args(["--poll-interval", "250ms", "--confirmation-timeout", "2m"])
            .args(["distribute", "-f", path.to_str().unwrap()]);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };
    let output = confirm.await.unwrap();
    drop(mining);
    assert!(
        output.status.success(),
        "confirm failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    cluster.until_indexed().await;

    // Both replicas answer the same: CONFIRMED with the same transactions, one ownership row for
    // the user holding exactly what was distributed, the treasury the rest.
    let details = format!("/distributions/{first}");
    let on_a = cluster.get(&a, &details).await;
    assert_eq!(on_a["distribution_status"], "CONFIRMED", "{on_a}");
    assert!(
        !on_a["transactions"].as_array().unwrap().is_empty(),
        "{on_a}"
    );
    assert_eq!(cluster.get(&b, &details).await, on_a);
    let ownerships = until("the distributed units in the ownerships", || async {
        let rows = sorted(cluster.get(&a, "/ownerships").await);
        let paid = rows.iter().any(|r| r["registered_user"] == user);
        paid.then_some(rows)
    })
    .await;
    assert_eq!(sorted(cluster.get(&b, "/ownerships").await), ownerships);
    let users: Vec<&Value> = ownerships
        .iter()
        .filter(|r| r["registered_user"] == user)
        .collect();
    assert_eq!(users.len(), 1, "one row per wallet: {ownerships:?}");
    assert_eq!(users[0]["amount"], 100, "{ownerships:?}");
    let treasury_rows: Vec<&Value> = ownerships
        .iter()
        .filter(|r| r["owner"] == "ISSUER")
        .collect();
    let held: i64 = treasury_rows
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(held, 900, "{ownerships:?}");
    let total: i64 = ownerships
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 1_000, "{ownerships:?}");
    let summary = cluster.get(&a, "/summary").await;
    assert_eq!(summary["distributed"], 100, "{summary}");
    assert_eq!(summary["assigned"], 100, "{summary}");
    assert_eq!(cluster.get(&b, "/summary").await, summary);

    // The distributed assignment is marked so on both replicas.
    let listed = cluster.get(&b, "/assignments").await;
    assert_eq!(listed[0]["is_distributed"], true, "{listed}");
    assert_eq!(cluster.get(&a, "/assignments").await, listed);

    // A new ready assignment, then two distribution creates race through A and B: exactly one
    // distribution, the other gets a 400.
    let (status, body) = cluster.create_assignment(&b, 200, true).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let race: Vec<_> = [&a, &b]
        .into_iter()
        .map(|base| {
            let api = cluster.api.clone();
            let url = format!("{base}/api/assets/{}/distributions/create/", cluster.asset);
            tokio::spawn(async move { api.call_url("GET", &url, None).await })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in race {
        let (status, body) = attempt.await.unwrap();
        match status {
            200 => winners.push(body),
            400 => assert!(body["Error"].is_string(), "{body}"),
            other => panic!("{other} {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let second = winners[0]["distribution_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        winners[0]["map_address_amount"].as_object().unwrap().len(),
        1
    );
    let distributions = cluster.get(&a, "/distributions").await;
    assert_eq!(
        distributions.as_array().unwrap().len(),
        2,
        "{distributions}"
    );
    assert_eq!(cluster.get(&b, "/distributions").await, distributions);
    let assignments = cluster.get(&a, "/assignments").await;
    let in_second = assignments
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["distribution_uuid"] == second.as_str())
        .count();
    assert_eq!(in_second, 1, "{assignments}");
    assert_eq!(cluster.get(&b, "/assignments").await, assignments);
    let summary = cluster.get(&a, "/summary").await;
    assert_eq!(summary["assigned"], 300, "{summary}");
    assert_eq!(summary["distributed"], 100, "{summary}");
    assert_eq!(cluster.get(&b, "/summary").await, summary);

    // The follower's replica killed: the survivor still answers the same, and after the lease
    // hand-over and new blocks too.
    let lease = cluster.store.follower_lease().await.unwrap().unwrap();
    let holder = cluster
        .replicas
        .iter()
        .position(|(proc, _)| lease.holder.contains(&format!("-{}-", proc.0.id())))
        .unwrap_or_else(|| panic!("lease holder {} is neither replica", lease.holder));
    drop(cluster.replicas.remove(holder));
    let survivor = cluster.replicas[0].1.clone();
    let check = |label: &'static str| {
        let (cluster, survivor) = (&cluster, &survivor);
        let (on_a, ownerships, summary) = (&on_a, &ownerships, &summary);
        let (distributions, assignments) = (&distributions, &assignments);
        let details = &details;
        async move {
            assert_eq!(&cluster.get(survivor, details).await, on_a, "{label}");
            let rows = sorted(cluster.get(survivor, "/ownerships").await);
            assert_eq!(&rows, ownerships, "{label}");
            let now = cluster.get(survivor, "/summary").await;
            assert_eq!(&now, summary, "{label}");
            let now = cluster.get(survivor, "/distributions").await;
            assert_eq!(&now, distributions, "{label}");
            let now = cluster.get(survivor, "/assignments").await;
            assert_eq!(&now, assignments, "{label}");
        }
    };
    check("right after the kill").await;
    cluster.node.mine(3).await;
    cluster.until_indexed().await;
    let lease = cluster.store.follower_lease().await.unwrap().unwrap();
    let pid = cluster.replicas[0].0 .0.id();
    assert!(
        lease.holder.contains(&format!("-{pid}-")),
        "{}",
        lease.holder
    );
    check("after the hand-over").await;
}

/// Throughput of assignment creates and ownership reads through one and two replicas (printed;
/// see BENCHMARKS.md "PostgreSQL replicas"). Run with
/// `cargo test -p amphora --test cli replicas_throughput -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn replicas_throughput() {
    const CREATES: usize = 400;
    const READS: usize = 400;
    const CONCURRENCY: usize = 8;
    for n in [1, 2] {
        let cluster = Cluster::start(&format!("bench{n}"), n, 1_000_000).await;
        let urls: Vec<String> = cluster.replicas.iter().map(|(_, u)| u.clone()).collect();
        let started = Instant::now();
        for wave in 0..CREATES / CONCURRENCY {
            let batch: Vec<_> = (0..CONCURRENCY)
                .map(|i| cluster.create_assignment(&urls[(wave + i) % n], 1, false))
                .collect();
            for task in batch {
                assert_eq!(task.await.unwrap().0, 200);
            }
        }
        let creates = CREATES as f64 / started.elapsed().as_secs_f64();
        let started = Instant::now();
        for wave in 0..READS / CONCURRENCY {
            let batch: Vec<_> = (0..CONCURRENCY)
                .map(|i| {
                    let api = cluster.api.clone();
                    let url = format!(
                        "{}/api/assets/{}/ownerships",
                        urls[(wave + i) % n],
                        cluster.asset
                    );
                    tokio::spawn(async move { api.call_url("GET", &url, None).await.0 })
                })
                .collect();
            for task in batch {
                assert_eq!(task.await.unwrap(), 200);
            }
        }
        let reads = READS as f64 / started.elapsed().as_secs_f64();
        println!(
            "{n} replica(s): {creates:.0} assignment creates/s, {reads:.0} ownership reads/s \
             ({CONCURRENCY} concurrent requests)"
        );
    }
}
