//! The chain's answer for every output a PSET to co-sign spends
//! ([`amphora_cosigner::ChainUtxos`]), so the co-signer never takes an input's asset or amount
//! from the PSET's `witness_utxo`.
//!
//! **The Elements node is the authority**, the chain index a consistency check:
//!
//! * The node answers for every output: `getrawtransaction` (the node runs with `txindex=1`)
//!   gives the output as it was created — script, asset and value commitments, rangeproof — and
//!   `gettxout` (mempool included) whether it is still unspent. The chain follower's index only
//!   holds outputs of managed assets (not the L-BTC paying the fee), lags the node's tip and
//!   never sees the mempool, so an input the index does not know yet (a wallet's fresh change, a
//!   transfer received a block ago) would be refused for no reason, and a spend waiting in the
//!   mempool would go unnoticed. The node is also what accepts or rejects the broadcast
//!   transaction, so its view is the one the signature must hold against.
//! * The index is what the rest of the platform reads (balances, ownership, the blacklist), so
//!   where it holds an input it must agree with the node: an output the index has seen spent is
//!   refused as spent, one whose indexed owner, asset or amount differ from what the node's
//!   output opens to is refused as a mismatch (see `check_indexed_inputs` in the service).
//!
//! Without a node the platform cannot check inputs and refuses to co-sign (503).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use amphora_cosigner::{ChainUtxo, ChainUtxos};
use amphora_rpc::{ElementsRpc, RpcError};
use elements::{OutPoint, Transaction, Txid};

use crate::error::ApiError;
use crate::refusal::Outage;

fn unavailable(e: RpcError) -> ApiError {
    tracing::warn!(error = %e, "the Elements node cannot check a PSET's inputs");
    Outage::CosignInputsUnchecked.into()
}

/// Asks `node` about each of `outpoints` (one `getrawtransaction` per transaction, one
/// `gettxout` per existing output).
pub(super) async fn chain_utxos(
    node: Option<&ElementsRpc>,
    outpoints: &[OutPoint],
) -> Result<ChainUtxos, ApiError> {
    let node = node.ok_or(Outage::CosignNeedsNode)?;
    let mut txs: HashMap<Txid, Option<Transaction>> = HashMap::new();
    let mut utxos = ChainUtxos::new();
    for outpoint in outpoints {
        if let Entry::Vacant(slot) = txs.entry(outpoint.txid) {
            let tx = match node.get_raw_transaction(&outpoint.txid).await {
                Ok(tx) => Some(tx),
                // -5: no such transaction, in a block or in the mempool.
                Err(e) if e.is_invalid_address_or_key() => None,
                Err(e) => return Err(unavailable(e)),
            };
            slot.insert(tx);
        }
        let created = txs[&outpoint.txid]
            .as_ref()
            .and_then(|tx| tx.output.get(outpoint.vout as usize));
        let answer = match created {
            None => ChainUtxo::Unknown,
            Some(txout) => match node.get_tx_out(&outpoint.txid, outpoint.vout).await {
                Ok(Some(_)) => ChainUtxo::Unspent(Box::new(txout.clone())),
                // The transaction exists, the output is not in the UTXO set (mempool included):
                // spent (or unspendable, which no registered wallet holds).
                Ok(None) => ChainUtxo::Spent,
                Err(e) => return Err(unavailable(e)),
            },
        };
        utxos.insert(*outpoint, answer);
    }
    Ok(utxos)
}
