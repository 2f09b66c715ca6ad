//! The wallet's view of the chain, built by walking blocks from an Elements node.
//!
//! [`ChainIndex`] keeps what LWK needs to compute a wallet [`Update`](lwk_wollet::Update): the
//! transactions paying to or spending from the wallet's scripts (with their confirmation height,
//! or unconfirmed), the headers of the blocks holding them, and the recent headers of the walked
//! chain (sync cursor and reorg detection). It is pure: the node is read by [`crate::sync`].
//!
//! Watched scripts are the descriptor's receive and change scripts up to [`LOOKAHEAD`] past the
//! highest index seen used, extended as addresses get used — the usual gap limit, five times
//! larger than LWK's scan batch so that LWK's own gap-limit scan never asks beyond it.

use std::collections::{BTreeMap, HashMap, HashSet};

use elements::encode::{deserialize, serialize};
use elements::hex::DisplayHex;
use elements::{Block, BlockHash, BlockHeader, OutPoint, Script, Transaction, Txid};
use lwk_wollet::{Chain, History, WolletDescriptor};
use serde::{Deserialize, Serialize};

/// Scripts derived past the highest used index of each chain.
pub const LOOKAHEAD: u32 = 100;
/// How many recent headers are kept to detect and undo reorgs without a full rescan.
pub const REORG_WINDOW: u32 = 144;

/// Why a block cannot be connected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The block is not at the next height to walk.
    #[error("block at height {got} given, the index expects height {expected}")]
    WrongHeight {
        /// The next height of the index.
        expected: u32,
        /// The height given.
        got: u32,
    },
    /// The block does not build on the last walked block: the chain was reorganised.
    #[error("block at height {height} does not build on the walked block {expected}")]
    NotConnecting {
        /// The height of the block.
        height: u32,
        /// The hash of the walked block at `height - 1`.
        expected: BlockHash,
    },
    /// The descriptor cannot derive a script.
    #[error("cannot derive the wallet's scripts: {0}")]
    Derivation(String),
}

/// A wallet transaction and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedTx {
    /// The transaction.
    pub tx: Transaction,
    /// Confirmation height; `None` while in the mempool.
    pub height: Option<u32>,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct ChainIndex {
    descriptor: WolletDescriptor,
    start_height: u32,
    next_height: u32,
    /// Headers of the last [`REORG_WINDOW`] walked blocks.
    recent: BTreeMap<u32, BlockHeader>,
    /// Headers of blocks holding wallet transactions.
    headers: BTreeMap<u32, BlockHeader>,
    txs: HashMap<Txid, IndexedTx>,
    watched: HashMap<Script, (Chain, u32)>,
    /// Number of scripts derived per chain: `[external, internal]`.
    derived: [u32; 2],
    /// Outputs paying a watched script, so spends of them are recognised.
    owned: HashMap<OutPoint, Script>,
}

fn slot(chain: Chain) -> usize {
    match chain {
        Chain::External => 0,
        Chain::Internal => 1,
    }
}

impl ChainIndex {
    /// An empty index for `descriptor` that starts walking at `start_height`.
    pub fn new(descriptor: WolletDescriptor, start_height: u32) -> Result<Self, IndexError> {
        let mut index = ChainIndex {
            descriptor,
            start_height,
            next_height: start_height,
            recent: BTreeMap::new(),
            headers: BTreeMap::new(),
            txs: HashMap::new(),
            watched: HashMap::new(),
            derived: [0, 0],
            owned: HashMap::new(),
        };
        for chain in [Chain::External, Chain::Internal] {
            index.derive_up_to(chain, LOOKAHEAD - 1)?;
        }
        Ok(index)
    }

    /// The same index emptied, to walk again from its start (after a reorg deeper than the
    /// window).
    pub fn reset(&self) -> Result<Self, IndexError> {
        ChainIndex::new(self.descriptor.clone(), self.start_height)
    }

    /// The wallet descriptor.
    pub fn descriptor(&self) -> &WolletDescriptor {
        &self.descriptor
    }

    /// The first height walked.
    pub fn start_height(&self) -> u32 {
        self.start_height
    }

