//! Layered configuration for `amphora serve` and `amphora migrate`: defaults in code → optional
//! TOML file (`--config`) → `AMPHORA_*` environment variables → command-line flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use amphora_core::Network;
use amphora_server::Config;
use clap::Args;
use figment::providers::{Format, Serialized, Toml};
use figment::value::Value;
use figment::Figment;

/// How an environment variable's text becomes a configuration value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Always a string (secrets and names stay strings even if they look numeric).
    Text,
    /// Parsed: numbers and booleans.
    Parsed,
    /// A comma-separated list of strings.
    List,
}

use Kind::{List, Parsed, Text};

/// Environment variables read (with the `AMPHORA_` prefix), the config key each sets, and how
/// the value is read.
const ENV_KEYS: &[(&str, &str, Kind)] = &[
    ("listen", "listen", Text),
    ("data_dir", "data_dir", Text),
    ("database_url", "database_url", Text),
    ("network", "network", Text),
    ("token_lifetime_secs", "token_lifetime_secs", Parsed),
    ("issuer_username", "issuer_username", Text),
    ("issuer_password", "issuer_password", Text),
    ("key_passphrase", "key_passphrase", Text),
    ("login_max_failures", "login_max_failures", Parsed),
    ("login_window_secs", "login_window_secs", Parsed),
    ("elements_url", "node.elements_url", Text),
    ("node_rpc_listen", "node.rpc_listen", Text),
    ("node_rpc_user", "node.rpc_user", Text),
    ("node_rpc_password", "node.rpc_password", Text),
    ("block_interval_secs", "node.block_interval_secs", Parsed),
    (
        "database_max_connections",
        "database_max_connections",
        Parsed,
    ),
    (
        "database_statement_timeout_ms",
        "database_statement_timeout_ms",
        Parsed,
    ),
    ("registry_url", "registry.url", Text),
    ("registry_proof_base_url", "registry.proof_base_url", Text),
    ("authorizer_timeout_ms", "authorizer_timeout_ms", Parsed),
    ("trusted_proxies", "trusted_proxies", List),
    ("public_url", "public_url", Text),
    (
        "login_max_concurrent_verifications",
        "login_max_concurrent_verifications",
        Parsed,
    ),
    ("amp2_address_per_minute", "amp2_address_per_minute", Parsed),
    ("amp2_address_burst", "amp2_address_burst", Parsed),
    ("amp2_wallet_per_minute", "amp2_wallet_per_minute", Parsed),
    ("amp2_wallet_burst", "amp2_wallet_burst", Parsed),
    ("allow_private_outbound", "allow_private_outbound", Parsed),
    ("follower_lease_ttl_ms", "follower_lease_ttl_ms", Parsed),
    ("issuance_lease_ttl_ms", "issuance_lease_ttl_ms", Parsed),
    (
        "issuance_recovery_interval_ms",
        "issuance_recovery_interval_ms",
        Parsed,
    ),
    (
        "webhook_poll_interval_ms",
        "webhooks.poll_interval_ms",
        Parsed,
    ),
    ("webhook_lease_ttl_ms", "webhooks.lease_ttl_ms", Parsed),
    ("webhook_retry_base_ms", "webhooks.retry_base_ms", Parsed),
];

/// Flags shared by the commands that run against the platform's data.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// TOML configuration file (keys as in the README).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Data directory [default: ./amphora-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite:<path> or postgres://… [default: SQLite file in the data dir].
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Liquid network: liquidregtest (default), liquidtestnet or liquidv1.
    #[arg(long, value_name = "NETWORK")]
    pub network: Option<Network>,
    /// JSON-RPC URL of an Elements Core node (http://user:pass@host:port); without it the
    /// embedded liquidregtest node runs in-process.
    #[arg(long, value_name = "URL")]
    pub elements_url: Option<String>,
    /// Address of the embedded node's JSON-RPC server [default: 127.0.0.1:18884].
    #[arg(long, value_name = "ADDR")]
    pub node_rpc_listen: Option<SocketAddr>,
    /// The embedded node mines a block every this many seconds while a transaction has fewer
    /// than 2 confirmations; 0 mines at once, without waiting [default: 2].
    #[arg(long, value_name = "SECONDS")]
    pub block_interval: Option<u64>,
    /// Most database connections of this process [default: 16].
    #[arg(long, value_name = "N")]
    pub database_max_connections: Option<u32>,
    /// PostgreSQL statement timeout in milliseconds, 0 for none [default: 30000].
    #[arg(long, value_name = "MS")]
    pub database_statement_timeout_ms: Option<u64>,
    /// Asset registry receiving registrations (URL, or `own` for the platform's own registry
    /// at /registry) [default: Blockstream's for the network; own on liquidregtest].
    #[arg(long, value_name = "URL")]
    pub registry_url: Option<String>,
    /// Proxies whose X-Forwarded-* headers are believed: IPs or CIDR networks, comma-separated
    /// [default: none].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// The platform's public root URL, written into confirm files as `<URL>/api/{}`
    /// [default: the request's origin].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Let issuer authorization endpoints and domain proofs be fetched from loopback, private
    /// and link-local addresses [default: true on liquidregtest, false otherwise].
    #[arg(long, value_name = "BOOL")]
    pub allow_private_outbound: Option<bool>,
}

