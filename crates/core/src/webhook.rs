//! Webhooks (issue #17): the rules of delivering events to an issuer's HTTP endpoints, without
//! I/O. The server stores the endpoints, runs the delivery worker and calls these.
//!
//! * [`sign`] / [`verify`]: the `Amphora-Signature` header, `t=<unix seconds>,v1=<hex
//!   HMAC-SHA256 of "<t>.<body>">` keyed with the endpoint's secret (the whole `whsec_…`
//!   string, as shown on creation).
//! * [`RetrySchedule`]: exponential backoff with jitter over 24 hours, after which the
//!   endpoint is marked failing.
//! * [`EventSelection`]: what an endpoint subscribes to, `["*"]` or event types.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::event::EventType;
use crate::validation::{FieldError, TextRule};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Amphora-Signature";
/// The header carrying the event id (receivers dedupe by it: delivery is at least once).
pub const EVENT_ID_HEADER: &str = "Amphora-Event-Id";
/// The type of the delivery `POST /api/webhooks/{id}/test` sends (not an event of the feed).
pub const TEST_EVENT_TYPE: &str = "webhook.test";
/// The subscription to every event type.
pub const ALL_EVENTS: &str = "*";
/// How old a signature [`verify`] accepts by default (replayed requests are refused after).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Most characters of a webhook `url` (leading and trailing whitespace included).
pub const URL_MAX_LENGTH: usize = 2048;
/// `description`: free text for the issuer.
pub const DESCRIPTION: TextRule = TextRule::new("description", 0, 255, true);

/// Validates a webhook `url`: at most [`URL_MAX_LENGTH`] characters, then trimmed, of the form
/// of [`crate::endpoint::form`] (an `http(s)` URL with a host name or IPv4 address). Whether
/// the target is public is the deployment's outbound policy, checked by the server.
pub fn check_url(url: &str) -> Result<String, FieldError> {
    if url.chars().count() > URL_MAX_LENGTH {
        return Err(FieldError::new(
            "url",
            format!("Ensure this field has no more than {URL_MAX_LENGTH} characters."),
        ));
    }
    let url = url.trim();
    if url.is_empty() {
        return Err(FieldError::new("url", "This field may not be blank."));
    }
    if !crate::endpoint::has_form(url) {
        return Err(FieldError::new("url", crate::endpoint::FORM_MESSAGE));
    }
    Ok(url.to_string())
}

/// The regex (anchored) of the raw `url` values [`check_url`] accepts (with `maxLength`
/// [`URL_MAX_LENGTH`]).
pub fn url_pattern() -> String {
    let ws = crate::validation::WHITESPACE_CLASS;
    format!("^[{ws}]*{}[{ws}]*$", crate::endpoint::form())
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Amphora-Signature` header value of `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Why a signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not `t=<unix>,v1=<hex>`.
    #[error("malformed signature header")]
    Malformed,
    /// The timestamp is further from now than the tolerance.
    #[error("signature timestamp outside the tolerance")]
    Expired,
    /// No `v1` signature matches the body and secret.
    #[error("signature does not match")]
    Mismatch,
}

/// Checks an `Amphora-Signature` `header` for `body` against `secret` at `now` (unix
/// seconds): the timestamp within `tolerance` of now and one `v1` value the HMAC of
/// `"<t>.<body>"` (compared in constant time). Several `v1` values are allowed (a receiver
/// rotating secrets may see more in future).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            Some(("v1", value)) => {
                signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?)
            }
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(SignatureError::Expired);
    }
    let expected = mac(secret, timestamp, body);
    if signatures
        .iter()
        .any(|s| expected.clone().verify_slice(s).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// When failed deliveries are tried again: attempt `n` failing waits
/// `min(base · 2^(n-1), base · 240)`, shortened by a random jitter of up to half, and the
/// schedule ends once the nominal waits would add up to more than `base · 1440`. With the
/// default base of one minute that is waits of 1, 2, 4 … 128 minutes then every 4 hours, for
/// 24 hours: 13 attempts. A smaller base shrinks the whole schedule (tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The first wait.
    pub base: Duration,
}

