//! The mempool: accepted transactions in acceptance order, with the outpoints they spend, and
//! Elements Core's package limits on unconfirmed chains.

use std::collections::{BTreeMap, HashMap, HashSet};

use elements::{AssetId, Block, OutPoint, Transaction, Txid};

/// One mempool transaction with what `getmempoolentry`/`getmempoolinfo` report.
#[derive(Debug, Clone)]
pub struct MempoolEntry {
    /// The transaction.
    pub tx: Transaction,
    /// Fees it pays, per asset.
    pub fees: BTreeMap<AssetId, u64>,
    /// Acceptance time (Unix seconds).
    pub time: u64,
    /// Virtual size (vbytes).
    pub vsize: usize,
    seq: u64,
}

/// Elements Core's `-limitancestorcount` and `-limitdescendantcount` (defaults): transactions
/// in a mempool entry's ancestor set, or its descendant set, itself included.
pub const PACKAGE_COUNT_LIMIT: usize = 25;
/// Elements Core's `-limitancestorsize` and `-limitdescendantsize` (defaults, 101 kvB): vbytes
/// of a mempool entry's ancestor set, or its descendant set, itself included.
pub const PACKAGE_SIZE_LIMIT: usize = 101_000;

/// The reject reason of a transaction over the package limits (followed by which limit).
pub const TOO_LONG_MEMPOOL_CHAIN: &str = "too-long-mempool-chain";

/// A mempool entry's family: its ancestors or its descendants, itself included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// Transactions.
    pub count: usize,
    /// Their vbytes.
    pub vsize: usize,
    /// Their fees in the policy asset.
    pub fees: u64,
}

/// Accepted, unconfirmed transactions.
#[derive(Debug, Default)]
pub(super) struct Mempool {
    entries: HashMap<Txid, MempoolEntry>,
    order: BTreeMap<u64, Txid>,
    spends: HashMap<OutPoint, Txid>,
    next_seq: u64,
}

impl Mempool {
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn get(&self, txid: &Txid) -> Option<&MempoolEntry> {
        self.entries.get(txid)
    }

    pub(super) fn spender(&self, outpoint: &OutPoint) -> Option<Txid> {
        self.spends.get(outpoint).copied()
    }

    /// Entries in acceptance order (parents always precede their children).
    pub(super) fn iter(&self) -> impl Iterator<Item = (&Txid, &MempoolEntry)> {
        self.order
            .values()
            .map(move |txid| (txid, self.entries.get(txid).expect("ordered entry exists")))
    }

    pub(super) fn insert(&mut self, tx: Transaction, fees: BTreeMap<AssetId, u64>, time: u64) {
        let txid = tx.txid();
        for input in &tx.input {
            self.spends.insert(input.previous_output, txid);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, txid);
        let vsize = tx.vsize();
        self.entries.insert(
            txid,
            MempoolEntry {
                tx,
                fees,
                time,
                vsize,
                seq,
            },
        );
    }

    fn remove(&mut self, txid: &Txid) -> Option<MempoolEntry> {
        let entry = self.entries.remove(txid)?;
        self.order.remove(&entry.seq);
        for input in &entry.tx.input {
            if self.spends.get(&input.previous_output) == Some(txid) {
                self.spends.remove(&input.previous_output);
            }
        }
        Some(entry)
    }

    /// Removes what `block` confirmed, what conflicts with it, and their descendants.
    pub(super) fn remove_for_block(&mut self, block: &Block) {
        if self.entries.is_empty() {
            return;
        }
        let mut doomed: Vec<Txid> = Vec::new();
        for tx in &block.txdata {
            let txid = tx.txid();
            if self.entries.contains_key(&txid) {
                self.remove(&txid);
                continue;
            }
            for input in &tx.input {
                if let Some(conflict) = self.spends.get(&input.previous_output) {
                    doomed.push(*conflict);
                }
            }
        }
        let mut seen = HashSet::new();
        while let Some(txid) = doomed.pop() {
            if !seen.insert(txid) {
                continue;
            }
            if let Some(entry) = self.remove(&txid) {
                for vout in 0..entry.tx.output.len() {
                    if let Some(child) = self.spends.get(&OutPoint::new(txid, vout as u32)) {
                        doomed.push(*child);
                    }
                }
            }
        }
    }

    /// The mempool transactions `tx` spends outputs of, each once.
    pub(super) fn parents(&self, tx: &Transaction) -> Vec<Txid> {
        let mut parents: Vec<Txid> = tx
            .input
            .iter()
            .map(|i| i.previous_output.txid)
            .filter(|txid| self.entries.contains_key(txid))
            .collect();
        parents.sort();
        parents.dedup();
        parents
    }

