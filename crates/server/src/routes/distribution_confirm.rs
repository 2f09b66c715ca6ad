//! Checking a distribution transaction against the chain (`…/distributions/{d}/confirm`).
//!
//! The posted body only names the transaction; everything that is recorded is read from the
//! platform's node and checked: confirmations, the payment of each recipient (unblinded with
//! the recipient wallet's view key), and each posted change output against its commitments.

use std::collections::BTreeMap;
use std::str::FromStr;

use amphora_core::assignment::{output_opens_to, MIN_DISTRIBUTION_CONFIRMATIONS};
use amphora_rpc::{codes, Amount, RpcError};
use amphora_store::{
    Asset, Assignment, Distribution, NewAssetOutput, OutputOwner, PaidBatch, UNKNOWN_BLINDER,
};
use elements::{AssetId, Transaction, TxOut, Txid};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// A confirmed transaction as read from the node.
pub(crate) struct ChainTx {
    /// The transaction.
    pub tx: Transaction,
    /// Height of its block.
    pub height: i64,
    /// Its block's time (unix seconds).
    pub block_time: i64,
}

/// Fetches `txid` with its block from the platform's node; 400 when the node does not know
/// it or it has fewer than 2 confirmations, 503 when the node cannot answer. Returns once the
/// chain index holds its block ([`AppState::wait_for_index`]).
pub(crate) async fn fetch_confirmed(state: &AppState, txid: &Txid) -> Result<ChainTx, ApiError> {
    let node = state
        .node()
        .ok_or_else(|| ApiError::Unavailable("no Elements node is configured".into()))?;
    let unavailable = |e: RpcError| ApiError::Unavailable(format!("the Elements node failed: {e}"));
    let decoded = node
        .get_raw_transaction_verbose(txid)
        .await
        .map_err(|e| match e.code() {
            Some(codes::INVALID_ADDRESS_OR_KEY) => ApiError::Business(format!(
                "Transaction {txid} is not known to the platform's node."
            )),
            _ => unavailable(e),
        })?;
    let confirmations = decoded.confirmations.unwrap_or(0) as i64;
    let (Some(block_hash), true) = (
        decoded.blockhash,
        confirmations >= MIN_DISTRIBUTION_CONFIRMATIONS,
    ) else {
        return Err(ApiError::Business(format!(
            "Transaction {txid} has {confirmations} confirmation(s); at least \
             {MIN_DISTRIBUTION_CONFIRMATIONS} are needed."
        )));
    };
    let hex_tx = decoded
        .hex
        .ok_or_else(|| ApiError::Unavailable("the node returned no transaction hex".into()))?;
    let tx: Transaction = hex::decode(&hex_tx)
        .ok()
        .and_then(|bytes| elements::encode::deserialize(&bytes).ok())
        .ok_or_else(|| {
            ApiError::Unavailable("the node returned an undecodable transaction".into())
        })?;
    let header = node
        .get_block_header_info(&block_hash)
        .await
        .map_err(unavailable)?;
    state.wait_for_index(header.height as i64).await?;
    Ok(ChainTx {
        tx,
        height: header.height as i64,
        block_time: header.time as i64,
    })
}

/// A `listunspent` entry of `change_data` (the fields that matter).
#[derive(Debug, Deserialize)]
struct ChangeEntry {
    txid: String,
    vout: u32,
    asset: String,
    amount: Amount,
    #[serde(default)]
    assetblinder: Option<String>,
    #[serde(default)]
    amountblinder: Option<String>,
}

/// The asset and amount of an output paying a registered wallet: explicit, or unblinded with
/// the wallet's view key.
async fn wallet_output(
    state: &AppState,
    gaid: &str,
    txout: &TxOut,
) -> Result<Option<(String, AssetId, u64, String, String)>, ApiError> {
    let wallet = state
        .store()
        .wallet_by_gaid(gaid)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("GAID {gaid} has no registered wallet")))?;
    if let (Some(asset), Some(value)) = (txout.asset.explicit(), txout.value.explicit()) {
        let zero = UNKNOWN_BLINDER.to_string();
        return Ok(Some((wallet.wid, asset, value, zero.clone(), zero)));
    }
    let secrets = state
        .key()
        .unblind_wallet_output(&wallet.descriptor, txout)
        .map_err(|e| ApiError::Internal(format!("wallet {}: {e}", wallet.wid)))?;
    Ok(secrets.map(|s| {
        (
            wallet.wid,
            s.asset,
            s.value,
            s.asset_bf.to_string(),
            s.value_bf.to_string(),
        )
    }))
}

