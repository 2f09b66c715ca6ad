//! Asset issuance through the platform node's `platform` wallet, with the raw flow of the
//! reference transcript: `createrawtransaction` → `fundrawtransaction` → `rawissueasset` (with
//! the registry contract hash) → `blindrawtransaction` → `signrawtransactionwithwallet` →
//! `testmempoolaccept` → `sendrawtransaction`.
//!
//! The asset row is written before the node is called (status pending, owned by this replica
//! under a lease it renews while it works) and the signed transaction before it is broadcast
//! (status broadcasting), so [`recover_pending_issuances`] can finish or fail every interrupted
//! issuance — only those no live replica owns (see `recovery`). An issuance is marked failed only
//! on a definitive rejection of its transaction that is neither in the chain nor in the mempool
//! (see `broadcast`).

mod broadcast;
mod recovery;

pub use recovery::{
    recover_pending_issuances, spawn_issuance_recovery, IssuanceLeases, ISSUANCE_LEASE_TTL,
    ISSUANCE_RECOVERY_INTERVAL,
};

use amphora_core::asset::Issuance;
use amphora_rpc::{Amount, ElementsRpc, RawIssuanceRequest, RpcError};
use amphora_store::{Asset, IssuanceTx, NewAsset, StoreError};
use elements::confidential::Asset as ConfidentialAsset;
use elements::{AssetId, ContractHash, Transaction, Txid};
use serde_json::json;

use crate::error::ApiError;
use crate::refusal::{Outage, Refusal};
use crate::state::AppState;

/// Name of the node wallet that pays issuance fees.
pub const PLATFORM_WALLET: &str = "platform";

/// Fee rate of issuance transactions, in sat/vB (as in the reference transcript).
const FEE_RATE: u64 = 10;