    /// The mempool transactions spending an output of `txid`, each once.
    pub(super) fn children(&self, txid: &Txid) -> Vec<Txid> {
        let Some(entry) = self.entries.get(txid) else {
            return Vec::new();
        };
        let mut children: Vec<Txid> = (0..entry.tx.output.len() as u32)
            .filter_map(|vout| self.spends.get(&OutPoint::new(*txid, vout)).copied())
            .collect();
        children.sort();
        children.dedup();
        children
    }

    /// Every transaction reached from `start` by `step`, `start` included.
    fn closure(&self, start: Txid, step: impl Fn(&Txid) -> Vec<Txid>) -> HashSet<Txid> {
        let mut found = HashSet::from([start]);
        let mut todo = vec![start];
        while let Some(txid) = todo.pop() {
            for next in step(&txid) {
                if found.insert(next) {
                    todo.push(next);
                }
            }
        }
        found
    }

    fn family(&self, members: &HashSet<Txid>, policy_asset: &AssetId) -> Family {
        members
            .iter()
            .filter_map(|txid| self.entries.get(txid))
            .fold(
                Family {
                    count: 0,
                    vsize: 0,
                    fees: 0,
                },
                |f, e| Family {
                    count: f.count + 1,
                    vsize: f.vsize + e.vsize,
                    fees: f.fees + e.fees.get(policy_asset).copied().unwrap_or(0),
                },
            )
    }

    /// The entry's ancestors, itself included (`ancestorcount`, `ancestorsize`, `fees.ancestor`).
    pub(super) fn ancestors(&self, txid: &Txid, policy_asset: &AssetId) -> Family {
        let members = self.closure(*txid, |t| {
            self.entries
                .get(t)
                .map(|e| self.parents(&e.tx))
                .unwrap_or_default()
        });
        self.family(&members, policy_asset)
    }

    /// The entry's descendants, itself included (`descendantcount`, `descendantsize`,
    /// `fees.descendant`).
    pub(super) fn descendants(&self, txid: &Txid, policy_asset: &AssetId) -> Family {
        let members = self.closure(*txid, |t| self.children(t));
        self.family(&members, policy_asset)
    }

    /// Elements Core's package limits for a new transaction `tx` (`CalculateMemPoolAncestors`
    /// with the default limits, in its order): the reason after `too-long-mempool-chain, `
    /// when accepting it would give it, or one of its unconfirmed ancestors, a family past
    /// [`PACKAGE_COUNT_LIMIT`] transactions or [`PACKAGE_SIZE_LIMIT`] vbytes.
    pub(super) fn check_package_limits(&self, tx: &Transaction) -> Result<(), String> {
        let size = tx.vsize();
        let parents = self.parents(tx);
        if parents.len() + 1 > PACKAGE_COUNT_LIMIT {
            return Err(format!(
                "too many unconfirmed parents [limit: {PACKAGE_COUNT_LIMIT}]"
            ));
        }
        // Core stages ancestors in a set ordered by txid (its bytes as stored, not as shown).
        let key = |txid: &Txid| txid.to_byte_array();
        let mut staged: BTreeMap<[u8; 32], Txid> = parents.iter().map(|t| (key(t), *t)).collect();
        let mut ancestors: HashSet<Txid> = HashSet::new();
        let mut with_ancestors = size;
        let none = AssetId::default();
        while let Some((_, txid)) = staged.pop_first() {
            ancestors.insert(txid);
            let Some(entry) = self.entries.get(&txid) else {
                continue;
            };
            with_ancestors += entry.vsize;
            let descendants = self.descendants(&txid, &none);
            if descendants.vsize + size > PACKAGE_SIZE_LIMIT {
                return Err(format!(
                    "exceeds descendant size limit for tx {txid} [limit: {PACKAGE_SIZE_LIMIT}]"
                ));
            }
            if descendants.count + 1 > PACKAGE_COUNT_LIMIT {
                return Err(format!(
                    "too many descendants for tx {txid} [limit: {PACKAGE_COUNT_LIMIT}]"
                ));
            }
            if with_ancestors > PACKAGE_SIZE_LIMIT {
                return Err(format!(
                    "exceeds ancestor size limit [limit: {PACKAGE_SIZE_LIMIT}]"
                ));
            }
            for parent in self.parents(&entry.tx) {
                if !ancestors.contains(&parent) {
                    staged.insert(key(&parent), parent);
                }
                if staged.len() + ancestors.len() + 1 > PACKAGE_COUNT_LIMIT {
                    return Err(format!(
                        "too many unconfirmed ancestors [limit: {PACKAGE_COUNT_LIMIT}]"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Takes every entry out in acceptance order (block assembly).
    pub(super) fn ordered_txs(&self) -> Vec<&MempoolEntry> {
        self.iter().map(|(_, e)| e).collect()
    }
}
