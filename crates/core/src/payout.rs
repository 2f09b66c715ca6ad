//! Payouts: a total amount of a payout asset shared among the holders of a security at a record
//! height, pro rata to their holdings.
//!
//! The rounding rule: each holder first gets `total × holding / eligible total`, rounded down;
//! the units this leaves over (fewer than the number of holders) go one each to the holders with
//! the largest remainders (`total × holding mod eligible total`), ties broken by the lower
//! registered user id. The shares then add up to the total exactly; a share may be 0 (a holder
//! too small to get a unit), and such a holder is not paid.

/// One eligible holder: its registered user id and the units of the security it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// The registered user.
    pub registered_user: i64,
    /// Units of the security held at the record height (positive).
    pub holding: u64,
}

/// Why shares cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// No holder holds anything.
    #[error("nobody eligible holds the security at the record height")]
    NoHolders,
    /// A holder appears twice.
    #[error("registered user {0} appears twice among the holders")]
    DuplicateHolder(i64),
}

/// Each holder's share of `total`, in the order of `holders` (see the module documentation for
/// the rounding rule). Holders holding 0 get 0 and take no part in the rounding.
pub fn pro_rata_shares(total: u64, holders: &[Holder]) -> Result<Vec<u64>, ShareError> {
    let mut ids: Vec<i64> = holders.iter().map(|h| h.registered_user).collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(ShareError::DuplicateHolder(pair[0]));
    }
    let eligible: u128 = holders.iter().map(|h| u128::from(h.holding)).sum();
    if eligible == 0 {
        return Err(ShareError::NoHolders);
    }
    let total = u128::from(total);
    let mut shares = Vec::with_capacity(holders.len());
    let mut remainders = Vec::with_capacity(holders.len());
    for (index, holder) in holders.iter().enumerate() {
        let product = total * u128::from(holder.holding);
        shares.push((product / eligible) as u64);
        if holder.holding > 0 {
            remainders.push((product % eligible, holder.registered_user, index));
        }
    }
    let given: u128 = shares.iter().map(|s| u128::from(*s)).sum();
    let left = (total - given) as usize;
    // Largest remainder first, then the lower registered user id.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, index) in remainders.into_iter().take(left) {
        shares[index] += 1;
    }
    Ok(shares)
}

/// `amount` as a percentage of `total` with four decimals, rounded half up (`"33.3333"`); `"0.0000"`
/// when `total` is 0. What the cap table shows as each holder's share.
pub fn percent_of(amount: u64, total: u64) -> String {
    if total == 0 {
        return "0.0000".into();
    }
    // In units of 0.0001 %: amount × 10^6 / total, rounded half up.
    let scaled = (u128::from(amount) * 2_000_000 + u128::from(total)) / (2 * u128::from(total));
    format!("{}.{:04}", scaled / 10_000, scaled % 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn holders(list: &[(i64, u64)]) -> Vec<Holder> {
        list.iter()
            .map(|&(registered_user, holding)| Holder {
                registered_user,
                holding,
            })
            .collect()
    }

    #[test]
    fn one_holder_gets_everything() {
        assert_eq!(pro_rata_shares(1_000, &holders(&[(7, 3)])), Ok(vec![1_000]));
    }

    #[test]
    fn exact_shares_need_no_rounding() {
        let shares = pro_rata_shares(100, &holders(&[(1, 50), (2, 30), (3, 20)])).unwrap();
        assert_eq!(shares, vec![50, 30, 20]);
    }

    #[test]
    fn remainders_go_to_the_largest_remainders() {
        // 100 × 1/3 each: 33 each, remainder 1 unit; all remainders equal: lowest id wins.
        let shares = pro_rata_shares(100, &holders(&[(9, 1), (4, 1), (6, 1)])).unwrap();
        assert_eq!(shares, vec![33, 34, 33]);
        // 10 × (5, 3, 2)/10 = 5, 3, 2; 11 × = 5.5, 3.3, 2.2: one unit left, to the 0.5.
        let shares = pro_rata_shares(11, &holders(&[(1, 5), (2, 3), (3, 2)])).unwrap();
        assert_eq!(shares, vec![6, 3, 2]);
        // 7 × (3, 3, 1)/7 = 3, 3, 1 exactly; 8 × = 3.43, 3.43, 1.14: one unit, tie → id 2.
        let shares = pro_rata_shares(8, &holders(&[(5, 3), (2, 3), (8, 1)])).unwrap();
        assert_eq!(shares, vec![3, 4, 1]);
    }

    #[test]
    fn a_tiny_holder_may_get_nothing() {
        let shares = pro_rata_shares(10, &holders(&[(1, 1_000), (2, 1)])).unwrap();
        assert_eq!(shares, vec![10, 0]);
        // A zero holding takes no part, even in the rounding.
        let shares = pro_rata_shares(3, &holders(&[(1, 1), (2, 0), (3, 1)])).unwrap();
        assert_eq!(shares, vec![2, 0, 1]);
    }

    #[test]
    fn bad_holder_lists_are_refused() {
        assert_eq!(pro_rata_shares(5, &[]), Err(ShareError::NoHolders));
        assert_eq!(
            pro_rata_shares(5, &holders(&[(1, 0)])),
            Err(ShareError::NoHolders)
        );
        assert_eq!(
            pro_rata_shares(5, &holders(&[(1, 1), (1, 2)])),
            Err(ShareError::DuplicateHolder(1))
        );
    }

    #[test]
    fn large_amounts_do_not_overflow() {
        let shares = pro_rata_shares(u64::MAX, &holders(&[(1, u64::MAX), (2, u64::MAX)])).unwrap();
        assert_eq!(
            shares.iter().map(|s| u128::from(*s)).sum::<u128>(),
            u128::from(u64::MAX)
        );
    }

    #[test]
    fn percentages_have_four_decimals_rounded_half_up() {
        assert_eq!(percent_of(1, 3), "33.3333");
        assert_eq!(percent_of(2, 3), "66.6667");
        assert_eq!(percent_of(5, 5), "100.0000");
        assert_eq!(percent_of(1, 200_000_000), "0.0000");
        assert_eq!(percent_of(1, 2_000_000), "0.0001");
        assert_eq!(percent_of(0, 0), "0.0000");
    }

    proptest! {
        #[test]
        fn shares_add_up_and_stay_within_one_unit_of_exact(
            total in 0u64..1_000_000_000_000,
            list in proptest::collection::vec(0u64..10_000_000, 1..40),
        ) {
            let holders: Vec<Holder> = list.iter().enumerate()
                .map(|(i, &holding)| Holder { registered_user: i as i64 * 3 + 1, holding })
                .collect();
            let eligible: u128 = list.iter().map(|h| u128::from(*h)).sum();
            prop_assume!(eligible > 0);
            let shares = pro_rata_shares(total, &holders).unwrap();
            let sum: u128 = shares.iter().map(|s| u128::from(*s)).sum();
            prop_assert_eq!(sum, u128::from(total));
            for (holder, share) in holders.iter().zip(&shares) {
                let floor = u128::from(total) * u128::from(holder.holding) / eligible;
                prop_assert!(u128::from(*share) == floor || u128::from(*share) == floor + 1);
                if holder.holding == 0 {
                    prop_assert_eq!(*share, 0);
                }
            }
            // A larger holding never gets a smaller share.
            for (a, sa) in holders.iter().zip(&shares) {
                for (b, sb) in holders.iter().zip(&shares) {
                    if a.holding > b.holding {
                        prop_assert!(sa >= sb);
                    }
                }
            }
        }
    }
}
