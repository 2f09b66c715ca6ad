//! What the CLI tests share: the `amphora` binary run in a clean environment, a guard that
//! kills a started process when the test ends (also on panic), `amphora serve` started on the
//! node of this run ([`Platform`]), the issuer API over HTTP ([`Api`]) and the `amphora confirm`
//! command.
//!
//! The node of the run is the one `amphora_testenv` picks: by default `amphora serve` runs its
//! embedded node; with `ELEMENTSD_EXE` set, the test starts a real `elementsd`
//! ([`TestNode::start`]), provisions the `platform` and `treasury` wallets the embedded node
//! would have, and runs `amphora serve --elements-url` against it, with an auto-miner standing in
//! for `--block-interval 0`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use amphora_rpc::{Auth, ElementsRpc};
use amphora_testenv::{AutoMiner, NodeKind, TestNode, TREASURY_WALLET};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_amphora");

/// How long a test waits for the chain or the follower at one step.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(180);
/// How often a waiting test asks again.
const POLL: Duration = Duration::from_millis(200);
/// Confirmations the platform waits for (and `--block-interval 0` mines towards).
const CONFIRMATIONS: u32 = 2;

/// `amphora` run in `dir`, without any AMPHORA_* setting inherited from the test's environment,
/// logging warnings only.
pub(crate) fn amphora(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("AMPHORA_") {
            command.env_remove(key);
        }
    }
    command.env("AMPHORA_LOG", "warn");
    command
}

/// A started process (`amphora serve`, `amphora regtest`), killed and reaped when dropped.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `command` with its stdout piped and reads it up to the first line starting with
/// `last` (trimmed); the rest is drained in the background. Panics with what was printed when
/// the process ends first.
pub(crate) fn spawn_until(mut command: Command, last: &str) -> (Killed, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let child = Killed(child);
    let mut printed = Vec::new();
    loop {
        match lines.next() {
            Some(Ok(line)) => {
                let done = line.trim_start().starts_with(last);
                printed.push(line);
                if done {
                    break;
                }
            }
            _ => panic!(
                "the process ended before printing '{last}':\n{}",
                printed.join("\n")
            ),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (child, printed.join("\n"))
}

/// The value after `label` on the first banner line containing it, trimmed.
pub(crate) fn banner_value(banner: &str, label: &str) -> Option<String> {
    banner.lines().find_map(|l| {
        l.split_once(label)
            .map(|(_, value)| value.trim().to_string())
    })
}

/// How the platform's chain advances during a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blocks {
    /// A block as soon as a transaction waits, then blocks until it has 2 confirmations:
    /// `--block-interval 0` on the embedded node, an [`AutoMiner`] on a real one.
    Instant,
    /// Only when the test mines (`generatetoaddress`); the embedded node's timer is an hour.
    OnDemand,
}

/// How to start a [`Platform`].
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// How blocks come.
    pub(crate) blocks: Blocks,
    /// The first issuer's password (`AMPHORA_ISSUER_PASSWORD`); generated and read from the
    /// banner when `None`.
    pub(crate) issuer_password: Option<String>,
    /// `--data-dir`; `amphora serve`'s default (`./amphora-data` in the test's directory) when
    /// `None`.
    pub(crate) data_dir: Option<PathBuf>,
    /// `--database-url`; SQLite in the data directory when `None`.
    pub(crate) database_url: Option<String>,
    /// Settings given to `amphora serve` in its environment (`AMPHORA_…`, e.g. shorter leases).
    pub(crate) env: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            blocks: Blocks::Instant,
            issuer_password: None,
            data_dir: None,
            database_url: None,
            env: Vec::new(),
        }
    }
}

