//! Checking a distribution or payout payment against the chain (`…/distributions/{d}/confirm`,
//! `…/payouts/{p}/confirm`): [`verify_payment`] is written once for both.
//!
//! The posted body only names the transaction; everything that is recorded is read from the
//! platform's node and checked: confirmations, the payment of each recipient (unblinded with
//! the recipient wallet's view key), and each posted change output against its commitments.

use std::collections::BTreeMap;
use std::str::FromStr;

use amphora_core::chain::output_opens;
use amphora_rpc::Amount;
use amphora_store::{
    Asset, Assignment, Distribution, NewAssetOutput, OutputOwner, PaidBatch, PaymentKind,
    UNKNOWN_BLINDER,
};
use elements::{AssetId, Transaction, TxOut, Txid};
use serde::Deserialize;
use serde_json::Value;

use super::refusal::{ChainRefusal, Recipient};
use super::{confirmed_tx, ChainTx};
use crate::error::ApiError;
use crate::refusal::Refusal;
use crate::state::AppState;

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

/// The payment at `vout` as the chain index recorded it, when the follower already unblinded
/// it as an output of the platform asset `check` pays, held by the wallet of `gaid`: the same
/// asset, amount and blinders the wallet's view key gives, without opening the range proof a
/// second time. `None` sends the caller to unblind it itself.
async fn indexed_payment(
    state: &AppState,
    check: &PaymentCheck<'_>,
    txid: &str,
    vout: usize,
    gaid: &str,
) -> Result<Option<(String, AssetId, u64, String, String)>, ApiError> {
    let Some(asset_uuid) = check.asset_uuid else {
        return Ok(None);
    };
    let Some(known) = state.store().asset_output(txid, vout as i64).await? else {
        return Ok(None);
    };
    let output = known.output;
    let OutputOwner::Wallet { wid, gaid: held_by } = output.owner else {
        return Ok(None);
    };
    if output.asset_uuid != asset_uuid || output.is_token || held_by != gaid {
        return Ok(None);
    }
    let Ok(amount) = u64::try_from(output.amount) else {
        return Ok(None);
    };
    Ok(Some((
        wid,
        check.asset_id,
        amount,
        output.asset_blinder,
        output.amount_blinder,
    )))
}

/// One line a paying transaction must pay.
#[derive(Debug, Clone)]
pub struct ExpectedPayment {
    /// The line (assignment or payout line) id.
    pub line: i64,
    /// Who it pays, as refusals name it.
    pub recipient: Recipient,
    /// Its batch.
    pub batch: i64,
    /// The GAID it is paid to.
    pub gaid: String,
    /// The receiving address.
    pub address: String,
    /// The address's scriptPubKey (hex).
    pub script: String,
    /// Base units of the paid asset.
    pub amount: i64,
}

/// What a transaction must pay: the lines of a distribution or payout.
#[derive(Debug, Clone)]
pub struct PaymentCheck<'a> {
    /// Distribution or payout.
    pub kind: PaymentKind,
    /// The distribution or payout.
    pub uuid: &'a str,
    /// The asset paid.
    pub asset_id: AssetId,
    /// The platform asset the paid asset is, when it tracks it: the outputs are then recorded
    /// in the chain index, with the posted change.
    pub asset_uuid: Option<&'a str>,
    /// Batches already paid by recorded transactions.
    pub paid_batches: Vec<(i64, String)>,
    /// Every line to pay.
    pub lines: Vec<ExpectedPayment>,
}

/// Checks that `txid` pays one or more whole batches of `distribution` and that `change_data`
/// is right; returns what to record. Batches already paid by another transaction are not
/// candidates.
pub async fn verify(
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
        .ok_or(Refusal::NoIssuanceTx)?;
    let check = PaymentCheck {
        kind: PaymentKind::Distribution,
        uuid: &distribution.uuid,
        asset_id,
        asset_uuid: Some(&distribution.asset_uuid),
        paid_batches: distribution
            .transactions
            .iter()
            .map(|t| (t.batch, t.txid.clone()))
            .collect(),
        lines: assignments
            .iter()
            .map(|a| ExpectedPayment {
                line: a.id,
                recipient: Recipient::Assignment(a.id),
                batch: a.batch.unwrap_or_default(),
                gaid: a.gaid.clone().unwrap_or_default(),
                address: a.receiving_address.clone().unwrap_or_default(),
                script: a.script_pubkey.clone().unwrap_or_default(),
                amount: a.amount,
            })
            .collect(),
    };
    verify_payment(state, &check, txid, change_data).await
}

