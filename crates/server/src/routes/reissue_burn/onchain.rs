//! What the reissue and burn confirm calls check on the platform's node: the transaction, its
//! confirmations and block, and the node entries the confirm client posts (`details`,
//! `change_data`, `listissuances`) against the commitments of the outputs they describe.

use std::str::FromStr;
use std::sync::LazyLock;

use amphora_rpc::Amount;
use amphora_store::UNKNOWN_BLINDER;
use elements::confidential::{
    Asset as ConfAsset, AssetBlindingFactor, Value as ConfValue, ValueBlindingFactor,
};
use elements::secp256k1_zkp::{All, Generator, Secp256k1};
use elements::{AssetId, Transaction, TxOut, Txid};
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// Confirmations a reissuance or burn needs before it is confirmed (the confirm client waits
/// for the same number).
pub const MIN_CONFIRMATIONS: u64 = 2;

static SECP: LazyLock<Secp256k1<All>> = LazyLock::new(Secp256k1::new);

/// A transaction of the platform's node with the block that confirmed it.
#[derive(Debug)]
pub struct ChainTx {
    /// The transaction.
    pub tx: Transaction,
    /// Its id.
    pub txid: Txid,
    /// Hash of the confirming block.
    pub block_hash: String,
    /// Height of the confirming block.
    pub height: i64,
}

fn node_failed(what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable(format!(
        "the platform's Elements node failed ({what}): {error}"
    ))
}

/// Parses a txid posted by the client.
pub fn parse_txid(field: &str, text: &str) -> Result<Txid, ApiError> {
    Txid::from_str(text).map_err(|_| ApiError::field(field, "Enter a valid transaction id."))
}

/// Fetches `txid` from the platform's node and checks it has [`MIN_CONFIRMATIONS`]; returns
/// once the chain index holds its block ([`AppState::wait_for_index`]).
pub async fn confirmed_tx(state: &AppState, txid: &Txid) -> Result<ChainTx, ApiError> {
    let node = state
        .node()
        .ok_or_else(|| ApiError::Unavailable("no Elements node configured".into()))?;
    let verbose = match node.get_raw_transaction_verbose(txid).await {
        Ok(verbose) => verbose,
        Err(e) if e.is_invalid_address_or_key() => {
            return Err(ApiError::Business(format!(
                "Transaction {txid} is unknown to the platform's node."
            )))
        }
        Err(e) => return Err(node_failed("getrawtransaction", e)),
    };
    let confirmations = verbose.confirmations.unwrap_or(0);
    if confirmations < MIN_CONFIRMATIONS {
        return Err(ApiError::Business(format!(
            "Transaction {txid} has {confirmations} confirmations; {MIN_CONFIRMATIONS} are \
             needed."
        )));
    }
    let hex = verbose
        .hex
        .ok_or_else(|| node_failed("getrawtransaction", "no transaction hex"))?;
    let bytes = hex::decode(&hex).map_err(|e| node_failed("getrawtransaction", e))?;
    let tx: Transaction =
        elements::encode::deserialize(&bytes).map_err(|e| node_failed("getrawtransaction", e))?;
    let block_hash = verbose
        .blockhash
        .ok_or_else(|| node_failed("getrawtransaction", "confirmed without a block hash"))?;
    let header = node
        .get_block_header_info(&block_hash)
        .await
        .map_err(|e| node_failed("getblockheader", e))?;
    state.wait_for_index(header.height as i64).await?;
    Ok(ChainTx {
        tx,
        txid: *txid,
        block_hash: block_hash.to_string(),
        height: header.height as i64,
    })
}

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

/// Whether `txout` holds `asset` and `amount` with these blinders: explicit parts must be equal,
/// commitments must be the ones the blinders open.
pub fn opens(txout: &TxOut, asset: AssetId, amount: i64, abf: &str, vbf: &str) -> bool {
    let Ok(value) = u64::try_from(amount) else {
        return false;
    };
    let generator = match txout.asset {
        ConfAsset::Explicit(explicit) if explicit == asset => {
            Generator::new_unblinded(&SECP, asset.into_tag())
        }
        ConfAsset::Confidential(generator) => {
            let Ok(abf) = AssetBlindingFactor::from_str(abf) else {
                return false;
            };
            if ConfAsset::new_confidential(&SECP, asset, abf) != txout.asset {
                return false;
            }
            generator
        }
        _ => return false,
    };
    match txout.value {
        ConfValue::Explicit(explicit) => explicit == value,
        ConfValue::Confidential(_) => ValueBlindingFactor::from_str(vbf).is_ok_and(|vbf| {
            ConfValue::new_confidential(&SECP, value, generator, vbf) == txout.value
        }),
        ConfValue::Null => false,
    }
}

