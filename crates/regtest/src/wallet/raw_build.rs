//! Wallet-less raw transaction construction: `createrawtransaction` and `rawissueasset`
//! (explicit outputs; a confidential address puts its blinding key in the nonce for
//! `blindrawtransaction`).

use std::str::FromStr;

use elements::encode::{deserialize, serialize};
use elements::issuance::{AssetBlindingNonce, AssetEntropy};
use elements::script::Builder;
use elements::{
    opcodes, AssetId, AssetIssuance, ContractHash, OutPoint, Script, Sequence, Transaction, TxIn,
    TxOut, Txid,
};
use serde_json::{json, Map, Value};

use super::builder;
use super::params::{
    amount, arg, asset_arg, opt_bool, opt_u64, parse_address, req_str, type_error,
};
use super::send::amount_or_null;
use crate::chain::Chain;
use crate::rpc::error::codes;
use crate::rpc::RpcError;

pub(super) fn decode_tx(hex_str: &str) -> Result<Transaction, RpcError> {
    let bytes = hex::decode(hex_str)
        .map_err(|_| RpcError::new(codes::DESERIALIZATION_ERROR, "TX decode failed"))?;
    deserialize(&bytes).map_err(|_| RpcError::new(codes::DESERIALIZATION_ERROR, "TX decode failed"))
}

pub(super) fn encode_tx(tx: &Transaction) -> String {
    hex::encode(serialize(tx))
}

fn invalid_address(s: &str) -> RpcError {
    RpcError::new(
        codes::INVALID_ADDRESS_OR_KEY,
        format!("Invalid Bitcoin address: {s}"),
    )
}

fn op_return(data: &[u8]) -> Script {
    let b = Builder::new().push_opcode(opcodes::all::OP_RETURN);
    if data.is_empty() {
        b.into_script()
    } else {
        b.push_slice(data).into_script()
    }
}

/// `createrawtransaction inputs outputs locktime replaceable output_assets`
pub fn createrawtransaction(chain: &Chain, params: &[Value]) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    let addr_params = chain.params().address_params();
    let inputs = match arg(params, 0) {
        Some(Value::Array(a)) => a.clone(),
        Some(other) => return Err(type_error("array", other)),
        None => return Err(super::params::missing("inputs")),
    };
    let locktime = opt_u64(params, 2)?.unwrap_or(0);
    let locktime = u32::try_from(locktime).map_err(|_| {
        RpcError::new(
            codes::INVALID_PARAMETER,
            "Invalid parameter, locktime out of range",
        )
    })?;
    let replaceable = opt_bool(params, 3)?.unwrap_or(false);
    let output_assets = match arg(params, 4) {
        Some(Value::Object(o)) => o.clone(),
        Some(other) => return Err(type_error("object", other)),
        None => Map::new(),
    };
    let default_sequence = if replaceable {
        Sequence::ENABLE_RBF_NO_LOCKTIME
    } else if locktime != 0 {
        Sequence::ENABLE_LOCKTIME_NO_RBF
    } else {
        Sequence::MAX
    };
    let mut tx = Transaction {
        version: 2,
        lock_time: elements::LockTime::from_consensus(locktime),
        input: Vec::new(),
        output: Vec::new(),
    };
    for input in &inputs {
        let o = input
            .as_object()
            .ok_or_else(|| type_error("object", input))?;
        let txid = o
            .get("txid")
            .and_then(Value::as_str)
            .and_then(|s| Txid::from_str(s).ok())
            .ok_or_else(|| {
                RpcError::new(
                    codes::INVALID_PARAMETER,
                    "Invalid parameter, missing txid key",
                )
            })?;
        let vout = o
            .get("vout")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| {
                RpcError::new(
                    codes::INVALID_PARAMETER,
                    "Invalid parameter, missing vout key",
                )
            })?;
        let sequence = match o.get("sequence").and_then(Value::as_u64) {
            Some(s) => Sequence(u32::try_from(s).map_err(|_| {
                RpcError::new(
                    codes::INVALID_PARAMETER,
                    "Invalid parameter, sequence number is out of range",
                )
            })?),
            None => default_sequence,
        };
        tx.input.push(TxIn {
            previous_output: OutPoint::new(txid, vout),
            is_pegin: false,
            script_sig: Script::new(),
            sequence,
            asset_issuance: AssetIssuance::null(),
            witness: Default::default(),
        });
    }
    // Outputs: an object, or an array of one-key objects.
    let pairs: Vec<(String, Value)> = match arg(params, 1) {
        Some(Value::Object(o)) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(Value::Array(a)) => {
            let mut pairs = Vec::new();
            for item in a {
                let o = item.as_object().ok_or_else(|| type_error("object", item))?;
                pairs.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            pairs
        }
        Some(other) => return Err(type_error("array", other)),
        None => return Err(super::params::missing("outputs")),
    };
    let mut seen = Vec::new();
    for (key, v) in pairs {
        let asset = match output_assets.get(&key) {
            Some(Value::String(s)) => asset_arg(s, &policy)?,
            Some(other) => return Err(type_error("string", other)),
            None => policy,
        };
        let out = match key.as_str() {
            "data" => {
                let data = v
                    .as_str()
                    .and_then(|s| hex::decode(s).ok())
                    .ok_or_else(|| {
                        RpcError::new(codes::INVALID_PARAMETER, "Data must be hexadecimal string")
                    })?;
                builder::unblinded_output(op_return(&data), None, asset, 0)
            }
            "fee" => TxOut::new_fee(amount(&v)?, asset),
            "burn" => builder::unblinded_output(op_return(&[]), None, asset, amount(&v)?),
            addr_s => {
                let addr =
                    parse_address(addr_s, addr_params).ok_or_else(|| invalid_address(addr_s))?;
                if seen.contains(&key) {
                    return Err(RpcError::new(
                        codes::INVALID_PARAMETER,
                        format!("Invalid parameter, duplicated address: {key}"),
                    ));
                }
                seen.push(key.clone());
                builder::unblinded_output(
                    addr.script_pubkey(),
                    addr.blinding_pubkey,
                    asset,
                    amount(&v)?,
                )
            }
        };
        tx.output.push(out);
    }
    Ok(Value::from(encode_tx(&tx)))
}

