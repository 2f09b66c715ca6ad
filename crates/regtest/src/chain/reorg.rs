//! Branches, as Elements Core keeps them: `invalidateblock` disconnects a block and its
//! descendants and keeps them marked invalid; `reconsiderblock` clears the mark (of the block,
//! its descendants and its ancestors) and the node then follows the branch with the most work,
//! which, every block having the same work (Liquid's signed blocks), is the longest; between
//! branches of equal length the one whose tip was received first wins (Core's `nSequenceId`
//! order), so a reconsidered branch as long as the active one is reconnected. Disconnecting restores the UTXO set from the transaction index (every
//! spent output is still in an indexed transaction), and the disconnected transactions go back
//! to the mempool as Elements does, ahead of what was already there.

use elements::{Block, BlockHash, OutPoint, Transaction};

use super::{Chain, ChainError, Utxo};

/// A known block off the active chain.
#[derive(Debug, Clone)]
pub(super) struct SideBlock {
    block: Block,
    /// Marked by `invalidateblock` (or found invalid when reconnected).
    invalid: bool,
}

/// One tip of `getchaintips`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTip {
    /// Height of the tip.
    pub height: u32,
    /// Its hash.
    pub hash: BlockHash,
    /// Blocks between the tip and the active chain (0 for the active tip).
    pub branch_len: u32,
    /// `active`, `valid-fork` (every block was connected once) or `invalid`.
    pub status: &'static str,
}

impl Chain {
    /// The tips of every known branch (blocks without children), highest first, as
    /// Elements Core lists them in `getchaintips`. An orphaned branch (its fork point was
    /// itself disconnected) is listed from the block it builds on.
    pub fn chain_tips(&self) -> Vec<ChainTip> {
        let (height, hash) = self.tip();
        let mut tips = vec![ChainTip {
            height,
            hash,
            branch_len: 0,
            status: "active",
        }];
        let parents: std::collections::HashSet<BlockHash> = self
            .side
            .values()
            .map(|s| s.block.header.prev_blockhash)
            .collect();
        for tip in self.side.keys().filter(|h| !parents.contains(*h)) {
            let (side, base) = self.branch(tip);
            let Some(base_height) = self.block_height(&base) else {
                continue;
            };
            let invalid = side.iter().any(|h| self.side[h].invalid);
            tips.push(ChainTip {
                height: base_height + side.len() as u32,
                hash: *tip,
                branch_len: side.len() as u32,
                status: if invalid { "invalid" } else { "valid-fork" },
            });
        }
        tips.sort_by(|a, b| b.height.cmp(&a.height).then(a.hash.cmp(&b.hash)));
        tips
    }

    /// Disconnects blocks from the tip down to and including `hash` and keeps them marked
    /// invalid; their non-coinbase transactions return to the mempool when still valid. Then
    /// follows the best valid branch (another branch may now have more work). Returns how many
    /// blocks left the chain. The genesis block cannot be disconnected.
    pub fn invalidate_block(&mut self, hash: &BlockHash) -> Result<u32, ChainError> {
        let Some(target) = self.block_height(hash) else {
            if let Some(side) = self.side.get_mut(hash) {
                // Already off the active chain: marked, nothing to disconnect.
                side.invalid = true;
                return Ok(0);
            }
            return Err(ChainError::InvalidBlock {
                height: 0,
                reason: format!("block {hash} not found"),
            });
        };
        if target == 0 {
            return Err(ChainError::InvalidBlock {
                height: 0,
                reason: "the genesis block cannot be invalidated".into(),
            });
        }
        let count = self.height() - target + 1;
        let disconnected = self.disconnect_above(target - 1);
        self.side.get_mut(hash).expect("just disconnected").invalid = true;
        self.resubmit(disconnected);
        self.activate_best_chain()?;
        if let Some(store) = self.store.as_mut() {
            store.rewrite_blocks(&self.blocks[1..])?;
        }
        Ok(count)
    }

