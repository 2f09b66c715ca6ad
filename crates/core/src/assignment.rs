//! Assignments and distributions: the pure rules (reference §2.9, §2.10, §3.1).
//!
//! An assignment allocates an amount of an asset to a registered user. It may be created when
//! the asset's issuance has [`MIN_CONFIRMATIONS`], the user holds every category a
//! transfer-restricted asset requires, the user has no other ready, undistributed assignment of
//! the asset (when this one is ready), and the amounts assigned but not yet distributed stay
//! within the treasury's confirmed balance. The user need not have a wallet (GAID) yet: as the
//! seed says, "assignment does not require that registered users have a wallet registered but,
//! without it, any subsequent distribution cannot begin" ([`check_recipients_have_gaid`]). A
//! distribution pays every ready, unlocked, vested assignment; it is split into batches of at
//! most [`MAX_OUTPUTS_PER_TX`] recipients, one transaction each.

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};

use crate::asset::MAX_AMOUNT;
use crate::chain::MIN_CONFIRMATIONS;
use crate::FieldError;

/// The rule of a `vesting_timestamp`: unix seconds up to the end of year 9999.
pub const VESTING_TIMESTAMP: crate::validation::IntRule = crate::validation::IntRule {
    field: "vesting_timestamp",
    min: 0,
    max: 253_402_300_799,
};

/// Recipients paid by one distribution transaction.
///
/// Elements refuses to relay transactions above 400,000 weight units (`MAX_STANDARD_TX_WEIGHT`).
/// A blinded output costs about 4,400 bytes of witness (range proof with 52-bit coverage plus
/// surjection proof) and ~130 bytes of non-witness data, roughly 4,900 weight units; with
/// inputs, the fee output, and the asset and L-BTC change, 60 recipients stay near 300,000
/// weight units, a safe margin below the limit.
pub const MAX_OUTPUTS_PER_TX: usize = 60;

/// A business rule that refuses an assignment (a 400 `{"Error": …}` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentRuleError {
    /// The issuance is not confirmed deeply enough yet.
    IssuanceNotConfirmed {
        /// Confirmations it has now.
        confirmations: i64,
    },
    /// Registered users with ready assignments have no GAID to be paid to, so the
    /// distribution cannot begin.
    RecipientsWithoutGaid {
        /// The users, ascending, without duplicates.
        registered_users: Vec<i64>,
    },
    /// The user lacks categories the transfer-restricted asset requires.
    MissingCategories {
        /// The user.
        registered_user: i64,
        /// The required categories the user is not in, ascending.
        missing: Vec<i64>,
    },
    /// The user already has a ready, undistributed assignment of the asset.
    AlreadyReady {
        /// The user.
        registered_user: i64,
    },
    /// The assignment would take the assigned, undistributed total above the treasury.
    InsufficientFunds {
        /// Amount asked for.
        requested: i64,
        /// Already assigned and not distributed.
        assigned: i64,
        /// The treasury's confirmed balance.
        treasury: i64,
    },
}

impl fmt::Display for AssignmentRuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssignmentRuleError::IssuanceNotConfirmed { confirmations } => write!(
                f,
                "The asset's issuance has {confirmations} confirmation(s); assignments need at \
                 least {MIN_CONFIRMATIONS}."
            ),
            AssignmentRuleError::RecipientsWithoutGaid { registered_users } => write!(
                f,
                "The distribution cannot begin: registered user(s) {registered_users:?} have \
                 assignments ready for distribution but no GAID (no registered wallet) to be \
                 paid to. Add a GAID to each of them, or lock their assignments to distribute \
                 the rest."
            ),
            AssignmentRuleError::MissingCategories {
                registered_user,
                missing,
            } => write!(
                f,
                "Registered user {registered_user} is not in the categories {missing:?} that \
                 this transfer-restricted asset requires."
            ),
            AssignmentRuleError::AlreadyReady { registered_user } => write!(
                f,
                "Registered user {registered_user} already has an assignment ready for \
                 distribution for this asset."
            ),
            AssignmentRuleError::InsufficientFunds {
                requested,
                assigned,
                treasury,
            } => write!(
                f,
                "insufficient confirmed funds: the treasury holds {treasury}, {assigned} is \
                 already assigned and not distributed, {requested} more was requested."
            ),
        }
    }
}

impl std::error::Error for AssignmentRuleError {}

/// One assignment of a create request, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentInput {
    /// The registered user.
    pub registered_user: i64,
    /// Base units, 1 … [`MAX_AMOUNT`].
    pub amount: i64,
    /// Picked up by the next distribution.
    pub ready_for_distribution: bool,
    /// Unix seconds before which the assignment is not distributed.
    pub vesting_timestamp: Option<i64>,
}

