//! The node entries the confirm client posts (`gettransaction` details, `listunspent`
//! `change_data`, `listissuances`), read and checked against the outputs they describe.

use std::str::FromStr;

use amphora_core::chain::output_opens;
use amphora_rpc::Amount;
use amphora_store::{NewAssetOutput, OutputOwner, UNKNOWN_BLINDER};
use elements::{AssetId, TxOut};
use serde_json::Value;

use super::refusal::ChainRefusal;
use super::ChainTx;
use crate::error::ApiError;

/// One output as a node entry describes it (`gettransaction` details, `listunspent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeOutput {
    /// Output index.
    pub vout: u32,
    /// Asset.
    pub asset: AssetId,
    /// Amount in base units (positive).
    pub amount: i64,
    /// Asset blinder (RPC hex).
    pub asset_blinder: String,
    /// Amount blinder (RPC hex).
    pub amount_blinder: String,
    /// Address, when the entry has one.
    pub address: Option<String>,
}

/// The base units of a decimal amount the node wrote (`0.00000001` = 1).
pub fn decimal_units(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => Amount::parse_decimal(&number.to_string())
            .ok()
            .map(Amount::units),
        _ => None,
    }
}

/// Reads a node entry describing an output; `field` names it in errors. Entries with a negative
/// or zero amount (the "send" side of a wallet's own transaction) read as `None`.
pub fn node_output(field: &str, entry: &Value) -> Result<Option<NodeOutput>, ApiError> {
    let bad = |what: &str| ApiError::field(field, format!("Entry {entry} has no valid {what}."));
    let vout = entry
        .get("vout")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| bad("\"vout\""))?;
    let asset = entry
        .get("asset")
        .and_then(Value::as_str)
        .and_then(|a| AssetId::from_str(a).ok())
        .ok_or_else(|| bad("\"asset\""))?;
    let amount = entry
        .get("amount")
        .and_then(decimal_units)
        .ok_or_else(|| bad("\"amount\""))?;
    if amount <= 0 {
        return Ok(None);
    }
    let blinder = |key: &str| -> Result<String, ApiError> {
        match entry.get(key) {
            None | Some(Value::Null) => Ok(UNKNOWN_BLINDER.to_string()),
            Some(Value::String(hex)) if hex.len() == 64 && hex::decode(hex).is_ok() => {
                Ok(hex.to_lowercase())
            }
            Some(_) => Err(bad(&format!("\"{key}\""))),
        }
    };
    Ok(Some(NodeOutput {
        vout,
        asset,
        amount,
        asset_blinder: blinder("assetblinder")?,
        amount_blinder: blinder("amountblinder")?,
        address: entry
            .get("address")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }))
}

/// Checks a node entry against the transaction's output it names.
pub fn verify_output(
    chain: &ChainTx,
    field: &'static str,
    output: &NodeOutput,
) -> Result<(), ApiError> {
    let missing = ChainRefusal::EntryOutputMissing {
        txid: chain.txid,
        vout: output.vout,
        field,
    };
    let txout = chain.tx.output.get(output.vout as usize).ok_or(missing)?;
    let opened = u64::try_from(output.amount).is_ok_and(|amount| {
        output_opens(
            txout,
            output.asset,
            amount,
            &output.asset_blinder,
            &output.amount_blinder,
        )
    });
    if opened {
        Ok(())
    } else {
        Err(ChainRefusal::EntryNotOpened {
            txid: chain.txid,
            vout: output.vout,
            amount: output.amount,
            asset: output.asset,
            field,
        }
        .into())
    }
}

/// The scriptPubKey of an output, hex.
pub fn script_hex(txout: &TxOut) -> String {
    hex::encode(txout.script_pubkey.as_bytes())
}

/// A treasury output of the asset `asset_uuid` (or of its reissuance token) that a checked
/// node entry describes.
pub fn treasury_output(
    chain: &ChainTx,
    asset_uuid: &str,
    is_token: bool,
    output: NodeOutput,
) -> NewAssetOutput {
    NewAssetOutput {
        txid: chain.txid.to_string(),
        vout: i64::from(output.vout),
        asset_uuid: asset_uuid.to_string(),
        is_token,
        amount: output.amount,
        script_pubkey: script_hex(&chain.tx.output[output.vout as usize]),
        owner: OutputOwner::Treasury,
        asset_blinder: output.asset_blinder,
        amount_blinder: output.amount_blinder,
        height: chain.height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_amounts_read_exactly() {
        assert_eq!(decimal_units(&serde_json::json!(0.00000001)), Some(1));
        assert_eq!(decimal_units(&serde_json::json!(12.5)), Some(1_250_000_000));
        assert_eq!(decimal_units(&serde_json::json!(-0.5)), Some(-50_000_000));
        assert_eq!(decimal_units(&serde_json::json!("1")), None);
    }
}
