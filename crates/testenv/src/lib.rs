//! amphora-testenv: the shared test fixtures of every crate's tests (a dev-dependency only).
//!
//! [`TestNode::start`] gives a liquidregtest node a test can drive over JSON-RPC: the embedded
//! node (in-process, the zero-setup default) or, when `ELEMENTSD_EXE` names an `elementsd`
//! binary, a real Elements Core node in a temporary data directory on free ports. Both answer
//! the same RPC, hold the same genesis free coins, and mine only when asked
//! ([`TestNode::mine`]) or while an [`AutoMiner`] runs. Dropping a `TestNode` stops its node:
//! a real `elementsd` gets the `stop` RPC, then a kill after [`STOP_TIMEOUT`], so no node
//! process outlives its test, also when the test panics.
//!
//! ```no_run
//! # async fn demo() {
//! use amphora_testenv::TestNode;
//!
//! let node = TestNode::start().await;
//! let treasury = node.claim_free_coins("treasury").await;
//! let address = treasury.get_new_address(None).await.unwrap();
//! node.mine(2).await;
//! # let _ = address;
//! # }
//! ```
//!
//! A test about the embedded node's internals uses [`TestNode::embedded`] and says so in its
//! name or doc comment; every other chain test uses [`TestNode::start`] so that `.ci/run`'s
//! second pass runs it against Elements Core.
//!
//! With the `store` feature (for the tests of crates that have a database): [`pg::PgSchema`],
//! a PostgreSQL schema per test dropped when the test ends, and [`store`], the rows tests start
//! from (an issued asset, a registered wallet and user, the synthetic chain index).

mod autominer;
mod elementsd;
#[cfg(feature = "store")]
pub mod pg;
#[cfg(feature = "store")]
pub mod store;

use std::path::{Path, PathBuf};

use amphora_regtest::{Node, NodeConfig, NodeHandle};
use amphora_rpc::types::IssuedAsset;
use amphora_rpc::{Amount, Auth, ElementsRpc, RetryPolicy};
use elements::{AddressParams, BlockHash};

pub use autominer::AutoMiner;
pub use elementsd::{elementsd_exe, STOP_TIMEOUT};

/// The environment variable naming a real `elementsd` binary.
pub const ELEMENTSD_EXE: &str = "ELEMENTSD_EXE";
/// Policy-asset satoshis both nodes pay to `OP_TRUE` in genesis (21,000,000 L-BTC).
pub const INITIAL_FREE_COINS: u64 = 2_100_000_000_000_000;
/// RPC user of every test node.
pub const RPC_USER: &str = "amphora";
/// Wallet that pays the platform's issuance fees (as `amphora serve` provisions it).
pub const PLATFORM_WALLET: &str = "platform";
/// Wallet of the issuer's treasury (as `amphora serve` provisions it).
pub const TREASURY_WALLET: &str = "treasury";
/// L-BTC sent from `platform` to `treasury` by [`TestNode::provision_platform_wallets`].
pub const TREASURY_FUNDING_LBTC: i64 = 1_000;
/// The registry public key (hex, compressed) of the test issuers' assets.
pub const ISSUER_PUBKEY: &str =
    "02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084";

/// How a [`TestNode`] is started, beyond its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestNodeOptions {
    /// `-txindex` (default on, as the platform requires it).
    pub txindex: bool,
}

impl Default for TestNodeOptions {
    fn default() -> Self {
        TestNodeOptions { txindex: true }
    }
}

/// Which node a [`TestNode`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// The embedded regtest node, in this process.
    Embedded,
    /// A real Elements Core `elementsd` process.
    Elementsd,
}

impl NodeKind {
    /// The kind this run asks for: [`NodeKind::Elementsd`] when `ELEMENTSD_EXE` is set (and
    /// not empty), the embedded node otherwise.
    pub fn from_env() -> NodeKind {
        match std::env::var_os(ELEMENTSD_EXE) {
            Some(value) if !value.is_empty() => NodeKind::Elementsd,
            _ => NodeKind::Embedded,
        }
    }
}

enum Backend {
    Embedded(Option<NodeHandle>),
    Elementsd(elementsd::Elementsd),
}

/// A running liquidregtest node for one test; stopped when dropped.
pub struct TestNode {
    // Field order matters: the client goes first, the node process last.
    rpc: ElementsRpc,
    url: String,
    password: String,
    backend: Backend,
    datadir: tempfile::TempDir,
    options: TestNodeOptions,
}

impl std::fmt::Debug for TestNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNode")
            .field("kind", &self.kind())
            .field("url", &self.url)
            .finish()
    }
}

impl TestNode {
    /// The node this run asks for (see [`NodeKind::from_env`]).
    pub async fn start() -> TestNode {
        TestNode::start_kind(NodeKind::from_env()).await
    }

    /// The embedded node, whatever the environment says: for tests about its internals.
    pub async fn embedded() -> TestNode {
        TestNode::start_kind(NodeKind::Embedded).await
    }

    /// A node of `kind`. Panics with a clear message when it cannot start.
    pub async fn start_kind(kind: NodeKind) -> TestNode {
        TestNode::start_with(kind, TestNodeOptions::default()).await
    }