/// Validates the fields of one requested assignment.
pub fn validate_assignment(
    registered_user: i64,
    amount: i64,
    ready_for_distribution: bool,
    vesting_timestamp: Option<i64>,
) -> Result<AssignmentInput, FieldError> {
    if amount < 1 || amount as u64 > MAX_AMOUNT {
        return Err(FieldError::new(
            "amount",
            format!("Ensure this value is between 1 and {MAX_AMOUNT}."),
        ));
    }
    if registered_user < 1 {
        return Err(FieldError::new(
            "registered_user",
            "Invalid pk - object does not exist.",
        ));
    }
    if let Some(ts) = vesting_timestamp {
        if VESTING_TIMESTAMP.check(ts).is_err() || vesting_datetime(ts).is_none() {
            return Err(FieldError::new(
                "vesting_timestamp",
                "Ensure this value is a unix timestamp in seconds (0 … 253402300799).",
            ));
        }
    }
    Ok(AssignmentInput {
        registered_user,
        amount,
        ready_for_distribution,
        vesting_timestamp,
    })
}

/// What the store knows when an assignment is created (read under the asset's lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentContext {
    /// Confirmations of the asset's issuance (0 when unconfirmed or unknown).
    pub issuance_confirmations: i64,
    /// Whether the asset is transfer-restricted.
    pub transfer_restricted: bool,
    /// Categories the asset requires.
    pub required_categories: Vec<i64>,
    /// Categories of the user.
    pub user_categories: Vec<i64>,
    /// Whether the user already has a ready, undistributed assignment of the asset.
    pub user_has_ready: bool,
    /// Sum of the asset's assignments that are not distributed (nor deleted).
    pub assigned_undistributed: i64,
    /// The treasury's confirmed balance of the asset.
    pub treasury_balance: i64,
}

/// Applies every creation rule, in the order a user can fix them.
pub fn check_assignment(
    input: &AssignmentInput,
    ctx: &AssignmentContext,
) -> Result<(), AssignmentRuleError> {
    if ctx.issuance_confirmations < i64::from(MIN_CONFIRMATIONS) {
        return Err(AssignmentRuleError::IssuanceNotConfirmed {
            confirmations: ctx.issuance_confirmations.max(0),
        });
    }
    if ctx.transfer_restricted {
        let missing: Vec<i64> = ctx
            .required_categories
            .iter()
            .filter(|c| !ctx.user_categories.contains(c))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(AssignmentRuleError::MissingCategories {
                registered_user: input.registered_user,
                missing,
            });
        }
    }
    if input.ready_for_distribution && ctx.user_has_ready {
        return Err(AssignmentRuleError::AlreadyReady {
            registered_user: input.registered_user,
        });
    }
    let total = ctx.assigned_undistributed.saturating_add(input.amount);
    if total > ctx.treasury_balance {
        return Err(AssignmentRuleError::InsufficientFunds {
            requested: input.amount,
            assigned: ctx.assigned_undistributed,
            treasury: ctx.treasury_balance,
        });
    }
    Ok(())
}

/// Checks that every recipient of a distribution has a GAID: `recipients` are the registered
/// users of the ready assignments with their default GAIDs. Gives the GAIDs in order, or
/// refuses naming every user without one, so the issuer can fix them all (or lock their
/// assignments) in one go.
pub fn check_recipients_have_gaid<'a>(
    recipients: impl IntoIterator<Item = (i64, Option<&'a str>)>,
) -> Result<Vec<&'a str>, AssignmentRuleError> {
    let mut gaids = Vec::new();
    let mut missing = std::collections::BTreeSet::new();
    for (user, gaid) in recipients {
        match gaid {
            Some(gaid) => gaids.push(gaid),
            None => {
                missing.insert(user);
            }
        }
    }
    if missing.is_empty() {
        Ok(gaids)
    } else {
        Err(AssignmentRuleError::RecipientsWithoutGaid {
            registered_users: missing.into_iter().collect(),
        })
    }
}

/// The vesting time as a date, `None` when out of range.
pub fn vesting_datetime(timestamp: i64) -> Option<DateTime<Utc>> {
    if !(0..=253_402_300_799).contains(&timestamp) {
        return None;
    }
    Utc.timestamp_opt(timestamp, 0).single()
}

/// Whether an assignment with this vesting time has vested at `now` (no time: vested).
pub fn has_vested(vesting_timestamp: Option<i64>, now: DateTime<Utc>) -> bool {
    vesting_timestamp.is_none_or(|ts| ts <= now.timestamp())
}

