//! Shared state of the API handlers.

use std::sync::Arc;
use std::time::Duration;

use amphora_core::Network;
use amphora_cosigner::PlatformKey;
use amphora_follower::FollowerStatus;
use amphora_rpc::ElementsRpc;
use amphora_store::Store;

use crate::config::{RegistryConfig, RegistrySettings};
use crate::cosign::{CosignSettings, CosignState};
use crate::login_limit::{LoginLimiter, LoginLimits};

/// What every handler can reach: the store, the platform key and the settings that shape
/// responses. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
    node: Option<ElementsRpc>,
    follower: Option<tokio::sync::watch::Receiver<FollowerStatus>>,
    cosign: Arc<CosignState>,
    registry: Arc<RegistrySettings>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    key: PlatformKey,
    network: Network,
    token_lifetime: Duration,
    login_limiter: LoginLimiter,
    /// Held while the platform wallet builds and broadcasts a transaction, so that two
    /// requests never fund from the same coins.
    platform_wallet: tokio::sync::Mutex<()>,
    /// This process's id among the replicas sharing the database (owner of its issuances).
    replica: String,
}

impl AppState {
    /// Builds the state with the default failed-login limits; `key` must be for `network`.
    pub fn new(store: Store, key: PlatformKey, network: Network, token_lifetime: Duration) -> Self {
        AppState::with_login_limits(store, key, network, token_lifetime, LoginLimits::default())
    }

    /// Builds the state; `key` must be for `network`.
    pub fn with_login_limits(
        store: Store,
        key: PlatformKey,
        network: Network,
        token_lifetime: Duration,
        login_limits: LoginLimits,
    ) -> Self {
        let cosign = Arc::new(CosignState::new(&key, CosignSettings::default()));
        AppState {
            inner: Arc::new(Inner {
                store,
                key,
                network,
                token_lifetime,
                login_limiter: LoginLimiter::new(login_limits),
                platform_wallet: tokio::sync::Mutex::new(()),
                replica: format!("replica-{}-{}", std::process::id(), uuid::Uuid::new_v4()),
            }),
            node: None,
            follower: None,
            registry: Arc::new(
                RegistrySettings::resolve(&RegistryConfig::default(), network)
                    .expect("the default registry settings are valid"),
            ),
            cosign,
        }
    }

    /// Replaces the co-signer's settings (e.g. the issuer authorization timeout); the wallet
    /// index starts empty again and is reloaded from the store on the next request.
    pub fn with_cosign_settings(self, settings: CosignSettings) -> Self {
        let cosign = Arc::new(CosignState::new(self.key(), settings));
        AppState { cosign, ..self }
    }

    /// The co-signer's state.
    pub fn cosign(&self) -> &CosignState {
        &self.cosign
    }

    /// Connects the API to an Elements node (the node-level client, not a wallet one): asset
    /// issuance funds, blinds and signs with its `platform` wallet. Without a node, the routes
    /// that need one answer 503.
    pub fn with_node(self, node: ElementsRpc) -> Self {
        AppState {
            node: Some(node),
            ..self
        }
    }

    /// Registers assets with this registry and reads domain proofs from this base (default:
    /// the network's default registry, proofs at `https://{domain}`).
    pub fn with_registry(self, registry: RegistrySettings) -> Self {
        AppState {
            registry: Arc::new(registry),
            ..self
        }
    }

    /// The asset registry settings.
    pub fn registry(&self) -> &RegistrySettings {
        &self.registry
    }

    /// Reports the status of this replica's chain follower (see `/healthz`).
    pub fn with_follower(self, status: tokio::sync::watch::Receiver<FollowerStatus>) -> Self {
        AppState {
            follower: Some(status),
            ..self
        }
    }

    /// The latest status of this replica's chain follower, when one runs: whether it holds
    /// the lease, the indexed tip, the node's height, the lag and the last error.
    pub fn follower_status(&self) -> Option<FollowerStatus> {
        self.follower.as_ref().map(|status| status.borrow().clone())
    }

    /// The Elements node, when one is configured.
    pub fn node(&self) -> Option<&ElementsRpc> {
        self.node.as_ref()
    }

    /// Exclusive use of the node's platform wallet: hold the guard from funding a transaction
    /// until it is broadcast.
    pub async fn lock_platform_wallet(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.platform_wallet.lock().await
    }

    /// This process's replica id (unique per process): the owner recorded on the issuances it
    /// runs, so that another replica's recovery leaves them alone.
    pub fn replica_id(&self) -> &str {
        &self.inner.replica
    }

    /// The failed-login limiter of this process.
    pub fn login_limiter(&self) -> &LoginLimiter {
        &self.inner.login_limiter
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The platform's co-signing key.
    pub fn key(&self) -> &PlatformKey {
        &self.inner.key
    }

    /// The Liquid network the platform runs on.
    pub fn network(&self) -> Network {
        self.inner.network
    }

    /// How long a new API token stays valid.
    pub fn token_lifetime(&self) -> Duration {
        self.inner.token_lifetime
    }
}
