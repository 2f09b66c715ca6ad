//! Spending RPCs: `sendtoaddress`, `sendmany`, `issueasset`, `reissueasset`, `destroyamount`.

use std::str::FromStr;

use elements::issuance::AssetEntropy;
use elements::script::Builder;
use elements::{opcodes, AssetId, ContractHash};
use serde_json::{json, Value};

use super::keys::AddressType;
use super::params::{
    amount, arg, asset_arg, opt_bool, opt_str, parse_address, req_amount, req_str, type_error,
};
use super::send::{
    anti_fee_sniping_lock_time, fee_rate_arg, NewIssuance, Recipient, Reissuance, SendRequest,
};
use super::state::Wallet;
use crate::chain::Chain;
use crate::rpc::error::codes;
use crate::rpc::RpcError;

fn invalid_address(s: &str) -> RpcError {
    RpcError::new(
        codes::INVALID_ADDRESS_OR_KEY,
        format!("Invalid Bitcoin address: {s}"),
    )
}

fn send_result(txid: elements::Txid, verbose: bool) -> Value {
    if verbose {
        json!({ "txid": txid.to_string(), "fee_reason": "Fallback fee" })
    } else {
        Value::from(txid.to_string())
    }
}

/// `sendtoaddress address amount comment comment_to subtractfeefromamount replaceable
/// conf_target estimate_mode avoid_reuse assetlabel ignoreblindfail fee_rate verbose`
pub fn sendtoaddress(
    wallet: &mut Wallet,
    chain: &mut Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    let addr_s = req_str(params, 0, "address")?;
    let addr = parse_address(addr_s, wallet.params).ok_or_else(|| invalid_address(addr_s))?;
    let value = req_amount(params, 1, "amount")?;
    if value == 0 {
        return Err(RpcError::new(codes::TYPE_ERROR, "Invalid amount for send"));
    }
    let subtract = opt_bool(params, 4)?.unwrap_or(false);
    let asset = match opt_str(params, 9)? {
        Some(label) => asset_arg(label, &policy)?,
        None => policy,
    };
    let fee_rate = arg(params, 11).map(fee_rate_arg).transpose()?;
    let verbose = opt_bool(params, 12)?.unwrap_or(false);
    wallet.ensure_unlocked()?;
    if subtract && asset != policy {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            "Subtract fee from amount only works with the policy asset",
        ));
    }
    let req = SendRequest {
        outputs: vec![Recipient::to_address(&addr, asset, value)],
        subtract_fee_from: subtract.then_some(0),
        fee_rate,
        lock_time: anti_fee_sniping_lock_time(chain),
        ..SendRequest::default()
    };
    let built = wallet.build(policy, &req)?;
    let txid = wallet.commit(chain, built)?;
    Ok(send_result(txid, verbose))
}

/// `sendmany "" amounts minconf comment subtractfeefrom replaceable conf_target
/// estimate_mode output_assets ignoreblindfail fee_rate verbose`
pub fn sendmany(
    wallet: &mut Wallet,
    chain: &mut Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    if let Some(d) = opt_str(params, 0)? {
        if !d.is_empty() {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                "Dummy value must be set to \"\"",
            ));
        }
    }
    let amounts = arg(params, 1).ok_or_else(|| super::params::missing("amounts"))?;
    let amounts = amounts
        .as_object()
        .ok_or_else(|| type_error("object", amounts))?;
    let subtract_from: Vec<String> = match arg(params, 4) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(other) => return Err(type_error("array", other)),
        None => Vec::new(),
    };
    let output_assets = match arg(params, 8) {
        Some(Value::Object(o)) => Some(o),
        Some(other) => return Err(type_error("object", other)),
        None => None,
    };
    let fee_rate = arg(params, 10).map(fee_rate_arg).transpose()?;
    let verbose = opt_bool(params, 11)?.unwrap_or(false);
    let mut outputs = Vec::new();
    let mut seen = Vec::new();
    let mut subtract = None;
    for (addr_s, v) in amounts {
        let addr = parse_address(addr_s, wallet.params).ok_or_else(|| invalid_address(addr_s))?;
        if seen.contains(addr_s) {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                format!("Invalid parameter, duplicated address: {addr_s}"),
            ));
        }
        seen.push(addr_s.clone());
        let asset = match output_assets.and_then(|o| o.get(addr_s)) {
            Some(Value::String(s)) => asset_arg(s, &policy)?,
            Some(other) => return Err(type_error("string", other)),
            None => policy,
        };
        let value = amount(v)?;
        if value == 0 {
            return Err(RpcError::new(codes::TYPE_ERROR, "Invalid amount for send"));
        }
        if subtract_from.contains(addr_s) {
            if asset != policy {
                return Err(RpcError::new(
                    codes::INVALID_PARAMETER,
                    "Subtract fee from amount only works with the policy asset",
                ));
            }
            subtract = Some(outputs.len());
        }
        outputs.push(Recipient::to_address(&addr, asset, value));
    }
    if outputs.is_empty() {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            "Transaction must have at least one recipient",
        ));
    }
    wallet.ensure_unlocked()?;
    let req = SendRequest {
        outputs,
        subtract_fee_from: subtract,
        fee_rate,
        lock_time: anti_fee_sniping_lock_time(chain),
        ..SendRequest::default()
    };
    let built = wallet.build(policy, &req)?;
    let txid = wallet.commit(chain, built)?;
    Ok(send_result(txid, verbose))
}