/// Base units as the decimal coin amount of confirm files and Elements RPC (base / 10^8).
/// Exact: the result prints as the decimal with at most 8 fractional digits (amounts up to
/// [`MAX_AMOUNT`] fit in the 53-bit mantissa).
pub fn coin_amount(base_units: i64) -> f64 {
    let text = format!(
        "{}.{:08}",
        base_units / 100_000_000,
        (base_units % 100_000_000).abs()
    );
    text.parse().expect("a decimal number parses")
}

/// Splits `count` recipients into batches of at most `max` (at least 1): the batch number of
/// each recipient, in order, and the number of batches.
pub fn batches(count: usize, max: usize) -> (Vec<usize>, usize) {
    let max = max.max(1);
    let numbers: Vec<usize> = (0..count).map(|i| i / max).collect();
    (numbers, count.div_ceil(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> AssignmentContext {
        AssignmentContext {
            issuance_confirmations: 2,
            transfer_restricted: true,
            required_categories: vec![1, 2],
            user_categories: vec![1, 2, 3],
            user_has_ready: false,
            assigned_undistributed: 40,
            treasury_balance: 100,
        }
    }

    fn input(amount: i64, ready: bool) -> AssignmentInput {
        validate_assignment(7, amount, ready, None).unwrap()
    }

    #[test]
    fn fields_are_bounded() {
        assert_eq!(
            validate_assignment(7, 0, true, None).unwrap_err().field,
            "amount"
        );
        assert_eq!(
            validate_assignment(7, MAX_AMOUNT as i64 + 1, true, None)
                .unwrap_err()
                .field,
            "amount"
        );
        assert_eq!(
            validate_assignment(0, 5, true, None).unwrap_err().field,
            "registered_user"
        );
        assert_eq!(
            validate_assignment(7, 5, true, Some(-1)).unwrap_err().field,
            "vesting_timestamp"
        );
        assert!(validate_assignment(7, MAX_AMOUNT as i64, false, Some(0)).is_ok());
    }

    #[test]
    fn every_rule_refuses_in_order() {
        assert!(check_assignment(&input(60, true), &ctx()).is_ok());
        let mut c = ctx();
        c.issuance_confirmations = 1;
        assert_eq!(
            check_assignment(&input(1, true), &c),
            Err(AssignmentRuleError::IssuanceNotConfirmed { confirmations: 1 })
        );
        let mut c = ctx();
        c.user_categories = vec![2];
        assert_eq!(
            check_assignment(&input(1, true), &c),
            Err(AssignmentRuleError::MissingCategories {
                registered_user: 7,
                missing: vec![1]
            })
        );
        c.transfer_restricted = false;
        assert!(check_assignment(&input(1, true), &c).is_ok());
        let mut c = ctx();
        c.user_has_ready = true;
        assert!(matches!(
            check_assignment(&input(1, true), &c),
            Err(AssignmentRuleError::AlreadyReady { .. })
        ));
        assert!(check_assignment(&input(1, false), &c).is_ok());
        let err = check_assignment(&input(61, true), &ctx()).unwrap_err();
        assert!(err.to_string().starts_with("insufficient confirmed funds"));
    }

    #[test]
    fn a_distribution_names_every_recipient_without_a_gaid() {
        assert_eq!(
            check_recipients_have_gaid([(1, Some("GA1")), (2, Some("GA2"))]),
            Ok(vec!["GA1", "GA2"])
        );
        assert_eq!(check_recipients_have_gaid([]), Ok(vec![]));
        let err = check_recipients_have_gaid([(9, None), (1, Some("GA1")), (3, None), (9, None)])
            .unwrap_err();
        assert_eq!(
            err,
            AssignmentRuleError::RecipientsWithoutGaid {
                registered_users: vec![3, 9]
            }
        );
        assert!(err.to_string().contains("[3, 9]"), "{err}");
    }

    #[test]
    fn vesting_and_amounts() {
        let now = Utc.timestamp_opt(1_000, 0).unwrap();
        assert!(has_vested(None, now));
        assert!(has_vested(Some(1_000), now));
        assert!(!has_vested(Some(1_001), now));
        assert_eq!(coin_amount(150_000_000), 1.5);
        assert_eq!(coin_amount(1), 0.00000001);
        assert_eq!(coin_amount(2_100_000_000_000_000), 21_000_000.0);
        assert_eq!(
            serde_json::to_string(&coin_amount(123_456_789_012_345)).unwrap(),
            "1234567.89012345"
        );
    }

    #[test]
    fn batches_split_evenly() {
        assert_eq!(batches(0, 60), (vec![], 0));
        assert_eq!(batches(3, 2), (vec![0, 0, 1], 2));
        let (numbers, count) = batches(121, MAX_OUTPUTS_PER_TX);
        assert_eq!(count, 3);
        assert_eq!(numbers[120], 2);
    }
}