    /// `reconsiderblock`: clears the invalid mark of `hash`, of its descendants and of its
    /// ancestors, then follows the best valid branch: a branch with more blocks than the
    /// active chain, or as many and received first, is reconnected (its blocks checked
    /// again). Returns whether `hash` is
    /// known (in the active chain or off it).
    pub fn reconsider_block(&mut self, hash: &BlockHash) -> Result<bool, ChainError> {
        if self.block_height(hash).is_none() && !self.side.contains_key(hash) {
            return Ok(false);
        }
        let (ancestors, _) = self.branch(hash);
        let reset: Vec<BlockHash> = self
            .side
            .keys()
            .filter(|h| ancestors.contains(h) || self.descends_from(h, hash))
            .copied()
            .collect();
        for h in reset {
            self.side.get_mut(&h).expect("listed").invalid = false;
        }
        self.activate_best_chain()?;
        if let Some(store) = self.store.as_mut() {
            store.rewrite_blocks(&self.blocks[1..])?;
        }
        Ok(true)
    }

    /// A known block: on the active chain or off it (invalidated, or left by a reorg), as
    /// Elements Core's block index keeps them for `getblock` and `getblockheader`.
    pub fn known_block(&self, hash: &BlockHash) -> Option<&Block> {
        self.block(hash)
            .or_else(|| self.side.get(hash).map(|side| &side.block))
    }

    /// Median time past of block `hash` over its own ancestors (for a block off the active
    /// chain they differ from the active chain's above the fork); `None` if it is unknown.
    pub fn median_time_past_of(&self, hash: &BlockHash) -> Option<u32> {
        if let Some(height) = self.block_height(hash) {
            return Some(self.median_time_past_at(height));
        }
        let mut times = Vec::with_capacity(11);
        let mut at = self.known_block(hash)?;
        loop {
            times.push(at.header.time);
            if times.len() == 11 || at.header.height == 0 {
                break;
            }
            match self.known_block(&at.header.prev_blockhash) {
                Some(prev) => at = prev,
                None => break,
            }
        }
        times.sort_unstable();
        Some(times[times.len() / 2])
    }

    /// Whether `hash` is a block `invalidateblock` marked invalid (or found invalid).
    pub(super) fn is_marked_invalid(&self, hash: &BlockHash) -> bool {
        self.side.get(hash).is_some_and(|side| side.invalid)
    }

    /// The side blocks from `hash` down (`hash` first, when it is a side block) and the block
    /// below the lowest of them (on the active chain, unless the branch is orphaned).
    fn branch(&self, hash: &BlockHash) -> (Vec<BlockHash>, BlockHash) {
        let mut hashes = Vec::new();
        let mut at = *hash;
        while let Some(side) = self.side.get(&at) {
            hashes.push(at);
            at = side.block.header.prev_blockhash;
        }
        (hashes, at)
    }

    /// Whether side block `hash` is `ancestor` or one of its descendants.
    fn descends_from(&self, hash: &BlockHash, ancestor: &BlockHash) -> bool {
        let (side, base) = self.branch(hash);
        if side.contains(ancestor) {
            return true;
        }
        // An active ancestor: the branch leaves the active chain at or above it.
        matches!(
            (self.block_height(&base), self.block_height(ancestor)),
            (Some(base), Some(ancestor)) if base >= ancestor
        )
    }

    /// Switches to the best valid branch while one is better than the active chain: more
    /// blocks, or as many with a tip received earlier (Core's `CBlockIndexWorkComparator`).
    fn activate_best_chain(&mut self) -> Result<(), ChainError> {
        loop {
            let rank = |height: u32, tip: &BlockHash| {
                let sequence = self.received.get(tip).copied().unwrap_or(u64::MAX);
                (height, std::cmp::Reverse(sequence))
            };
            let current = rank(self.height(), &self.tip().1);
            let best = self
                .side
                .keys()
                .filter_map(|tip| {
                    let (side, base) = self.branch(tip);
                    let base_height = self.block_height(&base)?;
                    if side.iter().any(|h| self.side[h].invalid) {
                        return None;
                    }
                    Some((rank(base_height + side.len() as u32, tip), *tip))
                })
                .filter(|(rank, _)| *rank > current)
                .max();
            let Some((_, tip)) = best else {
                return Ok(());
            };
            self.reorganize_to(&tip);
        }
    }

