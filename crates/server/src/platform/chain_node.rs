//! The platform's Elements node: the embedded regtest node started in-process (with its
//! `platform` and `treasury` wallets funded) or an Elements Core node at `elements_url`.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use amphora_core::Network;
#[cfg(feature = "embedded-node")]
use amphora_regtest::chain::ChainName;
#[cfg(feature = "embedded-node")]
use amphora_regtest::{MiningPolicy, Node, NodeHandle};
use amphora_rpc::{Amount, Auth, ElementsRpc, RpcError};

use super::ServerError;
use crate::config::Config;
use crate::credentials::generate_password;

/// Wallet paying the platform's issuance fees; holds the embedded chain's free coins.
pub const PLATFORM_WALLET: &str = "platform";
/// Wallet of the first issuer on the embedded node (destination of issuances, confirm client).
pub const TREASURY_WALLET: &str = "treasury";
/// Confirmations the embedded node mines towards for every transaction: the platform's
/// [`MIN_CONFIRMATIONS`](amphora_core::chain::MIN_CONFIRMATIONS).
pub const TARGET_CONFIRMATIONS: u32 = amphora_core::chain::MIN_CONFIRMATIONS;

/// L-BTC label of the policy asset in wallet balances.
const POLICY_LABEL: &str = "bitcoin";
/// Below this many L-BTC the treasury is topped up from the platform wallet.
const TREASURY_MIN_LBTC: i64 = 100;
/// What a top-up sends to the treasury, in L-BTC.
const TREASURY_TOP_UP_LBTC: i64 = 1_000;
const SATS_PER_LBTC: i64 = 100_000_000;

fn rpc_error(context: &str) -> impl FnOnce(RpcError) -> ServerError + '_ {
    move |e| ServerError::Node(format!("{context}: {e}"))
}

/// The running embedded node: there is none in a build without the `embedded-node` feature.
#[cfg(feature = "embedded-node")]
type Handle = NodeHandle;
/// The running embedded node: there is none in a build without the `embedded-node` feature.
#[cfg(not(feature = "embedded-node"))]
type Handle = std::convert::Infallible;

/// The embedded node and what the operator needs to use it.
#[derive(Debug)]
pub struct EmbeddedNode {
    handle: Handle,
    addr: SocketAddr,
    user: String,
    password: String,
    block_interval: Duration,
    treasury_address: String,
}

impl EmbeddedNode {
    /// `http://user:pass@host:port` (credentials percent-encoded), optionally with a path.
    pub fn url_with_credentials(&self, path: &str) -> String {
        format!(
            "http://{}:{}@{}{path}",
            percent_encode(&self.user),
            percent_encode(&self.password),
            self.addr
        )
    }

    /// A fresh treasury address, to use as an issuance's `destination_address`.
    pub fn treasury_address(&self) -> &str {
        &self.treasury_address
    }

    /// How often the node checks whether to mine.
    pub fn block_interval(&self) -> Duration {
        self.block_interval
    }

    /// Stops the node, writing its state to disk.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        #[cfg(feature = "embedded-node")]
        return self
            .handle
            .shutdown()
            .await
            .map_err(|e| ServerError::Node(format!("stopping the embedded node: {e}")));
        #[cfg(not(feature = "embedded-node"))]
        match self.handle {}
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for URL userinfo).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Checks that the embedded node may run with `config` (before anything is created).
pub fn check_embedded_config(config: &Config) -> Result<(), ServerError> {
    if config.node.elements_url.is_some() {
        return Ok(());
    }
    if config.network != Network::LiquidRegtest {
        return Err(ServerError::Invalid(format!(
            "the embedded node runs liquidregtest only: on {} configure an Elements node with \
             --elements-url (AMPHORA_ELEMENTS_URL or node.elements_url)",
            config.network
        )));
    }
    if config.node.rpc_user.is_empty() || config.node.rpc_user.contains(':') {
        return Err(ServerError::Invalid(
            "node rpc_user must be non-empty and contain no ':'".to_string(),
        ));
    }
    Ok(())
}