    /// A node of `kind` started with `options`.
    pub async fn start_with(kind: NodeKind, options: TestNodeOptions) -> TestNode {
        let datadir = tempfile::tempdir().expect("a temporary node data directory");
        let password = format!("test-{}", hex::encode(rand::random::<[u8; 12]>()));
        let (backend, url) = start_backend(kind, datadir.path(), &password, &options).await;
        let rpc = ElementsRpc::new(
            &url,
            Auth::UserPass {
                user: RPC_USER.into(),
                password: password.clone(),
            },
        )
        .expect("the node's RPC URL");
        TestNode {
            rpc,
            url,
            password,
            backend,
            datadir,
            options,
        }
    }

    /// Stops the node cleanly, deletes its `mempool.dat` (a mempool lost, as with
    /// `-persistmempool=0`) and starts it again on the same data directory and credentials
    /// (the RPC port may change: take clients anew from [`TestNode::rpc`] /
    /// [`TestNode::wallet`]). Wallets marked load-on-startup are loaded again.
    pub async fn restart_without_mempool(&mut self) {
        let kind = self.kind();
        match &mut self.backend {
            Backend::Embedded(handle) => {
                if let Some(handle) = handle.take() {
                    handle
                        .shutdown()
                        .await
                        .expect("the embedded node stops cleanly");
                }
            }
            Backend::Elementsd(node) => {
                // `stop` may end in SIGKILL (see [`STOP_TIMEOUT`]): the chain state is flushed
                // first (`gettxoutsetinfo` flushes it, as Core's periodic flush would), so the
                // blocks survive as after a clean stop.
                let _: serde_json::Value = self
                    .rpc
                    .call("gettxoutsetinfo", &[])
                    .await
                    .expect("gettxoutsetinfo");
                node.stop();
            }
        }
        let mempool = self
            .datadir
            .path()
            .join("liquidregtest")
            .join("mempool.dat");
        match std::fs::remove_file(&mempool) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("cannot remove {}: {e}", mempool.display()),
        }
        let (backend, url) =
            start_backend(kind, self.datadir.path(), &self.password, &self.options).await;
        self.backend = backend;
        self.rpc = ElementsRpc::new(&url, self.auth()).expect("the node's RPC URL");
        self.url = url;
    }

    /// Which node this is.
    pub fn kind(&self) -> NodeKind {
        match self.backend {
            Backend::Embedded(_) => NodeKind::Embedded,
            Backend::Elementsd(_) => NodeKind::Elementsd,
        }
    }

    /// Whether this is a real `elementsd`.
    pub fn is_elementsd(&self) -> bool {
        self.kind() == NodeKind::Elementsd
    }

    /// A node-level client (no wallet path).
    pub fn rpc(&self) -> &ElementsRpc {
        &self.rpc
    }

    /// A client of the wallet `name` (which must exist or be created by the caller).
    pub fn wallet(&self, name: &str) -> ElementsRpc {
        self.rpc.wallet(name)
    }

    /// `http://127.0.0.1:<port>`, without credentials.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `(user, password)` of the RPC server.
    pub fn credentials(&self) -> (String, String) {
        (RPC_USER.to_string(), self.password.clone())
    }

    /// The client's authentication.
    pub fn auth(&self) -> Auth {
        Auth::UserPass {
            user: RPC_USER.into(),
            password: self.password.clone(),
        }
    }

    /// `http://user:password@127.0.0.1:<port><path>`, e.g. for `--elements-url` or
    /// `amphora confirm -n` (the password is hex, nothing needs encoding).
    pub fn url_with_credentials(&self, path: &str) -> String {
        let host = self.url.trim_start_matches("http://");
        format!("http://{RPC_USER}:{}@{host}{path}", self.password)
    }

    /// The node's data directory (the embedded node's or `elementsd`'s `-datadir`).
    pub fn datadir(&self) -> &Path {
        self.datadir.path()
    }

    /// The embedded node's handle (its in-process state); `None` on `elementsd`.
    pub fn embedded_handle(&self) -> Option<&NodeHandle> {
        match &self.backend {
            Backend::Embedded(handle) => handle.as_ref(),
            Backend::Elementsd(_) => None,
        }
    }

    /// The `elementsd` process id; `None` for the embedded node (it is this process).
    pub fn process_id(&self) -> Option<u32> {
        match &self.backend {
            Backend::Embedded(_) => None,
            Backend::Elementsd(node) => Some(node.pid()),
        }
    }

    /// Creates the wallet `name` and returns its client.
    pub async fn create_wallet(&self, name: &str) -> ElementsRpc {
        self.rpc
            .create_wallet(name)
            .await
            .unwrap_or_else(|e| panic!("createwallet {name}: {e}"));
        self.rpc.wallet(name)
    }

    /// Creates the wallet `name` and claims the genesis free coins into it
    /// (`rescanblockchain`; `-anyonecanspendaremine`). Call it for one wallet per node: every
    /// wallet that rescans would claim the same coins.
    pub async fn claim_free_coins(&self, name: &str) -> ElementsRpc {
        let wallet = self.create_wallet(name).await;
        wallet
            .rescan_blockchain()
            .await
            .unwrap_or_else(|e| panic!("rescanblockchain ({name}): {e}"));
        wallet
    }

    /// The wallets `amphora serve` provisions on its embedded node, for a platform started
    /// with `--elements-url` on this node: `platform` holding the free coins and `treasury`
    /// funded with [`TREASURY_FUNDING_LBTC`] L-BTC, mined into a block. Returns
    /// `(platform, treasury)`.
    pub async fn provision_platform_wallets(&self) -> (ElementsRpc, ElementsRpc) {
        let platform = self.claim_free_coins(PLATFORM_WALLET).await;
        let treasury = self.create_wallet(TREASURY_WALLET).await;
        let address = treasury
            .get_new_address(None)
            .await
            .expect("getnewaddress (treasury)");
        platform
            .send_to_address(
                &address,
                Amount::from_units(TREASURY_FUNDING_LBTC * 100_000_000),
                None,
            )
            .await
            .expect("funding the treasury");
        self.mine(1).await;
        (platform, treasury)
    }

    /// `wallet` issues `units` base units of a new asset and `tokens` base units of its
    /// reissuance token (with blinded amounts when `confidential`), mined into a block.
    pub async fn issue_asset(
        &self,
        wallet: &ElementsRpc,
        units: i64,
        tokens: i64,
        confidential: bool,
    ) -> IssuedAsset {
        let issued = wallet
            .issue_asset(
                Amount::from_units(units),
                Amount::from_units(tokens),
                confidential,
            )
            .await
            .unwrap_or_else(|e| panic!("issueasset {units} {tokens}: {e}"));
        self.mine(1).await;
        issued
    }

    /// Mines `blocks` blocks (to an address no wallet owns); returns their hashes.
    pub async fn mine(&self, blocks: u64) -> Vec<BlockHash> {
        self.rpc
            .generate_to_address(blocks, &burn_address())
            .await
            .unwrap_or_else(|e| panic!("generatetoaddress {blocks}: {e}"))
    }

    /// The chain height.
    pub async fn height(&self) -> u64 {
        self.rpc.get_block_count().await.expect("getblockcount")
    }

    /// Starts mining like `amphora serve --block-interval 0`: a block as soon as a transaction
    /// is in the mempool, and blocks until every transaction has `confirmations`
    /// confirmations. Stops when the returned guard is dropped.
    pub fn automine(&self, confirmations: u32) -> AutoMiner {
        AutoMiner::start(
            self.rpc.clone().with_retry(RetryPolicy::none()),
            burn_address(),
            confirmations,
        )
    }

    /// Stops the node now (the same as dropping it, with the embedded node's clean shutdown).
    pub async fn stop(mut self) {
        if let Backend::Embedded(handle) = &mut self.backend {
            if let Some(handle) = handle.take() {
                handle
                    .shutdown()
                    .await
                    .expect("the embedded node stops cleanly");
            }
        }
    }

    /// Path of the `elementsd` debug log (to print when a test fails), if this is one.
    pub fn debug_log(&self) -> Option<PathBuf> {
        self.is_elementsd()
            .then(|| self.datadir.path().join("liquidregtest").join("debug.log"))
    }
}

