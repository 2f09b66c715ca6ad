//! The on-disk form of a wallet, in `<datadir>/<chain>/wallets/<name>/`: `wallet.dat`, named
//! like Elements Core's file (so paths in error messages match) but holding this node's JSON,
//! and `transactions.dat`, the wallet's transactions, each appended once as a consensus-encoded
//! record. `wallet.dat` is rewritten whole on every change; the transactions, which make up
//! nearly all of a busy wallet's bytes, are not.

use std::collections::{BTreeMap, HashSet};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use elements::encode::{deserialize, serialize};
use elements::{BlockHash, Transaction, TxOutSecrets, Txid};
use serde::{Deserialize, Deserializer, Serialize};

use super::crypto::EncryptedBlob;
use super::keys::{KeyOrigin, SeedInfo};

/// File name of a wallet inside its directory.
pub const WALLET_FILE: &str = "wallet.dat";
/// File name of a wallet's transaction records, beside [`WALLET_FILE`].
pub const TRANSACTIONS_FILE: &str = "transactions.dat";

/// Version of [`WalletData`]'s layout: 2 keeps the transactions in [`TRANSACTIONS_FILE`];
/// version 1 (still read) held each one inline, hex.
pub const FORMAT_VERSION: u32 = 2;

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
    /// The transaction: a record of [`TRANSACTIONS_FILE`] on disk (inline hex in format 1).
    #[serde(
        skip_serializing,
        default = "missing_tx",
        deserialize_with = "tx_from_hex"
    )]
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
    /// The transactions [`TRANSACTIONS_FILE`] holds (not written to `wallet.dat`).
    #[serde(skip)]
    pub logged: HashSet<Txid>,
}

/// The placeholder of a transaction `wallet.dat` does not hold inline, until
/// [`TRANSACTIONS_FILE`] supplies it (no inputs and no outputs: no real transaction is empty).
fn missing_tx() -> Transaction {
    Transaction {
        version: 0,
        lock_time: elements::LockTime::ZERO,
        input: Vec::new(),
        output: Vec::new(),
    }
}

fn tx_from_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Transaction, D::Error> {
    let hex_str = String::deserialize(d)?;
    let bytes = hex::decode(hex_str).map_err(serde::de::Error::custom)?;
    deserialize(&bytes).map_err(serde::de::Error::custom)
}

fn transactions_path(wallet_file: &Path) -> PathBuf {
    wallet_file.with_file_name(TRANSACTIONS_FILE)
}

/// Reads a wallet file and its transactions.
pub fn read(path: &Path) -> Result<WalletData, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut data: WalletData =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if !(1..=FORMAT_VERSION).contains(&data.format_version) {
        return Err(corrupt(format!(
            "unsupported format version {}",
            data.format_version
        )));
    }
    let log_path = transactions_path(path);
    let records = crate::records::read(&log_path).map_err(|source| StoreError::Io {
        path: log_path.clone(),
        source,
    })?;
    let mut logged = BTreeMap::new();
    for bytes in records {
        let tx: Transaction = deserialize(&bytes).map_err(|e| StoreError::Corrupt {
            path: log_path.clone(),
            reason: format!("undecodable transaction: {e}"),
        })?;
        logged.insert(tx.txid(), tx);
    }
    data.logged = logged.keys().copied().collect();
    for (txid, wtx) in &mut data.txs {
        if let Some(tx) = logged.remove(txid) {
            wtx.tx = tx;
        }
        if wtx.tx.txid() != *txid {
            return Err(corrupt(format!(
                "transaction {txid} is missing from {TRANSACTIONS_FILE}"
            )));
        }
    }
    data.format_version = FORMAT_VERSION;
    Ok(data)
}