/// The default first wait of [`RetrySchedule`].
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(60);
/// The longest wait, in bases.
const MAX_WAIT_BASES: u32 = 240;
/// The schedule's length, in bases (24 h at the default base).
const WINDOW_BASES: u32 = 1440;

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule {
            base: DEFAULT_RETRY_BASE,
        }
    }
}

impl RetrySchedule {
    /// The nominal wait (no jitter) after attempt `attempt` (1-based) failed, in bases.
    fn nominal_bases(attempt: u32) -> u32 {
        let exponent = attempt.saturating_sub(1).min(16);
        (1u32 << exponent).min(MAX_WAIT_BASES)
    }

    /// The wait before the next attempt after attempt `attempt` (1-based, counted from the
    /// start of the schedule) failed, or `None` when the schedule is over (the endpoint is
    /// marked failing). `jitter` in `[0, 1]` shortens the wait by up to half (pass a random
    /// number, so that many endpoints failing at once do not retry in step).
    pub fn next_wait(&self, attempt: u32, jitter: f64) -> Option<Duration> {
        let attempt = attempt.max(1);
        let waited: u32 = (1..=attempt).map(Self::nominal_bases).sum();
        if waited > WINDOW_BASES {
            return None;
        }
        let nominal = self.base * Self::nominal_bases(attempt);
        Some(nominal.mul_f64(1.0 - jitter.clamp(0.0, 1.0) / 2.0))
    }

    /// How many attempts the schedule makes in all (the first one included).
    pub fn attempts(&self) -> u32 {
        let mut attempt = 1;
        while self.next_wait(attempt, 0.0).is_some() {
            attempt += 1;
        }
        attempt
    }
}

/// What an endpoint subscribes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSelection {
    /// Every event type, present and future (`["*"]`).
    All,
    /// These types (none twice, in the order given).
    Types(Vec<EventType>),
}