    /// The next height to walk (the sync cursor).
    pub fn next_height(&self) -> u32 {
        self.next_height
    }

    /// The header of the last walked block.
    pub fn tip(&self) -> Option<&BlockHeader> {
        self.recent.values().next_back()
    }

    /// The hash of the walked block at `height`, if it is within the reorg window.
    pub fn recent_hash(&self, height: u32) -> Option<BlockHash> {
        self.recent.get(&height).map(BlockHeader::block_hash)
    }

    /// The lowest height whose header is still kept for reorg detection.
    pub fn window_start(&self) -> Option<u32> {
        self.recent.keys().next().copied()
    }

    /// The wallet transactions found so far.
    pub fn transactions(&self) -> impl Iterator<Item = (&Txid, &IndexedTx)> {
        self.txs.iter()
    }

    /// One wallet transaction.
    pub fn transaction(&self, txid: &Txid) -> Option<&IndexedTx> {
        self.txs.get(txid)
    }

    /// The header at `height`, if the index kept it (blocks with wallet transactions and the
    /// recent window).
    pub fn header(&self, height: u32) -> Option<&BlockHeader> {
        self.headers
            .get(&height)
            .or_else(|| self.recent.get(&height))
    }

    /// Ensures scripts of `chain` are watched up to `index + LOOKAHEAD` (e.g. when the investor
    /// asks for an address far ahead). Scripts newly watched are only seen in blocks walked from
    /// now on. Returns whether new scripts are watched.
    pub fn watch_up_to(&mut self, chain: Chain, index: u32) -> Result<bool, IndexError> {
        let before = self.derived[slot(chain)];
        self.derive_up_to(chain, index.saturating_add(LOOKAHEAD))?;
        Ok(self.derived[slot(chain)] != before)
    }

    fn derive_up_to(&mut self, chain: Chain, last: u32) -> Result<(), IndexError> {
        while self.derived[slot(chain)] <= last {
            let i = self.derived[slot(chain)];
            let script = self
                .descriptor
                .script_pubkey(chain, i)
                .map_err(|e| IndexError::Derivation(e.to_string()))?;
            self.watched.insert(script, (chain, i));
            self.derived[slot(chain)] = i + 1;
        }
        Ok(())
    }

    /// The highest derivation index (of either chain) paid by a wallet transaction.
    pub fn highest_used(&self) -> Option<u32> {
        self.txs
            .values()
            .flat_map(|t| t.tx.output.iter())
            .filter_map(|o| self.watched.get(&o.script_pubkey).map(|(_, i)| *i))
            .max()
    }

    /// Whether `tx` pays a watched script or spends a wallet output.
    pub fn is_relevant(&self, tx: &Transaction) -> bool {
        tx.output
            .iter()
            .any(|o| self.watched.contains_key(&o.script_pubkey))
            || tx
                .input
                .iter()
                .any(|i| self.owned.contains_key(&i.previous_output))
    }

    /// Records a relevant transaction; returns whether the watched set grew.
    fn record(&mut self, tx: &Transaction, height: Option<u32>) -> Result<bool, IndexError> {
        let txid = tx.txid();
        let mut grew = false;
        for (vout, out) in tx.output.iter().enumerate() {
            if let Some(&(chain, i)) = self.watched.get(&out.script_pubkey) {
                self.owned
                    .insert(OutPoint::new(txid, vout as u32), out.script_pubkey.clone());
                if i.saturating_add(LOOKAHEAD) >= self.derived[slot(chain)] {
                    self.derive_up_to(chain, i.saturating_add(LOOKAHEAD))?;
                    grew = true;
                }
            }
        }
        self.txs.insert(
            txid,
            IndexedTx {
                tx: tx.clone(),
                height,
            },
        );
        Ok(grew)
    }

