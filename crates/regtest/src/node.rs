//! Running the node: the shared state, the HTTP JSON-RPC server, the optional block timer,
//! and a handle to stop it cleanly. Used in-process by `amphora serve` and by
//! `amphora regtest`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use elements::opcodes::OP_TRUE;
use elements::{BlockHash, Script};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::chain::{Chain, ChainError, ChainName, ChainParams, DEFAULT_INITIAL_FREE_COINS};
use crate::rpc::server::{router, Credentials, ServerState};
use crate::wallet::WalletManager;

/// Everything the RPC methods operate on, behind one lock.
#[derive(Debug)]
pub struct NodeState {
    /// Consensus state.
    pub chain: Chain,
    /// Wallets.
    pub wallets: WalletManager,
    /// When the node started (`uptime`).
    pub started: Instant,
    /// Whether the node keeps a transaction index (`-txindex`): without it
    /// `getrawtransaction` finds only mempool transactions unless given a block hash.
    pub txindex: bool,
}

/// Errors starting or stopping the node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The chain could not be opened.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The wallets could not be opened.
    #[error("cannot open wallets: {0}")]
    Wallets(String),
    /// The RPC port could not be bound.
    #[error("cannot bind RPC server to {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Writing the cookie file failed.
    #[error("cannot write RPC cookie file {path}: {source}")]
    Cookie {
        /// Cookie path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The server task failed.
    #[error("RPC server failed: {0}")]
    Server(String),
}

/// How to run the node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Data directory (`<datadir>/<chain>/…`); `None` keeps everything in memory.
    pub datadir: Option<PathBuf>,
    /// Which chain.
    pub chain: ChainName,
    /// Policy-asset satoshis paid to `OP_TRUE` in genesis (`-initialfreecoins`).
    pub initial_free_coins: u64,
    /// Address the JSON-RPC server listens on (port 0 = any free port).
    pub rpc_listen: SocketAddr,
    /// `-rpcuser`; with `rpc_password` disables the cookie file.
    pub rpc_user: Option<String>,
    /// `-rpcpassword`.
    pub rpc_password: Option<String>,
    /// Consider mining a block every interval (none = only on demand; zero = as soon as the
    /// mempool or the tip changes); whether a block is actually mined is decided by
    /// `mining_policy`.
    pub block_interval: Option<Duration>,
    /// What the block timer does on each tick (default: always mine).
    pub mining_policy: MiningPolicy,
    /// Script paid by timer-mined blocks (default `OP_TRUE`).
    pub block_script: Option<Script>,
    /// `-txindex` (default on, as the platform needs it).
    pub txindex: bool,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            datadir: None,
            chain: ChainName::LiquidRegtest,
            initial_free_coins: DEFAULT_INITIAL_FREE_COINS,
            rpc_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            rpc_user: None,
            rpc_password: None,
            block_interval: None,
            mining_policy: MiningPolicy::Always,
            block_script: None,
            txindex: true,
        }
    }
}

/// When the block timer mines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MiningPolicy {
    /// A block on every tick.
    #[default]
    Always,
    /// A block on a tick only while some transaction has fewer than `confirmations`
    /// confirmations: one is waiting in the mempool, or one of the last `confirmations - 1`
    /// blocks holds a transaction besides its coinbase. The chain stays idle otherwise.
    WhileUnconfirmed {
        /// Confirmations every transaction should reach (at least 1).
        confirmations: u32,
    },
}

impl MiningPolicy {
    /// Whether a block should be mined now on `chain`.
    pub fn wants_block(self, chain: &Chain) -> bool {
        match self {
            MiningPolicy::Always => true,
            MiningPolicy::WhileUnconfirmed { confirmations } => {
                if chain.mempool().next().is_some() {
                    return true;
                }
                // A transaction in the tip has 1 confirmation, one block below it 2, ...
                // Genesis (height 0) never counts: its outputs are the chain's premine.
                let tip = chain.height();
                (0..confirmations.saturating_sub(1))
                    .filter_map(|depth| tip.checked_sub(depth))
                    .take_while(|height| *height > 0)
                    .filter_map(|height| chain.block_at(height))
                    .any(|block| block.txdata.len() > 1)
            }
        }
    }
}

/// The active chain's tip, as [`NodeHandle::subscribe_tip`] and `waitfornewblock` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainTip {
    /// Height of the tip.
    pub height: u32,
    /// Hash of the tip.
    pub hash: BlockHash,
}

/// What changed in the node, published after every RPC call and every timer block: the tip
/// (new block, reorg) and the mempool's contents (a digest of its txids).
#[derive(Debug, Clone)]
pub struct NodeEvents {
    tip: watch::Sender<ChainTip>,
    mempool: watch::Sender<(usize, u64)>,
}

impl NodeEvents {
    fn new(chain: &Chain) -> NodeEvents {
        NodeEvents {
            tip: watch::Sender::new(tip_of(chain)),
            mempool: watch::Sender::new(mempool_digest(chain)),
        }
    }

