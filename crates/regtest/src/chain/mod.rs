//! Consensus state: genesis, blocks, UTXO set, mempool and transaction validation.
//!
//! # Read/write API used by the wallets and the RPC layer
//!
//! Wallets get no callbacks: they sync on demand from the read API ([`Chain::tip`],
//! [`Chain::block_hash`], [`Chain::block`], [`Chain::tx`], [`Chain::utxo`], [`Chain::mempool`])
//! and submit through [`Chain::submit_transaction`] (the exact checks of
//! `sendrawtransaction`, errors with Elements' codes and reject reasons). Blocks are mined
//! on demand with [`Chain::mine_block`]. Genesis free coins are paid to `OP_TRUE` and are
//! spendable by anyone (wallets claim them as `anyonecanspendaremine=1` does).
//!
//! # What a transaction must pass to enter the mempool
//!
//! Structure (inputs/outputs present, no duplicate or null prevouts, no peg-ins, amounts in
//! range, weight ≤ 400k), lock-time finality and BIP68 relative locks, inputs that exist and
//! are not spent in the chain or the mempool, 100-block coinbase maturity, issuance rules
//! (amount ranges, issuance-amount rangeproofs, reissuance spending the blinded token), the
//! amounts of Elements' `VerifyAmounts` (value commitments, output rangeproofs and surjection
//! proofs, balance, zero-value outputs only when unspendable), the minimum relay fee in the
//! policy asset, and every input script: p2pkh, p2sh (single key or multisig), p2wpkh,
//! p2sh-p2wpkh, p2wsh and p2sh-p2wsh (single key or multisig), taproot key path, and the
//! genesis `OP_TRUE` outputs. Other scripts are rejected, never accepted unchecked.
//!
//! Branches: blocks leave the active chain by `invalidateblock` (kept, marked invalid) or by a
//! switch to a branch with more blocks; `reconsiderblock` makes an invalidated branch valid
//! again and reconnects it when it has more work (every block has the same work, as with
//! Liquid's signed blocks; on a tie the branch received first wins, as in Core). Blocks off
//! the active chain are kept in memory only (a restart forgets them).
//!
//! Not modelled: RBF replacement (conflicts are rejected), standardness policy for outputs
//! (dust, non-standard scripts), peg-ins and taproot script paths.

mod ct;
mod mempool;
mod merkle;
mod mining;
mod params;
mod reorg;
mod script_check;
mod store;
mod validation;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use elements::secp256k1_zkp::{All, Secp256k1};
use elements::{AssetId, Block, BlockHash, OutPoint, Script, Transaction, TxOut, Txid};

pub use ct::{verify_amounts, AmountError};
pub use mempool::{
    Family, MempoolEntry, PACKAGE_COUNT_LIMIT, PACKAGE_SIZE_LIMIT, TOO_LONG_MEMPOOL_CHAIN,
};
pub use merkle::{merkle_root, merkle_root_bytes, witness_merkle_root, witness_only_hash};
pub use mining::DEFAULT_BLOCK_MAX_WEIGHT;
pub use params::{
    ChainName, ChainParams, COINBASE_MATURITY, DEFAULT_INITIAL_FREE_COINS, DYNAFED_EPOCH_LENGTH,
};
pub use reorg::ChainTip;
pub use validation::{
    fees_of, reissuance_spends_token, verify_input, verify_issuance_rangeproof, TxCheckError,
    MAX_MONEY,
};

use crate::rpc::RpcError;
use mempool::Mempool;
use store::BlockStore;

/// Stored blocks whose inputs are validated again at start (Core's `-checkblocks` default).
const CHECK_BLOCKS_AT_START: usize = 6;

/// Errors of the chain layer (storage and block assembly).
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// Reading or writing the data directory failed.
    #[error("chain storage error at {path}: {source}")]
    Io {
        /// File or directory involved.
        path: std::path::PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The stored chain cannot be decoded or does not belong to these parameters.
    #[error("corrupt chain data in {path}: {reason}")]
    Corrupt {
        /// File involved.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A block (stored or assembled) failed validation.
    #[error("invalid block at height {height}: {reason}")]
    InvalidBlock {
        /// Height of the block.
        height: u32,
        /// Reject reason.
        reason: String,
    },
}

/// An unspent output with the facts validation needs about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utxo {
    /// The output itself.
    pub txout: TxOut,
    /// Height of the block that created it.
    pub height: u32,
    /// Whether it was created by a coinbase (100-block maturity).
    pub is_coinbase: bool,
}

