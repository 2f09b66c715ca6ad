//! Output descriptors as the node methods accept them (`scantxoutset`,
//! `generatetodescriptor`): `addr(…)`, `raw(…)` and the key descriptors Elements Core writes
//! without the `el` prefix elements-miniscript uses (`wpkh(…)`, `sh(wpkh(…))`, `wsh(multi(…))`…).

use std::str::FromStr;

use elements::{Address, AddressParams, Script};
use elements_miniscript::{Descriptor, DescriptorPublicKey};

use super::error::codes;
use super::json::{script_address, with_checksum};
use super::RpcError;

/// A parsed descriptor and the text reported back for its scripts.
#[derive(Debug, Clone)]
pub struct ScanDescriptor {
    /// Scripts with the descriptor text reported for each (`desc` in `scantxoutset`).
    pub scripts: Vec<(Script, String)>,
}

fn invalid(msg: impl Into<String>) -> RpcError {
    RpcError::new(codes::INVALID_ADDRESS_OR_KEY, msg)
}

/// Parses an address for `params`, rejecting other networks (`Invalid address`).
pub fn parse_address(s: &str, params: &'static AddressParams) -> Result<Address, RpcError> {
    let addr = Address::from_str(s).map_err(|_| invalid("Error: Invalid address"))?;
    if addr.params != params {
        return Err(invalid("Error: Invalid address"));
    }
    Ok(addr)
}

/// Expands `desc` (optionally with checksum) over `range` for ranged descriptors.
pub fn expand(
    desc: &str,
    range: (u32, u32),
    params: &'static AddressParams,
) -> Result<ScanDescriptor, RpcError> {
    let body = desc.split('#').next().unwrap_or(desc).trim();
    if let Some(addr) = body.strip_prefix("addr(").and_then(|r| r.strip_suffix(')')) {
        let addr = parse_address(addr, params)
            .map_err(|_| invalid(format!("Address {addr} is not valid")))?;
        let script = addr.script_pubkey();
        let text = reported(&script, params);
        return Ok(ScanDescriptor {
            scripts: vec![(script, text)],
        });
    }
    if let Some(hex_script) = body.strip_prefix("raw(").and_then(|r| r.strip_suffix(')')) {
        let bytes = hex::decode(hex_script).map_err(|_| invalid("Raw script is not hex"))?;
        let script = Script::from(bytes);
        let text = reported(&script, params);
        return Ok(ScanDescriptor {
            scripts: vec![(script, text)],
        });
    }
    let el = if body.starts_with("el") {
        body.to_string()
    } else {
        format!("el{body}")
    };
    let parsed = Descriptor::<DescriptorPublicKey>::from_str(&el)
        .map_err(|e| invalid(format!("Invalid descriptor: {e}")))?;
    let mut scripts = Vec::new();
    if parsed.has_wildcard() {
        for index in range.0..=range.1 {
            let derived = parsed
                .at_derivation_index(index)
                .map_err(|e| invalid(format!("Cannot derive script: {e}")))?;
            let text = with_checksum(
                derived
                    .to_string()
                    .split('#')
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("el"),
            );
            scripts.push((derived.script_pubkey(), text));
        }
    } else {
        let definite = parsed
            .at_derivation_index(0)
            .map_err(|e| invalid(format!("Cannot derive script: {e}")))?;
        scripts.push((definite.script_pubkey(), with_checksum(body)));
    }
    Ok(ScanDescriptor { scripts })
}

/// `InferDescriptor` text of a bare script: `addr(…)` when it has an address, else `raw(…)`.
fn reported(script: &Script, params: &'static AddressParams) -> String {
    match script_address(script, params) {
        Some(addr) => with_checksum(&format!("addr({addr})")),
        None => with_checksum(&format!("raw({})", hex::encode(script.as_bytes()))),
    }
}
