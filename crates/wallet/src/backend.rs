//! LWK's scan over the [`ChainIndex`]: an implementation of LWK's `BlockchainBackend` answering
//! from the blocks already walked, so LWK's own `full_scan` computes the wallet [`Update`]
//! (new and deleted transactions, heights, unblinded outputs, used indexes, tip).

use std::collections::HashMap;

use elements::{BlockHash, BlockHeader, Script, Transaction, Txid};
use lwk_wollet::clients::blocking::BlockchainBackend;
use lwk_wollet::{History, Update, Wollet};

use crate::chain_index::ChainIndex;

/// Answers LWK's scan queries from a [`ChainIndex`].
pub struct IndexBackend<'a> {
    index: &'a ChainIndex,
    histories: HashMap<Script, Vec<History>>,
}

impl<'a> IndexBackend<'a> {
    /// A backend answering from `index`.
    pub fn new(index: &'a ChainIndex) -> Self {
        IndexBackend {
            histories: index.histories(),
            index,
        }
    }
}

/// The LWK update bringing `wollet` to the state of `index`, or `None` if nothing changed.
///
/// The update is computed by LWK's own scan (new and deleted transactions, unblinding, used
/// indexes) with [`IndexBackend`] answering its queries. LWK's scan stops at its gap limit (20
/// unused scripts); it is asked to go at least up to the highest index the index saw used, so
/// every wallet transaction the (wider) index found reaches the wallet.
pub fn scan(index: &ChainIndex, wollet: &Wollet) -> Result<Option<Update>, lwk_wollet::Error> {
    let to_index = index.highest_used().map_or(0, |i| i + 1);
    IndexBackend::new(index).full_scan_to_index(wollet, to_index)
}

impl BlockchainBackend for IndexBackend<'_> {
    fn tip(&mut self) -> Result<BlockHeader, lwk_wollet::Error> {
        self.index
            .tip()
            .cloned()
            .ok_or_else(|| lwk_wollet::Error::Generic("no block has been walked yet".to_string()))
    }

    fn broadcast(&self, _tx: &Transaction) -> Result<Txid, lwk_wollet::Error> {
        Err(lwk_wollet::Error::Generic(
            "transactions are broadcast through the node's RPC, not the scan backend".to_string(),
        ))
    }

    fn get_transactions(&self, txids: &[Txid]) -> Result<Vec<Transaction>, lwk_wollet::Error> {
        txids
            .iter()
            .map(|txid| {
                self.index
                    .transaction(txid)
                    .map(|t| t.tx.clone())
                    .ok_or(lwk_wollet::Error::MissingTransaction)
            })
            .collect()
    }

    fn get_headers(
        &self,
        heights: &[u32],
        _height_blockhash: &HashMap<u32, BlockHash>,
    ) -> Result<Vec<BlockHeader>, lwk_wollet::Error> {
        heights
            .iter()
            .map(|h| {
                self.index.header(*h).cloned().ok_or_else(|| {
                    lwk_wollet::Error::Generic(format!("no header kept for height {h}"))
                })
            })
            .collect()
    }

    fn get_scripts_history(
        &self,
        scripts: &[&Script],
    ) -> Result<Vec<Vec<History>>, lwk_wollet::Error> {
        Ok(scripts
            .iter()
            .map(|s| self.histories.get(*s).cloned().unwrap_or_default())
            .collect())
    }
}