/// The embedded node's RPC password: configured, or generated once and kept in the node's
/// data directory with mode 0600 so restarts keep the same credentials.
fn embedded_password(config: &Config) -> Result<String, ServerError> {
    if let Some(password) = &config.node.rpc_password {
        if password.expose().is_empty() {
            return Err(ServerError::Invalid(
                "node rpc_password must not be empty".to_string(),
            ));
        }
        return Ok(password.expose().to_string());
    }
    let path = config.node_rpc_password_path();
    let io = |source| ServerError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let password = generate_password();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(io)?;
    file.write_all(password.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(password)
}

/// Without the `embedded-node` feature there is no embedded node: a configuration without
/// `elements_url` is refused with what to do.
#[cfg(not(feature = "embedded-node"))]
pub async fn start_embedded(_config: &Config) -> Result<(EmbeddedNode, ElementsRpc), ServerError> {
    Err(ServerError::Invalid(
        "this amphora was built without the embedded node (cargo feature `embedded-node`): set \
         node.elements_url to an Elements node"
            .to_string(),
    ))
}

/// Starts the embedded node in `<data_dir>/regtest`, mining every `block_interval_secs` (0: at
/// once) while a transaction has fewer than [`TARGET_CONFIRMATIONS`] confirmations.
#[cfg(feature = "embedded-node")]
pub async fn start_embedded(config: &Config) -> Result<(EmbeddedNode, ElementsRpc), ServerError> {
    let datadir = config.regtest_dir();
    super::ensure_data_dir(&datadir)?;
    let user = config.node.rpc_user.clone();
    let password = embedded_password(config)?;
    let block_interval = Duration::from_secs(config.node.block_interval_secs);
    let handle = Node::start(amphora_regtest::NodeConfig {
        datadir: Some(datadir),
        chain: ChainName::LiquidRegtest,
        rpc_listen: config.node.rpc_listen,
        rpc_user: Some(user.clone()),
        rpc_password: Some(password.clone()),
        block_interval: Some(block_interval),
        mining_policy: MiningPolicy::WhileUnconfirmed {
            confirmations: TARGET_CONFIRMATIONS,
        },
        ..amphora_regtest::NodeConfig::default()
    })
    .await
    .map_err(|e| ServerError::Node(format!("starting the embedded node: {e}")))?;
    let addr: SocketAddr = match handle
        .rpc_url()
        .trim_start_matches("http://")
        .parse::<SocketAddr>()
    {
        Ok(addr) => addr,
        Err(e) => {
            let _ = handle.shutdown().await;
            return Err(ServerError::Internal(format!(
                "embedded node address unreadable: {e}"
            )));
        }
    };
    let rpc = match ElementsRpc::new(
        &format!("http://{addr}"),
        Auth::UserPass {
            user: user.clone(),
            password: password.clone(),
        },
    ) {
        Ok(rpc) => rpc,
        Err(e) => {
            let _ = handle.shutdown().await;
            return Err(ServerError::Node(format!("embedded node client: {e}")));
        }
    };
    tracing::info!(rpc = %addr, "embedded regtest node started");
    let node = EmbeddedNode {
        handle,
        addr,
        user,
        password,
        block_interval,
        treasury_address: String::new(),
    };
    match provision_wallets(&rpc).await {
        Ok(treasury_address) => Ok((
            EmbeddedNode {
                treasury_address,
                ..node
            },
            rpc,
        )),
        Err(e) => {
            let _ = node.shutdown().await;
            Err(e)
        }
    }
}

/// Connects to the Elements node at `url` (credentials in the URL or none).
pub fn connect_external(url: &str) -> Result<ElementsRpc, ServerError> {
    ElementsRpc::new(url, Auth::None)
        .map_err(|e| ServerError::Invalid(format!("elements_url: {e}")))
}

/// Checks that `rpc` answers, is an Elements node and runs `network`'s chain.
pub async fn check_node(rpc: &ElementsRpc, network: Network) -> Result<(), ServerError> {
    let info = rpc
        .get_network_info()
        .await
        .map_err(rpc_error("cannot reach the Elements node (getnetworkinfo)"))?;
    if !info.subversion.contains("Elements") {
        return Err(ServerError::Node(format!(
            "the node at {} is not an Elements node (subversion {})",
            rpc.url(),
            info.subversion
        )));
    }
    let chain = rpc
        .get_blockchain_info()
        .await
        .map_err(rpc_error("getblockchaininfo"))?
        .chain;
    if chain != network.as_str() {
        return Err(ServerError::Node(format!(
            "the Elements node at {} runs chain '{chain}' but the platform is configured for \
             '{network}'",
            rpc.url()
        )));
    }
    Ok(())
}

/// What the platform needs from an operator's Elements node beyond [`check_node`]: a
/// transaction index (the confirm checks read transactions with `getrawtransaction`), and a
/// loaded `platform` wallet that pays issuance fees (created when missing). An empty
/// `platform` wallet is reported with the address to fund; a node without `txindex` is refused
/// with what to change.
pub async fn check_external_node(rpc: &ElementsRpc, network: Network) -> Result<(), ServerError> {
    check_node(rpc, network).await?;
    let indexes = rpc
        .get_index_info()
        .await
        .map_err(rpc_error("getindexinfo"))?;
    if !indexes.contains_key("txindex") {
        return Err(ServerError::Node(format!(
            "the Elements node at {} keeps no transaction index, which the platform needs to              check payments on chain: set txindex=1 in its elements.conf and restart it (once              with -reindex if it has run without it)",
            rpc.url()
        )));
    }
    let created = ensure_wallet(rpc, PLATFORM_WALLET).await?;
    let platform = rpc.wallet(PLATFORM_WALLET);
    if policy_balance(&platform, PLATFORM_WALLET).await? == 0 {
        let address = platform
            .get_new_address(None)
            .await
            .map_err(rpc_error("getnewaddress (platform)"))?;
        tracing::warn!(
            created,
            %address,
            "the node's '{PLATFORM_WALLET}' wallet holds no L-BTC: issuances will answer 503 \
             until it is funded; send L-BTC for fees to this address"
        );
    }
    Ok(())
}

/// Makes sure the wallet `name` exists and is loaded; returns whether it was just created.
pub async fn ensure_wallet(rpc: &ElementsRpc, name: &str) -> Result<bool, ServerError> {
    let loaded = rpc.list_wallets().await.map_err(rpc_error("listwallets"))?;
    if loaded.iter().any(|w| w == name) {
        return Ok(false);
    }
    match rpc.load_wallet(name).await {
        Ok(_) => return Ok(false),
        Err(e) if e.is_wallet_already_loaded() => return Ok(false),
        Err(e) if e.is_wallet_not_found() => {}
        Err(e) => return Err(ServerError::Node(format!("loadwallet {name}: {e}"))),
    }
    match rpc.create_wallet(name).await {
        Ok(_) => {
            tracing::info!(wallet = name, "created node wallet");
            Ok(true)
        }
        Err(e) if e.is_wallet_already_loaded() => Ok(false),
        Err(e) => Err(ServerError::Node(format!("createwallet {name}: {e}"))),
    }
}

/// L-BTC of `wallet`, counting unconfirmed receipts (so a restart before the top-up confirms
/// does not send another one).
async fn policy_balance(wallet: &ElementsRpc, name: &str) -> Result<i64, ServerError> {
    let info = wallet
        .get_wallet_info()
        .await
        .map_err(|e| ServerError::Node(format!("getwalletinfo ({name}): {e}")))?;
    let units = |amounts: &amphora_rpc::types::AssetAmounts| {
        amounts.get(POLICY_LABEL).map(|a| a.units()).unwrap_or(0)
    };
    Ok(units(&info.balance) + units(&info.unconfirmed_balance))
}

/// Idempotent on every start: `platform` and `treasury` exist and are loaded, the genesis free
/// coins are claimed into `platform` when it is created, and `treasury` holds L-BTC for fees.
/// Returns a fresh treasury address.
async fn provision_wallets(rpc: &ElementsRpc) -> Result<String, ServerError> {
    let platform = rpc.wallet(PLATFORM_WALLET);
    let treasury = rpc.wallet(TREASURY_WALLET);
    if ensure_wallet(rpc, PLATFORM_WALLET).await? {
        platform
            .rescan_blockchain()
            .await
            .map_err(rpc_error("rescanblockchain (platform)"))?;
        tracing::info!("claimed the chain's free coins into the platform wallet");
    }
    ensure_wallet(rpc, TREASURY_WALLET).await?;
    let address = treasury
        .get_new_address(None)
        .await
        .map_err(rpc_error("getnewaddress (treasury)"))?;
    let held = policy_balance(&treasury, TREASURY_WALLET).await?;
    if held < TREASURY_MIN_LBTC * SATS_PER_LBTC {
        let available = policy_balance(&platform, PLATFORM_WALLET).await?;
        let top_up = TREASURY_TOP_UP_LBTC * SATS_PER_LBTC;
        if available > top_up {
            let txid = platform
                .send_to_address(&address, Amount::from_units(top_up), None)
                .await
                .map_err(rpc_error("funding the treasury wallet"))?;
            tracing::info!(%txid, "sent {TREASURY_TOP_UP_LBTC} L-BTC to the treasury wallet");
        } else {
            tracing::warn!(
                "the platform wallet holds too little L-BTC to fund the treasury wallet"
            );
        }
    }
    Ok(address)
}