/// Checks that `txid` pays one or more whole batches of `distribution` and that `change_data`
/// is right; returns what to record. Batches already paid by another transaction are not
/// candidates.
pub(crate) async fn verify(
    state: &AppState,
    asset: &Asset,
    distribution: &Distribution,
    assignments: &[Assignment],
    txid: &Txid,
    change_data: &[Value],
) -> Result<PaidBatch, ApiError> {
    let asset_id: AssetId = asset
        .tx
        .as_ref()
        .and_then(|tx| tx.asset_id.parse().ok())
        .ok_or_else(|| ApiError::Business("The asset has no issuance transaction.".into()))?;
    let chain = fetch_confirmed(state, txid).await?;
    let txid_text = txid.to_string();
    let paid_elsewhere: Vec<i64> = distribution
        .transactions
        .iter()
        .filter(|t| t.txid != txid_text)
        .map(|t| t.batch)
        .collect();
    let mut by_batch: BTreeMap<i64, Vec<&Assignment>> = BTreeMap::new();
    for assignment in assignments {
        let batch = assignment.batch.unwrap_or_default();
        if !paid_elsewhere.contains(&batch) {
            by_batch.entry(batch).or_default().push(assignment);
        }
    }
    let outputs_to = |script: &str| -> Vec<usize> {
        chain
            .tx
            .output
            .iter()
            .enumerate()
            .filter(|(_, o)| hex::encode(o.script_pubkey.as_bytes()) == script)
            .map(|(i, _)| i)
            .collect()
    };
    let mut batches = Vec::new();
    let mut payments = Vec::new();
    let mut outputs = Vec::new();
    for (batch, members) in &by_batch {
        let touched = members
            .iter()
            .any(|a| !outputs_to(a.script_pubkey.as_deref().unwrap_or_default()).is_empty());
        if !touched {
            continue;
        }
        for assignment in members {
            let address = assignment.receiving_address.clone().unwrap_or_default();
            let found = outputs_to(assignment.script_pubkey.as_deref().unwrap_or_default());
            let [vout] = found[..] else {
                return Err(ApiError::Business(format!(
                    "Transaction {txid} pays {} outputs to {address} (assignment {}); the \
                     distribution needs exactly one.",
                    found.len(),
                    assignment.id
                )));
            };
            let gaid = assignment.gaid.clone().unwrap_or_default();
            let txout = &chain.tx.output[vout];
            let opened = wallet_output(state, &gaid, txout).await?;
            let Some((wid, paid_asset, value, asset_bf, value_bf)) = opened else {
                return Err(ApiError::Business(format!(
                    "Output {vout} of transaction {txid} cannot be unblinded with the view key \
                     of {gaid}'s wallet."
                )));
            };
            if paid_asset != asset_id || value != assignment.amount as u64 {
                return Err(ApiError::Business(format!(
                    "Output {vout} of transaction {txid} pays {value} of asset {paid_asset} to \
                     {address}; the distribution expects {} of asset {asset_id}.",
                    assignment.amount
                )));
            }
            payments.push((assignment.id, vout as i64));
            outputs.push(NewAssetOutput {
                txid: txid_text.clone(),
                vout: vout as i64,
                asset_uuid: distribution.asset_uuid.clone(),
                is_token: false,
                amount: assignment.amount,
                script_pubkey: hex::encode(txout.script_pubkey.as_bytes()),
                owner: OutputOwner::Wallet { wid, gaid },
                asset_blinder: asset_bf,
                amount_blinder: value_bf,
                height: chain.height,
            });
        }
        batches.push(*batch);
    }
    if batches.is_empty() {
        return Err(ApiError::Business(format!(
            "Transaction {txid} pays none of the receiving addresses of distribution {} that \
             are still to be paid.",
            distribution.uuid
        )));
    }
    let paying: Vec<i64> = payments.iter().map(|(_, vout)| *vout).collect();
    for entry in change_data {
        let change: ChangeEntry = serde_json::from_value(entry.clone()).map_err(|e| {
            ApiError::field("change_data", format!("Not a listunspent entry: {e}."))
        })?;
        if AssetId::from_str(&change.asset).ok() != Some(asset_id) {
            continue;
        }
        if change.txid != txid_text {
            return Err(ApiError::field(
                "change_data",
                format!(
                    "Entry {}:{} is not an output of {txid}.",
                    change.txid, change.vout
                ),
            ));
        }
        let vout = change.vout as usize;
        let Some(txout) = chain.tx.output.get(vout) else {
            return Err(ApiError::field(
                "change_data",
                format!("Transaction {txid} has no output {vout}."),
            ));
        };
        if paying.contains(&(vout as i64)) {
            return Err(ApiError::field(
                "change_data",
                format!("Output {vout} pays a recipient; it is not change."),
            ));
        }
        let units = change.amount.units();
        let asset_bf = change
            .assetblinder
            .unwrap_or_else(|| UNKNOWN_BLINDER.into());
        let value_bf = change
            .amountblinder
            .unwrap_or_else(|| UNKNOWN_BLINDER.into());
        if units <= 0 || !output_opens_to(txout, asset_id, units as u64, &asset_bf, &value_bf) {
            return Err(ApiError::field(
                "change_data",
                format!(
                    "Output {vout} of {txid} does not hold {units} of the asset with the given \
                     blinders."
                ),
            ));
        }
        outputs.push(NewAssetOutput {
            txid: txid_text.clone(),
            vout: vout as i64,
            asset_uuid: distribution.asset_uuid.clone(),
            is_token: false,
            amount: units,
            script_pubkey: hex::encode(txout.script_pubkey.as_bytes()),
            owner: OutputOwner::Treasury,
            asset_blinder: asset_bf,
            amount_blinder: value_bf,
            height: chain.height,
        });
    }
    check_nothing_leaks(state, distribution, &chain.tx, &outputs).await?;
    Ok(PaidBatch {
        distribution_uuid: distribution.uuid.clone(),
        batches,
        txid: txid_text,
        height: chain.height,
        block_time: chain.block_time,
        recorded_by: "confirm".into(),
        payments,
        outputs,
    })
}

