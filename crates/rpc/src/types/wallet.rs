//! Wallet results: wallet management, addresses, balances, transactions, issuances, UTXOs.

use elements::{AssetId, BlockHash, Txid};
use serde::Deserialize;

use crate::types::AssetAmounts;
use crate::Amount;

/// `createwallet` / `loadwallet`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LoadedWallet {
    /// Wallet name.
    pub name: String,
    /// Warning (empty when none).
    #[serde(default)]
    pub warning: String,
}

/// `unloadwallet`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UnloadedWallet {
    /// Warning (empty when none).
    #[serde(default)]
    pub warning: String,
}

/// `rescanblockchain`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RescanResult {
    /// First rescanned height.
    pub start_height: u64,
    /// Last rescanned height.
    pub stop_height: u64,
}

/// `getwalletinfo`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WalletInfo {
    /// Wallet name.
    pub walletname: String,
    /// Wallet version.
    pub walletversion: u64,
    /// `bdb` or `sqlite`.
    pub format: String,
    /// Trusted balance per asset.
    pub balance: AssetAmounts,
    /// Untrusted pending balance per asset.
    pub unconfirmed_balance: AssetAmounts,
    /// Immature balance per asset.
    pub immature_balance: AssetAmounts,
    /// Number of wallet transactions.
    pub txcount: u64,
    /// Keys in the pool.
    pub keypoolsize: u64,
    /// Until when the wallet is unlocked (encrypted wallets only; 0 = locked).
    pub unlocked_until: Option<u64>,
    /// Whether the wallet can sign.
    pub private_keys_enabled: bool,
    /// Whether it is a descriptor wallet.
    pub descriptors: bool,
}

/// `getaddressinfo`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AddressInfo {
    /// The address as queried.
    pub address: String,
    /// Output script (hex).
    #[serde(rename = "scriptPubKey")]
    pub script_pub_key: String,
    /// Whether the wallet owns it.
    pub ismine: bool,
    /// Whether the wallet knows how to spend it.
    pub solvable: bool,
    /// Descriptor (when solvable).
    pub desc: Option<String>,
    /// Watch-only.
    pub iswatchonly: bool,
    /// P2SH or P2WSH.
    pub isscript: bool,
    /// Segwit.
    pub iswitness: bool,
    /// Public key (single-key addresses).
    pub pubkey: Option<String>,
    /// Confidential address.
    pub confidential: Option<String>,
    /// Blinding public key (hex).
    pub confidential_key: Option<String>,
    /// Unconfidential address.
    pub unconfidential: Option<String>,
    /// Whether it is a change address.
    pub ischange: bool,
    /// HD key path (wallet keys).
    pub hdkeypath: Option<String>,
    /// Master key fingerprint (wallet keys).
    pub hdmasterfingerprint: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// `fundrawtransaction`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FundedTransaction {
    /// The funded (unsigned, unblinded) transaction.
    pub hex: String,
    /// Fee paid.
    pub fee: Amount,
    /// Position of the change output (-1 when none).
    pub changepos: i64,
}

/// One entry of `rawissueasset`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RawIssuance {
    /// The transaction with the issuance added.
    pub hex: String,
    /// Input carrying the issuance.
    pub vin: u32,
    /// Asset entropy (hex).
    pub entropy: String,
    /// Issued asset id.
    pub asset: AssetId,
    /// Reissuance token id (when a token was asked for).
    pub token: Option<AssetId>,
}

/// `signrawtransactionwithwallet`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SignedTransaction {
    /// The (partially) signed transaction.
    pub hex: String,
    /// Whether every input is signed.
    pub complete: bool,
    /// Per-input errors, when incomplete.
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
}

