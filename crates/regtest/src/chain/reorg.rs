//! Disconnecting blocks (`invalidateblock`): the UTXO set is restored from the transaction
//! index (every spent output is still in an indexed transaction), and the disconnected
//! transactions go back to the mempool as Elements does, ahead of what was already there.

use elements::{BlockHash, OutPoint, Transaction};

use super::{Chain, ChainError, Utxo};

impl Chain {
    /// Disconnects blocks from the tip down to and including `hash`; their non-coinbase
    /// transactions return to the mempool when still valid. Returns how many blocks left the
    /// chain. The genesis block cannot be disconnected.
    pub fn invalidate_block(&mut self, hash: &BlockHash) -> Result<u32, ChainError> {
        let Some(target) = self.block_height(hash) else {
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
        let mut disconnected: Vec<Transaction> = Vec::new();
        let mut count = 0;
        while self.height() >= target {
            let mut txs = self.disconnect_tip();
            txs.append(&mut disconnected);
            disconnected = txs;
            count += 1;
        }
        if let Some(store) = self.store.as_mut() {
            store.rewrite_blocks(&self.blocks[1..])?;
        }
        let previous: Vec<Transaction> = self.mempool.iter().map(|(_, e)| e.tx.clone()).collect();
        self.mempool = Default::default();
        for tx in disconnected.into_iter().chain(previous) {
            // Transactions that are no longer valid (e.g. spending a disconnected coinbase
            // that is now immature) are dropped, as Elements does.
            let _ = self.submit_transaction(tx);
        }
        Ok(count)
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
