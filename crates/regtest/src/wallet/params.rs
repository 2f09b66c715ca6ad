//! RPC argument parsing and value formatting shared by the wallet handlers (Core's
//! `AmountFromValue`, `ValueFromAmount`, asset labels, addresses).

use std::collections::BTreeMap;
use std::str::FromStr;

use elements::{Address, AddressParams, AssetId};
use serde_json::{Map, Value};

use crate::rpc::error::codes;
use crate::rpc::RpcError;

/// Label of the policy asset (`-defaultpeggedassetname`).
pub const POLICY_LABEL: &str = "bitcoin";

/// Positional argument `i`; JSON `null` counts as absent.
pub fn arg(params: &[Value], i: usize) -> Option<&Value> {
    params.get(i).filter(|v| !v.is_null())
}

/// A type error like Core's `RPCTypeCheck`.
pub fn type_error(expected: &str, got: &Value) -> RpcError {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    RpcError::new(
        codes::TYPE_ERROR,
        format!("Expected type {expected}, got {got}"),
    )
}

/// A required string argument.
pub fn req_str<'a>(params: &'a [Value], i: usize, name: &str) -> Result<&'a str, RpcError> {
    match arg(params, i) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(type_error("string", other)),
        None => Err(missing(name)),
    }
}

/// An optional string argument.
pub fn opt_str(params: &[Value], i: usize) -> Result<Option<&str>, RpcError> {
    match arg(params, i) {
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(type_error("string", other)),
        None => Ok(None),
    }
}

/// An optional boolean argument.
pub fn opt_bool(params: &[Value], i: usize) -> Result<Option<bool>, RpcError> {
    match arg(params, i) {
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(type_error("bool", other)),
        None => Ok(None),
    }
}

/// An optional non-negative integer argument.
pub fn opt_u64(params: &[Value], i: usize) -> Result<Option<u64>, RpcError> {
    match arg(params, i) {
        Some(Value::Number(n)) => {
            if let Some(v) = n.as_u64() {
                Ok(Some(v))
            } else if n.as_i64().is_some() {
                Err(RpcError::new(codes::INVALID_PARAMETER, "Negative value"))
            } else {
                Err(RpcError::new(
                    codes::TYPE_ERROR,
                    "JSON integer out of range",
                ))
            }
        }
        Some(other) => Err(type_error("number", other)),
        None => Ok(None),
    }
}

/// Missing required argument.
pub fn missing(name: &str) -> RpcError {
    RpcError::new(
        codes::INVALID_PARAMETER,
        format!("Missing required argument {name}"),
    )
}

/// Parses an amount in 8-decimal units from a JSON number or string (Core's
/// `AmountFromValue`): -3 "Invalid amount" for more than 8 decimals or junk, -3 "Amount
/// out of range" for negatives.
pub fn amount(v: &Value) -> Result<u64, RpcError> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => return Err(type_error("number", other)),
    };
    let sats =
        parse_fixed8(&text).ok_or_else(|| RpcError::new(codes::TYPE_ERROR, "Invalid amount"))?;
    if sats < 0 {
        return Err(RpcError::new(codes::TYPE_ERROR, "Amount out of range"));
    }
    Ok(sats as u64)
}

/// A required amount argument.
pub fn req_amount(params: &[Value], i: usize, name: &str) -> Result<u64, RpcError> {
    amount(arg(params, i).ok_or_else(|| missing(name))?)
}

/// Parses a decimal (optionally with exponent) into units of 1e-8; `None` when it has
/// more than 8 decimals or is not a number.
pub fn parse_fixed8(text: &str) -> Option<i64> {
    let text = text.trim();
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(pos) => (
            &text[..pos],
            text[pos + 1..]
                .parse::<i32>()
                .ok()
                .filter(|e| e.abs() <= 100)?,
        ),
        None => (text, 0),
    };
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits: String = format!("{int_part}{frac_part}");
    // value = digits * 10^(exp - frac_len); we want units of 10^-8.
    let shift = exp - frac_part.len() as i32 + 8;
    let trimmed = digits.trim_start_matches('0');
    let mut value: i128 = if trimmed.is_empty() {
        0
    } else {
        trimmed.parse().ok()?
    };
    if shift >= 0 {
        for _ in 0..shift {
            value = value.checked_mul(10)?;
            if value > i64::MAX as i128 {
                return None;
            }
        }
    } else {
        for _ in 0..(-shift) {
            if value % 10 != 0 {
                return None;
            }
            value /= 10;
        }
    }
    let value = i64::try_from(value).ok()?;
    Some(if neg { -value } else { value })
}

