//! Starting the platform: data directory, database and migrations, the first issuer account,
//! the platform key, the listener, the Elements node (embedded or external); then serving
//! until shutdown.

// Without the embedded node, its start-up helpers are unused.
#[cfg_attr(not(feature = "embedded-node"), allow(dead_code))]
mod chain_node;

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use amphora_core::account::{check_new_password, Username};
use amphora_cosigner::{CosignerError, PlatformKey};
use amphora_follower::{Follower, FollowerConfig, FollowerHandle};
use amphora_store::{Store, StoreError};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::credentials::{generate_password, hash_password_blocking};
use crate::error::ApiError;
use crate::state::AppState;

use chain_node::{
    check_embedded_config, check_node, connect_external, start_embedded, EmbeddedNode,
};
pub use chain_node::{PLATFORM_WALLET, TARGET_CONFIRMATIONS, TREASURY_WALLET};

/// Longest accepted token lifetime: one year.
pub const MAX_TOKEN_LIFETIME_SECS: u64 = 365 * 24 * 60 * 60;

/// Default username of the issuer created on first start.
pub const DEFAULT_ISSUER_USERNAME: &str = "issuer";

/// Errors starting or administering the platform.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A configuration value or argument is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// A rule refused the change; the text is the error table's (the API's wording).
    #[error("{0}")]
    Refused(Box<crate::refusal::Refusal>),
    /// The platform key could not be loaded or created.
    #[error(transparent)]
    Key(#[from] CosignerError),
    /// A file or directory could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("HTTP server failed: {0}")]
    Http(std::io::Error),
    /// The Elements node could not be started, reached or set up.
    #[error("Elements node: {0}")]
    Node(String),
    /// An internal task failed.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ServerError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(conflict) => ServerError::Refused(Box::new(conflict.into())),
            other => ServerError::Store(other),
        }
    }
}

impl From<ApiError> for ServerError {
    fn from(error: ApiError) -> Self {
        ServerError::Internal(error.to_string())
    }
}

/// The issuer account created on first start.
#[derive(Debug, Clone)]
pub struct CreatedIssuer {
    /// Its username.
    pub username: String,
    /// The generated password, when none was configured. Shown once, never stored in clear.
    pub generated_password: Option<String>,
}

/// A platform ready to serve: state built, listener bound.
#[derive(Debug)]
pub struct Platform {
    state: AppState,
    listener: TcpListener,
    created_issuer: Option<CreatedIssuer>,
    embedded: Option<EmbeddedNode>,
    follower: Option<FollowerHandle>,
    /// The periodic issuance recovery, stopped when serving ends.
    recovery: tokio::task::JoinHandle<()>,
    /// The webhook delivery worker, stopped when serving ends.
    webhooks: tokio::task::JoinHandle<()>,
}

