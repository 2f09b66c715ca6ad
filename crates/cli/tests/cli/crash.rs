//! The crash harness: `amphora serve` (with its embedded node, or against a real `elementsd`
//! with `ELEMENTSD_EXE`) and the `amphora confirm` client are killed with `SIGKILL` at each step
//! of the issue, distribute, reissue, burn, co-signed transfer and payout flows, on SQLite and on
//! PostgreSQL (a fresh schema per flow and engine). A step is either a named crash point at
//! which the process kills itself (`AMPHORA_CRASH_AT`, see `amphora_core::crash`), or
//! [`BETWEEN_CONFIRMATIONS`], where the harness mines the first block itself, waits until the
//! follower indexed it, and kills the process from outside, or [`DURING_CONFIRM_CALL`], where a
//! proxy in front of the platform kills the client once it sent its confirm request. After each kill the server is
//! started again on the same data directory and database and the client is run again as a user
//! would (plain, then with the `--use-existing` value it names), and the harness checks that
//! nothing was paid twice, every output is still tracked (no lost outputs), the reports equal
//! the chain, and no request is left without a way forward. README "Reliability" lists the
//! cases and what each leads to.
//!
//! One platform serves every case of a flow (cases run one after another on it) to keep the
//! cost small: blocks come at once (`--block-interval 0` or the auto-miner) except where the
//! harness mines them, and the follower and issuance leases are short settings, so a restart
//! after a crash waits about 2 s (an interrupted issuance 4 s) instead of 10 s (30 s).

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use amphora_core::crash;
use amphora_rpc::AddressType;
use amphora_testenv::pg::PgSchema;
use serde_json::{json, Value};

use crate::support::{until, Api, Blocks, Options, Platform, TIMEOUT};

mod cut;
mod distribute;
mod issue;
mod payout;
mod reissue_burn;
mod transfer;

const PASSWORD: &str = "crash harness password";
const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;
/// Longest a crash point may take to fire once its step is reached.
const KILL_WAIT: Duration = Duration::from_secs(60);
/// The step no crash point marks: the transaction has its first confirmation, indexed by the
/// platform's follower, and not its second. The harness mines that block itself and kills the
/// process with `SIGKILL` from outside.
const BETWEEN_CONFIRMATIONS: &str = "between-confirmations";
/// The step where the client dies with its confirm request sent and no answer read (killed by
/// a proxy in front of the platform, see `cut`).
const DURING_CONFIRM_CALL: &str = "client-during-confirm-call";
/// The leases of a restarted platform in the harness (the defaults are 10 s and 30 s). The
/// follower's is waited for at every restart; an issuance's only by the issue flow, and it
/// keeps a margin over its renewal (every third of it) on a loaded machine.
const LEASES: [(&str, &str); 3] = [
    ("AMPHORA_FOLLOWER_LEASE_TTL_MS", "2000"),
    ("AMPHORA_ISSUANCE_LEASE_TTL_MS", "4000"),
    ("AMPHORA_ISSUANCE_RECOVERY_INTERVAL_MS", "500"),
];

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
    _schema: Option<PgSchema>,
}