/// `rawissueasset transaction [{asset_amount, asset_address, token_amount, token_address, blind, contract_hash}]`
pub fn rawissueasset(chain: &Chain, params: &[Value]) -> Result<Value, RpcError> {
    let addr_params = chain.params().address_params();
    let mut tx = decode_tx(req_str(params, 0, "transaction")?)?;
    let issuances = match arg(params, 1) {
        Some(Value::Array(a)) => a.clone(),
        Some(other) => return Err(type_error("array", other)),
        None => return Err(super::params::missing("issuances")),
    };
    let mut results = Vec::new();
    for item in &issuances {
        let o = item.as_object().ok_or_else(|| type_error("object", item))?;
        let get_amount = |k: &str| o.get(k).filter(|v| !v.is_null()).map(amount).transpose();
        let asset_amount = get_amount("asset_amount")?.unwrap_or(0);
        let token_amount = get_amount("token_amount")?.unwrap_or(0);
        let addr_of = |k: &str| -> Result<Option<elements::Address>, RpcError> {
            match o.get(k).and_then(Value::as_str) {
                Some(s) => parse_address(s, addr_params)
                    .map(Some)
                    .ok_or_else(|| invalid_address(s)),
                None => Ok(None),
            }
        };
        let asset_address = addr_of("asset_address")?;
        let token_address = addr_of("token_address")?;
        if asset_amount > 0 && asset_address.is_none() {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                "Issuance has asset amount but no destination",
            ));
        }
        if token_amount > 0 && token_address.is_none() {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                "Issuance has token amount but no destination",
            ));
        }
        if asset_amount == 0 && token_amount == 0 {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                "Issuance must have one non-zero component",
            ));
        }
        let blind = o.get("blind").and_then(Value::as_bool).unwrap_or(true);
        let contract = match o.get("contract_hash").and_then(Value::as_str) {
            Some(s) => ContractHash::from_str(s).map_err(|_| {
                RpcError::new(
                    codes::INVALID_PARAMETER,
                    format!("contract_hash must be hexadecimal string (not '{s}')"),
                )
            })?,
            None => ContractHash::from_byte_array([0; 32]),
        };
        let vin = tx
            .input
            .iter()
            .position(|i| !i.has_issuance())
            .ok_or_else(|| {
                RpcError::new(
                    codes::INVALID_PARAMETER,
                    "Failed to find enough blank inputs for listed issuances.",
                )
            })?;
        let prevout = tx.input[vin].previous_output;
        let entropy = AssetId::generate_asset_entropy(prevout, contract);
        let asset = AssetId::from_entropy(entropy);
        let token = AssetId::reissuance_token_from_entropy(entropy, blind);
        tx.input[vin].asset_issuance = AssetIssuance {
            asset_blinding_nonce: AssetBlindingNonce::NEW_ISSUANCE,
            asset_entropy: AssetEntropy::from_byte_array(contract.to_byte_array()),
            amount: amount_or_null(asset_amount),
            inflation_keys: amount_or_null(token_amount),
        };
        // New outputs go before the first unspendable (data, burn or fee) output.
        let mut at = tx
            .output
            .iter()
            .position(|o| o.is_fee() || o.script_pubkey.is_provably_unspendable())
            .unwrap_or(tx.output.len());
        if let (true, Some(a)) = (asset_amount > 0, &asset_address) {
            tx.output.insert(
                at,
                builder::unblinded_output(
                    a.script_pubkey(),
                    a.blinding_pubkey,
                    asset,
                    asset_amount,
                ),
            );
            at += 1;
        }
        if let (true, Some(t)) = (token_amount > 0, &token_address) {
            tx.output.insert(
                at,
                builder::unblinded_output(
                    t.script_pubkey(),
                    t.blinding_pubkey,
                    token,
                    token_amount,
                ),
            );
        }
        results.push((vin, entropy, asset, token));
    }
    let hex = encode_tx(&tx);
    Ok(Value::Array(
        results
            .into_iter()
            .map(|(vin, entropy, asset, token)| {
                json!({
                    "hex": hex,
                    "vin": vin,
                    "entropy": entropy.to_string(),
                    "asset": asset.to_string(),
                    "token": token.to_string(),
                })
            })
            .collect(),
    ))
}
