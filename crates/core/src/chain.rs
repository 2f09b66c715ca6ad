//! Chain rules shared by every check of a transaction: how many confirmations make it final
//! for the platform, and whether blinders open an output's (or an issuance's) commitments.
//!
//! These are the only copies: the server's chain verification, the assignment rules, the
//! embedded node's miner and the confirm client all use them.

use std::str::FromStr;
use std::sync::LazyLock;

use elements::confidential::{Asset, AssetBlindingFactor, Value, ValueBlindingFactor};
use elements::secp256k1_zkp::{All, Generator, Secp256k1};
use elements::{AssetId, TxOut};

/// Confirmations a transaction needs before the platform acts on it: an issuance before
/// assignments, reissuances and registry authorization; a distribution, payout, reissuance or
/// burn before its confirm call is accepted (the confirm client waits for as many).
pub const MIN_CONFIRMATIONS: u32 = 2;

static SECP: LazyLock<Secp256k1<All>> = LazyLock::new(Secp256k1::new);

/// Whether `txout` holds `value` units of `asset` with these blinders (hex, as Elements RPC
/// prints them): explicit parts must be equal, commitments must be the ones the blinders open.
/// A blinder is only read for a part that is committed.
pub fn output_opens(
    txout: &TxOut,
    asset: AssetId,
    value: u64,
    asset_blinder: &str,
    amount_blinder: &str,
) -> bool {
    let generator = match txout.asset {
        Asset::Explicit(explicit) if explicit == asset => {
            Generator::new_unblinded(&SECP, asset.into_tag())
        }
        Asset::Confidential(generator) => {
            let Ok(abf) = AssetBlindingFactor::from_str(asset_blinder) else {
                return false;
            };
            if Asset::new_confidential(&SECP, asset, abf) != txout.asset {
                return false;
            }
            generator
        }
        _ => return false,
    };
    match txout.value {
        Value::Explicit(explicit) => explicit == value,
        Value::Confidential(_) => ValueBlindingFactor::from_str(amount_blinder)
            .is_ok_and(|vbf| Value::new_confidential(&SECP, value, generator, vbf) == txout.value),
        Value::Null => false,
    }
}

/// Whether the amount field of a (re)issuance input creates `value` units of `asset`:
/// explicitly, or as a commitment that the value blinder `blinder` (`listissuances`'
/// `assetblinds`) opens under the asset's unblinded generator.
pub fn issuance_amount_opens(amount: &Value, asset: AssetId, value: u64, blinder: &str) -> bool {
    match amount {
        Value::Explicit(explicit) => *explicit == value,
        Value::Confidential(_) => ValueBlindingFactor::from_str(blinder).is_ok_and(|vbf| {
            let generator = Generator::new_unblinded(&SECP, asset.into_tag());
            Value::new_confidential(&SECP, value, generator, vbf) == *amount
        }),
        Value::Null => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    fn asset() -> AssetId {
        AssetId::from_str(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn explicit_outputs_open_to_their_values_whatever_the_blinders() {
        let out = TxOut {
            asset: Asset::Explicit(asset()),
            value: Value::Explicit(5),
            ..Default::default()
        };
        assert!(output_opens(&out, asset(), 5, ZERO, ZERO));
        assert!(output_opens(&out, asset(), 5, "", "not hex"));
        assert!(!output_opens(&out, asset(), 6, ZERO, ZERO));
        let other = AssetId::from_str(&"cd".repeat(32)).unwrap();
        assert!(!output_opens(&out, other, 5, ZERO, ZERO));
    }

    #[test]
    fn commitments_open_only_with_their_blinders() {
        let abf = AssetBlindingFactor::from_str(&"11".repeat(32)).unwrap();
        let vbf = ValueBlindingFactor::from_str(&"22".repeat(32)).unwrap();
        let out = TxOut {
            asset: Asset::new_confidential(&SECP, asset(), abf),
            value: Value::new_confidential_from_assetid(&SECP, 700, asset(), vbf, abf),
            ..Default::default()
        };
        let (a, v) = (abf.to_string(), vbf.to_string());
        assert!(output_opens(&out, asset(), 700, &a, &v));
        assert!(!output_opens(&out, asset(), 701, &a, &v));
        assert!(!output_opens(&out, asset(), 700, &v, &a));
        assert!(!output_opens(&out, asset(), 700, &"33".repeat(32), &v));
        assert!(!output_opens(&out, asset(), 700, &a, &"33".repeat(32)));
        assert!(!output_opens(&out, asset(), 700, "zz", &v));
        assert!(!output_opens(&out, asset(), 700, ZERO, ZERO));
    }

    #[test]
    fn issuance_amounts_open_with_the_listed_blinder() {
        let vbf = ValueBlindingFactor::from_str(&"22".repeat(32)).unwrap();
        let issued = Value::new_confidential(
            &SECP,
            9,
            Generator::new_unblinded(&SECP, asset().into_tag()),
            vbf,
        );
        let v = vbf.to_string();
        assert!(issuance_amount_opens(&issued, asset(), 9, &v));
        assert!(!issuance_amount_opens(&issued, asset(), 8, &v));
        assert!(!issuance_amount_opens(&issued, asset(), 9, ZERO));
        assert!(issuance_amount_opens(&Value::Explicit(9), asset(), 9, ZERO));
        assert!(!issuance_amount_opens(&Value::Null, asset(), 9, ZERO));
    }
}