impl EventSelection {
    /// Reads the `events` field: `"*"` alone, or one or more event type names.
    pub fn parse(names: &[String]) -> Result<EventSelection, FieldError> {
        if names.is_empty() {
            return Err(FieldError::new(
                "events",
                "Give \"*\" or at least one event type.",
            ));
        }
        if names.iter().any(|n| n == ALL_EVENTS) {
            return if names.len() == 1 {
                Ok(EventSelection::All)
            } else {
                Err(FieldError::new(
                    "events",
                    "\"*\" subscribes to every type: give it alone.",
                ))
            };
        }
        let mut types = Vec::new();
        for name in names {
            let t = name.parse::<EventType>().map_err(|_| {
                FieldError::new("events", format!("\"{name}\" is not an event type."))
            })?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        Ok(EventSelection::Types(types))
    }

    /// The stored form: `*`, or the type names separated by commas.
    pub fn to_stored(&self) -> String {
        match self {
            EventSelection::All => ALL_EVENTS.to_string(),
            EventSelection::Types(types) => types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// Reads [`EventSelection::to_stored`]'s form back.
    pub fn from_stored(text: &str) -> Result<EventSelection, FieldError> {
        let names: Vec<String> = text.split(',').map(str::to_owned).collect();
        EventSelection::parse(&names)
    }

    /// The names as the API shows them.
    pub fn names(&self) -> Vec<String> {
        match self {
            EventSelection::All => vec![ALL_EVENTS.to_string()],
            EventSelection::Types(types) => types.iter().map(|t| t.as_str().to_string()).collect(),
        }
    }

    /// The types a feed read filters on (empty: all).
    pub fn filter(&self) -> &[EventType] {
        match self {
            EventSelection::All => &[],
            EventSelection::Types(types) => types,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let body = br#"{"id":1,"type":"asset.locked"}"#;
        let header = sign(SECRET, 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="), "{header}");
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        let tolerance = DEFAULT_TOLERANCE;
        assert_eq!(
            verify(SECRET, &header, body, 1_700_000_100, tolerance),
            Ok(())
        );
        assert_eq!(
            verify("whsec_other", &header, body, 1_700_000_000, tolerance),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, &header, b"{}", 1_700_000_000, tolerance),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed: moving it breaks the signature.
        let moved = header.replace("t=1700000000", "t=1700000001");
        assert_eq!(
            verify(SECRET, &moved, body, 1_700_000_000, tolerance),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, &header, body, 1_700_000_301, tolerance),
            Err(SignatureError::Expired)
        );
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,v1=zz", "garbage"] {
            assert_eq!(
                verify(SECRET, bad, body, 1, tolerance),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_t_dot_body() {
        // An independent computation of the same HMAC.
        let mut mac = HmacSha256::new_from_slice(b"key").unwrap();
        mac.update(b"42.hello");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(sign("key", 42, b"hello"), format!("t=42,v1={expected}"));
    }

    #[test]
    fn the_default_schedule_backs_off_exponentially_for_a_day() {
        let schedule = RetrySchedule::default();
        let waits: Vec<Duration> = (1..schedule.attempts())
            .map(|n| schedule.next_wait(n, 0.0).unwrap())
            .collect();
        let minutes: Vec<u64> = waits.iter().map(|w| w.as_secs() / 60).collect();
        assert_eq!(
            minutes,
            [1, 2, 4, 8, 16, 32, 64, 128, 240, 240, 240, 240],
            "{minutes:?}"
        );
        assert_eq!(schedule.attempts(), 13);
        let total: Duration = waits.iter().sum();
        assert!(total > Duration::from_secs(20 * 3600), "{total:?}");
        assert!(total <= Duration::from_secs(24 * 3600), "{total:?}");
        assert_eq!(schedule.next_wait(13, 0.0), None);
        assert_eq!(schedule.next_wait(100, 0.5), None);
    }

    #[test]
    fn jitter_shortens_a_wait_by_at_most_half() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.next_wait(3, 0.0), Some(Duration::from_secs(240)));
        assert_eq!(schedule.next_wait(3, 1.0), Some(Duration::from_secs(120)));
        let mid = schedule.next_wait(3, 0.5).unwrap();
        assert!(mid > Duration::from_secs(120) && mid < Duration::from_secs(240));
        // Out-of-range jitter is clamped.
        assert_eq!(schedule.next_wait(3, 7.0), Some(Duration::from_secs(120)));
        let short = RetrySchedule {
            base: Duration::from_millis(2),
        };
        assert_eq!(short.attempts(), 13);
        assert_eq!(short.next_wait(1, 0.0), Some(Duration::from_millis(2)));
    }

    #[test]
    fn urls_are_http_with_a_host() {
        assert_eq!(
            check_url(" https://hooks.example/a?b=1 ").unwrap(),
            "https://hooks.example/a?b=1"
        );
        assert!(check_url("http://127.0.0.1:9000/hook").is_ok());
        let long = format!("https://hooks.example/{}", "a".repeat(URL_MAX_LENGTH));
        for bad in [
            "",
            "  ",
            "ftp://hooks.example",
            "hooks.example",
            "http://",
            "http://a b",
            long.as_str(),
        ] {
            assert_eq!(check_url(bad).unwrap_err().field, "url", "{bad}");
        }
        // Anchored (its agreement with `check_url` is tested by the server's schema tests).
        let pattern = url_pattern();
        assert!(pattern.starts_with('^') && pattern.ends_with('$'));
    }

    #[test]
    fn selections_parse_and_round_trip() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            EventSelection::parse(&names(&["*"])),
            Ok(EventSelection::All)
        );
        let picked =
            EventSelection::parse(&names(&["asset.locked", "chain.reorg", "asset.locked"]))
                .unwrap();
        assert_eq!(
            picked,
            EventSelection::Types(vec![EventType::AssetLocked, EventType::ChainReorg])
        );
        assert_eq!(picked.to_stored(), "asset.locked,chain.reorg");
        assert_eq!(
            EventSelection::from_stored(&picked.to_stored()),
            Ok(picked.clone())
        );
        assert_eq!(picked.names(), ["asset.locked", "chain.reorg"]);
        assert_eq!(EventSelection::All.filter(), &[] as &[EventType]);
        let bad_lists: [&[&str]; 4] = [&[], &["*", "asset.locked"], &["asset.nope"], &[""]];
        for bad in bad_lists {
            let err = EventSelection::parse(&names(bad)).unwrap_err();
            assert_eq!(err.field, "events", "{bad:?}");
        }
    }
}
