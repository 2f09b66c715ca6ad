//! Conflicted wallet transactions, as Elements Core 23 marks them: when a block of the active
//! chain holds a transaction (the wallet's or anyone's) spending an input an unconfirmed wallet
//! transaction also spends, that wallet transaction and its wallet descendants are conflicted
//! (`TxStateConflicted`): `confirmations` is `-(blocks on top of the conflicting block + 1)`,
//! `trusted` is false, its outputs are no coins and its inputs are spendable again, and the node
//! no longer resubmits it. `walletconflicts` lists the other wallet transactions spending one of
//! its inputs.
//!
//! Unlike Core 23 (which keeps the mark until the wallet transaction confirms), the mark goes
//! when the conflicting block leaves the active chain, so the transaction counts as unconfirmed
//! again instead of reaching non-negative depths with a stale conflict.

use std::collections::{BTreeSet, HashMap};

use elements::{OutPoint, Transaction, Txid};

use super::state::Wallet;
use super::store::{ConflictRef, WalletTx};

impl Wallet {
    /// Marks the wallet transactions that conflict with the transactions of a block connected
    /// at `at` (Core's `MarkConflicted`, called for every transaction of the block). Returns
    /// whether any mark changed.
    pub(super) fn mark_conflicts(&mut self, txs: &[Transaction], at: ConflictRef) -> bool {
        // Inputs of the unconfirmed wallet transactions, by outpoint.
        let mut spenders: HashMap<OutPoint, Vec<Txid>> = HashMap::new();
        for (txid, wtx) in &self.data.txs {
            if wtx.block.is_none() && !wtx.tx.is_coinbase() {
                for input in &wtx.tx.input {
                    spenders
                        .entry(input.previous_output)
                        .or_default()
                        .push(*txid);
                }
            }
        }
        if spenders.is_empty() {
            return false;
        }
        let mut todo = Vec::new();
        for tx in txs.iter().filter(|tx| !tx.is_coinbase()) {
            let txid = tx.txid();
            for input in &tx.input {
                if let Some(found) = spenders.get(&input.previous_output) {
                    todo.extend(found.iter().filter(|id| **id != txid));
                }
            }
        }
        let mut changed = false;
        while let Some(txid) = todo.pop() {
            let Some(wtx) = self.data.txs.get_mut(&txid) else {
                continue;
            };
            // Only a deeper conflict replaces a mark; a confirmed transaction has none.
            if wtx.block.is_some() || wtx.conflicted.is_some_and(|c| c.height <= at.height) {
                continue;
            }
            wtx.conflicted = Some(at);
            changed = true;
            let outputs = wtx.tx.output.len() as u32;
            for vout in 0..outputs {
                if let Some(found) = spenders.get(&OutPoint::new(txid, vout)) {
                    todo.extend(found.iter().copied());
                }
            }
        }
        changed
    }

    /// Removes the marks of conflicts in blocks at `height` or above (they left the chain).
    pub(super) fn unmark_conflicts_from(&mut self, height: u32) {
        for wtx in self.data.txs.values_mut() {
            if wtx.conflicted.is_some_and(|c| c.height >= height) {
                wtx.conflicted = None;
            }
        }
    }

    /// Depth in the active chain as Core's `GetTxDepthInMainChain` reports it: confirmations
    /// when confirmed, 0 when unconfirmed, negative when conflicted.
    pub fn depth(&self, wtx: &WalletTx) -> i64 {
        match wtx.conflicted {
            Some(c) if wtx.block.is_none() => {
                -(i64::from(self.synced_height()) - i64::from(c.height) + 1)
            }
            _ => i64::from(self.confirmations(wtx)),
        }
    }

    /// The other wallet transactions spending an input of `txid` (`walletconflicts`, in
    /// Core's order: its `std::set<uint256>` compares the bytes as `Txid` does).
    pub fn wallet_conflicts(&self, txid: &Txid) -> BTreeSet<Txid> {
        let Some(wtx) = self.data.txs.get(txid) else {
            return BTreeSet::new();
        };
        if wtx.tx.is_coinbase() {
            return BTreeSet::new();
        }
        let inputs: Vec<OutPoint> = wtx.tx.input.iter().map(|i| i.previous_output).collect();
        self.data
            .txs
            .iter()
            .filter(|(other, w)| {
                *other != txid
                    && !w.tx.is_coinbase()
                    && w.tx
                        .input
                        .iter()
                        .any(|i| inputs.contains(&i.previous_output))
            })
            .map(|(other, _)| *other)
            .collect()
    }
}
