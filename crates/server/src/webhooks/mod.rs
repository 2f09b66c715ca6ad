//! Webhooks (issue #17): the settings, the signing secrets (encrypted at rest) and the delivery
//! worker ([`worker`]) every replica runs. The routes are in `routes::webhooks`, the rules
//! (signature, retry schedule) in `amphora_core::webhook`, the rows in `amphora_store`.
//!
//! Secrets are generated here (`whsec_` and 32 random bytes in hex), shown once on creation and
//! stored AES-256-GCM encrypted under a key derived from the platform key
//! ([`amphora_cosigner::PlatformKey::derive_symmetric_key`]): every replica holding the platform
//! key can sign, a copy of the database alone cannot.

pub mod worker;

use std::time::Duration;

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use amphora_core::webhook::{RetrySchedule, DEFAULT_RETRY_BASE};
use amphora_cosigner::PlatformKey;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::outbound::OutboundPolicy;

/// How long a receiver has to answer a delivery (2xx in time is success).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The HKDF purpose of the key encrypting webhook secrets.
const SECRET_KEY_PURPOSE: &str = "amphora webhook secrets v1";

/// The `[webhooks]` section of the configuration (`AMPHORA_WEBHOOK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookConfig {
    /// How often each replica looks for due deliveries, in milliseconds (events of this
    /// replica wake it at once; this bounds the wait for other replicas' events and retries).
    pub poll_interval_ms: u64,
    /// How long an endpoint stays the replica's that makes its delivery attempt, in
    /// milliseconds: after a crash mid-attempt, another replica (or the restarted one) makes it
    /// again once it ran out. At least the delivery timeout (10 s) plus 5 s.
    pub lease_ttl_ms: u64,
    /// The first wait of the retry schedule, in milliseconds (default one minute, which makes
    /// the schedule 24 hours; the waits and the whole schedule scale with it). Shorten it only
    /// for tests.
    pub retry_base_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            poll_interval_ms: 1_000,
            lease_ttl_ms: 30_000,
            retry_base_ms: u64::try_from(DEFAULT_RETRY_BASE.as_millis()).unwrap_or(60_000),
        }
    }
}

/// The webhook settings in effect, resolved from a [`WebhookConfig`] and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    /// How often the worker looks for due deliveries.
    pub poll_interval: Duration,
    /// An endpoint's lease during an attempt.
    pub lease_ttl: Duration,
    /// When failed deliveries are retried.
    pub schedule: RetrySchedule,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        // The defaults are valid.
        WebhookSettings::resolve(&WebhookConfig::default()).unwrap_or(WebhookSettings {
            poll_interval: Duration::from_secs(1),
            lease_ttl: Duration::from_secs(30),
            schedule: RetrySchedule::default(),
        })
    }
}

impl WebhookSettings {
    /// The shortest lease: the delivery timeout plus 5 s.
    pub const MIN_LEASE_TTL: Duration = Duration::from_secs(DELIVERY_TIMEOUT.as_secs() + 5);

    /// Resolves `config`; a value out of range is an error naming the setting.
    pub fn resolve(config: &WebhookConfig) -> Result<WebhookSettings, String> {
        if config.poll_interval_ms == 0 {
            return Err("webhooks.poll_interval_ms must be at least 1".into());
        }
        if config.retry_base_ms == 0 {
            return Err("webhooks.retry_base_ms must be at least 1".into());
        }
        let lease_ttl = Duration::from_millis(config.lease_ttl_ms);
        if lease_ttl < Self::MIN_LEASE_TTL {
            return Err(format!(
                "webhooks.lease_ttl_ms must be at least {} (the delivery timeout plus 5 s)",
                Self::MIN_LEASE_TTL.as_millis()
            ));
        }
        Ok(WebhookSettings {
            poll_interval: Duration::from_millis(config.poll_interval_ms),
            lease_ttl,
            schedule: RetrySchedule {
                base: Duration::from_millis(config.retry_base_ms),
            },
        })
    }
}

/// `duration` in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 2)
}

/// A new signing secret: `whsec_` and 32 random bytes in hex.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// Encrypts and decrypts signing secrets (AES-256-GCM, a random nonce each time; stored as hex
/// of nonce ‖ ciphertext).
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