/// Creates the data directory (mode 0700 on Unix) if needed.
fn ensure_data_dir(dir: &Path) -> Result<(), ServerError> {
    let io = |source| ServerError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

/// Opens the configured database (creating the data directory for SQLite) and applies the
/// migrations.
pub async fn open_store(config: &Config) -> Result<Store, ServerError> {
    ensure_data_dir(config.data_dir())?;
    let store = Store::connect_with(&config.database_url(), &config.pool_settings()).await?;
    store.migrate().await?;
    Ok(store)
}

/// On an empty database, creates the first issuer from the configuration (or `issuer` with a
/// generated password).
async fn bootstrap_issuer(
    store: &Store,
    config: &Config,
) -> Result<Option<CreatedIssuer>, ServerError> {
    if store.count_issuers().await? > 0 {
        if config.issuer_password.is_some() {
            tracing::info!(
                "issuer accounts exist: the configured issuer password is not applied \
                 (use `amphora admin issuer set-password`)"
            );
        }
        return Ok(None);
    }
    let username = config
        .issuer_username
        .clone()
        .unwrap_or_else(|| DEFAULT_ISSUER_USERNAME.to_string());
    Username::parse(&username)
        .map_err(|e| ServerError::Invalid(format!("issuer_username: {}", e.message)))?;
    let (password, generated) = match &config.issuer_password {
        Some(password) => {
            check_new_password(password.expose())
                .map_err(|e| ServerError::Invalid(format!("issuer_password: {}", e.message)))?;
            (password.expose().to_string(), false)
        }
        None => (generate_password(), true),
    };
    let hash = hash_password_blocking(password.clone()).await?;
    let created = store.create_first_issuer(&username, &hash).await?;
    Ok(created.map(|issuer| {
        tracing::info!(issuer = %issuer.username, "first issuer account created");
        CreatedIssuer {
            username: issuer.username,
            generated_password: generated.then_some(password),
        }
    }))
}

/// The key passphrase: configured, or (test networks only) generated once and kept beside the
/// key with mode 0600.
fn key_passphrase(config: &Config) -> Result<String, ServerError> {
    if let Some(passphrase) = &config.key_passphrase {
        return Ok(passphrase.expose().to_string());
    }
    if config.network.is_mainnet() {
        return Err(ServerError::Invalid(
            "on liquidv1 the platform key passphrase must be configured \
             (AMPHORA_KEY_PASSPHRASE or key_passphrase in the config file)"
                .to_string(),
        ));
    }
    let path = config.generated_passphrase_path();
    let io = |source| ServerError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(text.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let passphrase = generate_password();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(io)?;
    file.write_all(passphrase.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    tracing::warn!(
        path = %path.display(),
        "no key_passphrase configured: generated one and stored it beside the platform key; \
         configure AMPHORA_KEY_PASSPHRASE for real deployments"
    );
    Ok(passphrase)
}

impl Platform {
    /// Prepares everything: data directory, database and migrations, first issuer, platform
    /// key, and binds the listen address.
    pub async fn prepare(config: &Config) -> Result<Platform, ServerError> {
        // Everything that can fail comes before the first issuer is created, so a generated
        // password is never lost to a failed start.
        if !(1..=MAX_TOKEN_LIFETIME_SECS).contains(&config.token_lifetime_secs) {
            return Err(ServerError::Invalid(format!(
                "token_lifetime_secs must be between 1 and {MAX_TOKEN_LIFETIME_SECS} (one year)"
            )));
        }
        if config.login_max_failures == 0 || config.login_window_secs == 0 {
            return Err(ServerError::Invalid(
                "login_max_failures and login_window_secs must be at least 1".to_string(),
            ));
        }
        check_embedded_config(config)?;
        if config.database_max_connections == 0 {
            return Err(ServerError::Invalid(
                "database_max_connections must be at least 1".to_string(),
            ));
        }
        let registry = config.registry_settings().map_err(ServerError::Invalid)?;
        let security = config.security_settings().map_err(ServerError::Invalid)?;
        let leases = config.lease_settings().map_err(ServerError::Invalid)?;
        let webhooks = crate::webhooks::WebhookSettings::resolve(&config.webhooks)
            .map_err(ServerError::Invalid)?;
        let store = open_store(config).await?;
        tracing::info!(
            engine = ?store.engine(),
            data_dir = %config.data_dir().display(),
            "database ready (migrations applied)"
        );
        let passphrase = key_passphrase(config)?;
        let key_path = config.key_path();
        let network = config.network;
        let key = tokio::task::spawn_blocking(move || {
            PlatformKey::load_or_create(&key_path, &passphrase, network)
        })
        .await
        .map_err(|e| ServerError::Internal(format!("platform key task failed: {e}")))??;
        tracing::info!(fingerprint = %key.fingerprint(), %network, "platform key ready");
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let (rpc, embedded) = match &config.node.elements_url {
            Some(url) => {
                let rpc = connect_external(url.expose())?;
                chain_node::check_external_node(&rpc, network).await?;
                tracing::info!(node = %rpc.url(), "using the Elements node at elements_url");
                (rpc, None)
            }
            None => {
                let (embedded, rpc) = start_embedded(config).await?;
                (rpc, Some(embedded))
            }
        };
        // The first issuer is created last, so a generated password is never lost to a
        // failed start; a failure stops the embedded node cleanly.
        let finished = async {
            if embedded.is_some() {
                check_node(&rpc, network).await?;
            }
            bootstrap_issuer(&store, config).await
        }
        .await;
        let created_issuer = match finished {
            Ok(created) => created,
            Err(e) => {
                if let Some(node) = embedded {
                    let _ = node.shutdown().await;
                }
                return Err(e);
            }
        };
        let state = AppState::with_login_limits(
            store,
            key,
            network,
            config.token_lifetime(),
            config.login_limits(),
        )
        .with_node(rpc)
        .with_registry(registry)
        .with_security(security)
        .expect("the security settings were checked before anything started")
        .with_issuance_leases(leases.issuance)
        .with_webhook_settings(webhooks);
        let cosign = crate::cosign::CosignSettings {
            authorizer_timeout: std::time::Duration::from_millis(config.authorizer_timeout_ms),
            ..state.cosign().settings()
        };
        let state = state.with_cosign_settings(cosign);
        // The chain follower indexes the node's blocks into the chain index (or waits for the
        // lease while another replica does); stopped cleanly in `run`.
        let follower = state.node().cloned().map(|node| {
            let follower = FollowerConfig {
                lease_ttl: leases.follower_lease_ttl,
                ..FollowerConfig::default()
            };
            Follower::new(state.store().clone(), node, follower).spawn()
        });
        let state = match &follower {
            Some(handle) => state.with_follower(handle.subscribe()),
            None => state,
        };
        // Issuances a previous run (or a replica that died) recorded but may not have broadcast
        // are finished now and then periodically, once no live replica owns them, so a crash
        // between signing and broadcasting loses nothing. What cannot be resolved (node
        // unreachable or warming up) stays recorded and is retried on the next round.
        let recovery = crate::issuance::spawn_issuance_recovery(state.clone());
        // Events committed before a crash are still queued for their webhooks: the worker
        // resumes from each endpoint's cursor.
        let webhooks = crate::webhooks::worker::spawn(state.clone());
        Ok(Platform {
            webhooks,
            state,
            listener,
            created_issuer,
            embedded,
            follower,
            recovery,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The issuer created on this start, if the database was empty.
    pub fn created_issuer(&self) -> Option<&CreatedIssuer> {
        self.created_issuer.as_ref()
    }

    /// What to tell the operator on start: where the API is and, on first start, how to log
    /// in. Printed on stdout by [`serve`], never logged.
    pub fn banner(&self) -> String {
        let addr = self.local_addr();
        let mut text = format!(
            "Amphora {} ({}) listening on http://{addr}\n  Console:     http://{addr}/\n  AMP API:     http://{addr}/api\n  AMP2:        http://{addr}/amp2\n  OpenAPI:     http://{addr}/api/openapi.json\n  API docs:    http://{addr}/api/docs\n",
            env!("CARGO_PKG_VERSION"),
            self.state.network(),
        );
        match (&self.embedded, self.state.node()) {
            (Some(node), _) => text.push_str(&format!(
                "\nEmbedded Elements node (liquidregtest; mines {} while a transaction has fewer than {TARGET_CONFIRMATIONS} confirmations)\n  RPC:         {}\n  Wallets:     {PLATFORM_WALLET} (issuance fees), {TREASURY_WALLET} (the issuer's)\n  Treasury address (destination_address): {}\n  Confirm:     amphora confirm -n {} …\n",
                match node.block_interval().as_secs() {
                    0 => "at once".to_string(),
                    secs => format!("every {secs} s"),
                },
                node.url_with_credentials(""),
                node.treasury_address(),
                node.url_with_credentials(&format!("/wallet/{TREASURY_WALLET}")),
            )),
            (None, Some(rpc)) => text.push_str(&format!("\nElements node: {}\n", rpc.url())),
            (None, None) => {}
        }
        if let Some(created) = &self.created_issuer {
            text.push_str(&format!(
                "\nCreated the issuer account '{}'.\n",
                created.username
            ));
            if let Some(password) = &created.generated_password {
                text.push_str(&format!(
                    "  username: {}\n  password: {password}\n  (shown only this once; change it with POST /api/user/change-password or `amphora admin issuer set-password`)\n",
                    created.username
                ));
            }
            text.push_str(&format!(
                "Log in: curl -X POST http://{addr}/api/user/obtain_token -H 'content-type: application/json' -d '{{\"username\":\"{}\",\"password\":\"…\"}}'\n",
                created.username
            ));
        }
        text
    }

    /// Serves HTTP until `shutdown` completes, then finishes in-flight requests and closes the
    /// database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let store = self.state.store().clone();
        let embedded = self.embedded;
        let follower = self.follower;
        let recovery = self.recovery;
        let webhooks = self.webhooks;
        let sandbox = embedded.as_ref().map(|node| crate::console::Sandbox {
            treasury_address: node.treasury_address().to_string(),
            confirm_node_url: node.url_with_credentials(&format!("/wallet/{TREASURY_WALLET}")),
        });
        let app = crate::app_with_console(self.state, sandbox);
        // Connect info gives the login limiter the client's address.
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let result = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServerError::Http);
        recovery.abort();
        // An attempt cut off here is made again once its lease runs out.
        webhooks.abort();
        if let Some(follower) = follower {
            // after the block it is writing; releases the lease for another replica
            follower.shutdown().await;
        }
        store.close().await;
        if let Some(node) = embedded {
            node.shutdown().await?;
            tracing::info!("embedded node stopped");
        }
        tracing::info!("server stopped");
        result
    }
}

/// Runs `amphora serve`: prepares the platform, prints the banner, serves until `shutdown`.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let platform = Platform::prepare(&config).await?;
    print!("{}", platform.banner());
    let _ = std::io::stdout().flush();
    platform.run(shutdown).await
}