/// Writes a wallet: appends the transactions [`TRANSACTIONS_FILE`] does not hold yet, then
/// replaces `wallet.dat` atomically (temporary file, then rename). A crash in between leaves a
/// transaction record nothing refers to, which the next read ignores.
pub fn write(path: &Path, data: &mut WalletData) -> Result<(), StoreError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::Io { path, source }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(path))?;
    }
    let new: Vec<&Txid> = data
        .txs
        .keys()
        .filter(|txid| !data.logged.contains(*txid))
        .collect();
    if !new.is_empty() {
        let log_path = transactions_path(path);
        let mut records = Vec::new();
        for txid in &new {
            records.extend(crate::records::encode(&serialize(&data.txs[*txid].tx)));
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        log.write_all(&records).map_err(io(&log_path))?;
        let new: Vec<Txid> = new.into_iter().copied().collect();
        data.logged.extend(new);
    }
    let bytes = serde_json::to_vec(data).map_err(|e| StoreError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let tmp = path.with_extension("dat.tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::builder::unblinded_output;
    use crate::wallet::keys::AddressType;
    use crate::wallet::state::Wallet;
    use elements::{AddressParams, AssetId};

    /// A wallet stored in `dir` holding one transaction that pays it.
    fn stored_wallet(dir: &Path) -> (Wallet, Txid) {
        let path = dir.join("w").join(WALLET_FILE);
        let mut w = Wallet::create("w", Some(path), &AddressParams::ELEMENTS, Vec::new(), false);
        let address = w.new_address("", AddressType::DEFAULT).unwrap();
        let tx = crate::wallet::test_tx::paying(vec![unblinded_output(
            address.script_pubkey(),
            None,
            AssetId::from_byte_array([1; 32]),
            5_000,
        )]);
        assert!(w.add_tx(&tx, None));
        w.save().unwrap();
        (w, tx.txid())
    }

    #[test]
    fn transactions_are_appended_once_and_read_back_beside_the_json() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, txid) = stored_wallet(dir.path());
        let wallet_file = dir.path().join("w").join(WALLET_FILE);
        let log = dir.path().join("w").join(TRANSACTIONS_FILE);
        let logged = std::fs::metadata(&log).unwrap().len();
        assert!(logged > 0);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&wallet_file).unwrap()).unwrap();
        assert_eq!(json["format_version"], 2);
        let entry = &json["txs"][txid.to_string()];
        assert!(entry.is_object() && entry.get("tx").is_none(), "{entry}");
        // Saving again (a new address) rewrites the JSON, not the transactions.
        w.new_address("", AddressType::DEFAULT).unwrap();
        w.save().unwrap();
        assert_eq!(std::fs::metadata(&log).unwrap().len(), logged);
        let read = read(&wallet_file).unwrap();
        assert_eq!(read.txs[&txid].tx, w.data.txs[&txid].tx);
        assert_eq!(read.txs[&txid].mine, w.data.txs[&txid].mine);
        assert_eq!(read.logged, HashSet::from([txid]));
        assert_eq!(read.keys.len(), w.data.keys.len());
    }

    #[test]
    fn format_1_wallets_with_inline_transactions_still_load_and_move_them_out() {
        let dir = tempfile::tempdir().unwrap();
        let (w, txid) = stored_wallet(dir.path());
        let wallet_file = dir.path().join("w").join(WALLET_FILE);
        let log = dir.path().join("w").join(TRANSACTIONS_FILE);
        // The same wallet as format 1 wrote it: each transaction inline, hex, no record file.
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&wallet_file).unwrap()).unwrap();
        json["format_version"] = 1.into();
        json["txs"][txid.to_string()]["tx"] = hex::encode(serialize(&w.data.txs[&txid].tx)).into();
        std::fs::write(&wallet_file, serde_json::to_vec(&json).unwrap()).unwrap();
        std::fs::remove_file(&log).unwrap();
        let mut data = read(&wallet_file).unwrap();
        assert_eq!(data.txs[&txid].tx, w.data.txs[&txid].tx);
        assert!(data.logged.is_empty());
        write(&wallet_file, &mut data).unwrap();
        assert!(std::fs::metadata(&log).unwrap().len() > 0);
        let again = read(&wallet_file).unwrap();
        assert_eq!(again.format_version, FORMAT_VERSION);
        assert_eq!(again.txs[&txid].tx, w.data.txs[&txid].tx);
    }

    #[test]
    fn a_transaction_missing_from_its_records_is_a_corrupt_wallet() {
        let dir = tempfile::tempdir().unwrap();
        let (_, txid) = stored_wallet(dir.path());
        let wallet_file = dir.path().join("w").join(WALLET_FILE);
        std::fs::remove_file(dir.path().join("w").join(TRANSACTIONS_FILE)).unwrap();
        let err = read(&wallet_file).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt { reason, .. } if reason.contains(&txid.to_string())),
            "{err}"
        );
    }
}
