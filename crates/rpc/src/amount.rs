//! Exact conversion between Elements' decimal amounts (`0.00000001`) and integer base units.
//!
//! Elements prints every amount, of any asset, as a decimal number of 1e-8 units. Converting
//! through `f64` arithmetic can be off by one unit, so [`Amount`] reads the raw JSON number text
//! (serde_json `RawValue`) and parses it as a decimal, and writes amounts back as exact text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// Base units per displayed unit (Elements' `COIN`).
pub const UNITS_PER_COIN: i64 = 100_000_000;

/// A signed amount of any asset in base units (1 unit = 0.00000001 as Elements displays it).
///
/// Signed because wallet RPCs report debits and fees as negative amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

/// Why a decimal amount could not be converted exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The text is not a JSON number.
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    /// The number has non-zero digits below 0.00000001.
    #[error("{0:?} has more than 8 decimal places")]
    TooPrecise(String),
    /// The number does not fit in a signed 64-bit count of base units.
    #[error("{0:?} is out of range")]
    OutOfRange(String),
}

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// An amount of `units` base units.
    pub const fn from_units(units: i64) -> Self {
        Amount(units)
    }

    /// The amount in base units.
    pub const fn units(self) -> i64 {
        self.0
    }

    /// Parses a JSON number text (`0.015`, `21000000.00000000`, `1e-08`, `-0.0001355`) exactly.
    pub fn parse_decimal(text: &str) -> Result<Self, AmountError> {
        parse_decimal(text).map(Amount)
    }

    /// The amount as a JSON value, for building `params` with [`serde_json::json!`].
    ///
    /// The value is the `f64` nearest to the decimal. Every amount below 2^53 units is the only
    /// 8-decimal number in its `f64` rounding interval, so serde_json's shortest round-trip
    /// printing writes back exactly the decimal text (checked by the unit tests).
    pub fn to_json(self) -> serde_json::Value {
        // Both operands are exact in f64 and IEEE division is correctly rounded.
        serde_json::Value::from(self.0 as f64 / UNITS_PER_COIN as f64)
    }
}

impl fmt::Display for Amount {
    /// Formats like Elements: optional `-`, integer part, `.`, exactly 8 decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let per = UNITS_PER_COIN as u64;
        write!(f, "{sign}{}.{:08}", abs / per, abs % per)
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Amount::parse_decimal(s)
    }
}

impl Serialize for Amount {
    /// Serializes as a JSON number with exactly 8 decimals (raw text, no float rounding).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Amount {
    /// Deserializes from the raw JSON number text (requires a serde_json deserializer).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Amount::parse_decimal(raw.get()).map_err(serde::de::Error::custom)
    }
}