    /// Records the relevant transactions of `txs` (in order), again while the watched set grows.
    fn record_all(
        &mut self,
        txs: &[Transaction],
        height: Option<u32>,
    ) -> Result<usize, IndexError> {
        let mut found: HashSet<Txid> = HashSet::new();
        loop {
            let mut grew = false;
            for tx in txs {
                let txid = tx.txid();
                if !found.contains(&txid) && self.is_relevant(tx) {
                    found.insert(txid);
                    grew |= self.record(tx, height)?;
                }
            }
            if !grew {
                return Ok(found.len());
            }
        }
    }

    /// Walks the block at `height` (the next height): records its wallet transactions and its
    /// header. Returns how many wallet transactions it holds.
    pub fn connect_block(&mut self, height: u32, block: &Block) -> Result<usize, IndexError> {
        if height != self.next_height {
            return Err(IndexError::WrongHeight {
                expected: self.next_height,
                got: height,
            });
        }
        if let Some(prev) = self.recent.get(&height.wrapping_sub(1)) {
            let expected = prev.block_hash();
            if block.header.prev_blockhash != expected {
                return Err(IndexError::NotConnecting { height, expected });
            }
        }
        // A transaction confirmed now may have been recorded from the mempool.
        let found = self.record_all(&block.txdata, Some(height))?;
        if found > 0 {
            self.headers.insert(height, block.header.clone());
        }
        self.recent.insert(height, block.header.clone());
        while self.recent.len() > REORG_WINDOW as usize {
            self.recent.pop_first();
        }
        self.next_height = height + 1;
        Ok(found)
    }

    /// Undoes the walk of every block at `height` and above (a reorg). Their wallet transactions
    /// are forgotten; those the node puts back in its mempool come back with the next
    /// [`ChainIndex::replace_mempool`].
    ///
    /// Returns false if `height` is below the reorg window: the index must then be [`reset`].
    ///
    /// [`reset`]: ChainIndex::reset
    pub fn disconnect_from(&mut self, height: u32) -> bool {
        if height >= self.next_height {
            return true;
        }
        // The block below `height` must still be known, to check what gets connected on it.
        let known_parent =
            height == self.start_height || self.recent.contains_key(&height.wrapping_sub(1));
        if height < self.start_height || !known_parent {
            return false;
        }
        self.recent.retain(|h, _| *h < height);
        self.headers.retain(|h, _| *h < height);
        self.txs.retain(|_, t| t.height.is_some_and(|h| h < height));
        self.rebuild_owned();
        self.next_height = height;
        true
    }

    /// Replaces the unconfirmed transactions by the wallet transactions among `mempool` (the
    /// node's mempool, in any order).
    pub fn replace_mempool(&mut self, mempool: &[Transaction]) -> Result<usize, IndexError> {
        self.txs.retain(|_, t| t.height.is_some());
        self.rebuild_owned();
        let confirmed: HashSet<Txid> = self.txs.keys().copied().collect();
        let fresh: Vec<Transaction> = mempool
            .iter()
            .filter(|tx| !confirmed.contains(&tx.txid()))
            .cloned()
            .collect();
        self.record_all(&fresh, None)
    }

    /// Records a transaction the wallet just broadcast, as unconfirmed.
    pub fn add_unconfirmed(&mut self, tx: &Transaction) -> Result<(), IndexError> {
        if !self.txs.contains_key(&tx.txid()) {
            self.record(tx, None)?;
        }
        Ok(())
    }

    fn rebuild_owned(&mut self) {
        let mut owned = HashMap::new();
        for (txid, t) in &self.txs {
            for (vout, out) in t.tx.output.iter().enumerate() {
                if self.watched.contains_key(&out.script_pubkey) {
                    owned.insert(OutPoint::new(*txid, vout as u32), out.script_pubkey.clone());
                }
            }
        }
        self.owned = owned;
    }

