//! The platform's co-signing side of AMP2:
//!
//! * [`fresh_address`]: a never-used confidential receive address of a registered wallet;
//! * [`cosign`]: `POST /amp2/wallets/sign` — understand the PSET, apply the issuers' transfer
//!   rules (and their authorization endpoints), sign the platform's half only when approved, and
//!   record every decision (`cosign_decisions`);
//! * [`CosignState`]: what the co-signer keeps in [`AppState`](crate::AppState): the index of
//!   registered wallets and the HTTP client of the issuer authorization webhook.

mod address;
mod chain_inputs;
mod service;
mod wallets;
mod webhook;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use amphora_cosigner::{PlatformKey, WalletIndex, DEFAULT_LOOKAHEAD};

pub use address::{fresh_address, fresh_addresses};
pub use service::cosign;

/// Default time the issuer authorization endpoint has to answer.
pub const DEFAULT_AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of the co-signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CosignSettings {
    /// How long the issuer authorization endpoint has to answer (connect + response); no answer
    /// in time refuses the transfer.
    pub authorizer_timeout: Duration,
    /// What the webhook may connect to (never redirected).
    pub outbound: crate::outbound::OutboundPolicy,
}

impl Default for CosignSettings {
    /// The default timeout, private targets refused.
    fn default() -> Self {
        CosignSettings {
            authorizer_timeout: DEFAULT_AUTHORIZER_TIMEOUT,
            outbound: crate::outbound::OutboundPolicy {
                allow_private: false,
            },
        }
    }
}

/// The co-signer's state: the registered wallets (refreshed from the store before each
/// decision) and the webhook client.
#[derive(Debug)]
pub struct CosignState {
    wallets: Arc<RwLock<WalletIndex>>,
    http: reqwest::Client,
    settings: CosignSettings,
}

impl CosignState {
    /// An empty wallet index for wallets co-signed by `key`.
    pub fn new(key: &PlatformKey, settings: CosignSettings) -> CosignState {
        let http = settings.outbound.client(
            settings.authorizer_timeout,
            reqwest::redirect::Policy::none(),
        );
        CosignState {
            wallets: Arc::new(RwLock::new(WalletIndex::new(key, DEFAULT_LOOKAHEAD))),
            http,
            settings,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> CosignSettings {
        self.settings
    }
}
