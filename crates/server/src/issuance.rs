//! Asset issuance through the platform node's `platform` wallet, with the raw flow of the
//! reference transcript: `createrawtransaction` → `fundrawtransaction` → `rawissueasset` (with
//! the registry contract hash) → `blindrawtransaction` → `signrawtransactionwithwallet` →
//! `testmempoolaccept` → `sendrawtransaction`.
//!
//! The asset row is written before the node is called (status pending) and the signed
//! transaction before it is broadcast (status broadcasting), so [`recover_pending_issuances`]
//! can finish or fail every interrupted issuance on start-up.

use amphora_core::asset::Issuance;
use amphora_rpc::{Amount, ElementsRpc, RawIssuanceRequest, RpcError};
use amphora_store::{Asset, IssuanceTx, NewAsset, StoreError};
use elements::confidential::Asset as ConfidentialAsset;
use elements::{AssetId, ContractHash, Transaction, Txid};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

/// Name of the node wallet that pays issuance fees.
pub const PLATFORM_WALLET: &str = "platform";

/// Fee rate of issuance transactions, in sat/vB (as in the reference transcript).
const FEE_RATE: u64 = 10;

/// Why an issuance did not complete.
#[derive(Debug, thiserror::Error)]
pub enum IssuanceError {
    /// No Elements node is configured.
    #[error("no Elements node configured")]
    NoNode,
    /// The platform wallet cannot pay the fee.
    #[error(
        "The platform wallet has no L-BTC to pay the issuance fee; fund the node's \
         '{PLATFORM_WALLET}' wallet and retry."
    )]
    NoFunds,
    /// The platform wallet is not loaded on the node.
    #[error("The node has no '{PLATFORM_WALLET}' wallet loaded; create or load it and retry.")]
    NoWallet,
    /// The node is unreachable or failed; the issuance was not broadcast.
    #[error("The Elements node could not issue the asset: {0}")]
    Node(RpcError),
    /// The transaction was signed but the node refused it.
    #[error("The Elements node refused the issuance transaction: {0}")]
    Rejected(String),
    /// The transaction is recorded but could not be broadcast now; it is re-sent on restart.
    #[error(
        "The issuance transaction {0} is recorded but the node could not be reached to \
         broadcast it; it will be re-sent when the platform restarts."
    )]
    BroadcastPending(Txid),
    /// The node answered something inconsistent with the request.
    #[error("inconsistent answer from the Elements node: {0}")]
    Inconsistent(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<IssuanceError> for ApiError {
    fn from(error: IssuanceError) -> Self {
        match error {
            IssuanceError::Store(err) => err.into(),
            IssuanceError::Inconsistent(_) => ApiError::Internal(error.to_string()),
            IssuanceError::Rejected(_) => ApiError::Business(error.to_string()),
            other => ApiError::Unavailable(other.to_string()),
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
    store.create_asset(&record).await?;

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
    broadcast(state, node, &uuid, &signed).await?;
    store
        .asset(issuer_id, &uuid)
        .await?
        .ok_or(IssuanceError::Store(StoreError::NotFound))
}

/// Base units as stored (every validated amount is ≤ 2.1e15, far below `i64::MAX`).
fn units(amount: u64) -> i64 {
    i64::try_from(amount).unwrap_or(i64::MAX)
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
        .blind_raw_transaction(&issued.hex)
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

/// Sends the stored transaction and records the outcome. A transaction already in the chain
/// counts as sent; a refusal marks the issuance failed; an unreachable node leaves it to
/// recovery.
async fn broadcast(
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
    match node.send_raw_transaction(&tx.tx_hex).await {
        Ok(_) => {}
        Err(error) if error.is_already_in_chain() => {}
        Err(error) if error.code().is_some() => {
            let reason = error.node_message().unwrap_or_default().to_string();
            store.set_asset_failed(uuid, &reason).await?;
            return Err(IssuanceError::Rejected(reason));
        }
        Err(_) => return Err(IssuanceError::BroadcastPending(txid)),
    }
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

/// Finishes the issuances a previous run left unfinished: a stored signed transaction is
/// (re-)broadcast (already in the chain counts as success); an issuance without one is marked
/// failed. Returns how many issuances were resolved; those the node could not be reached for
/// stay to be re-sent on the next start. Without a node nothing is done.
pub async fn recover_pending_issuances(state: &AppState) -> Result<usize, IssuanceError> {
    let Some(node) = state.node() else {
        return Ok(0);
    };
    let mut resolved = 0;
    let _exclusive = state.lock_platform_wallet().await;
    for asset in state.store().unfinished_issuances().await? {
        let uuid = asset.issuance.uuid.clone();
        match &asset.tx {
            Some(tx) => match broadcast(state, node, &uuid, tx).await {
                Ok(()) => {
                    tracing::info!(%uuid, txid = %tx.txid, "interrupted issuance broadcast");
                    resolved += 1;
                }
                Err(IssuanceError::Rejected(reason)) => {
                    tracing::warn!(%uuid, %reason, "interrupted issuance refused by the node");
                    resolved += 1;
                }
                Err(IssuanceError::BroadcastPending(txid)) => {
                    tracing::warn!(%uuid, %txid, "node unreachable; issuance stays to be re-sent");
                }
                Err(error) => return Err(error),
            },
            None => {
                state
                    .store()
                    .set_asset_failed(&uuid, "interrupted before the transaction was signed")
                    .await?;
                tracing::warn!(%uuid, "interrupted issuance marked failed");
                resolved += 1;
            }
        }
    }
    Ok(resolved)
}