/// Where a confirmed transaction sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxBlock {
    /// Hash of the containing block.
    pub hash: BlockHash,
    /// Height of the containing block.
    pub height: u32,
    /// Position of the transaction in the block.
    pub index: usize,
    /// Header time of the block.
    pub time: u32,
}

/// A transaction found by [`Chain::tx`] (txindex semantics: confirmed or in the mempool).
#[derive(Debug, Clone, Copy)]
pub struct TxLookup<'a> {
    /// The transaction.
    pub tx: &'a Transaction,
    /// Its block, `None` while in the mempool.
    pub block: Option<TxBlock>,
}

/// Position of a confirmed transaction.
#[derive(Debug, Clone, Copy)]
struct TxPos {
    height: u32,
    index: usize,
}

/// The whole consensus state of the node.
pub struct Chain {
    params: ChainParams,
    blocks: Vec<Block>,
    hashes: Vec<BlockHash>,
    heights: HashMap<BlockHash, u32>,
    txindex: HashMap<Txid, TxPos>,
    utxos: HashMap<OutPoint, Utxo>,
    mempool: Mempool,
    store: Option<BlockStore>,
    secp: Secp256k1<All>,
    size_on_disk: u64,
    /// Known blocks off the active chain (see [`reorg`]).
    side: HashMap<BlockHash, reorg::SideBlock>,
    /// The order in which blocks were first connected (Core's `nSequenceId`): between
    /// branches of equal work the one received first is followed.
    received: HashMap<BlockHash, u64>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("chain", &self.params.name())
            .field("height", &self.height())
            .field("mempool", &self.mempool.len())
            .finish()
    }
}

impl Chain {
    /// Opens the chain: in memory when `datadir` is `None`, otherwise stored under
    /// `<datadir>/<chain name>/` (blocks and mempool survive a restart).
    pub fn open(datadir: Option<&Path>, params: ChainParams) -> Result<Chain, ChainError> {
        let genesis = params.genesis().clone();
        let mut chain = Chain {
            blocks: Vec::new(),
            hashes: Vec::new(),
            heights: HashMap::new(),
            txindex: HashMap::new(),
            utxos: HashMap::new(),
            mempool: Mempool::default(),
            store: None,
            secp: Secp256k1::new(),
            size_on_disk: 0,
            side: HashMap::new(),
            received: HashMap::new(),
            params,
        };
        chain.connect(genesis);
        if let Some(dir) = datadir {
            let dir = dir.join(chain.params.name().as_str());
            let (store, blocks, mempool) = BlockStore::open(&dir, chain.params.genesis_hash())?;
            // Every stored block was fully validated before it was written: only the links
            // of all and the inputs (scripts, proofs) of the last few are checked again, as
            // Core's `-checkblocks`, so a restart costs reading the blocks, not re-validating
            // the chain.
            let recheck_from = blocks.len().saturating_sub(CHECK_BLOCKS_AT_START);
            for (i, block) in blocks.into_iter().enumerate() {
                let height = chain.height() + 1;
                chain.check_block_links(&block, height)?;
                if i >= recheck_from {
                    chain
                        .check_block_inputs(&block)
                        .map_err(|reason| ChainError::InvalidBlock { height, reason })?;
                }
                chain.connect(block);
            }
            chain.store = Some(store);
            for tx in mempool {
                // A stored mempool transaction that is no longer valid is dropped, as
                // Elements does when loading mempool.dat.
                let _ = chain.submit_transaction(tx);
            }
        }
        Ok(chain)
    }

    /// The chain parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// The secp256k1-zkp context (verification and signing).
    pub fn secp(&self) -> &Secp256k1<All> {
        &self.secp
    }

    /// Height of the tip (0 = genesis only).
    pub fn height(&self) -> u32 {
        (self.blocks.len() - 1) as u32
    }

    /// Height and hash of the tip.
    pub fn tip(&self) -> (u32, BlockHash) {
        (self.height(), *self.hashes.last().expect("genesis"))
    }

    /// Hash of the block at `height` on the active chain.
    pub fn block_hash(&self, height: u32) -> Option<BlockHash> {
        self.hashes.get(height as usize).copied()
    }

