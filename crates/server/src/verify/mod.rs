//! Chain verification: what the confirm calls check on the platform's node before anything is
//! recorded.
//!
//! One fetcher ([`confirmed_tx`]) reads a transaction with its block and requires
//! [`MIN_CONFIRMATIONS`]; commitments are opened by [`amphora_core::chain`]'s functions. On top
//! of them: the payment of a distribution or payout ([`payment`]), a reissuance
//! ([`reissuance`]) and a burn ([`burn`]); [`node_entry`] reads the node entries (`details`,
//! `change_data`, `listissuances`) the confirm client posts. Handlers parse the request, call
//! one of these checks, store what it returns and answer.

pub mod burn;
pub mod node_entry;
pub mod payment;
pub mod refusal;
pub mod reissuance;

use std::str::FromStr;

use amphora_rpc::RpcError;
use elements::{Transaction, Txid};

use crate::error::ApiError;
use crate::refusal::Outage;
use crate::state::AppState;
use refusal::ChainRefusal;

pub use amphora_core::chain::MIN_CONFIRMATIONS;

/// A transaction of the platform's node with the block that confirmed it.
#[derive(Debug)]
pub struct ChainTx {
    /// The transaction.
    pub tx: Transaction,
    /// Its id.
    pub txid: Txid,
    /// Hash of the confirming block.
    pub block_hash: String,
    /// Height of the confirming block.
    pub height: i64,
    /// Time of the confirming block (unix seconds).
    pub block_time: i64,
}

/// 503 for a node call that failed (`what` names it in the log, with the cause).
fn node_failed(what: &str, error: impl std::fmt::Display) -> ApiError {
    tracing::warn!(call = what, %error, "the platform's Elements node failed");
    Outage::NodeFailed.into()
}

/// Parses a txid posted by the client; `field` names it in the error.
pub fn parse_txid(field: &str, text: &str) -> Result<Txid, ApiError> {
    Txid::from_str(text).map_err(|_| ApiError::field(field, "Enter a valid transaction id."))
}

/// Confirmations of `txid` on the platform's node: 0 when the node does not know it; 503 when
/// no node is configured or it cannot answer.
pub async fn confirmations(state: &AppState, txid: &Txid) -> Result<u64, ApiError> {
    let node = state.node().ok_or(Outage::NoNode)?;
    match node.get_raw_transaction_verbose(txid).await {
        Ok(verbose) => Ok(verbose.confirmations.unwrap_or(0)),
        Err(e) if e.is_invalid_address_or_key() => Ok(0),
        Err(e) => Err(node_failed("getrawtransaction", e)),
    }
}

/// Fetches `txid` from the platform's node and checks it has [`MIN_CONFIRMATIONS`]: 400 when
/// the node does not know it or it has fewer, 503 when the node cannot answer. Returns once the
/// chain index holds its block ([`AppState::wait_for_index`]), so that what the caller records
/// next to the index agrees with it.
pub async fn confirmed_tx(state: &AppState, txid: &Txid) -> Result<ChainTx, ApiError> {
    let node = state.node().ok_or(Outage::NoNode)?;
    let verbose = match node.get_raw_transaction_verbose(txid).await {
        Ok(verbose) => verbose,
        Err(e) if e.is_invalid_address_or_key() => {
            return Err(ChainRefusal::TxNotKnown { txid: *txid }.into())
        }
        Err(e) => return Err(node_failed("getrawtransaction", e)),
    };
    let confirmations = verbose.confirmations.unwrap_or(0);
    if confirmations < u64::from(MIN_CONFIRMATIONS) {
        return Err(ChainRefusal::TooFewConfirmations {
            txid: *txid,
            confirmations,
        }
        .into());
    }
    let hex = verbose
        .hex
        .ok_or_else(|| node_failed("getrawtransaction", "no transaction hex"))?;
    let bytes = hex::decode(&hex).map_err(|e| node_failed("getrawtransaction", e))?;
    let tx: Transaction =
        elements::encode::deserialize(&bytes).map_err(|e| node_failed("getrawtransaction", e))?;
    let block_hash = verbose
        .blockhash
        .ok_or_else(|| node_failed("getrawtransaction", "confirmed without a block hash"))?;
    let header = node
        .get_block_header_info(&block_hash)
        .await
        .map_err(|e: RpcError| node_failed("getblockheader", e))?;
    state.wait_for_index(header.height as i64).await?;
    Ok(ChainTx {
        tx,
        txid: *txid,
        block_hash: block_hash.to_string(),
        height: header.height as i64,
        block_time: header.time as i64,
    })
}
