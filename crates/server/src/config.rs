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
    /// Most database connections this process opens (per replica: PostgreSQL's
    /// `max_connections` must cover the sum over all replicas).
    pub database_max_connections: u32,
    /// PostgreSQL `statement_timeout` of every connection, in milliseconds (0: the server's
    /// default, usually none). Ignored on SQLite.
    pub database_statement_timeout_ms: u64,
    /// The asset registry that `GET /api/assets/{u}/register` submits contracts to.
    pub registry: RegistryConfig,
    /// How long an issuer authorization endpoint has to answer a co-signing request, in
    /// milliseconds; no answer in time refuses the transfer.
    pub authorizer_timeout_ms: u64,
    /// Proxies (IP addresses or CIDR networks) whose `X-Forwarded-For`, `X-Forwarded-Proto`
    /// and `X-Forwarded-Host` are believed; from any other peer they are ignored.
    pub trusted_proxies: Vec<String>,
    /// The platform's public root URL (`https://amp.example.com`, optionally with a path
    /// prefix): the confirm files' `base_url` is `<public_url>/api/{}` whatever the request's
    /// `Host` or forwarding headers say. Without it the request's origin is used.
    pub public_url: Option<String>,
    /// Password verifications (argon2) running at once; a login beyond them is answered 503
    /// with `Retry-After` at once instead of waiting.
    pub login_max_concurrent_verifications: usize,
    /// Requests a minute per client address to `/amp2/wallets/register` and
    /// `/amp2/wallets/sign` together (on average; see `amp2_address_burst`).
    pub amp2_address_per_minute: u32,
    /// Requests a client address may send at once to those endpoints.
    pub amp2_address_burst: u32,
    /// Requests a minute per wallet (the registering or the sending wallet).
    pub amp2_wallet_per_minute: u32,
    /// Requests a wallet may send at once.
    pub amp2_wallet_burst: u32,
    /// Let the platform connect to loopback, private and link-local addresses when it calls
    /// issuer authorization endpoints and reads domain proofs. Default: on liquidregtest only.
    pub allow_private_outbound: Option<bool>,
    /// How long the chain follower's lease lasts without a renewal, in milliseconds: after a
    /// crash of the replica that held it, another (or the restarted one) indexes once it ran
    /// out.
    pub follower_lease_ttl_ms: u64,
    /// How long an issuance stays its replica's without a renewal, in milliseconds: an
    /// issuance interrupted by a crash is finished by recovery once it ran out.
    pub issuance_lease_ttl_ms: u64,
    /// How often each replica looks for interrupted issuances, in milliseconds.
    pub issuance_recovery_interval_ms: u64,
    /// Webhook delivery (the `[webhooks]` section).
    pub webhooks: crate::webhooks::WebhookConfig,
}

/// Shortest lease a setting may ask for (the follower renews its lease every poll, at most
/// every 500 ms; an issuance every third of its lease).
pub const MIN_LEASE_TTL_MS: u64 = 1_000;

/// The leases and recovery timing in effect, resolved from a [`Config`] and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseSettings {
    /// The chain follower's lease.
    pub follower_lease_ttl: Duration,
    /// Each issuance's lease and how often recovery looks for orphaned ones.
    pub issuance: crate::issuance::IssuanceLeases,
}

/// The security settings in effect, resolved from a [`Config`] and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuritySettings {
    /// Whose forwarding headers are believed.
    pub trusted_proxies: crate::forwarded::TrustedProxies,
    /// The configured public root URL, checked, without a trailing slash.
    pub public_url: Option<String>,
    /// Password verifications running at once (at least 1).
    pub login_max_concurrent_verifications: usize,
    /// Rate limits of the anonymous AMP2 endpoints.
    pub amp2_limits: crate::rate_limit::Amp2Limits,
    /// What outbound calls to issuer-chosen targets may reach.
    pub outbound: crate::outbound::OutboundPolicy,
}

/// Default of `login_max_concurrent_verifications`.
pub const DEFAULT_LOGIN_VERIFICATIONS: usize = 4;