    /// Publishes `chain`'s tip and mempool to the subscribers whose value changed; returns
    /// whether the mempool changed.
    pub fn publish(&self, chain: &Chain) -> bool {
        let tip = tip_of(chain);
        self.tip.send_if_modified(|current| {
            let changed = *current != tip;
            *current = tip;
            changed
        });
        let mempool = mempool_digest(chain);
        self.mempool.send_if_modified(|current| {
            let changed = *current != mempool;
            *current = mempool;
            changed
        })
    }

    /// Publishes `state`'s changes and, when the mempool changed, writes it to disk before the
    /// caller answers: a crash (even `kill -9`) after an answered `sendrawtransaction` or
    /// wallet send keeps the transaction, as Elements Core's `mempool.dat` and wallet do.
    pub fn publish_and_persist(&self, state: &mut NodeState) {
        if self.publish(&state.chain) {
            if let Err(e) = state.chain.flush() {
                tracing::error!(error = %e, "the node could not write its mempool");
            }
        }
    }

    /// A receiver of the tip, marked changed at every new tip.
    pub fn subscribe_tip(&self) -> watch::Receiver<ChainTip> {
        self.tip.subscribe()
    }

    fn subscribe_mempool(&self) -> watch::Receiver<(usize, u64)> {
        self.mempool.subscribe()
    }
}

fn tip_of(chain: &Chain) -> ChainTip {
    let (height, hash) = chain.tip();
    ChainTip { height, hash }
}

/// Number of mempool transactions and an order-independent digest of their txids.
fn mempool_digest(chain: &Chain) -> (usize, u64) {
    chain.mempool().fold((0, 0), |(count, digest), (txid, _)| {
        let bytes: &[u8] = txid.as_ref();
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[..8]);
        (count + 1, digest ^ u64::from_le_bytes(word))
    })
}

/// Namespace of [`Node::start`].
#[derive(Debug)]
pub struct Node;

/// A running node.
#[derive(Debug)]
pub struct NodeHandle {
    url: String,
    credentials: Credentials,
    cookie_path: Option<PathBuf>,
    state: Arc<Mutex<NodeState>>,
    events: NodeEvents,
    stop: watch::Sender<bool>,
    server: JoinHandle<Result<(), String>>,
    timer: Option<JoinHandle<()>>,
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

impl Node {
    /// Opens chain and wallets, binds the RPC server and starts serving.
    pub async fn start(config: NodeConfig) -> Result<NodeHandle, NodeError> {
        let params = ChainParams::new(config.chain, config.initial_free_coins);
        let datadir = config.datadir.as_deref();
        let chain = Chain::open(datadir, params)?;
        let wallets = open_wallets(datadir, &chain)?;
        let chain_dir = datadir.map(|d| d.join(config.chain.as_str()));

        let (credentials, cookie_path) = match (&config.rpc_user, &config.rpc_password) {
            (Some(user), Some(password)) => (
                Credentials {
                    user: user.clone(),
                    password: password.clone(),
                },
                None,
            ),
            _ => {
                let creds = Credentials {
                    user: "__cookie__".into(),
                    password: random_hex(32),
                };
                let path = match &chain_dir {
                    Some(dir) => {
                        let path = dir.join(".cookie");
                        write_cookie(&path, &creds)?;
                        Some(path)
                    }
                    None => None,
                };
                (creds, path)
            }
        };

        let listener = tokio::net::TcpListener::bind(config.rpc_listen)
            .await
            .map_err(|source| NodeError::Bind {
                addr: config.rpc_listen,
                source,
            })?;
        let local = listener.local_addr().map_err(|source| NodeError::Bind {
            addr: config.rpc_listen,
            source,
        })?;
        let mut chain = chain;
        let mut wallets = wallets;
        // Wallets catch up first, so one whose transaction a block conflicts with marks it
        // conflicted instead of offering it to the mempool again.
        wallets
            .sync_all(&chain)
            .map_err(|e| NodeError::Wallets(e.message))?;
        wallets.resubmit_unconfirmed(&mut chain);
        if let Err(e) = chain.flush() {
            tracing::error!(error = %e, "the node could not write its mempool");
        }
        let events = NodeEvents::new(&chain);
        let state = Arc::new(Mutex::new(NodeState {
            chain,
            wallets,
            started: Instant::now(),
            txindex: config.txindex,
        }));
        let (stop, stop_rx) = watch::channel(false);
        let app = router(ServerState {
            node: state.clone(),
            credentials: credentials.clone(),
            stop: stop.clone(),
            events: events.clone(),
        });
        let mut server_stop = stop_rx.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = server_stop.wait_for(|s| *s).await;
                })
                .await
                .map_err(|e| e.to_string())
        });
        let timer = config.block_interval.map(|interval| {
            let miner = BlockTimer {
                state: state.clone(),
                events: events.clone(),
                policy: config.mining_policy,
                script: config
                    .block_script
                    .clone()
                    .unwrap_or_else(|| Script::from(vec![OP_TRUE.into_u8()])),
            };
            let stop_rx = stop_rx.clone();
            if interval.is_zero() {
                tokio::spawn(miner.run_instant(stop_rx))
            } else {
                tokio::spawn(miner.run_every(interval, stop_rx))
            }
        });
        Ok(NodeHandle {
            url: format!("http://{local}"),
            credentials,
            cookie_path,
            state,
            events,
            stop,
            server,
            timer,
        })
    }
}