/// Errors resolving the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The `--config` file does not exist.
    #[error("configuration file {0} not found")]
    MissingFile(PathBuf),
    /// A value is invalid.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

impl ConfigArgs {
    /// Resolves the configuration from all layers, with `env` as the environment (so tests do
    /// not depend on the process environment).
    pub fn resolve_with_env(
        &self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &self.config {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.clone()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let env: Vec<(String, String)> = env.into_iter().collect();
        for (name, key, kind) in ENV_KEYS {
            let var = format!("AMPHORA_{}", name.to_ascii_uppercase());
            if let Some((_, value)) = env.iter().find(|(k, _)| *k == var) {
                let value = match kind {
                    Text => Value::from(value.clone()),
                    Parsed => value.parse::<Value>().unwrap_or_else(|e| match e {}),
                    List => Value::from(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|v| !v.is_empty())
                            .map(String::from)
                            .collect::<Vec<_>>(),
                    ),
                };
                figment = figment.merge(Serialized::default(key, value));
            }
        }
        if let Some(listen) = self.listen {
            figment = figment.merge(Serialized::default("listen", listen));
        }
        if let Some(dir) = &self.data_dir {
            figment = figment.merge(Serialized::default("data_dir", dir));
        }
        if let Some(url) = &self.database_url {
            figment = figment.merge(Serialized::default("database_url", url));
        }
        if let Some(network) = self.network {
            figment = figment.merge(Serialized::default("network", network));
        }
        if let Some(url) = &self.elements_url {
            figment = figment.merge(Serialized::default("node.elements_url", url));
        }
        if let Some(addr) = self.node_rpc_listen {
            figment = figment.merge(Serialized::default("node.rpc_listen", addr));
        }
        if let Some(secs) = self.block_interval {
            figment = figment.merge(Serialized::default("node.block_interval_secs", secs));
        }
        if let Some(n) = self.database_max_connections {
            figment = figment.merge(Serialized::default("database_max_connections", n));
        }
        if let Some(ms) = self.database_statement_timeout_ms {
            figment = figment.merge(Serialized::default("database_statement_timeout_ms", ms));
        }
        if let Some(url) = &self.registry_url {
            figment = figment.merge(Serialized::default("registry.url", url));
        }
        if let Some(proxies) = &self.trusted_proxies {
            figment = figment.merge(Serialized::default("trusted_proxies", proxies));
        }
        if let Some(url) = &self.public_url {
            figment = figment.merge(Serialized::default("public_url", url));
        }
        if let Some(allow) = self.allow_private_outbound {
            figment = figment.merge(Serialized::default("allow_private_outbound", allow));
        }
        figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    /// Resolves the configuration with the process environment.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        self.resolve_with_env(std::env::vars())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_apply_with_nothing_configured() {
        let config = ConfigArgs::default().resolve_with_env(env(&[])).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./amphora-data"));
        assert_eq!(config.network, Network::LiquidRegtest);
        assert!(config.database_url.is_none());
        assert_eq!(config.node.rpc_listen.to_string(), "127.0.0.1:18884");
        assert_eq!(config.node.rpc_user, "amphora");
        assert_eq!(config.node.block_interval_secs, 2);
    }

    #[test]
    fn embedded_node_settings_from_env_and_flags() {
        let environment = env(&[
            ("AMPHORA_NODE_RPC_LISTEN", "127.0.0.1:19000"),
            ("AMPHORA_NODE_RPC_USER", "alice"),
            ("AMPHORA_NODE_RPC_PASSWORD", "123456"),
            ("AMPHORA_BLOCK_INTERVAL_SECS", "7"),
        ]);
        let config = ConfigArgs::default()
            .resolve_with_env(environment.clone())
            .unwrap();
        assert_eq!(config.node.rpc_listen.port(), 19000);
        assert_eq!(config.node.rpc_user, "alice");
        assert_eq!(config.node.rpc_password.unwrap().expose(), "123456");
        assert_eq!(config.node.block_interval_secs, 7);
        let args = ConfigArgs {
            node_rpc_listen: Some("127.0.0.1:0".parse().unwrap()),
            block_interval: Some(1),
            ..ConfigArgs::default()
        };
        let config = args.resolve_with_env(environment).unwrap();
        assert_eq!(config.node.rpc_listen.port(), 0);
        assert_eq!(config.node.block_interval_secs, 1);
    }