impl SecuritySettings {
    /// The defaults on `network`: no trusted proxy, 4 verifications at once, the default
    /// AMP2 limits, private outbound only on liquidregtest.
    pub fn defaults_for(network: Network) -> Self {
        SecuritySettings {
            trusted_proxies: Default::default(),
            public_url: None,
            login_max_concurrent_verifications: DEFAULT_LOGIN_VERIFICATIONS,
            amp2_limits: Default::default(),
            outbound: crate::outbound::OutboundPolicy {
                allow_private: network == Network::LiquidRegtest,
            },
        }
    }
}

/// Where asset registrations go and where domain proofs are fetched from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistryConfig {
    /// Registry contracts are submitted to (`POST {url}` with `{asset_id, contract}`, as
    /// Blockstream's asset registry takes them), or `own` for the platform's own registry,
    /// served at `/registry/{asset_id}`. Default: Blockstream's public registry of the network
    /// (`https://assets.blockstream.info/` on liquidv1, `https://assets-testnet.blockstream.info/`
    /// on liquidtestnet), the platform's own on liquidregtest.
    pub url: Option<String>,
    /// Base URL domain proofs are fetched from instead of `https://{domain}` (for staging and
    /// tests); `{domain}` in it is replaced by the asset's domain. The proof is read at
    /// `{base}/.well-known/liquid-asset-proof-{asset_id}`.
    pub proof_base_url: Option<String>,
}

/// Registry URL of Blockstream's public Liquid (mainnet) asset registry.
pub const BLOCKSTREAM_REGISTRY: &str = "https://assets.blockstream.info/";
/// Registry URL of Blockstream's public Liquid testnet asset registry.
pub const BLOCKSTREAM_TESTNET_REGISTRY: &str = "https://assets-testnet.blockstream.info/";

/// Where the platform registers assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryTarget {
    /// The platform's own registry (`/registry/{asset_id}`).
    Own,
    /// An external registry at this URL (no trailing slash).
    Remote(String),
}

/// The registry settings in effect: a [`RegistryConfig`] resolved for a network and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySettings {
    /// Where registrations go.
    pub target: RegistryTarget,
    /// Base URL of domain proofs (no trailing slash); `{domain}` is replaced.
    pub proof_base_url: String,
}

impl RegistrySettings {
    /// Resolves `config` for `network`; an invalid URL is an error naming the setting.
    pub fn resolve(config: &RegistryConfig, network: Network) -> Result<Self, String> {
        let target = match config.url.as_deref().map(str::trim) {
            Some("own") => RegistryTarget::Own,
            Some(url) => RegistryTarget::Remote(check_http_url("registry.url", url)?),
            None => match network {
                Network::LiquidV1 => {
                    RegistryTarget::Remote(BLOCKSTREAM_REGISTRY.trim_end_matches('/').to_string())
                }
                Network::LiquidTestnet => RegistryTarget::Remote(
                    BLOCKSTREAM_TESTNET_REGISTRY
                        .trim_end_matches('/')
                        .to_string(),
                ),
                Network::LiquidRegtest => RegistryTarget::Own,
            },
        };
        let proof_base_url = match config.proof_base_url.as_deref() {
            Some(base) => check_http_url("registry.proof_base_url", base)?,
            None => "https://{domain}".to_string(),
        };
        Ok(RegistrySettings {
            target,
            proof_base_url,
        })
    }

    /// Where the domain proof of `asset_id` on `domain` is read.
    pub fn proof_url(&self, domain: &str, asset_id: &str) -> String {
        format!(
            "{}/.well-known/liquid-asset-proof-{asset_id}",
            self.proof_base_url.replace("{domain}", domain)
        )
    }
}

