//! Rate limits of the anonymous AMP2 endpoints (`/amp2/wallets/register`, `/amp2/wallets/sign`),
//! per client address and per wallet, with [`governor`]'s keyed GCRA limiters.
//!
//! The per-address limit is a middleware ([`per_address`]) in front of both routes, so a
//! refused request costs no decoding, no database and no signing. The per-wallet limit is
//! checked by the handlers once the wallet is known (the registered descriptor's wallet id,
//! the sending wallet of a PSET) and before anything is written or signed. A refused request
//! answers `429 {"error": …}` with `Retry-After`. Keys whose state is back to "fresh" are
//! pruned every [`PRUNE_EVERY`] checks, so memory follows the recently active wallets and
//! addresses, not every wallet ever seen. Requests that do not even decode are counted
//! ([`Amp2Limiter::undecodable`]), not stored; the counters are shown by `/healthz`.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// Checks between two prunings of the keyed limiters.
pub const PRUNE_EVERY: u64 = 1024;

/// Rate of one key: `per_minute` requests a minute on average, bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests replenished per minute.
    pub per_minute: u32,
    /// Requests allowed at once.
    pub burst: u32,
}

impl Rate {
    fn quota(self) -> Result<Quota, String> {
        let per_minute = NonZeroU32::new(self.per_minute)
            .ok_or("a rate limit must allow at least 1 request a minute")?;
        let burst = NonZeroU32::new(self.burst).ok_or("a burst must be at least 1")?;
        let period = Duration::from_secs(60) / per_minute.get();
        Quota::with_period(period.max(Duration::from_nanos(1)))
            .map(|q| q.allow_burst(burst))
            .ok_or_else(|| "invalid rate limit period".to_string())
    }
}

/// The AMP2 rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amp2Limits {
    /// Per client address, over both anonymous endpoints together.
    pub per_address: Rate,
    /// Per wallet (the registering or the sending wallet).
    pub per_wallet: Rate,
}

impl Default for Amp2Limits {
    fn default() -> Self {
        Amp2Limits {
            per_address: Rate {
                per_minute: 300,
                burst: 100,
            },
            per_wallet: Rate {
                per_minute: 60,
                burst: 20,
            },
        }
    }
}

/// Counters of the AMP2 endpoints, as `/healthz` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Amp2Counters {
    /// Requests whose body or PSET did not decode (counted, never stored).
    pub undecodable_requests: u64,
    /// Requests refused by a rate limit.
    pub throttled_requests: u64,
    /// Client addresses the per-address limiter currently tracks.
    pub tracked_addresses: usize,
    /// Wallets the per-wallet limiter currently tracks.
    pub tracked_wallets: usize,
}

/// The keyed limiters and counters of one process.
#[derive(Debug)]
pub struct Amp2Limiter {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_wallet: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
    undecodable: AtomicU64,
    throttled: AtomicU64,
}

impl Amp2Limiter {
    /// Limiters with these limits; an invalid rate is an error naming the problem.
    pub fn new(limits: Amp2Limits) -> Result<Self, String> {
        Ok(Amp2Limiter {
            by_address: RateLimiter::keyed(limits.per_address.quota()?),
            by_wallet: RateLimiter::keyed(limits.per_wallet.quota()?),
            checks: AtomicU64::new(0),
            undecodable: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
        })
    }

    /// Takes one request from `address`'s allowance.
    pub fn check_address(&self, address: IpAddr) -> Result<(), ApiError> {
        self.check(&self.by_address, &address)
    }

    /// Takes one request from wallet `wid`'s allowance.
    pub fn check_wallet(&self, wid: &str) -> Result<(), ApiError> {
        self.check(&self.by_wallet, &wid.to_string())
    }

    fn check<K: Hash + Eq + Clone>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        limiter.check_key(key).map_err(|not_until| {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Round up, and never 0: a client waiting that long is let in.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::Amp2Throttled(seconds.max(1))
        })
    }

    /// Forgets the keys whose allowance is full again (they behave exactly like new keys).
    pub fn prune(&self) {
        self.by_address.retain_recent();
        self.by_address.shrink_to_fit();
        self.by_wallet.retain_recent();
        self.by_wallet.shrink_to_fit();
    }

    /// Counts a request that did not decode.
    pub fn undecodable(&self) {
        self.undecodable.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn counters(&self) -> Amp2Counters {
        Amp2Counters {
            undecodable_requests: self.undecodable.load(Ordering::Relaxed),
            throttled_requests: self.throttled.load(Ordering::Relaxed),
            tracked_addresses: self.by_address.len(),
            tracked_wallets: self.by_wallet.len(),
        }
    }
}

/// Middleware of the anonymous AMP2 routes: the per-address limit, before anything else runs.
/// Without a known client address (a server run without connect info) there is no
/// per-address limit; the per-wallet limit still applies.
pub async fn per_address(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let client = crate::forwarded::origin_of(&parts, &state).client;
    if let Some(address) = client {
        if let Err(refused) = state.amp2_limiter().check_address(address) {
            return refused.into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refuses_with_a_retry_time_and_prunes_full_keys() {
        let limiter = Amp2Limiter::new(Amp2Limits {
            per_address: Rate {
                per_minute: 60,
                burst: 2,
            },
            per_wallet: Rate {
                per_minute: 6000,
                burst: 1,
            },
        })
        .unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        limiter.check_address(ip).unwrap();
        limiter.check_address(ip).unwrap();
        match limiter.check_address(ip) {
            Err(ApiError::Amp2Throttled(seconds)) => assert_eq!(seconds, 1),
            other => panic!("{other:?}"),
        }
        limiter.check_address("192.0.2.2".parse().unwrap()).unwrap();
        for wid in 0..50 {
            limiter.check_wallet(&wid.to_string()).unwrap();
        }
        assert_eq!(limiter.counters().tracked_wallets, 50);
        std::thread::sleep(Duration::from_millis(30));
        limiter.prune();
        let counters = limiter.counters();
        assert_eq!(counters.tracked_wallets, 0);
        assert_eq!(counters.throttled_requests, 1);
    }

    #[test]
    fn zero_rates_are_refused() {
        let zero = Rate {
            per_minute: 0,
            burst: 1,
        };
        assert!(Amp2Limiter::new(Amp2Limits {
            per_address: zero,
            ..Amp2Limits::default()
        })
        .is_err());
    }
}