    /// Height of the block with this hash.
    pub fn block_height(&self, hash: &BlockHash) -> Option<u32> {
        self.heights.get(hash).copied()
    }

    /// The block with this hash.
    pub fn block(&self, hash: &BlockHash) -> Option<&Block> {
        self.block_height(hash).map(|h| &self.blocks[h as usize])
    }

    /// The block at `height`.
    pub fn block_at(&self, height: u32) -> Option<&Block> {
        self.blocks.get(height as usize)
    }

    /// Bytes of all blocks of the chain (`size_on_disk`).
    pub fn size_on_disk(&self) -> u64 {
        self.size_on_disk
    }

    /// Median of the last 11 block times ending at `height` (`GetMedianTimePast`).
    pub fn median_time_past_at(&self, height: u32) -> u32 {
        let start = height.saturating_sub(10) as usize;
        let mut times: Vec<u32> = self.blocks[start..=height as usize]
            .iter()
            .map(|b| b.header.time)
            .collect();
        times.sort_unstable();
        times[times.len() / 2]
    }

    /// Median time past of the tip.
    pub fn median_time_past(&self) -> u32 {
        self.median_time_past_at(self.height())
    }

    /// A transaction by id, confirmed or in the mempool (`-txindex=1`).
    pub fn tx(&self, txid: &Txid) -> Option<TxLookup<'_>> {
        if let Some(pos) = self.txindex.get(txid) {
            let block = &self.blocks[pos.height as usize];
            return Some(TxLookup {
                tx: &block.txdata[pos.index],
                block: Some(TxBlock {
                    hash: self.hashes[pos.height as usize],
                    height: pos.height,
                    index: pos.index,
                    time: block.header.time,
                }),
            });
        }
        self.mempool.get(txid).map(|entry| TxLookup {
            tx: &entry.tx,
            block: None,
        })
    }

    /// A confirmed unspent output (not considering mempool spends; see [`Chain::spent_by`]).
    pub fn utxo(&self, outpoint: &OutPoint) -> Option<&Utxo> {
        self.utxos.get(outpoint)
    }

    /// All confirmed unspent outputs (for `scantxoutset`).
    pub fn utxos(&self) -> impl Iterator<Item = (&OutPoint, &Utxo)> {
        self.utxos.iter()
    }

    /// The mempool transaction spending `outpoint`, if any.
    pub fn spent_by(&self, outpoint: &OutPoint) -> Option<Txid> {
        self.mempool.spender(outpoint)
    }

    /// Mempool transactions in acceptance order (parents before children).
    pub fn mempool(&self) -> impl Iterator<Item = (&Txid, &Transaction)> {
        self.mempool.iter().map(|(txid, entry)| (txid, &entry.tx))
    }

    /// Mempool entries (fees, size, time) in acceptance order.
    pub fn mempool_entries(&self) -> impl Iterator<Item = (&Txid, &MempoolEntry)> {
        self.mempool.iter()
    }

    /// A mempool entry.
    pub fn mempool_entry(&self, txid: &Txid) -> Option<&MempoolEntry> {
        self.mempool.get(txid)
    }

    /// A mempool entry's relatives, as `getmempoolentry` reports them: its ancestors and its
    /// descendants (itself included in both), the mempool transactions it spends (`depends`)
    /// and those spending it (`spentby`).
    pub fn mempool_relatives(&self, entry: &MempoolEntry) -> MempoolRelatives {
        let policy = self.params.policy_asset();
        let txid = entry.tx.txid();
        MempoolRelatives {
            ancestors: self.mempool.ancestors(&txid, &policy),
            descendants: self.mempool.descendants(&txid, &policy),
            depends: self.mempool.parents(&entry.tx),
            spent_by: self.mempool.children(&txid),
        }
    }

    /// Checks `tx` exactly as `sendrawtransaction` would without adding it
    /// (`testmempoolaccept`). Returns the fees it pays per asset.
    pub fn test_accept(&self, tx: &Transaction) -> Result<BTreeMap<AssetId, u64>, RpcError> {
        self.check_for_mempool(tx).map_err(TxCheckError::into_rpc)
    }

    /// Like [`Chain::test_accept`] but with the typed reject reason (`testmempoolaccept`
    /// reports the bare reason rather than the RPC error).
    pub fn test_accept_detailed(
        &self,
        tx: &Transaction,
    ) -> Result<BTreeMap<AssetId, u64>, TxCheckError> {
        self.check_for_mempool(tx)
    }

    /// Validates `tx` and adds it to the mempool (`sendrawtransaction`). A transaction
    /// already in the mempool is accepted again (Elements relays it and returns the txid).
    pub fn submit_transaction(&mut self, tx: Transaction) -> Result<Txid, RpcError> {
        let txid = tx.txid();
        if self.mempool.get(&txid).is_some() {
            return Ok(txid);
        }
        let fees = self.test_accept(&tx)?;
        self.mempool.insert(tx, fees, now_secs());
        Ok(txid)
    }

    /// Mines one block with as much of the mempool as fits in the default maximum block
    /// weight (the rest stays for the next block), paying fees (zero subsidy) to
    /// `coinbase_script`. Returns the new block's hash.
    pub fn mine_block(&mut self, coinbase_script: Script) -> Result<BlockHash, ChainError> {
        let block = self.assemble_block(coinbase_script);
        let height = self.height() + 1;
        // Mined again on the same parent within the same second, a block can be exactly the
        // one `invalidateblock` marked invalid: Elements Core refuses it (`duplicate-invalid`).
        if self.is_marked_invalid(&block.block_hash()) {
            return Err(ChainError::InvalidBlock {
                height,
                reason: "duplicate-invalid".into(),
            });
        }
        self.check_block_links(&block, height)?;
        self.check_block_inputs(&block)
            .map_err(|reason| ChainError::InvalidBlock { height, reason })?;
        if let Some(store) = self.store.as_mut() {
            store.append_block(&block)?;
        }
        let hash = block.block_hash();
        self.connect(block);
        Ok(hash)
    }

    /// Writes the mempool to disk (called on shutdown; blocks are written as they are mined).
    pub fn flush(&mut self) -> Result<(), ChainError> {
        if let Some(store) = self.store.as_mut() {
            let txs: Vec<&Transaction> = self.mempool.iter().map(|(_, e)| &e.tx).collect();
            store.write_mempool(&txs)?;
        }
        Ok(())
    }

    /// Applies a validated block to the UTXO set, the indexes and the mempool.
    fn connect(&mut self, block: Block) {
        let height = self.blocks.len() as u32;
        let hash = block.block_hash();
        self.size_on_disk += elements::encode::serialize(&block).len() as u64;
        for (index, tx) in block.txdata.iter().enumerate() {
            let txid = tx.txid();
            let is_coinbase = index == 0;
            if !is_coinbase {
                for input in &tx.input {
                    self.utxos.remove(&input.previous_output);
                }
            }
            for (vout, txout) in tx.output.iter().enumerate() {
                if !enters_utxo_set(txout) {
                    continue;
                }
                self.utxos.insert(
                    OutPoint::new(txid, vout as u32),
                    Utxo {
                        txout: txout.clone(),
                        height,
                        is_coinbase,
                    },
                );
            }
            self.txindex.insert(txid, TxPos { height, index });
        }
        self.mempool.remove_for_block(&block);
        let sequence = self.received.len() as u64;
        self.received.entry(hash).or_insert(sequence);
        self.heights.insert(hash, height);
        self.hashes.push(hash);
        self.blocks.push(block);
    }
}

impl Drop for Chain {
    /// Keeps the mempool of a stored chain even when the owner forgets [`Chain::flush`].
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::error!(error = %e, "could not write the mempool on shutdown");
        }
    }
}

/// Whether an output becomes spendable: fee outputs and provably unspendable (`OP_RETURN`)
/// outputs never enter the UTXO set. Genesis/coinbase outputs do.
fn enters_utxo_set(txout: &TxOut) -> bool {
    !txout.is_fee() && !txout.script_pubkey.is_provably_unspendable()
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A mempool entry's relatives ([`Chain::mempool_relatives`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MempoolRelatives {
    /// Its ancestor set, itself included.
    pub ancestors: Family,
    /// Its descendant set, itself included.
    pub descendants: Family,
    /// The mempool transactions it spends outputs of.
    pub depends: Vec<Txid>,
    /// The mempool transactions spending its outputs.
    pub spent_by: Vec<Txid>,
}
