//! The on-disk form of a wallet: `<datadir>/<chain>/wallets/<name>/wallet.dat`, named like
//! Elements Core's file (so paths in error messages match) but holding this node's JSON.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use elements::encode::{deserialize, serialize};
use elements::{BlockHash, Transaction, TxOutSecrets, Txid};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::crypto::EncryptedBlob;
use super::keys::{KeyOrigin, SeedInfo};

/// File name of a wallet inside its directory.
pub const WALLET_FILE: &str = "wallet.dat";

/// Version of [`WalletData`]'s layout.
pub const FORMAT_VERSION: u32 = 1;

/// Errors reading or writing wallet files.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file system refused.
    #[error("wallet storage error at {path}: {source}")]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not a wallet of this format.
    #[error("corrupt wallet file {path}: {reason}")]
    Corrupt {
        /// Path involved.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// HD seeds, in the clear or encrypted with the wallet passphrase.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedStore {
    /// Unencrypted wallet: the seeds, hex.
    Plain(Vec<String>),
    /// Encrypted wallet: the JSON list of hex seeds, sealed.
    Encrypted(EncryptedBlob),
}

/// One derived key (keypool entry or handed-out key).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Derivation origin.
    pub origin: KeyOrigin,
    /// Compressed public key, hex.
    pub pubkey: String,
    /// Whether the key left the keypool (handed out by `getnewaddress` or used for change).
    pub used: bool,
    /// Address-book label when handed out by `getnewaddress` (external keys only).
    pub label: Option<String>,
    /// Creation time (unix seconds), Core's `timestamp`.
    pub time: u64,
}

/// Where a wallet transaction is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
    /// Block hash.
    pub hash: BlockHash,
    /// Block height.
    pub height: u32,
    /// Index of the transaction in the block.
    pub index: usize,
    /// Block header time.
    pub time: u32,
}

/// The block of the transaction that spent a wallet transaction's input first (Core's
/// `TxStateConflicted`): the wallet transaction can never confirm on this chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRef {
    /// Hash of the block holding the conflicting transaction.
    pub hash: BlockHash,
    /// Its height.
    pub height: u32,
}

/// Amount secrets of one issuance input the wallet built (blinded or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuanceSecrets {
    /// Issued asset amount (satoshi-like units).
    pub asset_amount: u64,
    /// Value blinding factor of the issuance amount commitment (zero when explicit), hex.
    pub asset_blind: [u8; 32],
    /// Issued token amount.
    pub token_amount: u64,
    /// Value blinding factor of the token amount commitment (zero when explicit).
    pub token_blind: [u8; 32],
}

/// A transaction relevant to the wallet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletTx {
    /// The transaction (hex on disk).
    #[serde(serialize_with = "tx_to_hex", deserialize_with = "tx_from_hex")]
    pub tx: Transaction,
    /// When the wallet first saw it (unix seconds).
    pub time: u64,
    /// Its block while confirmed on the active chain.
    pub block: Option<BlockRef>,
    /// Set while a block of the active chain spends one of its inputs in another transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicted: Option<ConflictRef>,
    /// Secrets of the wallet's own outputs (unblinded, or explicit with zero blinders).
    pub mine: BTreeMap<u32, TxOutSecrets>,
    /// Secrets of outputs this wallet blinded for others (kept for `gettransaction`).
    pub sent: BTreeMap<u32, TxOutSecrets>,
    /// Secrets of issuance inputs this wallet built, by input index.
    pub issuances: BTreeMap<u32, IssuanceSecrets>,
}

/// Everything a wallet persists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletData {
    /// Layout version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Load this wallet when the node starts.
    pub load_on_startup: bool,
    /// Created with `descriptors=true` (reported by `getwalletinfo`; keys are the same).
    #[serde(default)]
    pub descriptors: bool,
    /// Creation time (unix seconds).
    pub birth_time: u64,
    /// The HD seeds.
    pub seeds: SeedStore,
    /// Public facts of each seed.
    pub seed_info: Vec<SeedInfo>,
    /// Seed new keys are derived from.
    pub current_seed: u32,
    /// Next child index per chain of the current seed (`[external, internal]`).
    pub next_index: [u32; 2],
    /// SLIP-77 master blinding key, hex (kept in the clear, like Elements).
    pub master_blinding_key: String,
    /// Derived keys.
    pub keys: Vec<KeyRecord>,
    /// Hashes of the blocks the wallet has processed, by height.
    pub synced: Vec<BlockHash>,
    /// Wallet transactions.
    pub txs: BTreeMap<Txid, WalletTx>,
}

fn tx_to_hex<S: Serializer>(tx: &Transaction, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(serialize(tx)))
}

fn tx_from_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Transaction, D::Error> {
    let hex_str = String::deserialize(d)?;
    let bytes = hex::decode(hex_str).map_err(serde::de::Error::custom)?;
    deserialize(&bytes).map_err(serde::de::Error::custom)
}

/// Reads a wallet file.
pub fn read(path: &Path) -> Result<WalletData, StoreError> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
        path: path.to_owned(),
        source,
    })?;
    let data: WalletData = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if data.format_version != FORMAT_VERSION {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            reason: format!("unsupported format version {}", data.format_version),
        });
    }
    Ok(data)
}

/// Writes a wallet file atomically (temporary file, then rename).
pub fn write(path: &Path, data: &WalletData) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let bytes = serde_json::to_vec(data).map_err(|e| StoreError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let tmp = path.with_extension("dat.tmp");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