/// Checks that `txid` pays one or more whole batches of `check` exactly (each line by exactly
/// one output, unblinded with its wallet's view key, of the asset and amount) and, for a
/// platform asset, that `change_data` opens the treasury's change; returns what to record.
/// Batches already paid by another transaction are not candidates.
pub async fn verify_payment(
    state: &AppState,
    check: &PaymentCheck<'_>,
    txid: &Txid,
    change_data: &[Value],
) -> Result<PaidBatch, ApiError> {
    let (kind, asset_id) = (check.kind, check.asset_id);
    let chain = confirmed_tx(state, txid).await?;
    let txid_text = txid.to_string();
    let paid_elsewhere: std::collections::HashSet<i64> = check
        .paid_batches
        .iter()
        .filter(|(_, t)| *t != txid_text)
        .map(|(batch, _)| *batch)
        .collect();
    let mut by_batch: BTreeMap<i64, Vec<&ExpectedPayment>> = BTreeMap::new();
    for line in &check.lines {
        if !paid_elsewhere.contains(&line.batch) {
            by_batch.entry(line.batch).or_default().push(line);
        }
    }
    // The outputs by script (hex), encoded once: every line of every batch looks its own up.
    let mut by_script: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, output) in chain.tx.output.iter().enumerate() {
        by_script
            .entry(hex::encode(output.script_pubkey.as_bytes()))
            .or_default()
            .push(i);
    }
    let outputs_to =
        |script: &str| -> &[usize] { by_script.get(script).map_or(&[], Vec::as_slice) };
    let mut batches = Vec::new();
    let mut payments = Vec::new();
    let mut outputs = Vec::new();
    for (batch, members) in &by_batch {
        if members.iter().all(|l| outputs_to(&l.script).is_empty()) {
            continue;
        }
        for line in members {
            let address = &line.address;
            let found = outputs_to(&line.script);
            let [vout] = found[..] else {
                return Err(ChainRefusal::PaymentOutputCount {
                    txid: *txid,
                    kind,
                    count: found.len(),
                    address: address.clone(),
                    recipient: line.recipient,
                }
                .into());
            };
            let gaid = &line.gaid;
            let txout = &chain.tx.output[vout];
            let opened = match indexed_payment(state, check, &txid_text, vout, gaid).await? {
                Some(indexed) => Some(indexed),
                None => wallet_output(state, gaid, txout).await?,
            };
            let Some((wid, paid_asset, value, asset_bf, value_bf)) = opened else {
                return Err(ChainRefusal::PaymentNotUnblindable {
                    txid: *txid,
                    vout,
                    gaid: gaid.clone(),
                }
                .into());
            };
            if paid_asset != asset_id || value != line.amount as u64 {
                return Err(ChainRefusal::PaymentDiffers {
                    txid: *txid,
                    kind,
                    vout,
                    paid: value,
                    paid_asset,
                    address: address.clone(),
                    expected: line.amount,
                    asset: asset_id,
                }
                .into());
            }
            payments.push((line.line, vout as i64));
            if let Some(asset_uuid) = check.asset_uuid {
                outputs.push(NewAssetOutput {
                    txid: txid_text.clone(),
                    vout: vout as i64,
                    asset_uuid: asset_uuid.to_string(),
                    is_token: false,
                    amount: line.amount,
                    script_pubkey: hex::encode(txout.script_pubkey.as_bytes()),
                    owner: OutputOwner::Wallet {
                        wid,
                        gaid: gaid.clone(),
                    },
                    asset_blinder: asset_bf,
                    amount_blinder: value_bf,
                    height: chain.height,
                });
            }
        }
        batches.push(*batch);
    }
    if batches.is_empty() {
        return Err(ChainRefusal::PaysNoPendingLine {
            txid: *txid,
            kind,
            uuid: check.uuid.to_string(),
        }
        .into());
    }
    if let Some(asset_uuid) = check.asset_uuid {
        let paying: Vec<i64> = payments.iter().map(|(_, vout)| *vout).collect();
        let change = change_outputs(&chain, asset_id, asset_uuid, &paying, change_data)?;
        outputs.extend(change);
        check_nothing_leaks(state, asset_uuid, &chain.tx, &outputs).await?;
    }
    Ok(PaidBatch {
        uuid: check.uuid.to_string(),
        batches,
        txid: txid_text,
        height: chain.height,
        block_time: chain.block_time,
        recorded_by: "confirm".into(),
        payments,
        outputs,
    })
}

/// The treasury's change outputs of `asset_id` in `change_data` (entries of other assets are
/// skipped), each checked against its commitments.
fn change_outputs(
    chain: &ChainTx,
    asset_id: AssetId,
    asset_uuid: &str,
    paying: &[i64],
    change_data: &[Value],
) -> Result<Vec<NewAssetOutput>, ApiError> {
    let txid = chain.tx.txid();
    let txid_text = txid.to_string();
    let mut outputs = Vec::new();
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
        if units <= 0 || !output_opens(txout, asset_id, units as u64, &asset_bf, &value_bf) {
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
            asset_uuid: asset_uuid.to_string(),
            is_token: false,
            amount: units,
            script_pubkey: hex::encode(txout.script_pubkey.as_bytes()),
            owner: OutputOwner::Treasury,
            asset_blinder: asset_bf,
            amount_blinder: value_bf,
            height: chain.height,
        });
    }
    Ok(outputs)
}

/// The asset the transaction takes from tracked treasury outputs must all go to the paid
/// recipients and the posted change: a transaction that also pays the asset elsewhere is not
/// this payment's (its treasury inputs would otherwise be attributed to it).
async fn check_nothing_leaks(
    state: &AppState,
    asset_uuid: &str,
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
            if output.asset_uuid == asset_uuid
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
            if known.output.asset_uuid == asset_uuid && !known.output.is_token {
                accounted = accounted.saturating_add(known.output.amount);
            }
        }
    }
    if taken > accounted {
        return Err(ChainRefusal::TreasuryLeak {
            txid: tx.txid(),
            taken,
            accounted,
        }
        .into());
    }
    Ok(())
}
