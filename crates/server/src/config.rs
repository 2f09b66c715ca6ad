//! The resolved configuration of `amphora serve`.
//!
//! The CLI layers it (defaults in code → optional TOML file → `AMPHORA_*` environment → flags)
//! and hands the result to [`crate::serve`]. Secrets are held in [`Secret`], whose `Debug`
//! never shows the value.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use amphora_core::Network;
use serde::{Deserialize, Serialize};

/// Configuration of the platform server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP server listens on; the AMP API is served under `/api`.
    pub listen: SocketAddr,
    /// Directory for the SQLite database, the platform key and other local state.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite:<path>` or `postgres://…`. Default: `<data_dir>/amphora.db`.
    pub database_url: Option<Secret>,
    /// Liquid network the platform runs on.
    pub network: Network,
    /// Lifetime of API tokens, in seconds.
    pub token_lifetime_secs: u64,
    /// Failed logins allowed per username and per client address within
    /// `login_window_secs` before further logins get 429.
    pub login_max_failures: usize,
    /// Length of the failed-login window, in seconds.
    pub login_window_secs: u64,
    /// Username of the issuer account created on first start (default `issuer`).
    pub issuer_username: Option<String>,
    /// Password of the issuer account created on first start (default: generated and printed
    /// once).
    pub issuer_password: Option<Secret>,
    /// Passphrase encrypting the platform key file. Required on `liquidv1`; on test networks a
    /// generated passphrase is kept beside the key when none is configured.
    pub key_passphrase: Option<Secret>,
    /// The chain backend.
    pub node: NodeConfig,
    /// How long an issuer authorization endpoint has to answer a co-signing request, in
    /// milliseconds; no answer in time refuses the transfer.
    pub authorizer_timeout_ms: u64,
}

/// Default address of the embedded node's JSON-RPC server.
pub const DEFAULT_NODE_RPC_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 18884);

/// Default RPC user of the embedded node.
pub const DEFAULT_NODE_RPC_USER: &str = "amphora";

/// How the platform reaches the Liquid chain: an Elements Core node at `elements_url`, or,
/// without one (liquidregtest only), the embedded regtest node started in-process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeConfig {
    /// JSON-RPC URL of an Elements Core node (`http://user:pass@host:port`). When set, no
    /// embedded node starts.
    pub elements_url: Option<Secret>,
    /// Address the embedded node's JSON-RPC server listens on.
    pub rpc_listen: SocketAddr,
    /// RPC user of the embedded node.
    pub rpc_user: String,
    /// RPC password of the embedded node (default: generated on first start and kept in
    /// `<data_dir>/regtest/rpc-password`, mode 0600).
    pub rpc_password: Option<Secret>,
    /// The embedded node mines a block every this many seconds while a transaction has fewer
    /// than 2 confirmations, and stays idle otherwise.
    pub block_interval_secs: u64,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            elements_url: None,
            rpc_listen: DEFAULT_NODE_RPC_LISTEN,
            rpc_user: DEFAULT_NODE_RPC_USER.to_string(),
            rpc_password: None,
            block_interval_secs: 2,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./amphora-data"),
            database_url: None,
            network: Network::LiquidRegtest,
            token_lifetime_secs: 24 * 60 * 60,
            login_max_failures: 5,
            login_window_secs: 300,
            issuer_username: None,
            issuer_password: None,
            key_passphrase: None,
            node: NodeConfig::default(),
            authorizer_timeout_ms: 5_000,
        }
    }
}

impl Config {
    /// The database URL: the configured one, or a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_string(),
            None => format!("sqlite:{}", self.data_dir.join("amphora.db").display()),
        }
    }

    /// Lifetime of API tokens.
    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(self.token_lifetime_secs)
    }

    /// The failed-login limits.
    pub fn login_limits(&self) -> crate::login_limit::LoginLimits {
        crate::login_limit::LoginLimits {
            max_failures: self.login_max_failures,
            window: Duration::from_secs(self.login_window_secs),
        }
    }

    /// The encrypted platform key file.
    pub fn key_path(&self) -> PathBuf {
        self.data_dir.join("platform-key.json")
    }

    /// Where a generated key passphrase is kept on test networks.
    pub fn generated_passphrase_path(&self) -> PathBuf {
        self.data_dir.join("platform-key.passphrase")
    }

    /// Data directory of the embedded regtest node.
    pub fn regtest_dir(&self) -> PathBuf {
        self.data_dir.join("regtest")
    }

    /// Where the embedded node's generated RPC password is kept.
    pub fn node_rpc_password_path(&self) -> PathBuf {
        self.regtest_dir().join("rpc-password")
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// A configuration value that must never be printed or logged (passwords, passphrases, URLs
/// with credentials).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value; only for the code that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_derived_paths() {
        let config = Config::default();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url(), "sqlite:./amphora-data/amphora.db");
        assert_eq!(config.token_lifetime(), Duration::from_secs(86400));
        assert_eq!(config.network, Network::LiquidRegtest);
        let limits = config.login_limits();
        assert_eq!(limits.max_failures, 5);
        assert_eq!(limits.window, Duration::from_secs(300));
        assert_eq!(config.node.rpc_listen.to_string(), "127.0.0.1:18884");
        assert_eq!(config.node.rpc_user, "amphora");
        assert_eq!(config.node.block_interval_secs, 2);
        assert!(config.node.elements_url.is_none() && config.node.rpc_password.is_none());
        assert_eq!(
            config.node_rpc_password_path(),
            PathBuf::from("./amphora-data/regtest/rpc-password")
        );
    }

    #[test]
    fn secrets_are_not_shown_by_debug() {
        let config = Config {
            issuer_password: Some("hunter2hunter2".into()),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
