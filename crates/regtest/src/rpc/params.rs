//! Positional/named parameter access with Bitcoin Core's error codes and messages.

use serde_json::Value;

use super::error::codes;
use super::RpcError;

/// Positional parameters of a call (named parameters are mapped to positions beforehand).
#[derive(Debug, Clone, Copy)]
pub struct Params<'a>(pub &'a [Value]);

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `-3 JSON value of type X is not of expected type Y`.
pub fn type_error(v: &Value, expected: &str) -> RpcError {
    RpcError::new(
        codes::TYPE_ERROR,
        format!(
            "JSON value of type {} is not of expected type {expected}",
            type_name(v)
        ),
    )
}

impl<'a> Params<'a> {
    /// The parameter at `i`, `None` when absent or `null`.
    pub fn get(&self, i: usize) -> Option<&'a Value> {
        self.0.get(i).filter(|v| !v.is_null())
    }

    /// A required string.
    pub fn str(&self, i: usize, name: &str) -> Result<&'a str, RpcError> {
        match self.get(i) {
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(type_error(v, "string")),
            None => Err(missing(name)),
        }
    }

    /// An optional integer.
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, RpcError> {
        match self.get(i) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| RpcError::new(codes::TYPE_ERROR, "JSON integer out of range")),
            Some(v) => Err(type_error(v, "number")),
        }
    }

    /// A required integer.
    pub fn i64(&self, i: usize, name: &str) -> Result<i64, RpcError> {
        self.opt_i64(i)?.ok_or_else(|| missing(name))
    }

    /// An optional boolean; integers are accepted as Core does for `verbose` flags.
    pub fn opt_bool(&self, i: usize) -> Result<Option<bool>, RpcError> {
        match self.get(i) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => Ok(Some(n.as_i64().unwrap_or(0) != 0)),
            Some(v) => Err(type_error(v, "bool")),
        }
    }
}

fn missing(name: &str) -> RpcError {
    RpcError::new(
        codes::MISC_ERROR,
        format!("Missing required argument '{name}'"),
    )
}

/// Parses a 64-hex-character id the way `ParseHashV` does.
pub fn parse_hash<T: std::str::FromStr>(s: &str, name: &str) -> Result<T, RpcError> {
    if s.len() != 64 {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            format!("{name} must be of length 64 (not {}, for '{s}')", s.len()),
        ));
    }
    if !s.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            format!("{name} must be hexadecimal string (not '{s}')"),
        ));
    }
    s.parse::<T>().map_err(|_| {
        RpcError::new(
            codes::INVALID_PARAMETER,
            format!("{name} must be hexadecimal string (not '{s}')"),
        )
    })
}

/// Argument names of the node methods, for calls with named parameters.
pub fn arg_names(method: &str) -> Option<&'static [&'static str]> {
    Some(match method {
        "getblockhash" => &["height"],
        "invalidateblock" => &["blockhash"],
        "reconsiderblock" => &["blockhash"],
        "estimatesmartfee" => &["conf_target", "estimate_mode"],
        "getblock" => &["blockhash", "verbosity"],
        "getblockheader" => &["blockhash", "verbose"],
        "getrawtransaction" => &["txid", "verbose", "blockhash"],
        "decoderawtransaction" => &["hexstring", "iswitness"],
        "gettxout" => &["txid", "n", "include_mempool"],
        "scantxoutset" => &["action", "scanobjects"],
        "getrawmempool" => &["verbose", "mempool_sequence"],
        "getmempoolentry" => &["txid"],
        "getindexinfo" => &["index_name"],
        "testmempoolaccept" => &["rawtxs", "maxfeerate"],
        "sendrawtransaction" => &["hexstring", "maxfeerate"],
        "generatetoaddress" => &["nblocks", "address", "maxtries"],
        "generatetodescriptor" => &["num_blocks", "descriptor", "maxtries"],
        _ => return None,
    })
}

/// Converts named parameters to positions using `names`; unknown names are an error.
pub fn named_to_positional(
    names: &[&str],
    obj: &serde_json::Map<String, Value>,
) -> Result<Vec<Value>, RpcError> {
    for key in obj.keys() {
        if !names.contains(&key.as_str()) {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                format!("Unknown named parameter {key}"),
            ));
        }
    }
    let mut out: Vec<Value> = names
        .iter()
        .map(|n| obj.get(*n).cloned().unwrap_or(Value::Null))
        .collect();
    while out.last().is_some_and(Value::is_null) {
        out.pop();
    }
    Ok(out)
}
