//! Named crash points, **for the crash tests only**: with `AMPHORA_CRASH_AT=<point>[:<n>]` in
//! its environment, a process (`amphora serve`, `amphora confirm`) sends itself `SIGKILL` the
//! `n`-th time (default: the first) it reaches `<point>`, so a test can stop it at an exact step
//! of a flow, as `kill -9` or a power cut would: no destructor, no flush, no answer. Without the
//! variable (every real run) [`point`] does nothing. All points are listed here, in flow order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable that arms a crash point.
pub const CRASH_AT_ENV: &str = "AMPHORA_CRASH_AT";

/// Issuance: the signed transaction is stored, the node has not been asked to broadcast it.
pub const ISSUE_BEFORE_BROADCAST: &str = "issue-before-broadcast";
/// Issuance: the node accepted the transaction, the platform has not recorded that yet.
pub const ISSUE_AFTER_BROADCAST: &str = "issue-after-broadcast";
/// Asset balance (`GET /assets/{uuid}/balance`, which `amphora confirm distribute`, `reissue`
/// and `burn` read before they send): computed, not answered; nothing is sent yet.
pub const BALANCE_BEFORE_ANSWER: &str = "balance-before-answer";
/// Distribution confirm call: the payment is verified, nothing is recorded yet.
pub const DISTRIBUTION_CONFIRM_BEFORE_RECORD: &str = "distribution-confirm-before-record";
/// Distribution confirm call: recorded, the answer not sent.
pub const DISTRIBUTION_CONFIRM_AFTER_RECORD: &str = "distribution-confirm-after-record";
/// Reissuance confirm call: the reissuance is verified, nothing is recorded yet.
pub const REISSUE_CONFIRM_BEFORE_RECORD: &str = "reissue-confirm-before-record";
/// Reissuance confirm call: recorded, the answer not sent.
pub const REISSUE_CONFIRM_AFTER_RECORD: &str = "reissue-confirm-after-record";
/// Burn confirm call: the burn is verified, nothing is recorded yet.
pub const BURN_CONFIRM_BEFORE_RECORD: &str = "burn-confirm-before-record";
/// Burn confirm call: recorded, the answer not sent.
pub const BURN_CONFIRM_AFTER_RECORD: &str = "burn-confirm-after-record";
/// AMP2 co-signing (`/amp2/wallets/sign`): the decision is made (the PSET signed when
/// approved), not recorded, no answer sent.
pub const COSIGN_BEFORE_RECORD: &str = "cosign-before-record";
/// AMP2 co-signing: the decision is recorded, the co-signed PSET not sent back.
pub const COSIGN_AFTER_RECORD: &str = "cosign-after-record";
/// Chain follower: a block's rows are written in its transaction, not committed.
pub const FOLLOWER_BLOCK_TRANSACTION: &str = "follower-block-transaction";
/// Webhook worker: an event's delivery is due and the endpoint's lease taken; nothing is sent.
pub const WEBHOOK_BEFORE_DELIVERY: &str = "webhook-before-delivery";
/// `amphora confirm`: every check passed, the node not yet asked to send (`sendmany`,
/// `reissueasset`, `destroyamount`).
pub const CONFIRM_BEFORE_SEND: &str = "confirm-before-send";
/// `amphora confirm`: the transaction is sent (or named with `--use-existing`), the wait for
/// its confirmations not begun.
pub const CONFIRM_AFTER_SEND: &str = "confirm-after-send";
/// `amphora confirm`: confirmed on chain, the platform's confirm endpoint not called.
pub const CONFIRM_BEFORE_CONFIRM_CALL: &str = "confirm-before-confirm-call";

/// Every crash point (what `AMPHORA_CRASH_AT` may name).
pub const ALL: &[&str] = &[
    ISSUE_BEFORE_BROADCAST,
    ISSUE_AFTER_BROADCAST,
    BALANCE_BEFORE_ANSWER,
    DISTRIBUTION_CONFIRM_BEFORE_RECORD,
    DISTRIBUTION_CONFIRM_AFTER_RECORD,
    REISSUE_CONFIRM_BEFORE_RECORD,
    REISSUE_CONFIRM_AFTER_RECORD,
    BURN_CONFIRM_BEFORE_RECORD,
    BURN_CONFIRM_AFTER_RECORD,
    COSIGN_BEFORE_RECORD,
    COSIGN_AFTER_RECORD,
    FOLLOWER_BLOCK_TRANSACTION,
    WEBHOOK_BEFORE_DELIVERY,
    CONFIRM_BEFORE_SEND,
    CONFIRM_AFTER_SEND,
    CONFIRM_BEFORE_CONFIRM_CALL,
];

/// The armed point and on which hit it fires, parsed once from the environment.
fn armed() -> Option<&'static (String, u64)> {
    static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
    ARMED
        .get_or_init(|| parse(&std::env::var(CRASH_AT_ENV).ok()?))
        .as_ref()
}

/// `<point>[:<n>]` → the point and `n` (≥ 1); `None` when empty or malformed.
fn parse(value: &str) -> Option<(String, u64)> {
    let value = value.trim();
    let (name, hit) = match value.split_once(':') {
        Some((name, n)) => (name, n.parse().ok().filter(|n| *n >= 1)?),
        None => (value, 1),
    };
    (!name.is_empty()).then(|| (name.to_string(), hit))
}

/// Reaching the crash point `name`: kills the process with `SIGKILL` when it is the armed
/// point's `n`-th hit; otherwise returns at once.
pub fn point(name: &str) {
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Some((armed, hit)) = armed() else {
        return;
    };
    if armed != name || HITS.fetch_add(1, Ordering::SeqCst) + 1 != *hit {
        return;
    }
    eprintln!("{CRASH_AT_ENV}: killing this process at {name} (hit {hit})");
    #[cfg(unix)]
    // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_names_its_hit() {
        assert_eq!(
            parse("follower-block-transaction"),
            Some(("follower-block-transaction".into(), 1))
        );
        assert_eq!(
            parse("issue-after-broadcast:3"),
            Some(("issue-after-broadcast".into(), 3))
        );
        for bad in ["", "x:0", "x:-1", "x:y", ":2"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_point_has_a_distinct_name() {
        let mut names = ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
