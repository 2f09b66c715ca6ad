//! The wallet's view of the chain: syncing blocks and mempool on demand, unblinding its
//! outputs, and the derived coins and balances.

use std::collections::{BTreeMap, HashSet};

use elements::confidential::{Asset, Value};
use elements::confidential::{AssetBlindingFactor, ValueBlindingFactor};
use elements::{AssetId, OutPoint, Transaction, TxOut, TxOutSecrets, Txid};

use super::state::{now_secs, Wallet};
use super::store::{BlockRef, ConflictRef, IssuanceSecrets, WalletTx};
use crate::chain::Chain;

/// Blocks a coinbase output needs on top of it before it can be spent (Elements: 100).
pub const COINBASE_MATURITY: u32 = 100;

/// An unspent output the wallet can spend.
#[derive(Debug, Clone)]
pub struct Coin {
    /// Where it is.
    pub outpoint: OutPoint,
    /// The output as on chain.
    pub txout: TxOut,
    /// Its unblinded asset, amount and blinders.
    pub secrets: TxOutSecrets,
    /// Confirmations (0 in the mempool).
    pub confirmations: u32,
    /// Spendable now under Core's trust rules (confirmed, or our own unconfirmed change).
    pub trusted: bool,
    /// A coinbase output that is not mature yet.
    pub immature: bool,
}

/// Balances per asset, as `getwalletinfo` splits them.
#[derive(Debug, Default, Clone)]
pub struct Balances {
    /// Trusted balance (confirmed or own unconfirmed).
    pub trusted: BTreeMap<AssetId, u64>,
    /// Unconfirmed outputs from others.
    pub untrusted_pending: BTreeMap<AssetId, u64>,
    /// Immature coinbase outputs.
    pub immature: BTreeMap<AssetId, u64>,
}

/// Identifies a blinded output by its commitments.
fn commitment_key(out: &TxOut) -> Vec<u8> {
    let mut key = elements::encode::serialize(&out.asset);
    key.extend(elements::encode::serialize(&out.value));
    key
}

/// Secrets of an explicit output (zero blinders).
pub fn explicit_secrets(txout: &TxOut) -> Option<TxOutSecrets> {
    match (txout.asset, txout.value) {
        (Asset::Explicit(asset), Value::Explicit(value)) => Some(TxOutSecrets::new(
            asset,
            AssetBlindingFactor::zero(),
            value,
            ValueBlindingFactor::zero(),
        )),
        _ => None,
    }
}

impl Wallet {
    /// Height of the last block the wallet processed.
    pub fn synced_height(&self) -> u32 {
        self.data.synced.len().saturating_sub(1) as u32
    }

    /// Catches up with the chain: undoes blocks that left the active chain, processes new
    /// blocks, then the mempool. Saves when anything changed.
    pub fn sync(&mut self, chain: &Chain) -> Result<(), crate::rpc::RpcError> {
        let mut changed = false;
        while let Some(last) = self.data.synced.last().copied() {
            let h = self.data.synced.len() as u32 - 1;
            if chain.block_hash(h) == Some(last) {
                break;
            }
            self.data.synced.pop();
            for wtx in self.data.txs.values_mut() {
                if wtx.block.is_some_and(|b| b.height >= h) {
                    wtx.block = None;
                }
            }
            self.unmark_conflicts_from(h);
            changed = true;
        }
        let (tip, _) = chain.tip();
        let start = self.data.synced.len() as u32;
        for h in start..=tip {
            changed |= self.scan_block(chain, h);
            let hash = chain.block_hash(h).expect("height below tip");
            self.data.synced.push(hash);
        }
        let known = self.data.txs.len();
        self.in_mempool.clear();
        let mempool: Vec<Transaction> = chain.mempool().map(|(_, tx)| tx.clone()).collect();
        for tx in &mempool {
            if self.add_tx(tx, None) {
                self.in_mempool.insert(tx.txid());
            }
        }
        // Transactions of ours that are neither confirmed nor in the mempool anymore.
        let stale: Vec<Txid> = self
            .data
            .txs
            .iter()
            .filter(|(id, w)| w.block.is_none() && !self.in_mempool.contains(*id))
            .map(|(id, _)| *id)
            .collect();
        for txid in stale {
            if let Some(found) = chain.tx(&txid) {
                let block = found.block.map(|b| BlockRef {
                    hash: b.hash,
                    height: b.height,
                    index: b.index,
                    time: b.time,
                });
                if let Some(w) = self.data.txs.get_mut(&txid) {
                    changed |= w.block != block;
                    w.block = block;
                }
                if block.is_none() {
                    self.in_mempool.insert(txid);
                }
            }
        }
        if changed || self.data.txs.len() != known {
            self.save()?;
        }
        Ok(())
    }