/// `amphora serve` on free ports, on the node of this run; stopped (and its node) when dropped.
pub(crate) struct Platform {
    /// `http://127.0.0.1:PORT`, the platform's base URL (without `/api`).
    pub(crate) url: String,
    /// The first issuer's username.
    pub(crate) username: String,
    /// The first issuer's password.
    pub(crate) password: String,
    /// The node's RPC root URL with its credentials.
    pub(crate) node_url: String,
    dir: PathBuf,
    options: Options,
    /// `--elements-url` on a real node; `None` with the embedded node.
    elements_url: Option<String>,
    // Dropped in this order: the platform, the miner, then the node it used.
    _serving: Killed,
    _miner: Option<AutoMiner>,
    node: Option<TestNode>,
}

impl Platform {
    /// Starts the platform in `dir` with `options` on the node this run asks for.
    pub(crate) async fn start(dir: &Path, options: Options) -> Platform {
        let (node, miner, elements_url) = match NodeKind::from_env() {
            NodeKind::Embedded => (None, None, None),
            NodeKind::Elementsd => {
                let node = TestNode::start().await;
                node.provision_platform_wallets().await;
                let miner =
                    (options.blocks == Blocks::Instant).then(|| node.automine(CONFIRMATIONS));
                let url = node.url_with_credentials("");
                (Some(node), miner, Some(url))
            }
        };
        let command = serve_command(dir, &options, elements_url.as_deref(), ["127.0.0.1:0"; 2]);
        let (serving, banner) = spawn_until(command, "Log in:");
        let value = |label: &str| {
            banner_value(&banner, label)
                .unwrap_or_else(|| panic!("no '{label}' in the banner:\n{banner}"))
        };
        let url = value("listening on ");
        // The embedded node's URL is printed with its credentials; an external one is not.
        let node_url = elements_url.clone().unwrap_or_else(|| value("RPC:"));
        let password = options
            .issuer_password
            .clone()
            .unwrap_or_else(|| value("password:"));
        Platform {
            url,
            username: "issuer".into(),
            password,
            node_url,
            dir: dir.to_path_buf(),
            options,
            elements_url,
            _serving: serving,
            _miner: miner,
            node,
        }
    }

    /// Starts `amphora serve` again on the same data directory, database, node and ports (so
    /// request files and node URLs stay valid, as for a restarted service), with `env` added
    /// to its environment (e.g. `AMPHORA_CRASH_AT`). The process started before must have
    /// ended (see [`Platform::wait_killed`]) or is killed first. The embedded node's URL is read
    /// anew (its cookie changes).
    pub(crate) fn restart(&mut self, env: &[(&str, &str)]) {
        let _ = self._serving.0.kill();
        let _ = self._serving.0.wait();
        let host = |url: &str| {
            let rest = url.trim_start_matches("http://");
            let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            rest.split('/').next().unwrap().to_string()
        };
        let listen = [host(&self.url), host(&self.node_url)];
        let listen = [listen[0].as_str(), listen[1].as_str()];
        let mut command = serve_command(
            &self.dir,
            &self.options,
            self.elements_url.as_deref(),
            listen,
        );
        command.envs(env.iter().copied());
        // Without an issuer to create the banner ends with the node's lines or the routes.
        let last = if self.elements_url.is_some() {
            "OpenAPI:"
        } else {
            "Confirm:"
        };
        let (serving, banner) = spawn_until(command, last);
        self._serving = serving;
        self.url = banner_value(&banner, "listening on ").expect("the platform's URL");
        if self.elements_url.is_none() {
            self.node_url = banner_value(&banner, "RPC:").expect("the embedded node's URL");
        }
    }

    /// Kills `amphora serve` (and with it the embedded node) with `SIGKILL` now, as a power
    /// cut would; [`Platform::restart`] starts it again.
    pub(crate) fn kill(&mut self) {
        let _ = self._serving.0.kill();
        let _ = self._serving.0.wait();
    }

    /// How blocks come from now on: at once on a real node (its auto-miner is stopped or
    /// started), from the next [`Platform::restart`] on the embedded node (its
    /// `--block-interval`).
    pub(crate) fn set_blocks(&mut self, blocks: Blocks) {
        self.options.blocks = blocks;
        if let Some(node) = &self.node {
            self._miner = (blocks == Blocks::Instant).then(|| node.automine(CONFIRMATIONS));
        }
    }

