//! Shared state of the API handlers.

use std::sync::Arc;
use std::time::Duration;

use amphora_core::Network;
use amphora_cosigner::PlatformKey;
use amphora_follower::FollowerStatus;
use amphora_rpc::ElementsRpc;
use amphora_store::{Store, StoreError};

use crate::config::{RegistryConfig, RegistrySettings, SecuritySettings};
use crate::cosign::{CosignSettings, CosignState};
use crate::error::ApiError;
use crate::forwarded::TrustedProxies;
use crate::issuance::IssuanceLeases;
use crate::login_limit::{LoginLimiter, LoginLimits};
use crate::outbound::OutboundPolicy;
use crate::ownerships_cache::{OwnershipsCache, OWNERSHIPS_CACHE_BYTES};
use crate::rate_limit::Amp2Limiter;
use crate::refusal::Outage;
use crate::webhooks::{WebhookSettings, WebhookState};

/// How long a confirm call waits for the chain index to reach its transaction's block.
pub const INDEX_WAIT: Duration = Duration::from_secs(10);
/// How often that wait reads the index's tip.
const INDEX_POLL: Duration = Duration::from_millis(20);

/// What every handler can reach: the store, the platform key and the settings that shape
/// responses. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
    node: Option<ElementsRpc>,
    follower: Option<tokio::sync::watch::Receiver<FollowerStatus>>,
    /// How long a confirm call waits for the chain index ([`INDEX_WAIT`] unless replaced).
    index_wait: Duration,
    cosign: Arc<CosignState>,
    registry: Arc<RegistrySettings>,
    security: Arc<Security>,
    issuance_leases: IssuanceLeases,
    webhooks: Arc<WebhookState>,
}

/// The security settings with the state they shape.
#[derive(Debug)]
struct Security {
    settings: SecuritySettings,
    /// One permit per password verification allowed to run.
    verifications: Arc<tokio::sync::Semaphore>,
    amp2: Amp2Limiter,
}