/// A stored secret that does not decrypt (another platform key, or a damaged row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the webhook secret does not decrypt with this platform key")]
pub struct UndecryptableSecret;

impl SecretBox {
    /// The box of the platform key `key`.
    pub fn new(key: &PlatformKey) -> SecretBox {
        let mut bytes = key.derive_symmetric_key(SECRET_KEY_PURPOSE);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes));
        bytes.fill(0);
        SecretBox { cipher }
    }

    /// `secret`, encrypted, as stored.
    pub fn seal(&self, secret: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let Ok(ciphertext) = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
        else {
            unreachable!("AES-GCM encrypts any secret of a sane length");
        };
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&ciphertext);
        hex::encode(stored)
    }

    /// The secret [`SecretBox::seal`] stored as `stored`.
    pub fn open(&self, stored: &str) -> Result<String, UndecryptableSecret> {
        let bytes = hex::decode(stored).map_err(|_| UndecryptableSecret)?;
        if bytes.len() < 12 {
            return Err(UndecryptableSecret);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| UndecryptableSecret)?;
        String::from_utf8(plain).map_err(|_| UndecryptableSecret)
    }
}

/// What the routes and the worker share: the settings, the secrets' box, the delivery client
/// and the worker's wake-up call.
#[derive(Debug)]
pub struct WebhookState {
    /// The settings in effect.
    pub settings: WebhookSettings,
    /// Seals and opens signing secrets.
    pub secrets: SecretBox,
    /// The delivery client: the outbound policy's (guarded resolver, no proxy), 10 s timeout,
    /// redirects never followed.
    pub http: reqwest::Client,
    /// The outbound policy, checked again before every attempt.
    pub outbound: OutboundPolicy,
    /// Wakes this replica's worker (a test delivery was queued).
    pub wake: Notify,
}

impl WebhookState {
    /// The state for `key`, `settings` and the outbound policy `outbound`.
    pub fn new(key: &PlatformKey, settings: WebhookSettings, outbound: OutboundPolicy) -> Self {
        WebhookState {
            settings,
            secrets: SecretBox::new(key),
            http: outbound.client(DELIVERY_TIMEOUT, reqwest::redirect::Policy::none()),
            outbound,
            wake: Notify::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amphora_core::Network;

    const MNEMONIC: &str =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn secrets_round_trip_and_do_not_open_with_another_key() {
        let key = PlatformKey::from_mnemonic(MNEMONIC, Network::LiquidRegtest).unwrap();
        let secrets = SecretBox::new(&key);
        let secret = generate_secret();
        assert!(
            secret.starts_with("whsec_") && secret.len() == 6 + 64,
            "{secret}"
        );
        let sealed = secrets.seal(&secret);
        assert!(!sealed.contains(&secret[6..]));
        assert_ne!(sealed, secrets.seal(&secret), "a fresh nonce each time");
        assert_eq!(secrets.open(&sealed).unwrap(), secret);
        let other = PlatformKey::from_mnemonic(
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            Network::LiquidRegtest,
        )
        .unwrap();
        assert_eq!(
            SecretBox::new(&other).open(&sealed),
            Err(UndecryptableSecret)
        );
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(secrets.open(&tampered), Err(UndecryptableSecret));
        assert_eq!(secrets.open("zz"), Err(UndecryptableSecret));
    }

    #[test]
    fn settings_are_checked() {
        let defaults = WebhookSettings::resolve(&WebhookConfig::default()).unwrap();
        assert_eq!(defaults.schedule, RetrySchedule::default());
        assert_eq!(defaults.lease_ttl, Duration::from_secs(30));
        for (bad, name) in [
            (
                WebhookConfig {
                    poll_interval_ms: 0,
                    ..Default::default()
                },
                "poll_interval_ms",
            ),
            (
                WebhookConfig {
                    retry_base_ms: 0,
                    ..Default::default()
                },
                "retry_base_ms",
            ),
            (
                WebhookConfig {
                    lease_ttl_ms: 14_999,
                    ..Default::default()
                },
                "lease_ttl_ms",
            ),
        ] {
            let err = WebhookSettings::resolve(&bad).unwrap_err();
            assert!(err.contains(name), "{err}");
        }
    }
}