    /// Mines one block (to an address no wallet owns); the new height.
    pub(crate) async fn mine_one(&self) -> u64 {
        let _: Value = self
            .node()
            .call(
                "generatetoaddress",
                &[json!(1), json!(amphora_testenv::burn_address())],
            )
            .await
            .unwrap();
        self.node().get_block_count().await.unwrap()
    }

    /// Waits until `amphora serve` ends by itself (a crash point fired), for at most `limit`;
    /// panics when it still runs or ended otherwise than by `SIGKILL`.
    pub(crate) async fn wait_killed(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self._serving.0.try_wait().unwrap() {
                use std::os::unix::process::ExitStatusExt;
                assert_eq!(status.signal(), Some(9), "amphora serve ended: {status}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "amphora serve was not killed within {limit:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether the platform runs on a real `elementsd`.
    pub(crate) fn is_elementsd(&self) -> bool {
        self.node.is_some()
    }

    /// A node-level client.
    pub(crate) fn node(&self) -> ElementsRpc {
        ElementsRpc::new(&self.node_url, Auth::None).unwrap()
    }

    /// A client of the node's wallet `name`.
    pub(crate) fn wallet(&self, name: &str) -> ElementsRpc {
        self.node().wallet(name)
    }

    /// The treasury wallet's client.
    pub(crate) fn treasury(&self) -> ElementsRpc {
        self.wallet(TREASURY_WALLET)
    }

    /// The treasury wallet's URL with credentials, for `amphora confirm -n`.
    pub(crate) fn treasury_url(&self) -> String {
        format!("{}/wallet/{TREASURY_WALLET}", self.node_url)
    }

    /// The issuer logged in.
    pub(crate) async fn api(&self) -> Api {
        Api::login(&self.url, &self.username, &self.password).await
    }

    /// `amphora confirm -u … -p … -n TREASURY <args>`, polling every 250 ms.
    pub(crate) fn confirm(&self, dir: &Path, args: &[&str]) -> Command {
        let mut command = amphora(dir);
        command
            .args(["confirm", "-u", &self.username, "-p", &self.password])
            .args(["-n", &self.treasury_url()])
            .args(["--poll-interval", "250ms", "--confirmation-timeout", "3m"])
            .args(args);
        command
    }
}

/// `amphora serve` in `dir` as `options` say, on `elements_url` or on its embedded node,
/// listening on `[platform, embedded node]`.
fn serve_command(
    dir: &Path,
    options: &Options,
    elements_url: Option<&str>,
    listen: [&str; 2],
) -> Command {
    let mut command = amphora(dir);
    command
        .args(["serve", "--listen", listen[0]])
        .env("AMPHORA_ISSUER_USERNAME", "issuer");
    if let Some(password) = &options.issuer_password {
        command.env("AMPHORA_ISSUER_PASSWORD", password);
    }
    if let Some(data_dir) = &options.data_dir {
        command.arg("--data-dir").arg(data_dir);
    }
    if let Some(url) = &options.database_url {
        command.args(["--database-url", url]);
    }
    command.envs(options.env.iter().map(|(key, value)| (*key, value)));
    match elements_url {
        Some(url) => {
            command.args(["--elements-url", url]);
        }
        None => {
            let interval = match options.blocks {
                Blocks::Instant => "0",
                Blocks::OnDemand => "3600",
            };
            command.args(["--node-rpc-listen", listen[1], "--block-interval", interval]);
        }
    }
    command
}

/// Runs `command` to its end; its stdout and stderr. Panics with them when it fails.
pub(crate) fn run_ok(mut command: Command) -> String {
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?} failed: {text}");
    text
}

/// Polls `check` until it returns `Some`, for at most `limit`.
pub(crate) async fn until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
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
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the wallet transaction `txid` has 2 confirmations.
pub(crate) async fn wait_confirmed(wallet: &ElementsRpc, txid: &str) {
    let txid = txid.parse().unwrap();
    until(&format!("{txid} to confirm"), TIMEOUT, || async {
        let confirmations = wallet.get_transaction(&txid).await.unwrap().confirmations;
        (confirmations >= i64::from(CONFIRMATIONS)).then_some(())
    })
    .await
}

/// The issuer API of one platform over HTTP, with the issuer's token.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    /// The platform's base URL (without `/api`).
    base: String,
    token: String,
}

impl Api {
    /// Logs in at `base` (retrying while the platform is not answering yet).
    pub(crate) async fn login(base: &str, username: &str, password: &str) -> Api {
        let mut api = Api {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_string(),
            token: String::new(),
        };
        let body = json!({"username": username, "password": password});
        let url = format!("{}/api/user/obtain_token", api.base);
        let token = until("a token", Duration::from_secs(30), || async {
            let reply = api.http.post(&url).json(&body).send().await.ok()?;
            let status = reply.status();
            let answer: Value = reply.json().await.ok()?;
            assert!(
                status.is_success() || status.is_server_error(),
                "obtain_token: {status} {answer}"
            );
            answer["token"].as_str().map(str::to_string)
        })
        .await;
        api.token = token;
        api
    }

    /// `method` on `url` (a whole URL) with the token; the status and the body as JSON (a
    /// JSON string when it is not JSON, `null` when empty).
    pub(crate) async fn call_url(
        &self,
        method: &str,
        url: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, url)
            .header("authorization", format!("token {}", self.token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// `method` on `/api{path}`; `None` when no answer came (the platform died meanwhile).
    pub(crate) async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Option<(u16, Value)> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}/api{path}", self.base))
            .header("authorization", format!("token {}", self.token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        let value = response.json().await.unwrap_or(Value::Null);
        Some((status, value))
    }

    /// `method` on `/api{path}`.
    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/api{path}", self.base);
        self.call_url(method, &url, body).await
    }

    /// `method` on `/api{path}`, which must answer `expected`.
    pub(crate) async fn ok(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert_eq!(status, expected, "{method} {path}: {value}");
        value
    }

    /// `GET /api{path}`, which must answer 200.
    pub(crate) async fn get(&self, path: &str) -> Value {
        self.ok("GET", path, None, 200).await
    }

    /// Calls until the answer is `expected`; meanwhile only a 400 (a rule waiting for the
    /// chain) is accepted.
    pub(crate) async fn until_status(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let (status, value) = self.call(method, path, body.clone()).await;
            if status == expected {
                return value;
            }
            assert!(
                status == 400 && Instant::now() < deadline,
                "{method} {path}: {status} {value}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Posts the first assignment `body` to `create` (`/assets/{u}/assignments/create`) until
    /// the issuance has the confirmations it needs: meanwhile only a refusal naming
    /// confirmations is accepted.
    pub(crate) async fn first_assignment(&self, create: &str, body: Value) {
        until("the issuance to be assignable", TIMEOUT, || async {
            let (status, reply) = self.call("POST", create, Some(body.clone())).await;
            match status {
                200 => Some(()),
                _ => {
                    let error = reply["Error"].as_str().unwrap_or_default();
                    assert!(error.contains("confirmation"), "{status} {reply}");
                    None
                }
            }
        })
        .await
    }

    /// Polls `GET /api{path}` until `done` holds for its answer.
    pub(crate) async fn until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        until(&format!("GET {path} as expected"), TIMEOUT, || async {
            let value = self.get(path).await;
            done(&value).then_some(value)
        })
        .await
    }

    /// `GET /healthz`.
    pub(crate) async fn health(&self) -> Value {
        self.call_url("GET", &format!("{}/healthz", self.base), None)
            .await
            .1
    }

    /// Waits until the follower has indexed the node's tip, which must be `height`.
    pub(crate) async fn indexed(&self, node: &ElementsRpc, height: u64) {
        assert_eq!(node.get_block_count().await.unwrap(), height);
        until(
            &format!("the follower to index {height}"),
            TIMEOUT,
            || async {
                let health = self.health().await;
                (health["follower"]["indexed_height"].as_u64() == Some(height)).then_some(())
            },
        )
        .await
    }
}
