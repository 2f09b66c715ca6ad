//! What the chain says about the outputs a PSET spends.
//!
//! A PSET's `witness_utxo` is the sender's claim. Elements' segwit v0 signature hash commits to
//! the spent output's value (commitment) but not to its asset or script, so a claim the
//! co-signer believed could move one asset under the rules of another (e.g. swap the claimed
//! assets of two equal-valued explicit outputs). [`crate::analyze_pset`] therefore takes the
//! chain's answer for every spent outpoint as a [`ChainUtxos`] and refuses any input whose
//! output is unknown, already spent, or differs from its `witness_utxo` in script, asset or
//! value commitment; assets and amounts are then read from the chain's output (with the
//! chain's own rangeproof), never from the PSET's copy.

use std::collections::BTreeMap;

use elements::pset::PartiallySignedTransaction;
use elements::{OutPoint, TxOut};

use crate::error::CosignError;

/// The most inputs a PSET to co-sign may have: each costs the platform lookups in the chain, and
/// a standard Elements transaction (400,000 weight) cannot spend many more 2-of-2 outputs.
pub const MAX_INPUTS: usize = 256;

/// The chain's answer for one outpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainUtxo {
    /// The output exists and is unspent (in a block, or in the mempool and not spent there):
    /// the output as the chain has it, witness (rangeproof) included.
    Unspent(Box<TxOut>),
    /// The transaction exists but this output is already spent (in a block or in the mempool).
    Spent,
    /// No such output: the transaction is unknown or has no output at this index.
    Unknown,
}

/// The chain's answers for the outpoints of a PSET's inputs. An outpoint without an answer is
/// [`ChainUtxo::Unknown`] (fail closed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainUtxos(BTreeMap<OutPoint, ChainUtxo>);

impl ChainUtxos {
    /// No answers yet.
    pub fn new() -> ChainUtxos {
        ChainUtxos::default()
    }

    /// Records the chain's answer for `outpoint`.
    pub fn insert(&mut self, outpoint: OutPoint, utxo: ChainUtxo) {
        self.0.insert(outpoint, utxo);
    }

    /// The answer for `outpoint` ([`ChainUtxo::Unknown`] when none was recorded).
    pub fn get(&self, outpoint: &OutPoint) -> &ChainUtxo {
        self.0.get(outpoint).unwrap_or(&ChainUtxo::Unknown)
    }
}

/// The outpoints `pset` spends, in input order (what to ask the chain about); refused beyond
/// [`MAX_INPUTS`].
pub fn spent_outpoints(pset: &PartiallySignedTransaction) -> Result<Vec<OutPoint>, CosignError> {
    if pset.inputs().len() > MAX_INPUTS {
        return Err(CosignError::InvalidPset(format!(
            "{} inputs: at most {MAX_INPUTS} are co-signed",
            pset.inputs().len()
        )));
    }
    Ok(pset
        .inputs()
        .iter()
        .map(|i| OutPoint::new(i.previous_txid, i.previous_output_index))
        .collect())
}