/// The asset the transaction takes from tracked treasury outputs must all go to the paid
/// recipients and the posted change: a transaction that also pays the asset elsewhere is not
/// this distribution's (its treasury inputs would otherwise be attributed to it).
async fn check_nothing_leaks(
    state: &AppState,
    distribution: &Distribution,
    tx: &Transaction,
    outputs: &[NewAssetOutput],
) -> Result<(), ApiError> {
    let mut taken: i64 = 0;
    for input in &tx.input {
        let spent = state
            .store()
            .asset_output(
                &input.previous_output.txid.to_string(),
                input.previous_output.vout as i64,
            )
            .await?;
        if let Some(spent) = spent {
            let output = spent.output;
            if output.asset_uuid == distribution.asset_uuid
                && !output.is_token
                && output.owner == OutputOwner::Treasury
            {
                taken = taken.saturating_add(output.amount);
            }
        }
    }
    // Outputs of this transaction: the verified ones, else those already recorded (a repeated
    // confirm call, or change posted before).
    let txid = tx.txid().to_string();
    let mut accounted: i64 = 0;
    for vout in 0..tx.output.len() as i64 {
        if let Some(verified) = outputs.iter().find(|o| o.vout == vout) {
            accounted = accounted.saturating_add(verified.amount);
        } else if let Some(known) = state.store().asset_output(&txid, vout).await? {
            if known.output.asset_uuid == distribution.asset_uuid && !known.output.is_token {
                accounted = accounted.saturating_add(known.output.amount);
            }
        }
    }
    if taken > accounted {
        return Err(ApiError::Business(format!(
            "Transaction {} takes {taken} of the asset from the treasury but pays only \
             {accounted} to the distribution's recipients and the posted change_data; the rest \
             goes elsewhere.",
            tx.txid()
        )));
    }
    Ok(())
}