fn parse_decimal(text: &str) -> Result<i64, AmountError> {
    let not_a_number = || AmountError::NotANumber(text.to_owned());
    let trimmed = text.trim();
    let (negative, rest) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(pos) => {
            let exp_text = &rest[pos + 1..];
            let exp_digits = exp_text.strip_prefix(['+', '-']).unwrap_or(exp_text);
            if exp_digits.is_empty() || !exp_digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_a_number());
            }
            // Exponents beyond a few dozen can only be zero or out of range; cap to avoid overflow.
            let exp: i64 = exp_text.parse().unwrap_or(if exp_text.starts_with('-') {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            });
            (&rest[..pos], exp)
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => {
            if f.is_empty() {
                return Err(not_a_number());
            }
            (i, f)
        }
        None => (mantissa, ""),
    };
    if int_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
        || (int_part.len() > 1 && int_part.starts_with('0'))
    {
        return Err(not_a_number());
    }
    // value = digits * 10^(exponent - frac_len); we want value * 10^8.
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let shift = exponent
        .saturating_sub(frac_part.len() as i64)
        .saturating_add(8);
    let units: i128 = if digits.is_empty() {
        0
    } else if shift >= 0 {
        if digits.len() as i64 + shift > 20 {
            return Err(AmountError::OutOfRange(text.to_owned()));
        }
        let base: i128 = digits
            .parse()
            .map_err(|_| AmountError::OutOfRange(text.to_owned()))?;
        base * 10i128.pow(shift as u32)
    } else {
        let drop = (-shift) as usize;
        if drop >= digits.len() {
            return Err(AmountError::TooPrecise(text.to_owned()));
        }
        let (kept, dropped) = digits.split_at(digits.len() - drop);
        if dropped.bytes().any(|b| b != b'0') {
            return Err(AmountError::TooPrecise(text.to_owned()));
        }
        if kept.len() > 20 {
            return Err(AmountError::OutOfRange(text.to_owned()));
        }
        kept.parse()
            .map_err(|_| AmountError::OutOfRange(text.to_owned()))?
    };
    let signed = if negative { -units } else { units };
    i64::try_from(signed).map_err(|_| AmountError::OutOfRange(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(text: &str) -> i64 {
        Amount::parse_decimal(text).unwrap().units()
    }

    #[test]
    fn parses_plain_decimals() {
        assert_eq!(units("0.00000001"), 1);
        assert_eq!(units("21000000.0"), 2_100_000_000_000_000);
        assert_eq!(units("21000000.00000000"), 2_100_000_000_000_000);
        assert_eq!(units("20999989.99999753"), 2_099_998_999_999_753);
        assert_eq!(units("0.015"), 1_500_000);
        assert_eq!(units("0"), 0);
        assert_eq!(units("10"), 1_000_000_000);
    }

    #[test]
    fn parses_exponent_notation() {
        assert_eq!(units("1e-08"), 1);
        assert_eq!(units("1e-8"), 1);
        assert_eq!(units("1E-8"), 1);
        assert_eq!(units("-3.87e-06"), -387);
        assert_eq!(units("2.1e7"), 2_100_000_000_000_000);
        assert_eq!(units("1e+2"), 10_000_000_000);
        assert_eq!(units("100e-10"), 1);
    }

    #[test]
    fn parses_negative_amounts() {
        assert_eq!(units("-0.0001355"), -13_550);
        assert_eq!(units("-0.01"), -1_000_000);
        assert_eq!(units("-0.0"), 0);
    }

    #[test]
    fn rejects_sub_unit_precision_and_garbage() {
        assert!(matches!(
            Amount::parse_decimal("0.000000001"),
            Err(AmountError::TooPrecise(_))
        ));
        assert!(matches!(
            Amount::parse_decimal("1e-9"),
            Err(AmountError::TooPrecise(_))
        ));
        for bad in [
            "", "-", "abc", "1.", ".5", "01", "1e", "1e+", "\"1\"", "1.2.3", "--1",
        ] {
            assert!(
                matches!(Amount::parse_decimal(bad), Err(AmountError::NotANumber(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Amount::parse_decimal("100000000000000"),
            Err(AmountError::OutOfRange(_))
        ));
        assert!(matches!(
            Amount::parse_decimal("1e999999999999999999999"),
            Err(AmountError::OutOfRange(_))
        ));
        // Trailing zeros beyond 8 places are fine: the value is still exact.
        assert_eq!(units("0.1000000000000"), 10_000_000);
        assert_eq!(units("0e-999999999999999999999"), 0);
    }

    #[test]
    fn displays_like_elements() {
        assert_eq!(Amount::from_units(1).to_string(), "0.00000001");
        assert_eq!(
            Amount::from_units(2_100_000_000_000_000).to_string(),
            "21000000.00000000"
        );
        assert_eq!(Amount::from_units(-13_550).to_string(), "-0.00013550");
        assert_eq!(
            Amount::from_units(i64::MIN).to_string(),
            "-92233720368.54775808"
        );
    }

    #[test]
    fn serde_round_trips_raw_text() {
        let parsed: Vec<Amount> =
            serde_json::from_str("[0.00000001, 1e-08, -0.0001355, 21000000.0]").unwrap();
        let units: Vec<i64> = parsed.iter().map(|a| a.units()).collect();
        assert_eq!(units, vec![1, 1, -13_550, 2_100_000_000_000_000]);
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            "[0.00000001,0.00000001,-0.00013550,21000000.00000000]"
        );
        // Through an intermediate Value (shortest round-trip float printing) it stays exact.
        let value: serde_json::Value = serde_json::from_str("0.17").unwrap();
        assert_eq!(
            serde_json::from_value::<Amount>(value).unwrap().units(),
            17_000_000
        );
        assert!(serde_json::from_str::<Amount>("\"0.1\"").is_err());
    }

    #[test]
    fn to_json_prints_the_exact_decimal() {
        let mut samples: Vec<i64> = vec![0, 1, 7, 99_999_999, 100_000_001, 2_099_999_999_999_999];
        samples.extend([
            2_100_000_000_000_000,
            2_099_998_999_999_753,
            -387,
            123_456_789_012_345,
        ]);
        // A deterministic spread over the whole money range.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push((x % 2_100_000_000_000_001) as i64);
        }
        for units in samples {
            let text = serde_json::to_string(&Amount::from_units(units).to_json()).unwrap();
            assert_eq!(
                Amount::parse_decimal(&text).unwrap().units(),
                units,
                "{text}"
            );
        }
    }
}