/// Why an issuance did not complete.
#[derive(Debug, thiserror::Error)]
pub enum IssuanceError {
    /// No Elements node is configured.
    #[error("{}", Outage::NoNode)]
    NoNode,
    /// The platform wallet cannot pay the fee.
    #[error("{}", Outage::NoPlatformFunds)]
    NoFunds,
    /// The platform wallet is not loaded on the node.
    #[error("{}", Outage::NoPlatformWallet)]
    NoWallet,
    /// The node is unreachable or failed; the issuance was not broadcast. The text (for the
    /// log) carries the node's error; the client is answered [`Outage::IssuanceFailed`].
    #[error("The Elements node could not issue the asset: {0}")]
    Node(RpcError),
    /// The transaction was signed but the node refused it.
    #[error("{}", rejected(.0))]
    Rejected(String),
    /// The transaction is recorded but could not be broadcast now; it is re-sent on restart.
    #[error("{}", pending(.0))]
    BroadcastPending(Txid),
    /// The node answered something inconsistent with the request.
    #[error("inconsistent answer from the Elements node: {0}")]
    Inconsistent(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outage a recorded but unbroadcast issuance is (its text is the error table's).
fn pending(txid: &Txid) -> Outage {
    Outage::BroadcastPending { txid: *txid }
}

/// The refusal a node's rejection is (its text is the error table's).
fn rejected(reason: &str) -> Refusal {
    Refusal::IssuanceRejected {
        reason: reason.to_string(),
    }
}

impl From<IssuanceError> for ApiError {
    fn from(error: IssuanceError) -> Self {
        match error {
            IssuanceError::Store(err) => err.into(),
            IssuanceError::Inconsistent(_) => ApiError::Internal(error.to_string()),
            IssuanceError::Rejected(reason) => Refusal::IssuanceRejected { reason }.into(),
            IssuanceError::NoNode => Outage::NoNode.into(),
            IssuanceError::NoFunds => Outage::NoPlatformFunds.into(),
            IssuanceError::NoWallet => Outage::NoPlatformWallet.into(),
            IssuanceError::Node(cause) => {
                tracing::warn!(error = %cause, "the Elements node could not issue the asset");
                Outage::IssuanceFailed.into()
            }
            IssuanceError::BroadcastPending(txid) => pending(&txid).into(),
        }
    }
}

fn node_error(error: RpcError) -> IssuanceError {
    if error.is_insufficient_funds() {
        IssuanceError::NoFunds
    } else if error.is_wallet_not_found() {
        IssuanceError::NoWallet
    } else {
        IssuanceError::Node(error)
    }
}

/// Issues `issuance` for the issuer and returns the stored asset (status broadcast).
pub async fn issue(
    state: &AppState,
    issuer_id: i64,
    issuance: &Issuance,
) -> Result<Asset, IssuanceError> {
    let node = state.node().ok_or(IssuanceError::NoNode)?;
    let input = &issuance.input;
    let contract_hash = issuance.contract.hash();
    let uuid = uuid::Uuid::new_v4().to_string();
    let record = NewAsset {
        uuid: uuid.clone(),
        issuer_id,
        name: input.name.clone(),
        amount: units(input.amount),
        destination_address: input.destination_address.clone(),
        domain: input.domain.clone(),
        ticker: input.ticker.clone(),
        pubkey: input.pubkey.clone(),
        precision: i64::from(input.precision),
        is_confidential: input.is_confidential,
        is_reissuable: input.is_reissuable,
        reissuance_amount: units(input.reissuance_amount),
        reissuance_address: input.reissuance_address.clone(),
        transfer_restricted: input.transfer_restricted,
        issuer_authorization_endpoint: input.issuer_authorization_endpoint.clone(),
        contract_json: issuance.contract.canonical_json(),
        contract_hash: contract_hash.to_string(),
    };
    let store = state.store();
    store
        .create_owned_issuance(&record, state.replica_id(), state.issuance_leases().ttl)
        .await?;
    let lease = recovery::LeaseKeeper::start(state, &uuid);

    let wallet = node.wallet(PLATFORM_WALLET);
    let _exclusive = state.lock_platform_wallet().await;
    let signed = match build_signed(&wallet, node, &record, contract_hash).await {
        Ok(signed) => signed,
        Err(error) => {
            store.set_asset_failed(&uuid, &error.to_string()).await?;
            return Err(error);
        }
    };
    store.set_asset_issuance_tx(&uuid, &signed).await?;
    if let Err(error) = broadcast::broadcast(state, node, &uuid, &signed).await {
        // Not sent yet: let recovery (of any replica) take it over without waiting.
        lease.release().await;
        return Err(error);
    }
    drop(lease);
    store
        .asset(issuer_id, &uuid)
        .await?
        .ok_or(IssuanceError::Store(StoreError::NotFound))
}

/// Base units as stored (every validated amount is ≤ 2.1e15, far below `i64::MAX`).
fn units(amount: u64) -> i64 {
    i64::try_from(amount).unwrap_or(i64::MAX)
}

/// Whether `blindrawtransaction` may blind the issuance (Elements' default). Not for an
/// unblinded reissuable issuance: its token id is that of an unblinded issuance, and Elements
/// refuses to blind the issuance under the output paying it. An issuance without a token keeps
/// the default (with `blind_issuances` false, Elements 23.3.3 leaves such a transaction
/// unblinded and invalid, `bad-txns-txouttotal-toolarge`); blinding it does not change its
/// asset id.
fn blind_issuances(record: &NewAsset) -> bool {
    record.is_confidential || !record.is_reissuable
}

/// Builds, blinds, signs and test-accepts the issuance transaction.
async fn build_signed(
    wallet: &ElementsRpc,
    node: &ElementsRpc,
    record: &NewAsset,
    contract_hash: ContractHash,
) -> Result<IssuanceTx, IssuanceError> {
    let unfunded = wallet
        .create_raw_transaction(&json!([]), &json!([{ "data": "00" }]))
        .await
        .map_err(node_error)?;
    let funded = wallet
        .fund_raw_transaction(&unfunded, &json!({ "fee_rate": FEE_RATE }))
        .await
        .map_err(node_error)?;
    let request = RawIssuanceRequest {
        asset_amount: Amount::from_units(record.amount),
        asset_address: record.destination_address.clone(),
        token_amount: Amount::from_units(if record.is_reissuable {
            record.reissuance_amount
        } else {
            0
        }),
        token_address: record
            .is_reissuable
            .then(|| record.reissuance_address.clone()),
        blind: record.is_confidential,
        contract_hash: Some(contract_hash),
    };
    let issued = wallet
        .raw_issue_asset(&funded.hex, &[request])
        .await
        .map_err(node_error)?
        .into_iter()
        .next()
        .ok_or_else(|| IssuanceError::Inconsistent("rawissueasset returned nothing".into()))?;

    let unblinded = decode(&issued.hex)?;
    let vin = issued.vin;
    let prevout = unblinded
        .input
        .get(vin as usize)
        .ok_or_else(|| IssuanceError::Inconsistent(format!("no input {vin}")))?
        .previous_output;
    let asset_id = AssetId::new_issuance(prevout, contract_hash);
    if issued.asset != asset_id {
        return Err(IssuanceError::Inconsistent(format!(
            "asset {} is not the issuance of {prevout} with contract {contract_hash}",
            issued.asset
        )));
    }
    let token_id = record
        .is_reissuable
        .then(|| AssetId::new_reissuance_token(prevout, contract_hash, record.is_confidential));
    if record.is_reissuable && issued.token != token_id {
        return Err(IssuanceError::Inconsistent(format!(
            "reissuance token {:?} differs from the expected {token_id:?}",
            issued.token
        )));
    }
    let asset_vout = output_of(&unblinded, asset_id)
        .ok_or_else(|| IssuanceError::Inconsistent("no output pays the asset".into()))?;
    let reissuance_vout = match token_id {
        Some(token) => Some(output_of(&unblinded, token).ok_or_else(|| {
            IssuanceError::Inconsistent("no output pays the reissuance token".into())
        })?),
        None => None,
    };

    let blinded = wallet
        .blind_raw_transaction(&issued.hex, blind_issuances(record))
        .await
        .map_err(node_error)?;
    let signed = wallet
        .sign_raw_transaction_with_wallet(&blinded)
        .await
        .map_err(node_error)?;
    if !signed.complete {
        return Err(IssuanceError::Inconsistent(format!(
            "the platform wallet could not sign every input: {:?}",
            signed.errors
        )));
    }
    let accepted = node
        .test_mempool_accept(&[signed.hex.as_str()])
        .await
        .map_err(node_error)?;
    if let Some(refused) = accepted.iter().find(|result| !result.allowed) {
        return Err(IssuanceError::Rejected(
            refused
                .reject_reason
                .clone()
                .unwrap_or_else(|| "rejected".into()),
        ));
    }
    let txid = decode(&signed.hex)?.txid();
    Ok(IssuanceTx {
        asset_id: asset_id.to_string(),
        reissuance_token_id: token_id.map(|token| token.to_string()),
        tx_hex: signed.hex,
        txid: txid.to_string(),
        vin: i64::from(vin),
        asset_vout,
        reissuance_vout,
    })
}

fn decode(hex_tx: &str) -> Result<Transaction, IssuanceError> {
    let bytes = hex::decode(hex_tx)
        .map_err(|e| IssuanceError::Inconsistent(format!("transaction hex: {e}")))?;
    elements::encode::deserialize(&bytes)
        .map_err(|e| IssuanceError::Inconsistent(format!("transaction: {e}")))
}

/// Index of the output paying `asset` explicitly (before blinding).
fn output_of(tx: &Transaction, asset: AssetId) -> Option<i64> {
    tx.output
        .iter()
        .position(|out| out.asset == ConfidentialAsset::Explicit(asset))
        .and_then(|index| i64::try_from(index).ok())
}
