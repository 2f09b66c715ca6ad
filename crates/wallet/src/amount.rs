//! Amounts typed by the user, in an asset's display unit.

use crate::error::{Result, WalletError};

/// Parses an amount in the display unit of an asset with `precision` decimals into base units.
pub fn parse_amount(text: &str, precision: u8) -> Result<u64> {
    let bad = |why: &str| WalletError::InvalidInput(format!("invalid amount '{text}': {why}"));
    let t = text.trim();
    if t.is_empty() || t.starts_with('-') || t.starts_with('+') {
        return Err(bad("expected a positive decimal number"));
    }
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad("expected a positive decimal number"));
    }
    if frac.len() > precision as usize {
        return Err(bad(&format!("the asset has {precision} decimal place(s)")));
    }
    let scale = 10u64.pow(u32::from(precision));
    let int_part: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad("too large"))?
    };
    let frac_part: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<width$}", width = precision as usize)
            .parse()
            .map_err(|_| bad("too large"))?
    };
    let value = int_part
        .checked_mul(scale)
        .and_then(|v| v.checked_add(frac_part))
        .ok_or_else(|| bad("too large"))?;
    if value == 0 {
        return Err(bad("must be greater than zero"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_display_units() {
        assert_eq!(parse_amount("1.5", 2).unwrap(), 150);
        assert_eq!(parse_amount("0.00000001", 8).unwrap(), 1);
        assert_eq!(parse_amount("42", 0).unwrap(), 42);
        assert_eq!(parse_amount(".5", 1).unwrap(), 5);
        assert_eq!(parse_amount("3.", 2).unwrap(), 300);
        for bad in [
            "",
            "-1",
            "1.234",
            "abc",
            "0",
            "0.00",
            "1e3",
            ".",
            "18446744073709551616",
        ] {
            assert!(parse_amount(bad, 2).is_err(), "{bad}");
        }
        assert!(parse_amount("1.5", 0)
            .unwrap_err()
            .to_string()
            .contains("0 decimal place(s)"));
    }
}
