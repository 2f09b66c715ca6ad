//! The mempool: accepted transactions in acceptance order, with the outpoints they spend.

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

    /// Takes every entry out in acceptance order (block assembly).
    pub(super) fn ordered_txs(&self) -> Vec<&MempoolEntry> {
        self.iter().map(|(_, e)| e).collect()
    }
}