impl Security {
    fn new(settings: SecuritySettings) -> Result<Security, String> {
        Ok(Security {
            verifications: Arc::new(tokio::sync::Semaphore::new(
                settings.login_max_concurrent_verifications.max(1),
            )),
            amp2: Amp2Limiter::new(settings.amp2_limits)?,
            settings,
        })
    }
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
    /// The ownerships reports built by this process, with their versions.
    ownerships: OwnershipsCache,
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
        let security = SecuritySettings::defaults_for(network);
        let cosign = Arc::new(CosignState::new(
            &key,
            CosignSettings {
                outbound: security.outbound,
                ..CosignSettings::default()
            },
        ));
        let webhooks = Arc::new(WebhookState::new(
            &key,
            WebhookSettings::default(),
            security.outbound,
        ));
        AppState {
            webhooks,
            inner: Arc::new(Inner {
                store,
                key,
                network,
                token_lifetime,
                login_limiter: LoginLimiter::new(login_limits),
                platform_wallet: tokio::sync::Mutex::new(()),
                replica: format!("replica-{}-{}", std::process::id(), uuid::Uuid::new_v4()),
                ownerships: OwnershipsCache::new(OWNERSHIPS_CACHE_BYTES),
            }),
            node: None,
            follower: None,
            index_wait: INDEX_WAIT,
            registry: Arc::new(
                RegistrySettings::resolve(&RegistryConfig::default(), network)
                    .expect("the default registry settings are valid"),
            ),
            cosign,
            security: Arc::new(
                Security::new(security).expect("the default security settings are valid"),
            ),
            issuance_leases: IssuanceLeases::default(),
        }
    }

    /// Replaces how long issuances stay their replica's and how often recovery runs.
    pub fn with_issuance_leases(self, issuance_leases: IssuanceLeases) -> Self {
        AppState {
            issuance_leases,
            ..self
        }
    }

    /// How long issuances stay their replica's and how often recovery runs.
    pub fn issuance_leases(&self) -> IssuanceLeases {
        self.issuance_leases
    }

    /// Replaces the security settings (trusted proxies, concurrent password verifications,
    /// AMP2 rate limits, outbound policy); the co-signer's webhook client follows the new
    /// outbound policy. Fails on invalid rate limits.
    pub fn with_security(self, settings: SecuritySettings) -> Result<Self, String> {
        let cosign = CosignSettings {
            outbound: settings.outbound,
            ..self.cosign.settings()
        };
        let webhooks = Arc::new(WebhookState::new(
            self.key(),
            self.webhooks.settings,
            settings.outbound,
        ));
        let security = Arc::new(Security::new(settings)?);
        Ok(AppState {
            security,
            webhooks,
            ..self
        }
        .with_cosign_settings(cosign))
    }

    /// Replaces the webhook settings (poll interval, lease, retry schedule).
    pub fn with_webhook_settings(self, settings: WebhookSettings) -> Self {
        let webhooks = Arc::new(WebhookState::new(self.key(), settings, self.outbound()));
        AppState { webhooks, ..self }
    }

    /// The webhooks' settings, secrets box, delivery client and worker wake-up.
    pub fn webhooks(&self) -> &WebhookState {
        &self.webhooks
    }

    /// Whose forwarding headers are believed.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.security.settings.trusted_proxies
    }

    /// The configured public root URL of the platform (see `Config::public_url`).
    pub fn public_url(&self) -> Option<&str> {
        self.security.settings.public_url.as_deref()
    }

    /// The permits of password verifications (see `login_max_concurrent_verifications`).
    pub fn login_verifications(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.security.verifications
    }

    /// The AMP2 rate limiters and counters.
    pub fn amp2_limiter(&self) -> &Amp2Limiter {
        &self.security.amp2
    }

    /// What outbound calls to issuer-chosen targets may reach.
    pub fn outbound(&self) -> OutboundPolicy {
        self.security.settings.outbound
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

    /// Replaces how long a confirm call waits for the chain index ([`INDEX_WAIT`]).
    pub fn with_index_wait(self, index_wait: Duration) -> Self {
        AppState { index_wait, ..self }
    }

    /// Waits, at most [`INDEX_WAIT`] (or [`AppState::with_index_wait`]'s), until the chain
    /// index (this replica's follower or another's) has indexed the block at `height`. A
    /// confirm call checks its transaction on the node, which can be ahead of the index (with
    /// instant mining the 2 confirmations come at once); recording it only once its block is
    /// indexed means the outputs it spends are already marked spent, so the reports read
    /// after the call count nothing twice. Returns at once when nothing indexes the chain (no
    /// follower here and no index in the store); a 503 ([`Outage::IndexBehind`]) when the
    /// index does not get there in time, since what the call would record could then
    /// disagree with the reports.
    pub async fn wait_for_index(&self, height: i64) -> Result<(), ApiError> {
        if self.wait_for_index_within(height, self.index_wait).await? {
            Ok(())
        } else {
            Err(Outage::IndexBehind { height }.into())
        }
    }

    /// Waits at most `bound` until the chain index has indexed the block at `height`; whether
    /// it has (or nothing indexes the chain). A read that may answer from the index as it is
    /// goes on either way.
    pub async fn wait_for_index_within(
        &self,
        height: i64,
        bound: Duration,
    ) -> Result<bool, StoreError> {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            match self.store().chain_tip().await? {
                Some(tip) if tip.height >= height => return Ok(true),
                None if self.follower.is_none() => return Ok(true),
                _ if tokio::time::Instant::now() >= deadline => {
                    tracing::warn!(
                        height,
                        "the chain index has not reached the node's block yet"
                    );
                    return Ok(false);
                }
                _ => tokio::time::sleep(INDEX_POLL).await,
            }
        }
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

    /// The ownerships reports this process built ([`OwnershipsCache`]).
    pub fn ownerships(&self) -> &OwnershipsCache {
        &self.inner.ownerships
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
