//! Node and chain results: network/chain info, blocks, headers, mempool, UTXO queries.

use elements::{BlockHash, Txid};
use serde::Deserialize;

use crate::types::transaction::{DecodedTransaction, ScriptPubKeyInfo};
use crate::Amount;

/// `getnetworkinfo`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NetworkInfo {
    /// Numeric version, e.g. 230303.
    pub version: u64,
    /// e.g. `/Elements Core:23.3.3/`.
    pub subversion: String,
    /// P2P protocol version.
    pub protocolversion: u64,
    /// Whether networking is enabled.
    pub networkactive: bool,
    /// Number of peers.
    pub connections: u64,
    /// Minimum relay fee rate (per kvB).
    pub relayfee: Amount,
    /// Minimum fee rate increment for replacement (per kvB).
    pub incrementalfee: Amount,
    /// Node warnings.
    pub warnings: String,
}

/// A block by hash and height (`waitfornewblock`, `waitforblockheight`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BlockRef {
    /// The block's hash.
    pub hash: BlockHash,
    /// Its height.
    pub height: u64,
}

/// One optional index of `getindexinfo` (e.g. `txindex`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndexInfo {
    /// Whether the index has caught up with the tip.
    pub synced: bool,
    /// Height the index has reached.
    pub best_block_height: u64,
}

/// `getblockchaininfo`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlockchainInfo {
    /// Chain name, e.g. `liquidregtest` or `liquidv1`.
    pub chain: String,
    /// Height of the best validated block.
    pub blocks: u64,
    /// Height of the best known header.
    pub headers: u64,
    /// Hash of the best block.
    pub bestblockhash: BlockHash,
    /// Block time of the best block.
    pub time: u64,
    /// Median time past of the best block.
    pub mediantime: u64,
    /// Estimated verification progress in [0, 1].
    pub verificationprogress: f64,
    /// Whether the node is in initial block download.
    pub initialblockdownload: bool,
    /// Size of the block and undo files.
    pub size_on_disk: u64,
    /// Whether the node prunes blocks.
    pub pruned: bool,
    /// Node warnings.
    pub warnings: String,
}

/// `getmempoolinfo`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MempoolInfo {
    /// Whether the mempool is fully loaded.
    pub loaded: bool,
    /// Number of transactions.
    pub size: u64,
    /// Sum of virtual sizes.
    pub bytes: u64,
    /// Memory usage.
    pub usage: u64,
    /// Sum of fees of all transactions.
    pub total_fee: Amount,
    /// Minimum fee rate to enter the mempool (per kvB).
    pub mempoolminfee: Amount,
    /// Minimum relay fee rate (per kvB).
    pub minrelaytxfee: Amount,
}

/// `getblockheader <hash> true`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlockHeaderInfo {
    /// Block hash.
    pub hash: BlockHash,
    /// Confirmations (-1 when the block is not on the active chain).
    pub confirmations: i64,
    /// Height.
    pub height: u64,
    /// Header version.
    pub version: i64,
    /// Merkle root (hex).
    pub merkleroot: String,
    /// Block time.
    pub time: u64,
    /// Median time past.
    pub mediantime: u64,
    /// Number of transactions.
    #[serde(rename = "nTx")]
    pub n_tx: u64,
    /// Previous block (absent for genesis).
    pub previousblockhash: Option<BlockHash>,
    /// Next block on the active chain, if any.
    pub nextblockhash: Option<BlockHash>,
}

/// `getblock <hash> 1` (`T` = [`Txid`]) or `getblock <hash> 2` (`T` = [`DecodedTransaction`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlockInfo<T> {
    /// Block hash.
    pub hash: BlockHash,
    /// Confirmations (-1 when the block is not on the active chain).
    pub confirmations: i64,
    /// Height.
    pub height: u64,
    /// Header version.
    pub version: i64,
    /// Merkle root (hex).
    pub merkleroot: String,
    /// Block time.
    pub time: u64,
    /// Median time past.
    pub mediantime: u64,
    /// Number of transactions.
    #[serde(rename = "nTx")]
    pub n_tx: u64,
    /// Previous block (absent for genesis).
    pub previousblockhash: Option<BlockHash>,
    /// Next block on the active chain, if any.
    pub nextblockhash: Option<BlockHash>,
    /// Size without witness data.
    pub strippedsize: u64,
    /// Serialized size.
    pub size: u64,
    /// Block weight.
    pub weight: u64,
    /// The transactions (ids at verbosity 1, decoded at verbosity 2).
    pub tx: Vec<T>,
}

/// A block at verbosity 1.
pub type BlockWithTxids = BlockInfo<Txid>;
/// A block at verbosity 2.
pub type BlockWithTransactions = BlockInfo<DecodedTransaction>;

/// `gettxout <txid> <n>` for an unspent output.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TxOutInfo {
    /// Best block when the answer was made.
    pub bestblock: BlockHash,
    /// Confirmations of the output (0 in the mempool).
    pub confirmations: u64,
    /// Explicit value (absent when blinded).
    pub value: Option<Amount>,
    /// Explicit asset (absent when blinded).
    pub asset: Option<elements::AssetId>,
    /// Value commitment (when blinded).
    pub valuecommitment: Option<String>,
    /// Asset commitment (when blinded).
    pub assetcommitment: Option<String>,
    /// Nonce commitment.
    pub commitmentnonce: Option<String>,
    /// Output script.
    #[serde(rename = "scriptPubKey")]
    pub script_pub_key: ScriptPubKeyInfo,
    /// Whether the output is from a coinbase.
    pub coinbase: bool,
}

/// `scantxoutset start [...]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScanTxOutSetResult {
    /// Whether the scan completed.
    pub success: bool,
    /// Number of UTXOs scanned.
    pub txouts: u64,
    /// Height of the scanned chain tip.
    pub height: u64,
    /// Hash of the scanned chain tip.
    pub bestblock: BlockHash,
    /// Matching outputs.
    pub unspents: Vec<ScannedOutput>,
    /// Sum of the explicit policy-asset amounts.
    pub total_unblinded_bitcoin_amount: Amount,
}

/// One output found by `scantxoutset`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScannedOutput {
    /// Transaction id.
    pub txid: Txid,
    /// Output index.
    pub vout: u32,
    /// Output script (hex).
    #[serde(rename = "scriptPubKey")]
    pub script_pub_key: String,
    /// Matching descriptor.
    pub desc: String,
    /// Explicit amount (absent when blinded).
    pub amount: Option<Amount>,
    /// Explicit asset (absent when blinded).
    pub asset: Option<elements::AssetId>,
    /// Value commitment (when blinded).
    pub amountcommitment: Option<String>,
    /// Asset commitment (when blinded).
    pub assetcommitment: Option<String>,
    /// Height of the block containing the output.
    pub height: u64,
}

/// One entry of `testmempoolaccept`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MempoolAcceptResult {
    /// Transaction id.
    pub txid: Txid,
    /// Witness transaction id.
    pub wtxid: String,
    /// Whether the transaction would be accepted.
    #[serde(default)]
    pub allowed: bool,
    /// Virtual size (when allowed).
    pub vsize: Option<u64>,
    /// Fees (when allowed).
    pub fees: Option<MempoolAcceptFees>,
    /// Why it would be rejected.
    #[serde(rename = "reject-reason")]
    pub reject_reason: Option<String>,
}

/// Fees of an accepted transaction.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MempoolAcceptFees {
    /// Base fee in the policy asset.
    pub base: Amount,
}