/// `issueasset assetamount tokenamount blind contract_hash`
pub fn issueasset(
    wallet: &mut Wallet,
    chain: &mut Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    let asset_amount = req_amount(params, 0, "assetamount")?;
    let token_amount = req_amount(params, 1, "tokenamount")?;
    if asset_amount == 0 && token_amount == 0 {
        return Err(RpcError::new(
            codes::TYPE_ERROR,
            "Issuance must have one non-zero component",
        ));
    }
    let blind = opt_bool(params, 2)?.unwrap_or(true);
    let contract = match opt_str(params, 3)? {
        Some(s) => ContractHash::from_str(s).map_err(|_| {
            RpcError::new(
                codes::INVALID_PARAMETER,
                "contract_hash must be hexadecimal string (not '".to_owned() + s + "')",
            )
        })?,
        None => ContractHash::from_byte_array([0; 32]),
    };
    wallet.ensure_unlocked()?;
    let asset_to = wallet.new_address("", AddressType::DEFAULT)?;
    let token_to = wallet.new_address("", AddressType::DEFAULT)?;
    let req = SendRequest {
        issuance: Some(NewIssuance {
            asset_amount,
            token_amount,
            contract,
            blind,
            asset_to,
            token_to,
        }),
        lock_time: anti_fee_sniping_lock_time(chain),
        ..SendRequest::default()
    };
    let built = wallet.build(policy, &req)?;
    let prevout = built.tx.input[0].previous_output;
    let entropy = AssetId::generate_asset_entropy(prevout, contract);
    let asset = AssetId::from_entropy(entropy);
    let token = AssetId::reissuance_token_from_entropy(entropy, blind);
    let txid = wallet.commit(chain, built)?;
    Ok(json!({
        "txid": txid.to_string(),
        "vin": 0,
        "entropy": entropy.to_string(),
        "asset": asset.to_string(),
        "token": token.to_string(),
    }))
}

/// The entropy and reissuance token of an asset the wallet issued (from its issuance input).
fn issuance_of(wallet: &Wallet, asset: AssetId) -> Option<(AssetEntropy, AssetId)> {
    for wtx in wallet.data.txs.values() {
        for input in &wtx.tx.input {
            if !input.has_issuance() || !input.asset_issuance.asset_blinding_nonce.is_null() {
                continue;
            }
            let (a, token) = input.issuance_ids();
            if a == asset {
                let entropy = AssetId::generate_asset_entropy(
                    input.previous_output,
                    input.asset_issuance.asset_entropy.into_contract_hash(),
                );
                return Some((entropy, token));
            }
        }
    }
    None
}

/// Whether `asset` is the reissuance token of an issuance the wallet knows.
fn is_token(wallet: &Wallet, asset: AssetId) -> bool {
    wallet.data.txs.values().any(|wtx| {
        wtx.tx.input.iter().any(|i| {
            i.has_issuance()
                && i.asset_issuance.asset_blinding_nonce.is_null()
                && i.issuance_ids().1 == asset
        })
    })
}

/// `reissueasset asset assetamount`
pub fn reissueasset(
    wallet: &mut Wallet,
    chain: &mut Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    let asset = asset_arg(req_str(params, 0, "asset")?, &policy)?;
    let value = req_amount(params, 1, "assetamount")?;
    if value == 0 {
        return Err(RpcError::new(
            codes::TYPE_ERROR,
            "Reissuance must create a non-zero amount.",
        ));
    }
    wallet.ensure_unlocked()?;
    if is_token(wallet, asset) {
        return Err(RpcError::new(
            codes::WALLET_ERROR,
            "Asset given is a reissuance token type and can not be reissued.",
        ));
    }
    let (entropy, token) = issuance_of(wallet, asset).ok_or_else(|| {
        RpcError::new(
            codes::WALLET_ERROR,
            "Asset reissuance token definition could not be found in wallet.",
        )
    })?;
    let token_coin = wallet
        .spendable_coins()
        .into_iter()
        .find(|c| c.secrets.asset == token && super::send::is_blinded_token(c))
        .ok_or_else(|| {
            RpcError::new(
                codes::WALLET_INSUFFICIENT_FUNDS,
                "No available reissuance tokens in wallet.",
            )
        })?;
    let asset_to = wallet.new_address("", AddressType::DEFAULT)?;
    let token_to = wallet.new_address("", AddressType::DEFAULT)?;
    let req = SendRequest {
        reissuance: Some(Reissuance {
            token_coin,
            entropy,
            asset,
            amount: value,
            asset_to,
            token_to,
        }),
        lock_time: anti_fee_sniping_lock_time(chain),
        ..SendRequest::default()
    };
    let built = wallet.build(policy, &req)?;
    let txid = wallet.commit(chain, built)?;
    Ok(json!({ "txid": txid.to_string(), "vin": 0 }))
}

/// `destroyamount asset amount comment verbose`: burns to an explicit `OP_RETURN` output.
pub fn destroyamount(
    wallet: &mut Wallet,
    chain: &mut Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    let asset = asset_arg(req_str(params, 0, "asset")?, &policy)?;
    let value = req_amount(params, 1, "amount")?;
    if value == 0 {
        return Err(RpcError::new(codes::TYPE_ERROR, "Invalid amount"));
    }
    let verbose = opt_bool(params, 3)?.unwrap_or(false);
    wallet.ensure_unlocked()?;
    let burn = Recipient {
        script: Builder::new()
            .push_opcode(opcodes::all::OP_RETURN)
            .into_script(),
        blinder: None,
        asset,
        value,
    };
    let req = SendRequest {
        outputs: vec![burn],
        lock_time: anti_fee_sniping_lock_time(chain),
        ..SendRequest::default()
    };
    let built = wallet.build(policy, &req)?;
    let txid = wallet.commit(chain, built)?;
    if verbose {
        return Ok(json!({ "transactionid": txid.to_string(), "fee reason": "Fallback fee" }));
    }
    Ok(Value::from(txid.to_string()))
}