    /// Processes the transactions of the block at `height`; true when any was relevant.
    pub fn scan_block(&mut self, chain: &Chain, height: u32) -> bool {
        let Some(hash) = chain.block_hash(height) else {
            return false;
        };
        let Some(block) = chain.block(&hash) else {
            return false;
        };
        let time = block.header.time;
        let txs = block.txdata.clone();
        let mut relevant = false;
        for (index, tx) in txs.iter().enumerate() {
            let block = BlockRef {
                hash,
                height,
                index,
                time,
            };
            relevant |= self.add_tx(tx, Some(block));
        }
        relevant | self.mark_conflicts(&txs, ConflictRef { hash, height })
    }

    /// Records `tx` if it pays or spends the wallet; true when it is a wallet transaction.
    pub fn add_tx(&mut self, tx: &Transaction, block: Option<BlockRef>) -> bool {
        let txid = tx.txid();
        if let Some(existing) = self.data.txs.get_mut(&txid) {
            if block.is_some() {
                existing.block = block;
                existing.conflicted = None;
            }
            return true;
        }
        let mut mine = BTreeMap::new();
        for (vout, out) in tx.output.iter().enumerate() {
            if !self.is_mine(&out.script_pubkey) {
                continue;
            }
            let secrets = explicit_secrets(out).or_else(|| {
                let sk = self.blinding().secret(&out.script_pubkey);
                amphora_ct::unblind(&self.secp, out, sk).ok()
            });
            if let Some(s) = secrets {
                mine.insert(vout as u32, s);
            }
        }
        let spends_ours = tx
            .input
            .iter()
            .any(|i| self.owned_output(&i.previous_output).is_some());
        if mine.is_empty() && !spends_ours {
            return false;
        }
        let mut sent = BTreeMap::new();
        for (vout, out) in tx.output.iter().enumerate() {
            if let Some(s) = self.pending_outputs.remove(&commitment_key(out)) {
                sent.insert(vout as u32, s);
            }
        }
        let mut issuances = BTreeMap::new();
        for (vin, input) in tx.input.iter().enumerate() {
            if let Some(s) = self.pending_issuances.remove(&input.previous_output) {
                issuances.insert(vin as u32, s);
            }
        }
        self.data.txs.insert(
            txid,
            WalletTx {
                tx: tx.clone(),
                time: now_secs(),
                block,
                conflicted: None,
                mine,
                sent,
                issuances,
            },
        );
        true
    }

    /// Keeps the secrets `blindrawtransaction` produced until the transaction is seen.
    pub fn remember_blinding(
        &mut self,
        tx: &Transaction,
        blinded: &BTreeMap<u32, TxOutSecrets>,
        issuances: &BTreeMap<u32, IssuanceSecrets>,
    ) {
        for (vout, s) in blinded {
            self.pending_outputs
                .insert(commitment_key(&tx.output[*vout as usize]), *s);
        }
        for (vin, s) in issuances {
            self.pending_issuances
                .insert(tx.input[*vin as usize].previous_output, *s);
        }
    }