    #[test]
    fn database_pool_and_registry_settings_from_env_and_flags() {
        let environment = env(&[
            ("AMPHORA_DATABASE_MAX_CONNECTIONS", "5"),
            ("AMPHORA_DATABASE_STATEMENT_TIMEOUT_MS", "2500"),
            ("AMPHORA_REGISTRY_URL", "https://registry.example"),
            (
                "AMPHORA_REGISTRY_PROOF_BASE_URL",
                "http://127.0.0.1:9/{domain}",
            ),
        ]);
        let config = ConfigArgs::default()
            .resolve_with_env(environment.clone())
            .unwrap();
        assert_eq!(config.database_max_connections, 5);
        assert_eq!(config.database_statement_timeout_ms, 2500);
        assert_eq!(
            config.registry.url.as_deref(),
            Some("https://registry.example")
        );
        assert_eq!(
            config.registry.proof_base_url.as_deref(),
            Some("http://127.0.0.1:9/{domain}")
        );
        let args = ConfigArgs {
            database_max_connections: Some(3),
            database_statement_timeout_ms: Some(0),
            registry_url: Some("own".into()),
            ..ConfigArgs::default()
        };
        let config = args.resolve_with_env(environment).unwrap();
        assert_eq!(config.database_max_connections, 3);
        assert_eq!(config.pool_settings().statement_timeout, None);
        assert_eq!(config.registry.url.as_deref(), Some("own"));
    }

    #[test]
    fn webhook_settings_from_env() {
        let environment = env(&[
            ("AMPHORA_WEBHOOK_POLL_INTERVAL_MS", "50"),
            ("AMPHORA_WEBHOOK_LEASE_TTL_MS", "20000"),
            ("AMPHORA_WEBHOOK_RETRY_BASE_MS", "5"),
        ]);
        let config = ConfigArgs::default().resolve_with_env(environment).unwrap();
        let settings =
            amphora_server::webhooks::WebhookSettings::resolve(&config.webhooks).unwrap();
        assert_eq!(settings.poll_interval.as_millis(), 50);
        assert_eq!(settings.lease_ttl.as_millis(), 20_000);
        assert_eq!(settings.schedule.base.as_millis(), 5);
    }

    #[test]
    fn lease_settings_from_env() {
        let environment = env(&[
            ("AMPHORA_FOLLOWER_LEASE_TTL_MS", "2000"),
            ("AMPHORA_ISSUANCE_LEASE_TTL_MS", "3000"),
            ("AMPHORA_ISSUANCE_RECOVERY_INTERVAL_MS", "500"),
        ]);
        let config = ConfigArgs::default().resolve_with_env(environment).unwrap();
        let leases = config.lease_settings().unwrap();
        assert_eq!(leases.follower_lease_ttl.as_millis(), 2000);
        assert_eq!(leases.issuance.ttl.as_millis(), 3000);
        assert_eq!(leases.issuance.recovery_interval.as_millis(), 500);
        let short = env(&[("AMPHORA_FOLLOWER_LEASE_TTL_MS", "10")]);
        let config = ConfigArgs::default().resolve_with_env(short).unwrap();
        assert!(config.lease_settings().is_err());
    }