impl Harness {
    async fn start(engine: Engine, tag: &str) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let schema = match engine {
            Engine::Postgres => Some(PgSchema::create(&format!("crash_{tag}")).await),
            Engine::Sqlite => None,
        };
        let options = Options {
            issuer_password: Some(PASSWORD.into()),
            data_dir: Some(dir.path().join("data")),
            database_url: schema.as_ref().map(PgSchema::url),
            env: LEASES.iter().map(|(k, v)| (*k, v.to_string())).collect(),
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

    /// Restarts `amphora serve` armed at `crash_at` with blocks mined by the harness only, once
    /// the chain settled (nothing waits for a block) and the follower indexed its tip, so the
    /// next block is the one the case is about.
    async fn restart_mining_by_hand(&mut self, crash_at: Option<&str>) {
        self.settle().await;
        self.platform.set_blocks(Blocks::OnDemand);
        self.restart(crash_at).await;
    }

    /// Back to blocks at once, after a kill: starts the platform again.
    async fn restart_instant(&mut self) {
        self.platform.set_blocks(Blocks::Instant);
        self.restart(None).await;
    }

    /// Waits until nothing waits for a block (an empty mempool, no transaction in the tip:
    /// every transaction has its 2 confirmations) and the follower indexed the tip.
    async fn settle(&self) {
        let node = self.platform.node();
        until("the chain to settle and be indexed", TIMEOUT, || async {
            let mempool: Vec<Value> = node.call("getrawmempool", &[]).await.ok()?;
            let tip = node.get_block_count().await.ok()?;
            let hash: Value = node.call("getblockhash", &[json!(tip)]).await.ok()?;
            let block: Value = node.call("getblock", &[hash, json!(1)]).await.ok()?;
            let health = self.api.health().await;
            (mempool.is_empty()
                && block["tx"].as_array()?.len() == 1
                && health["follower"]["indexed_height"].as_u64() == Some(tip))
            .then_some(())
        })
        .await
    }

    /// With blocks mined by hand: waits until a transaction is in the mempool, mines the block
    /// that gives it its first confirmation and waits until the follower indexed it.
    async fn first_confirmation(&self) {
        let node = self.platform.node();
        let waiting = until("a transaction in the mempool", TIMEOUT, || async {
            let mempool: Vec<Value> = node.call("getrawmempool", &[]).await.ok()?;
            (!mempool.is_empty()).then_some(mempool)
        })
        .await;
        let height = self.platform.mine_one().await;
        self.api.indexed(&node, height).await;
        for txid in waiting {
            let tx: Value = node
                .call("getrawtransaction", &[txid.clone(), json!(true)])
                .await
                .unwrap();
            assert_eq!(tx["confirmations"], json!(1), "{txid}: {tx}");
        }
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

    /// The issuer API for a case at `point`: through a [`cut::CutProxy`] (kept alive with it,
    /// so that the request files name the proxy) for [`DURING_CONFIRM_CALL`], the platform's
    /// own otherwise.
    async fn api_for(&self, point: &str) -> (Api, Option<cut::CutProxy>) {
        if point != DURING_CONFIRM_CALL {
            return (self.api.clone(), None);
        }
        let proxy = cut::CutProxy::start(&self.platform.url).await;
        let api = Api::login(&proxy.url, &self.platform.username, &self.platform.password).await;
        (api, Some(proxy))
    }

    /// The treasury's wallet sends to `address` (compared unconfidential): the transactions
    /// that paid it.
    async fn sends_to(&self, address: &str) -> std::collections::BTreeSet<String> {
        let history: Vec<Value> = self
            .platform
            .treasury()
            .call("listtransactions", &[json!("*"), json!(10_000)])
            .await
            .unwrap();
        let unconfidential = address
            .parse::<elements::Address>()
            .unwrap()
            .to_unconfidential()
            .to_string();
        history
            .iter()
            .filter(|e| e["category"] == "send" && e["address"] == json!(unconfidential))
            .map(|e| e["txid"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Whether the kill at `point` comes after the client sent its transaction (then the plain
/// rerun must refuse to send again); before it, the plain rerun sends it.
fn sent_before(point: &str) -> bool {
    point != crash::CONFIRM_BEFORE_SEND && point != crash::BALANCE_BEFORE_ANSWER
}

/// `amphora confirm <args>` run again as a user would after a crash: when the transaction was
/// sent before (`sent`), the plain run must refuse to pay again and name its `--use-existing`
/// value, and the run with that value must succeed; otherwise the plain run must send it and
/// succeed. The `--use-existing` value of the transaction (`TXID`, or `TXID:VIN` of a
/// reissuance).
fn rerun_as_a_user(platform: &Platform, dir: &Path, args: &[&str], sent: bool) -> String {
    let output = platform.confirm(dir, args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !sent {
        assert!(output.status.success(), "{args:?}: {text}");
        return sent_value(&text);
    }
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

/// The transaction a successful `amphora confirm` run printed it sent (`Distribute transaction
/// TXID.`, `Reissuance transaction TXID vin VIN.`, …), as `--use-existing` takes it.
fn sent_value(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| {
            ["Distribute", "Payout", "Reissuance", "Burn"]
                .iter()
                .any(|what| l.starts_with(&format!("{what} transaction ")))
        })
        .unwrap_or_else(|| panic!("the run names no transaction it sent: {text}"));
    let words: Vec<&str> = line.trim_end_matches('.').split_whitespace().collect();
    match words.as_slice() {
        [_, _, txid, "vin", vin] => format!("{txid}:{vin}"),
        [_, _, txid] => txid.to_string(),
        _ => panic!("unexpected line: {line}"),
    }
}

/// Runs `amphora confirm <args>` killed at `point`: by the crash point in the client, or by the
/// server's (the client, which lost its platform or its embedded node, is then killed as a user
/// would stop it), or by the harness [`BETWEEN_CONFIRMATIONS`], or by the `proxy` the request
/// file names ([`DURING_CONFIRM_CALL`]); the server is started again when it died.
async fn kill_during(
    h: &mut Harness,
    who: &str,
    point: &str,
    args: &[&str],
    proxy: Option<&cut::CutProxy>,
) {
    if point == BETWEEN_CONFIRMATIONS {
        return kill_between_confirmations(h, who, args).await;
    }
    if let Some(proxy) = proxy {
        return proxy
            .kill_during_confirm_call(spawn(h, args), KILL_WAIT)
            .await;
    }
    if who == "server" {
        h.restart(Some(point)).await;
        let mut client = spawn(h, args);
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

/// `amphora confirm <args>` in the background, its output dropped.
fn spawn(h: &Harness, args: &[&str]) -> Child {
    h.platform
        .confirm(h.dir.path(), args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The client sends, the harness mines its first confirmation and waits until the follower
/// indexed it, then kills `who` with `SIGKILL` (the server: the client, which lost its platform
/// or its node, is killed too, as a user would stop it). The platform is started again with
/// blocks at once (after the client's kill too: the embedded node's block interval is a flag
/// of `amphora serve`).
async fn kill_between_confirmations(h: &mut Harness, who: &str, args: &[&str]) {
    h.restart_mining_by_hand(None).await;
    let mut client = spawn(h, args);
    h.first_confirmation().await;
    if who == "server" {
        h.platform.kill();
    }
    let _ = client.kill();
    let _ = client.wait();
    if who == "server" || !h.platform.is_elementsd() {
        h.restart_instant().await;
    } else {
        h.platform.set_blocks(Blocks::Instant);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_reissuance_or_burn_is_sent_once_on_sqlite_and_postgres() {
    tokio::join!(
        reissue_burn::reissue_burn_flow(Engine::Sqlite),
        reissue_burn::reissue_burn_flow(Engine::Postgres)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_issuance_completes_once_on_sqlite_and_postgres() {
    tokio::join!(
        issue::issue_flow(Engine::Sqlite),
        issue::issue_flow(Engine::Postgres)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_distribution_transfer_or_payout_completes_once_on_sqlite_and_postgres() {
    tokio::join!(
        distribute::distribute_flow(Engine::Sqlite),
        distribute::distribute_flow(Engine::Postgres)
    );
}