    /// Scans blocks `start..=stop` again (`rescanblockchain`).
    pub fn rescan(
        &mut self,
        chain: &Chain,
        start: u32,
        stop: u32,
    ) -> Result<(), crate::rpc::RpcError> {
        for h in start..=stop {
            self.scan_block(chain, h);
        }
        self.sync(chain)?;
        self.save()
    }

    /// Secrets and output of one of the wallet's outputs.
    pub fn owned_output(&self, outpoint: &OutPoint) -> Option<(&TxOut, &TxOutSecrets)> {
        let wtx = self.data.txs.get(&outpoint.txid)?;
        let secrets = wtx.mine.get(&outpoint.vout)?;
        Some((&wtx.tx.output[outpoint.vout as usize], secrets))
    }

    /// Whether a wallet transaction counts (confirmed or in the mempool).
    pub fn is_active(&self, txid: &Txid) -> bool {
        self.data
            .txs
            .get(txid)
            .is_some_and(|w| w.block.is_some() || self.in_mempool.contains(txid))
    }

    /// Confirmations of a wallet transaction (0 when unconfirmed).
    pub fn confirmations(&self, wtx: &WalletTx) -> u32 {
        match wtx.block {
            Some(b) => self.synced_height().saturating_sub(b.height) + 1,
            None => 0,
        }
    }

    /// Whether every input of `tx` spends one of the wallet's outputs.
    pub fn is_from_me(&self, tx: &Transaction) -> bool {
        !tx.input.is_empty()
            && !tx.is_coinbase()
            && tx
                .input
                .iter()
                .all(|i| self.owned_output(&i.previous_output).is_some())
    }

    /// Whether any input of `tx` spends one of the wallet's outputs.
    pub fn spends_mine(&self, tx: &Transaction) -> bool {
        !tx.is_coinbase()
            && tx
                .input
                .iter()
                .any(|i| self.owned_output(&i.previous_output).is_some())
    }

    /// Outpoints spent by wallet transactions that are not conflicted (Core's `IsSpent`: a
    /// spender at depth 0 or more): confirmed, in the mempool, or unconfirmed and out of it
    /// (kept without being broadcast, or dropped by a restart until it is resubmitted).
    pub fn spent_outpoints(&self) -> HashSet<OutPoint> {
        self.data
            .txs
            .iter()
            .filter(|(id, w)| {
                !w.tx.is_coinbase()
                    && (self.is_active(id) || (w.block.is_none() && w.conflicted.is_none()))
            })
            .flat_map(|(_, w)| w.tx.input.iter().map(|i| i.previous_output))
            .collect()
    }

    /// All unspent wallet outputs (spendable or not yet).
    pub fn coins(&self) -> Vec<Coin> {
        let spent = self.spent_outpoints();
        let mut coins = Vec::new();
        for (txid, wtx) in &self.data.txs {
            if !self.is_active(txid) {
                continue;
            }
            let confirmations = self.confirmations(wtx);
            let trusted = confirmations > 0 || self.is_from_me(&wtx.tx);
            let immature = wtx.tx.is_coinbase() && confirmations < COINBASE_MATURITY + 1;
            for (vout, secrets) in &wtx.mine {
                let outpoint = OutPoint::new(*txid, *vout);
                if spent.contains(&outpoint) {
                    continue;
                }
                coins.push(Coin {
                    outpoint,
                    txout: wtx.tx.output[*vout as usize].clone(),
                    secrets: *secrets,
                    confirmations,
                    trusted,
                    immature,
                });
            }
        }
        coins
    }

    /// Balances by asset.
    pub fn balances(&self, minconf: u32) -> Balances {
        let mut b = Balances::default();
        for coin in self.coins() {
            let target = if coin.immature {
                &mut b.immature
            } else if coin.trusted && coin.confirmations >= minconf {
                &mut b.trusted
            } else if !coin.trusted {
                &mut b.untrusted_pending
            } else {
                continue;
            };
            *target.entry(coin.secrets.asset).or_default() += coin.secrets.value;
        }
        b
    }
}