/// The node's own miner: on a timer, or instantly on every change of the mempool or tip.
struct BlockTimer {
    state: Arc<Mutex<NodeState>>,
    events: NodeEvents,
    policy: MiningPolicy,
    script: Script,
}

impl BlockTimer {
    /// Mines one block when the policy wants one; returns whether it did.
    async fn mine_if_wanted(&self) -> bool {
        let state = self.state.clone();
        let events = self.events.clone();
        let script = self.script.clone();
        let policy = self.policy;
        let mined = tokio::task::spawn_blocking(move || {
            let mut guard = state.lock().unwrap_or_else(|p| p.into_inner());
            if !policy.wants_block(&guard.chain) {
                return Ok(None);
            }
            let mined = guard.chain.mine_block(script).map(Some);
            events.publish_and_persist(&mut guard);
            mined
        })
        .await;
        match mined {
            Ok(Ok(Some(hash))) => {
                tracing::debug!(%hash, "the node mined a block");
                true
            }
            Ok(Ok(None)) => false,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the node failed to mine a block");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "the block timer task failed");
                false
            }
        }
    }

    /// Considers a block on every tick of `interval`.
    async fn run_every(self, interval: Duration, mut stop: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = ticker.tick() => { self.mine_if_wanted().await; }
                _ = stop.changed() => break,
            }
        }
    }

    /// `--block-interval 0`: mines as long as the policy wants blocks, then sleeps until the
    /// mempool or the tip changes.
    async fn run_instant(self, mut stop: watch::Receiver<bool>) {
        let mut mempool = self.events.subscribe_mempool();
        let mut tip = self.events.subscribe_tip();
        loop {
            mempool.mark_unchanged();
            tip.mark_unchanged();
            while !*stop.borrow() && self.mine_if_wanted().await {}
            tokio::select! {
                _ = mempool.changed() => {}
                _ = tip.changed() => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
    }
}

fn open_wallets(datadir: Option<&Path>, chain: &Chain) -> Result<WalletManager, NodeError> {
    WalletManager::open(datadir, chain).map_err(|e| NodeError::Wallets(e.to_string()))
}

fn write_cookie(path: &Path, creds: &Credentials) -> Result<(), NodeError> {
    let err = |source| NodeError::Cookie {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, format!("{}:{}", creds.user, creds.password)).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    Ok(())
}

impl NodeHandle {
    /// `http://127.0.0.1:<port>` of the JSON-RPC server (append `/wallet/<name>` for wallets).
    pub fn rpc_url(&self) -> &str {
        &self.url
    }

    /// `(user, password)` accepted by the server (cookie credentials unless configured).
    pub fn credentials(&self) -> (String, String) {
        (
            self.credentials.user.clone(),
            self.credentials.password.clone(),
        )
    }

    /// Path of the `.cookie` file, when one was written.
    pub fn cookie_path(&self) -> Option<&Path> {
        self.cookie_path.as_deref()
    }

    /// The shared node state (for in-process callers and tests).
    pub fn state(&self) -> Arc<Mutex<NodeState>> {
        self.state.clone()
    }

    /// A receiver of the chain tip, marked changed at every new block or reorg: how
    /// in-process listeners (the platform's chain follower) hear of blocks at once.
    pub fn subscribe_tip(&self) -> watch::Receiver<ChainTip> {
        self.events.subscribe_tip()
    }

    /// Asks the server and the block timer to stop without waiting for them (for `Drop`
    /// impls that cannot await [`NodeHandle::shutdown`]; blocks are already on disk).
    pub fn request_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Resolves when the node was asked to stop (`stop` RPC or [`NodeHandle::shutdown`]).
    pub async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Stops the server and the timer, writes the mempool and removes the cookie file.
    pub async fn shutdown(self) -> Result<(), NodeError> {
        let _ = self.stop.send(true);
        if let Some(timer) = self.timer {
            let _ = timer.await;
        }
        let served = self
            .server
            .await
            .map_err(|e| NodeError::Server(e.to_string()))?;
        served.map_err(NodeError::Server)?;
        {
            let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
            guard.chain.flush()?;
        }
        if let Some(path) = &self.cookie_path {
            let _ = std::fs::remove_file(path);
        }
        Ok(())
    }
}