/// `gettransaction`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WalletTransaction {
    /// Net amount per asset for this wallet.
    pub amount: AssetAmounts,
    /// Fee per asset (only when this wallet paid it; negative).
    #[serde(default)]
    pub fee: AssetAmounts,
    /// Confirmations (negative when conflicted).
    pub confirmations: i64,
    /// Containing block.
    pub blockhash: Option<BlockHash>,
    /// Height of the containing block.
    pub blockheight: Option<u64>,
    /// Block time.
    pub blocktime: Option<u64>,
    /// Whether an unconfirmed transaction is trusted.
    pub trusted: Option<bool>,
    /// Transaction id.
    pub txid: Txid,
    /// Conflicting wallet transactions.
    #[serde(default)]
    pub walletconflicts: Vec<Txid>,
    /// Time the wallet learnt of it.
    pub time: u64,
    /// Time received.
    pub timereceived: u64,
    /// Per-output details.
    pub details: Vec<WalletTxDetail>,
    /// Raw hex.
    pub hex: String,
}

/// One entry of `gettransaction`'s `details`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WalletTxDetail {
    /// Address (absent for fee and data outputs).
    pub address: Option<String>,
    /// `send`, `receive`, `generate`, `immature`, `orphan`.
    pub category: String,
    /// Amount (negative for sends).
    pub amount: Amount,
    /// Amount blinding factor (hex).
    pub amountblinder: Option<String>,
    /// Asset id.
    pub asset: Option<AssetId>,
    /// Asset blinding factor (hex).
    pub assetblinder: Option<String>,
    /// Address label.
    pub label: Option<String>,
    /// Output index.
    pub vout: u32,
    /// Fee (sends only; negative).
    pub fee: Option<Amount>,
    /// Whether the transaction was abandoned (sends only).
    pub abandoned: Option<bool>,
}

/// One entry of `listissuances`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IssuanceInfo {
    /// Whether this is a reissuance.
    pub isreissuance: bool,
    /// Reissuance token (new issuances only).
    pub token: Option<AssetId>,
    /// Token amount issued (new issuances only).
    pub tokenamount: Option<Amount>,
    /// Token blinding factor (hex).
    pub tokenblinds: Option<String>,
    /// Asset entropy (hex).
    pub entropy: String,
    /// Issuing transaction.
    pub txid: Txid,
    /// Issuing input.
    pub vin: u32,
    /// Asset id.
    pub asset: AssetId,
    /// Amount issued (absent when blinded and unknown).
    pub assetamount: Option<Amount>,
    /// Asset blinding factor (hex).
    pub assetblinds: Option<String>,
    /// Asset label, when one is set.
    pub assetlabel: Option<String>,
}

/// One entry of `listunspent`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UnspentOutput {
    /// Transaction id.
    pub txid: Txid,
    /// Output index.
    pub vout: u32,
    /// Address (unconfidential).
    pub address: Option<String>,
    /// Address label.
    pub label: Option<String>,
    /// Output script (hex).
    #[serde(rename = "scriptPubKey")]
    pub script_pub_key: String,
    /// Unblinded amount.
    pub amount: Amount,
    /// Unblinded asset.
    pub asset: AssetId,
    /// Asset commitment (blinded outputs).
    pub assetcommitment: Option<String>,
    /// Value commitment (blinded outputs).
    pub amountcommitment: Option<String>,
    /// Amount blinding factor (hex).
    pub amountblinder: Option<String>,
    /// Asset blinding factor (hex).
    pub assetblinder: Option<String>,
    /// Confirmations.
    pub confirmations: u64,
    /// Whether the wallet can spend it.
    pub spendable: bool,
    /// Whether the wallet knows how to spend it.
    pub solvable: bool,
    /// Descriptor (when solvable).
    pub desc: Option<String>,
    /// Whether it is considered safe to spend.
    pub safe: bool,
}

/// `issueasset`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IssuedAsset {
    /// Issuing transaction.
    pub txid: Txid,
    /// Issuing input.
    pub vin: u32,
    /// Asset entropy (hex).
    pub entropy: String,
    /// Asset id.
    pub asset: AssetId,
    /// Reissuance token id.
    pub token: AssetId,
}

/// `reissueasset`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reissuance {
    /// Reissuing transaction.
    pub txid: Txid,
    /// Reissuing input.
    pub vin: u32,
}