/// Checks a node entry against the transaction's output it names.
pub fn verify_output(chain: &ChainTx, field: &str, output: &NodeOutput) -> Result<(), ApiError> {
    let txout = chain.tx.output.get(output.vout as usize).ok_or_else(|| {
        ApiError::Business(format!(
            "Transaction {} has no output {} ({field}).",
            chain.txid, output.vout
        ))
    })?;
    if opens(
        txout,
        output.asset,
        output.amount,
        &output.asset_blinder,
        &output.amount_blinder,
    ) {
        Ok(())
    } else {
        Err(ApiError::Business(format!(
            "Output {}:{} does not hold {} units of asset {} with the posted blinders ({field}).",
            chain.txid, output.vout, output.amount, output.asset
        )))
    }
}

/// The amount a (re)issuance input creates: explicit, or a commitment that `amount` and the
/// value blinder `blinds` (from `listissuances`) must open under the asset's unblinded
/// generator.
pub fn issuance_amount_opens(
    amount_field: &ConfValue,
    asset: AssetId,
    amount: i64,
    blinds: &str,
) -> bool {
    let Ok(value) = u64::try_from(amount) else {
        return false;
    };
    match amount_field {
        ConfValue::Explicit(explicit) => *explicit == value,
        ConfValue::Confidential(_) => ValueBlindingFactor::from_str(blinds).is_ok_and(|vbf| {
            let generator = Generator::new_unblinded(&SECP, asset.into_tag());
            ConfValue::new_confidential(&SECP, value, generator, vbf) == *amount_field
        }),
        ConfValue::Null => false,
    }
}

/// The scriptPubKey of an output, hex.
pub fn script_hex(txout: &TxOut) -> String {
    hex::encode(txout.script_pubkey.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use elements::confidential::Nonce;
    use elements::Script;

    fn asset() -> AssetId {
        AssetId::from_str(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn explicit_outputs_open_to_their_values() {
        let out = TxOut {
            asset: ConfAsset::Explicit(asset()),
            value: ConfValue::Explicit(5),
            nonce: Nonce::Null,
            script_pubkey: Script::new(),
            witness: Default::default(),
        };
        assert!(opens(&out, asset(), 5, UNKNOWN_BLINDER, UNKNOWN_BLINDER));
        assert!(!opens(&out, asset(), 6, UNKNOWN_BLINDER, UNKNOWN_BLINDER));
        let other = AssetId::from_str(&"cd".repeat(32)).unwrap();
        assert!(!opens(&out, other, 5, UNKNOWN_BLINDER, UNKNOWN_BLINDER));
    }

    #[test]
    fn commitments_open_only_with_their_blinders() {
        let abf = AssetBlindingFactor::from_str(&"11".repeat(32)).unwrap();
        let vbf = ValueBlindingFactor::from_str(&"22".repeat(32)).unwrap();
        let asset_c = ConfAsset::new_confidential(&SECP, asset(), abf);
        let ConfAsset::Confidential(generator) = asset_c else {
            unreachable!()
        };
        let out = TxOut {
            asset: asset_c,
            value: ConfValue::new_confidential(&SECP, 700, generator, vbf),
            nonce: Nonce::Null,
            script_pubkey: Script::new(),
            witness: Default::default(),
        };
        let (a, v) = ("11".repeat(32), "22".repeat(32));
        assert!(opens(&out, asset(), 700, &a, &v));
        assert!(!opens(&out, asset(), 701, &a, &v));
        assert!(!opens(&out, asset(), 700, &"33".repeat(32), &v));
        assert!(!opens(&out, asset(), 700, &a, &"33".repeat(32)));
        assert!(!opens(&out, asset(), 700, UNKNOWN_BLINDER, UNKNOWN_BLINDER));

        let issued = ConfValue::new_confidential(
            &SECP,
            9,
            Generator::new_unblinded(&SECP, asset().into_tag()),
            vbf,
        );
        assert!(issuance_amount_opens(&issued, asset(), 9, &v));
        assert!(!issuance_amount_opens(&issued, asset(), 8, &v));
        assert!(issuance_amount_opens(
            &ConfValue::Explicit(9),
            asset(),
            9,
            UNKNOWN_BLINDER
        ));
    }

    #[test]
    fn decimal_amounts_read_exactly() {
        assert_eq!(decimal_units(&serde_json::json!(0.00000001)), Some(1));
        assert_eq!(decimal_units(&serde_json::json!(12.5)), Some(1_250_000_000));
        assert_eq!(decimal_units(&serde_json::json!(-0.5)), Some(-50_000_000));
        assert_eq!(decimal_units(&serde_json::json!("1")), None);
    }
}