    /// Disconnects the active chain down to the fork point of side block `tip` and connects
    /// `tip`'s branch, checking each block again; a block that fails is marked invalid and
    /// the switch stops there (the caller looks for the best branch again).
    fn reorganize_to(&mut self, tip: &BlockHash) {
        let (mut side, base) = self.branch(tip);
        side.reverse();
        let fork = self
            .block_height(&base)
            .expect("a branch of the active chain");
        let disconnected = self.disconnect_above(fork);
        let waiting: Vec<Transaction> = self.mempool.iter().map(|(_, e)| e.tx.clone()).collect();
        self.mempool = Default::default();
        for hash in side {
            let entry = self.side.remove(&hash).expect("a side block");
            let height = self.height() + 1;
            let checked = self.check_block_links(&entry.block, height).and_then(|()| {
                self.check_block_inputs(&entry.block)
                    .map_err(|reason| ChainError::InvalidBlock { height, reason })
            });
            if let Err(e) = checked {
                tracing::warn!(block = %hash, error = %e, "a reconnected block is invalid");
                self.side.insert(
                    hash,
                    SideBlock {
                        block: entry.block,
                        invalid: true,
                    },
                );
                break;
            }
            self.connect(entry.block);
        }
        self.resubmit(disconnected.into_iter().chain(waiting).collect());
    }

    /// Disconnects every block above `height` into the side blocks (valid); returns their
    /// non-coinbase transactions in chain order.
    fn disconnect_above(&mut self, height: u32) -> Vec<Transaction> {
        let mut disconnected: Vec<Transaction> = Vec::new();
        while self.height() > height {
            let hash = *self.hashes.last().expect("above genesis");
            let block = self.blocks.last().expect("above genesis").clone();
            let mut txs = self.disconnect_tip();
            txs.append(&mut disconnected);
            disconnected = txs;
            self.side.insert(
                hash,
                SideBlock {
                    block,
                    invalid: false,
                },
            );
        }
        disconnected
    }

    /// Puts `txs` back into the mempool ahead of what is there. Transactions that are no
    /// longer valid (mined again, conflicting, or spending a disconnected coinbase that is now
    /// immature) are dropped, as Elements does.
    fn resubmit(&mut self, txs: Vec<Transaction>) {
        let waiting: Vec<Transaction> = self.mempool.iter().map(|(_, e)| e.tx.clone()).collect();
        self.mempool = Default::default();
        for tx in txs.into_iter().chain(waiting) {
            let _ = self.submit_transaction(tx);
        }
    }

    /// Removes the tip block from the UTXO set and indexes; returns its non-coinbase
    /// transactions in block order.
    fn disconnect_tip(&mut self) -> Vec<Transaction> {
        let block = self.blocks.pop().expect("above genesis");
        let hash = self.hashes.pop().expect("above genesis");
        self.heights.remove(&hash);
        self.size_on_disk -= elements::encode::serialize(&block).len() as u64;
        for (index, tx) in block.txdata.iter().enumerate().rev() {
            let txid = tx.txid();
            for vout in 0..tx.output.len() {
                self.utxos.remove(&OutPoint::new(txid, vout as u32));
            }
            self.txindex.remove(&txid);
            if index == 0 {
                continue;
            }
            for input in &tx.input {
                let prev = input.previous_output;
                let pos = *self
                    .txindex
                    .get(&prev.txid)
                    .expect("a connected block only spends indexed outputs");
                let txout = self.blocks[pos.height as usize].txdata[pos.index].output
                    [prev.vout as usize]
                    .clone();
                self.utxos.insert(
                    prev,
                    Utxo {
                        txout,
                        height: pos.height,
                        is_coinbase: pos.index == 0,
                    },
                );
            }
        }
        block.txdata.into_iter().skip(1).collect()
    }
}