impl Drop for TestNode {
    /// The embedded node is told to stop (its server and miner end); a real `elementsd` is
    /// stopped by its own drop (the `stop` RPC, then a kill).
    fn drop(&mut self) {
        if let Backend::Embedded(Some(handle)) = &self.backend {
            handle.request_stop();
        }
    }
}

/// Starts a node of `kind` on `datadir`; its backend and RPC URL.
async fn start_backend(
    kind: NodeKind,
    datadir: &Path,
    password: &str,
    options: &TestNodeOptions,
) -> (Backend, String) {
    match kind {
        NodeKind::Embedded => {
            let handle = Node::start(NodeConfig {
                datadir: Some(datadir.to_path_buf()),
                initial_free_coins: INITIAL_FREE_COINS,
                rpc_user: Some(RPC_USER.into()),
                rpc_password: Some(password.to_string()),
                txindex: options.txindex,
                ..NodeConfig::default()
            })
            .await
            .expect("the embedded regtest node starts");
            let url = handle.rpc_url().to_string();
            (Backend::Embedded(Some(handle)), url)
        }
        NodeKind::Elementsd => {
            let exe = elementsd_exe().unwrap_or_else(|e| panic!("{e}"));
            let node = elementsd::Elementsd::spawn(&exe, datadir, RPC_USER, password, options)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let url = node.url().to_string();
            (Backend::Elementsd(node), url)
        }
    }
}

/// A fixed address nobody's wallet owns (P2WSH of `OP_TRUE`): where test blocks pay their fees.
pub fn burn_address() -> String {
    let script = elements::script::Builder::new()
        .push_opcode(elements::opcodes::OP_TRUE)
        .into_script();
    elements::Address::p2wsh(&script, None, &AddressParams::ELEMENTS).to_string()
}
