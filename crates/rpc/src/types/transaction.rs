//! Decoded transactions (`getrawtransaction <txid> true`, `decoderawtransaction`, `getblock 2`).

use elements::{AssetId, BlockHash, Txid};
use serde::Deserialize;

use crate::types::AssetAmounts;
use crate::Amount;

/// A transaction decoded by the node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DecodedTransaction {
    /// Transaction id.
    pub txid: Txid,
    /// Witness hash.
    pub hash: String,
    /// Witness transaction id.
    pub wtxid: String,
    /// Hash of the witness data only.
    pub withash: String,
    /// Version.
    pub version: u32,
    /// Serialized size.
    pub size: u64,
    /// Virtual size.
    pub vsize: u64,
    /// Weight.
    pub weight: u64,
    /// Lock time.
    pub locktime: u32,
    /// Inputs.
    pub vin: Vec<DecodedInput>,
    /// Outputs.
    pub vout: Vec<DecodedOutput>,
    /// Fee per asset (explicit fee outputs).
    #[serde(default)]
    pub fee: AssetAmounts,
    /// Raw hex (from `getrawtransaction` and `getblock 2`).
    pub hex: Option<String>,
    /// Containing block (confirmed transactions from `getrawtransaction`).
    pub blockhash: Option<BlockHash>,
    /// Confirmations (confirmed transactions from `getrawtransaction`).
    pub confirmations: Option<u64>,
    /// Block time (confirmed transactions from `getrawtransaction`).
    pub blocktime: Option<u64>,
}

/// A decoded input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DecodedInput {
    /// Coinbase data (coinbase inputs only).
    pub coinbase: Option<String>,
    /// Spent transaction (absent for coinbase).
    pub txid: Option<Txid>,
    /// Spent output index (absent for coinbase).
    pub vout: Option<u32>,
    /// Unlocking script.
    #[serde(rename = "scriptSig")]
    pub script_sig: Option<ScriptSig>,
    /// Whether this is a peg-in.
    pub is_pegin: Option<bool>,
    /// nSequence.
    pub sequence: u32,
    /// Witness stack (hex items).
    #[serde(default)]
    pub txinwitness: Vec<String>,
    /// Asset issuance or reissuance carried by this input.
    pub issuance: Option<DecodedIssuance>,
}

/// An input's unlocking script.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScriptSig {
    /// Assembly.
    pub asm: String,
    /// Hex.
    pub hex: String,
}

/// An issuance or reissuance inside an input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DecodedIssuance {
    /// Blinding nonce (all zero for a new issuance).
    #[serde(rename = "assetBlindingNonce")]
    pub asset_blinding_nonce: String,
    /// Entropy: the contract hash for a new issuance, the asset entropy for a reissuance.
    #[serde(rename = "assetEntropy")]
    pub asset_entropy: String,
    /// Whether this is a reissuance.
    pub isreissuance: bool,
    /// Reissuance token id (new issuances only).
    pub token: Option<AssetId>,
    /// Issued asset id.
    pub asset: AssetId,
    /// Explicit issued amount.
    pub assetamount: Option<Amount>,
    /// Commitment to the issued amount (blinded issuance).
    pub assetamountcommitment: Option<String>,
    /// Explicit token amount.
    pub tokenamount: Option<Amount>,
    /// Commitment to the token amount (blinded issuance).
    pub tokenamountcommitment: Option<String>,
}

/// A decoded output.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DecodedOutput {
    /// Explicit value (absent when blinded).
    pub value: Option<Amount>,
    /// Minimum value the range proof allows (blinded outputs).
    #[serde(rename = "value-minimum")]
    pub value_minimum: Option<Amount>,
    /// Maximum value the range proof allows (blinded outputs).
    #[serde(rename = "value-maximum")]
    pub value_maximum: Option<Amount>,
    /// Explicit asset (absent when blinded).
    pub asset: Option<AssetId>,
    /// Value commitment (blinded outputs).
    pub valuecommitment: Option<String>,
    /// Asset commitment (blinded outputs).
    pub assetcommitment: Option<String>,
    /// Nonce commitment (ECDH pubkey for blinded outputs).
    pub commitmentnonce: String,
    /// Whether the nonce is a valid public key.
    pub commitmentnonce_fully_valid: bool,
    /// Output index.
    pub n: u32,
    /// Output script.
    #[serde(rename = "scriptPubKey")]
    pub script_pub_key: ScriptPubKeyInfo,
}

/// A decoded output script.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScriptPubKeyInfo {
    /// Assembly.
    pub asm: String,
    /// Inferred descriptor.
    pub desc: Option<String>,
    /// Hex.
    pub hex: String,
    /// Address (unconfidential), when the script has one.
    pub address: Option<String>,
    /// Script type (`witness_v0_keyhash`, `nulldata`, `fee`, ...).
    #[serde(rename = "type")]
    pub kind: String,
}