/// An `http(s)://…` URL without its trailing slashes, or an error naming `setting`.
fn check_http_url(setting: &str, url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.chars().any(char::is_whitespace) => {
            Ok(trimmed.to_string())
        }
        _ => Err(format!(
            "{setting} must be an http:// or https:// URL (or `own` for registry.url), got '{url}'"
        )),
    }
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
    /// than 2 confirmations, and stays idle otherwise; 0 mines at once (a block as soon as a
    /// transaction enters the mempool, the next right after, until 2 confirmations).
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
            database_max_connections: 16,
            database_statement_timeout_ms: 30_000,
            registry: RegistryConfig::default(),
            authorizer_timeout_ms: 5_000,
            trusted_proxies: Vec::new(),
            public_url: None,
            login_max_concurrent_verifications: DEFAULT_LOGIN_VERIFICATIONS,
            amp2_address_per_minute: 300,
            amp2_address_burst: 100,
            amp2_wallet_per_minute: 60,
            amp2_wallet_burst: 20,
            allow_private_outbound: None,
            follower_lease_ttl_ms: 10_000,
            issuance_lease_ttl_ms: 30_000,
            issuance_recovery_interval_ms: 15_000,
            webhooks: Default::default(),
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

    /// The database pool settings (pool size, statement timeout).
    pub fn pool_settings(&self) -> amphora_store::PoolSettings {
        amphora_store::PoolSettings {
            max_connections: self.database_max_connections,
            statement_timeout: (self.database_statement_timeout_ms > 0)
                .then(|| Duration::from_millis(self.database_statement_timeout_ms)),
            ..amphora_store::PoolSettings::default()
        }
    }

    /// The registry settings for the configured network.
    pub fn registry_settings(&self) -> Result<RegistrySettings, String> {
        RegistrySettings::resolve(&self.registry, self.network)
    }

    /// The security settings; an invalid value is an error naming the setting.
    pub fn security_settings(&self) -> Result<SecuritySettings, String> {
        use crate::rate_limit::{Amp2Limiter, Amp2Limits, Rate};
        let trusted_proxies = crate::forwarded::TrustedProxies::parse(&self.trusted_proxies)?;
        let public_url = self
            .public_url
            .as_deref()
            .map(crate::forwarded::check_public_url)
            .transpose()?;
        if self.login_max_concurrent_verifications == 0 {
            return Err("login_max_concurrent_verifications must be at least 1".into());
        }
        let amp2_limits = Amp2Limits {
            per_address: Rate {
                per_minute: self.amp2_address_per_minute,
                burst: self.amp2_address_burst,
            },
            per_wallet: Rate {
                per_minute: self.amp2_wallet_per_minute,
                burst: self.amp2_wallet_burst,
            },
        };
        Amp2Limiter::new(amp2_limits).map_err(|e| format!("amp2 rate limits: {e}"))?;
        let defaults = SecuritySettings::defaults_for(self.network);
        Ok(SecuritySettings {
            trusted_proxies,
            public_url,
            login_max_concurrent_verifications: self.login_max_concurrent_verifications,
            amp2_limits,
            outbound: crate::outbound::OutboundPolicy {
                allow_private: self
                    .allow_private_outbound
                    .unwrap_or(defaults.outbound.allow_private),
            },
        })
    }

    /// The lease settings; a lease shorter than [`MIN_LEASE_TTL_MS`] or a zero recovery
    /// interval is an error naming the setting.
    pub fn lease_settings(&self) -> Result<LeaseSettings, String> {
        for (name, value) in [
            ("follower_lease_ttl_ms", self.follower_lease_ttl_ms),
            ("issuance_lease_ttl_ms", self.issuance_lease_ttl_ms),
        ] {
            if value < MIN_LEASE_TTL_MS {
                return Err(format!("{name} must be at least {MIN_LEASE_TTL_MS}"));
            }
        }
        if self.issuance_recovery_interval_ms == 0 {
            return Err("issuance_recovery_interval_ms must be at least 1".into());
        }
        Ok(LeaseSettings {
            follower_lease_ttl: Duration::from_millis(self.follower_lease_ttl_ms),
            issuance: crate::issuance::IssuanceLeases {
                ttl: Duration::from_millis(self.issuance_lease_ttl_ms),
                recovery_interval: Duration::from_millis(self.issuance_recovery_interval_ms),
            },
        })
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
    fn lease_settings_default_and_refuse_too_short_leases() {
        let leases = Config::default().lease_settings().unwrap();
        assert_eq!(leases.follower_lease_ttl, Duration::from_secs(10));
        assert_eq!(leases.issuance.ttl, Duration::from_secs(30));
        assert_eq!(leases.issuance.recovery_interval, Duration::from_secs(15));
        for setting in [
            "follower_lease_ttl_ms",
            "issuance_lease_ttl_ms",
            "issuance_recovery_interval_ms",
        ] {
            let mut bad = Config::default();
            *match setting {
                "follower_lease_ttl_ms" => &mut bad.follower_lease_ttl_ms,
                "issuance_lease_ttl_ms" => &mut bad.issuance_lease_ttl_ms,
                _ => &mut bad.issuance_recovery_interval_ms,
            } = if setting.ends_with("interval_ms") {
                0
            } else {
                999
            };
            let error = bad.lease_settings().unwrap_err();
            assert!(error.starts_with(setting), "{error}");
        }
    }

    #[test]
    fn pool_and_registry_settings() {
        let mut config = Config::default();
        let pool = config.pool_settings();
        assert_eq!(pool.max_connections, 16);
        assert_eq!(pool.statement_timeout, Some(Duration::from_secs(30)));
        config.database_statement_timeout_ms = 0;
        assert_eq!(config.pool_settings().statement_timeout, None);

        let own = config.registry_settings().unwrap();
        assert_eq!(own.target, RegistryTarget::Own);
        assert_eq!(
            own.proof_url("example.com", "ab"),
            "https://example.com/.well-known/liquid-asset-proof-ab"
        );
        config.network = Network::LiquidV1;
        assert_eq!(
            config.registry_settings().unwrap().target,
            RegistryTarget::Remote("https://assets.blockstream.info".into())
        );
        config.network = Network::LiquidTestnet;
        assert_eq!(
            config.registry_settings().unwrap().target,
            RegistryTarget::Remote("https://assets-testnet.blockstream.info".into())
        );
        config.registry = RegistryConfig {
            url: Some("own".into()),
            proof_base_url: Some("http://127.0.0.1:9/{domain}/".into()),
        };
        let settings = config.registry_settings().unwrap();
        assert_eq!(settings.target, RegistryTarget::Own);
        assert_eq!(
            settings.proof_url("example.com", "cd"),
            "http://127.0.0.1:9/example.com/.well-known/liquid-asset-proof-cd"
        );
        config.registry.url = Some("ftp://registry".into());
        let err = config.registry_settings().unwrap_err();
        assert!(err.contains("registry.url"), "{err}");
        config.registry.url = Some("http://".into());
        assert!(config.registry_settings().is_err());
    }

    #[test]
    fn security_settings_resolve_per_network_and_are_checked() {
        let mut config = Config::default();
        let settings = config.security_settings().unwrap();
        assert!(settings.outbound.allow_private);
        assert_eq!(settings.login_max_concurrent_verifications, 4);
        assert_eq!(
            settings.amp2_limits,
            crate::rate_limit::Amp2Limits::default()
        );
        config.network = Network::LiquidV1;
        assert!(!config.security_settings().unwrap().outbound.allow_private);
        config.allow_private_outbound = Some(true);
        assert!(config.security_settings().unwrap().outbound.allow_private);
        config.network = Network::LiquidRegtest;
        config.allow_private_outbound = Some(false);
        assert!(!config.security_settings().unwrap().outbound.allow_private);
        config.trusted_proxies = vec!["10.0.0.0/8".into(), "::1".into()];
        let settings = config.security_settings().unwrap();
        assert!(settings
            .trusted_proxies
            .contains("10.9.9.9".parse().unwrap()));
        config.trusted_proxies = vec!["ten".into()];
        assert!(config
            .security_settings()
            .unwrap_err()
            .contains("trusted_proxies"));
        config.trusted_proxies.clear();
        config.amp2_wallet_per_minute = 0;
        assert!(config.security_settings().unwrap_err().contains("amp2"));
        config.amp2_wallet_per_minute = 1;
        config.login_max_concurrent_verifications = 0;
        assert!(config.security_settings().is_err());
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
