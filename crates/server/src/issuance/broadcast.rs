//! Broadcasting a stored issuance transaction, and what an answer of the node means for it.
//!
//! Only a **definitive rejection of that transaction** fails an issuance: the node refused it
//! (`-25` verify error, `-26` rejected, `-22` undecodable; not the transient mempool refusals)
//! *and* the transaction is neither in the chain nor in the mempool — a transaction that is
//! already mined and whose outputs are spent is refused as "missing inputs", yet it is the
//! issuance, done. Everything else (the node unreachable, `-28` warming up, HTTP errors, other
//! codes) is transient: the RPC client retries it (bounded, see `amphora_rpc::RetryPolicy`),
//! then the issuance stays recorded for recovery to re-send.

use amphora_rpc::{codes, ElementsRpc, RpcError};
use amphora_store::IssuanceTx;
use elements::Txid;

use super::{IssuanceError, PLATFORM_WALLET};
use crate::state::AppState;

/// `-26` refusals that depend on the node's mempool at the time, not on the transaction.
const TRANSIENT_REJECTIONS: &[&str] = &[
    "mempool full",
    "mempool min fee not met",
    "too-long-mempool-chain",
];

/// Whether `error` is the node refusing the transaction itself (not a transient condition).
fn is_rejection(error: &RpcError) -> bool {
    let message = error.node_message().unwrap_or_default();
    match error.code() {
        Some(codes::VERIFY_ERROR | codes::DESERIALIZATION_ERROR) => true,
        Some(codes::VERIFY_REJECTED) => !TRANSIENT_REJECTIONS
            .iter()
            .any(|transient| message.contains(transient)),
        _ => false,
    }
}

/// What the node knows of transaction `txid`: `Some(true)` in the chain or the mempool
/// (`getrawtransaction`, the node runs with `txindex=1`; the platform wallet's own record too),
/// `Some(false)` nowhere, `None` when the node cannot tell now.
async fn is_known(node: &ElementsRpc, txid: &Txid) -> Option<bool> {
    match node.get_raw_transaction_hex(txid).await {
        Ok(_) => return Some(true),
        Err(e) if e.is_invalid_address_or_key() => {}
        Err(_) => return None,
    }
    match node.wallet(PLATFORM_WALLET).get_transaction(txid).await {
        Ok(_) => Some(true),
        Err(e) if e.is_invalid_address_or_key() => Some(false),
        Err(_) => None,
    }
}

/// Sends the stored transaction and records the outcome: sent (or already in the chain or the
/// mempool) → broadcast; definitively rejected and nowhere → failed ([`IssuanceError::Rejected`]);
/// anything else leaves it for recovery ([`IssuanceError::BroadcastPending`]).
pub(super) async fn broadcast(
    state: &AppState,
    node: &ElementsRpc,
    uuid: &str,
    tx: &IssuanceTx,
) -> Result<(), IssuanceError> {
    let store = state.store();
    let txid: Txid = tx
        .txid
        .parse()
        .map_err(|e| IssuanceError::Inconsistent(format!("stored txid: {e}")))?;
    amphora_core::crash::point(amphora_core::crash::ISSUE_BEFORE_BROADCAST);
    match node.send_raw_transaction(&tx.tx_hex).await {
        Ok(_) => {}
        Err(error) if error.is_already_in_chain() => {}
        Err(error) if is_rejection(&error) => match is_known(node, &txid).await {
            Some(true) => {
                tracing::info!(%uuid, %txid, %error, "issuance refused as a resend: it is already known");
            }
            Some(false) => {
                let reason = error.node_message().unwrap_or_default().to_string();
                store.set_asset_failed(uuid, &reason).await?;
                return Err(IssuanceError::Rejected(reason));
            }
            None => return Err(IssuanceError::BroadcastPending(txid)),
        },
        Err(error) => {
            tracing::warn!(%uuid, %txid, %error, "issuance not broadcast yet (transient)");
            return Err(IssuanceError::BroadcastPending(txid));
        }
    }
    amphora_core::crash::point(amphora_core::crash::ISSUE_AFTER_BROADCAST);
    let (asset_blinder, token_blinder) = blinders(node, txid, tx).await;
    store
        .set_asset_broadcast(uuid, asset_blinder.as_deref(), token_blinder.as_deref())
        .await?;
    Ok(())
}

/// The asset blinders of the asset and token outputs, as the platform wallet (which blinded
/// them) reports them; `None` when it does not know them.
async fn blinders(
    node: &ElementsRpc,
    txid: Txid,
    tx: &IssuanceTx,
) -> (Option<String>, Option<String>) {
    let Ok(details) = node.wallet(PLATFORM_WALLET).get_transaction(&txid).await else {
        return (None, None);
    };
    let blinder_of = |vout: i64| {
        details
            .details
            .iter()
            .find(|detail| i64::from(detail.vout) == vout)
            .and_then(|detail| detail.assetblinder.clone())
    };
    (
        blinder_of(tx.asset_vout),
        tx.reissuance_vout.and_then(blinder_of),
    )
}