/// Formats units of 1e-8 as Core's `ValueFromAmount` (a JSON number).
pub fn amount_json(sats: i64) -> Value {
    let v = sats as f64 / 100_000_000.0;
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// The display name of an asset: `bitcoin` for the policy asset, hex otherwise.
pub fn asset_label(asset: &AssetId, policy: &AssetId) -> String {
    if asset == policy {
        POLICY_LABEL.to_owned()
    } else {
        asset.to_string()
    }
}

/// Parses an asset argument (label or hex id). Unknown ⇒ Core's -4 error text, which
/// prints the (failed) parse result, i.e. 64 zeros for junk.
pub fn asset_arg(s: &str, policy: &AssetId) -> Result<AssetId, RpcError> {
    if s == POLICY_LABEL {
        return Ok(*policy);
    }
    if s.len() == 64 {
        if let Ok(asset) = AssetId::from_str(s) {
            return Ok(asset);
        }
    }
    Err(RpcError::new(
        codes::WALLET_ERROR,
        format!("Unknown label and invalid asset hex: {}", "0".repeat(64)),
    ))
}

/// An amount map keyed by label/hex, ordered like Elements' `CAmountMap` (by asset bytes),
/// with the policy asset always present.
pub fn amount_map(map: &BTreeMap<AssetId, i64>, policy: &AssetId) -> Value {
    let mut entries: Vec<(AssetId, i64)> = map.iter().map(|(a, v)| (*a, *v)).collect();
    if !map.contains_key(policy) {
        entries.push((*policy, 0));
    }
    entries.sort_by_key(|(a, _)| a.to_byte_array());
    let mut obj = Map::new();
    for (asset, v) in entries {
        obj.insert(asset_label(&asset, policy), amount_json(v));
    }
    Value::Object(obj)
}

/// Parses an address of this chain; `None` when invalid or from another network.
pub fn parse_address(s: &str, params: &'static AddressParams) -> Option<Address> {
    Address::parse_with_params(s, params).ok()
}

/// Hex of 32 bytes in Core's display (reversed) order.
pub fn reversed_hex(bytes: &[u8; 32]) -> String {
    let mut b = *bytes;
    b.reverse();
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_parse_like_core() {
        assert_eq!(amount(&json!(0.17)).unwrap(), 17_000_000);
        assert_eq!(amount(&json!(1e-8)).unwrap(), 1);
        assert_eq!(amount(&json!(10)).unwrap(), 1_000_000_000);
        assert_eq!(amount(&json!("0.00000001")).unwrap(), 1);
        assert_eq!(amount(&json!(21000000)).unwrap(), 2_100_000_000_000_000);
        assert_eq!(
            amount(&json!(0.000000001)).unwrap_err().message,
            "Invalid amount"
        );
        assert_eq!(
            amount(&json!(-1)).unwrap_err().message,
            "Amount out of range"
        );
        assert_eq!(amount(&json!("abc")).unwrap_err().message, "Invalid amount");
        assert!(amount(&json!("1e2147483647")).is_err());
        assert_eq!(amount(&json!("1e2")).unwrap(), 10_000_000_000);
        assert!(amount(&json!(true)).is_err());
    }

    #[test]
    fn amounts_format_like_core() {
        assert_eq!(
            amount_json(2_099_998_999_999_753).to_string(),
            "20999989.99999753"
        );
        assert_eq!(amount_json(17_000_000), json!(0.17));
        assert_eq!(amount_json(-263), json!(-0.00000263));
    }

    #[test]
    fn asset_map_orders_by_internal_bytes_and_labels_policy() {
        let policy =
            AssetId::from_str("5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225")
                .unwrap();
        let token =
            AssetId::from_str("71a131ce613209cb5d2a7525240167874097140e4d33bc13fd6c547f907b68e5")
                .unwrap();
        let asset =
            AssetId::from_str("46a233d92f0a672782fc5d3ae43e694cc4c4d2044c222140ebd656c3de8aeeed")
                .unwrap();
        let map = BTreeMap::from([(asset, 17_000_000), (token, 1)]);
        let v = amount_map(&map, &policy);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            vec![
                "bitcoin",
                "71a131ce613209cb5d2a7525240167874097140e4d33bc13fd6c547f907b68e5",
                "46a233d92f0a672782fc5d3ae43e694cc4c4d2044c222140ebd656c3de8aeeed"
            ]
        );
        assert_eq!(asset_arg("bitcoin", &policy).unwrap(), policy);
        assert_eq!(
            asset_arg("notanasset", &policy).unwrap_err().message,
            format!("Unknown label and invalid asset hex: {}", "0".repeat(64))
        );
    }
}
