//! In-process limit on failed logins, per username and per client address: a sliding window
//! of failure times. When a key has `max_failures` failures within `window`, further logins
//! for it are refused with 429 until the oldest failure leaves the window; a successful login
//! clears the username's failures (not the address's).
//!
//! An attempt is *reserved* before its password is verified ([`LoginLimiter::reserve`]): the
//! check and the recording of a (provisional) failure are one step under the lock, so parallel
//! attempts cannot all pass the check before any failure is recorded. A reservation that is
//! not resolved as a success stays a failure (also when the request is dropped or fails).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits of the failed-login window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures allowed within `window` before logins are refused.
    pub max_failures: usize,
    /// Length of the sliding window.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            max_failures: 5,
            window: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Username(String),
    Address(IpAddr),
}

/// The failed-login record of one server process.
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

/// Keys tracked before stale ones are swept (bounds memory under a spray of usernames).
const SWEEP_AT: usize = 10_000;

impl LoginLimiter {
    /// A limiter with these limits.
    pub fn new(limits: LoginLimits) -> Self {
        LoginLimiter {
            limits,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> LoginLimits {
        self.limits
    }

    fn keys(username: &str, address: Option<IpAddr>) -> Vec<Key> {
        let mut keys = vec![Key::Username(username.to_string())];
        keys.extend(address.map(Key::Address));
        keys
    }

    /// Reserves a login attempt for `username` from `address`: `Err(seconds)` when logins for
    /// either are refused now, otherwise the attempt is recorded as a failure until
    /// [`Reservation::succeeded`] says otherwise.
    pub fn reserve(&self, username: &str, address: Option<IpAddr>) -> Result<Reservation<'_>, u64> {
        let at = Instant::now();
        self.reserve_at(username, address, at)?;
        Ok(Reservation {
            limiter: self,
            username: username.to_string(),
            address,
            at,
        })
    }

    fn reserve_at(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let mut failures = self.lock();
        let mut wait = Duration::ZERO;
        for key in Self::keys(username, address) {
            if let Some(times) = failures.get_mut(&key) {
                self.expire(times, now);
                if times.len() >= self.limits.max_failures {
                    if let Some(oldest) = times.front() {
                        wait = wait.max(self.limits.window.saturating_sub(now - *oldest));
                    }
                }
            }
        }
        if !wait.is_zero() {
            // Round up so that a client waiting that long is let in.
            return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        }
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, times| times.back().is_some_and(|t| now - *t < self.limits.window));
        }
        for key in Self::keys(username, address) {
            let times = failures.entry(key).or_default();
            self.expire(times, now);
            times.push_back(now);
        }
        Ok(())
    }

    /// A successful login: the username's failures are forgotten and the reserved attempt no
    /// longer counts against the address.
    fn succeeded_at(&self, username: &str, address: Option<IpAddr>, at: Instant) {
        let mut failures = self.lock();
        failures.remove(&Key::Username(username.to_string()));
        if let Some(address) = address {
            let key = Key::Address(address);
            if let Some(times) = failures.get_mut(&key) {
                if let Some(position) = times.iter().rposition(|t| *t == at) {
                    times.remove(position);
                }
                if times.is_empty() {
                    failures.remove(&key);
                }
            }
        }
    }

    fn expire(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|t| now - *t >= self.limits.window)
        {
            times.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        // A panic while holding the lock leaves consistent data: keep using it.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A reserved login attempt; counts as a failure unless [`Reservation::succeeded`] is called.
#[derive(Debug)]
#[must_use = "a reservation is a failure unless it succeeds"]
pub struct Reservation<'a> {
    limiter: &'a LoginLimiter,
    username: String,
    address: Option<IpAddr>,
    at: Instant,
}

impl Reservation<'_> {
    /// The password was right: the attempt is not a failure.
    pub fn succeeded(self) {
        self.limiter
            .succeeded_at(&self.username, self.address, self.at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(LoginLimits {
            max_failures: 3,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn usernames_are_refused_after_max_failures_until_the_window_slides() {
        let limiter = limiter();
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(
                limiter.reserve_at("alice", None, t0 + Duration::from_secs(i)),
                Ok(())
            );
        }
        let now = t0 + Duration::from_secs(10);
        assert_eq!(limiter.reserve_at("alice", None, now), Err(50));
        assert_eq!(limiter.reserve_at("bob", None, now), Ok(()));
        // the oldest failure leaves the window
        assert_eq!(
            limiter.reserve_at("alice", None, t0 + Duration::from_secs(60)),
            Ok(())
        );
    }

    #[test]
    fn addresses_are_limited_across_usernames() {
        let limiter = limiter();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        for name in ["a", "b", "c"] {
            limiter.reserve_at(name, Some(ip), t0).unwrap();
        }
        assert!(limiter.reserve_at("d", Some(ip), t0).is_err());
        assert_eq!(limiter.reserve_at("d", Some(other), t0), Ok(()));
    }

    #[test]
    fn success_clears_the_username_and_its_own_attempt_only() {
        let limiter = limiter();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..2 {
            let _failed = limiter.reserve("alice", Some(ip)).unwrap();
        }
        limiter.reserve("alice", Some(ip)).unwrap().succeeded();
        // the success did not count against the address, and cleared the username
        let _third = limiter.reserve("bob", Some(ip)).unwrap();
        assert!(limiter.reserve("alice", Some(ip)).is_err());
        assert!(limiter.reserve("alice", None).is_ok());
    }

    #[test]
    fn parallel_reservations_never_exceed_the_limit() {
        let limiter = std::sync::Arc::new(limiter());
        let granted: usize = (0..32)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || usize::from(limiter.reserve("alice", None).is_ok()))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(granted, 3);
    }
}