    #[test]
    fn security_settings_from_file_env_and_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("amphora.toml");
        std::fs::write(
            &file,
            "trusted_proxies = [\"10.0.0.0/8\"]\namp2_wallet_burst = 3\n\
             allow_private_outbound = false\n",
        )
        .unwrap();
        let args = ConfigArgs {
            config: Some(file),
            ..ConfigArgs::default()
        };
        let config = args.resolve_with_env(env(&[])).unwrap();
        assert_eq!(config.trusted_proxies, ["10.0.0.0/8"]);
        assert_eq!(config.amp2_wallet_burst, 3);
        assert_eq!(config.allow_private_outbound, Some(false));
        let environment = env(&[
            ("AMPHORA_TRUSTED_PROXIES", "10.1.0.0/16, ::1"),
            ("AMPHORA_LOGIN_MAX_CONCURRENT_VERIFICATIONS", "2"),
            ("AMPHORA_AMP2_ADDRESS_PER_MINUTE", "50"),
            ("AMPHORA_AMP2_ADDRESS_BURST", "7"),
            ("AMPHORA_AMP2_WALLET_PER_MINUTE", "9"),
            ("AMPHORA_ALLOW_PRIVATE_OUTBOUND", "true"),
            ("AMPHORA_PUBLIC_URL", "https://amp.example.com/"),
        ]);
        let config = args.resolve_with_env(environment.clone()).unwrap();
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://amp.example.com/")
        );
        assert_eq!(
            config.security_settings().unwrap().public_url.as_deref(),
            Some("https://amp.example.com")
        );
        assert_eq!(config.trusted_proxies, ["10.1.0.0/16", "::1"]);
        assert_eq!(config.login_max_concurrent_verifications, 2);
        assert_eq!(
            (
                config.amp2_address_per_minute,
                config.amp2_address_burst,
                config.amp2_wallet_per_minute,
                config.amp2_wallet_burst
            ),
            (50, 7, 9, 3)
        );
        assert_eq!(config.allow_private_outbound, Some(true));
        let settings = config.security_settings().unwrap();
        assert!(settings.trusted_proxies.contains("::1".parse().unwrap()));
        let args = ConfigArgs {
            trusted_proxies: Some(vec!["192.0.2.1".into()]),
            allow_private_outbound: Some(false),
            public_url: Some("ftp://nowhere".into()),
            ..args
        };
        let config = args.resolve_with_env(environment).unwrap();
        assert_eq!(config.public_url.as_deref(), Some("ftp://nowhere"));
        let refused = config.security_settings().unwrap_err();
        assert!(refused.contains("public_url"), "{refused}");
        assert_eq!(config.trusted_proxies, ["192.0.2.1"]);
        assert_eq!(config.allow_private_outbound, Some(false));

        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: ConfigArgs,
        }
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "amphora",
            "--trusted-proxies",
            "10.0.0.0/8,::1",
            "--allow-private-outbound",
            "false",
        ])
        .unwrap();
        assert_eq!(
            cli.args.trusted_proxies.as_deref(),
            Some(&["10.0.0.0/8".to_string(), "::1".to_string()][..])
        );
        assert_eq!(cli.args.allow_private_outbound, Some(false));
    }

    #[test]
    fn layers_override_in_order_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("amphora.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nnetwork = \"liquidtestnet\"\ndata_dir = \"/from/file\"\n\
             issuer_username = \"file-user\"\n[node]\nelements_url = \"http://file\"\n",
        )
        .unwrap();
        let args = ConfigArgs {
            config: Some(file.clone()),
            ..ConfigArgs::default()
        };
        let config = args.resolve_with_env(env(&[])).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.network, Network::LiquidTestnet);
        assert_eq!(config.issuer_username.as_deref(), Some("file-user"));
        assert_eq!(
            config.node.elements_url.as_ref().unwrap().expose(),
            "http://file"
        );

        let environment = env(&[
            ("AMPHORA_LISTEN", "127.0.0.1:9100"),
            ("AMPHORA_DATA_DIR", "/from/env"),
            ("AMPHORA_ISSUER_PASSWORD", "12345678901"),
            ("AMPHORA_ELEMENTS_URL", "http://env"),
            ("AMPHORA_TOKEN_LIFETIME_SECS", "3600"),
            ("AMPHORA_TEST_DATABASE_URL", "ignored"),
        ]);
        let config = args.resolve_with_env(environment.clone()).unwrap();
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.data_dir, PathBuf::from("/from/env"));
        // numeric-looking secrets stay strings
        assert_eq!(config.issuer_password.unwrap().expose(), "12345678901");
        assert_eq!(config.node.elements_url.unwrap().expose(), "http://env");
        assert_eq!(config.token_lifetime_secs, 3600);

        let args = ConfigArgs {
            listen: Some("127.0.0.1:9200".parse().unwrap()),
            data_dir: Some(PathBuf::from("/from/flag")),
            network: Some(Network::LiquidV1),
            ..args
        };
        let config = args.resolve_with_env(environment).unwrap();
        assert_eq!(config.listen.port(), 9200);
        assert_eq!(config.data_dir, PathBuf::from("/from/flag"));
        assert_eq!(config.network, Network::LiquidV1);
    }

    #[test]
    fn bad_values_and_missing_files_are_reported() {
        let err = ConfigArgs::default()
            .resolve_with_env(env(&[("AMPHORA_NETWORK", "bitcoin")]))
            .unwrap_err();
        assert!(err.to_string().contains("network"), "{err}");
        let args = ConfigArgs {
            config: Some(PathBuf::from("/nonexistent/amphora.toml")),
            ..ConfigArgs::default()
        };
        assert!(matches!(
            args.resolve_with_env(env(&[])),
            Err(ConfigError::MissingFile(_))
        ));
    }
}