    /// For every watched script involved in a wallet transaction, that script's history in the
    /// form LWK's scan expects (height 0 = unconfirmed).
    pub fn histories(&self) -> HashMap<Script, Vec<History>> {
        let mut map: HashMap<Script, Vec<History>> = HashMap::new();
        for (txid, t) in &self.txs {
            let (height, block_hash, block_timestamp) = match t.height {
                Some(h) => {
                    let header = self.header(h);
                    (
                        h as i32,
                        header.map(BlockHeader::block_hash),
                        header.map(|hd| hd.time),
                    )
                }
                None => (0, None, None),
            };
            let entry = History {
                txid: *txid,
                height,
                block_hash,
                block_timestamp,
                v: 0,
            };
            let mut scripts: HashSet<&Script> = HashSet::new();
            for out in &t.tx.output {
                if self.watched.contains_key(&out.script_pubkey) {
                    scripts.insert(&out.script_pubkey);
                }
            }
            for input in &t.tx.input {
                if let Some(script) = self.owned.get(&input.previous_output) {
                    scripts.insert(script);
                }
            }
            for script in scripts {
                map.entry(script.clone()).or_default().push(entry.clone());
            }
        }
        map
    }

    /// The persisted form.
    pub fn to_file(&self) -> IndexFile {
        let mut txs: Vec<_> = self
            .txs
            .values()
            .map(|t| TxRecord {
                hex: serialize(&t.tx).to_lower_hex_string(),
                height: t.height,
            })
            .collect();
        txs.sort_by(|a, b| (a.height, &a.hex).cmp(&(b.height, &b.hex)));
        IndexFile {
            version: INDEX_FILE_VERSION,
            descriptor: self.descriptor.to_string(),
            start_height: self.start_height,
            next_height: self.next_height,
            derived: self.derived,
            recent: encode_headers(&self.recent),
            headers: encode_headers(&self.headers),
            txs,
        }
    }

    /// Restores an index from its persisted form; `descriptor` must be the wallet's.
    pub fn from_file(descriptor: WolletDescriptor, file: IndexFile) -> Result<Self, String> {
        if file.version != INDEX_FILE_VERSION {
            return Err(format!("unsupported version {}", file.version));
        }
        if file.descriptor != descriptor.to_string() {
            return Err("it belongs to another wallet descriptor".into());
        }
        let mut index =
            ChainIndex::new(descriptor, file.start_height).map_err(|e| e.to_string())?;
        for chain in [Chain::External, Chain::Internal] {
            let n = file.derived[slot(chain)];
            if n > 0 {
                index
                    .derive_up_to(chain, n - 1)
                    .map_err(|e| e.to_string())?;
            }
        }
        index.next_height = file.next_height;
        index.recent = decode_headers(&file.recent)?;
        index.headers = decode_headers(&file.headers)?;
        // Transactions in chain order, so that spends of wallet outputs are recognised.
        let mut records = file.txs;
        records.sort_by_key(|r| r.height.unwrap_or(u32::MAX));
        for r in records {
            let bytes = elements::hex::decode_to_vec(&r.hex).map_err(|e| e.to_string())?;
            let tx: Transaction = deserialize(&bytes).map_err(|e| e.to_string())?;
            index.txs.insert(
                tx.txid(),
                IndexedTx {
                    tx,
                    height: r.height,
                },
            );
        }
        index.rebuild_owned();
        Ok(index)
    }
}

const INDEX_FILE_VERSION: u32 = 1;

/// `chain-index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexFile {
    version: u32,
    descriptor: String,
    start_height: u32,
    next_height: u32,
    derived: [u32; 2],
    recent: BTreeMap<u32, String>,
    headers: BTreeMap<u32, String>,
    txs: Vec<TxRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct TxRecord {
    hex: String,
    height: Option<u32>,
}

fn encode_headers(headers: &BTreeMap<u32, BlockHeader>) -> BTreeMap<u32, String> {
    headers
        .iter()
        .map(|(h, header)| (*h, serialize(header).to_lower_hex_string()))
        .collect()
}

fn decode_headers(map: &BTreeMap<u32, String>) -> Result<BTreeMap<u32, BlockHeader>, String> {
    map.iter()
        .map(|(h, hex)| {
            let bytes = elements::hex::decode_to_vec(hex).map_err(|e| e.to_string())?;
            let header: BlockHeader = deserialize(&bytes).map_err(|e| e.to_string())?;
            if header.height != *h {
                return Err(format!(
                    "header stored at height {h} is for height {}",
                    header.height
                ));
            }
            Ok((*h, header))
        })
        .collect()
}
