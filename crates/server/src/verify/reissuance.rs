//! The reissuance check (`…/reissue-confirm`): the transaction's input `vin` reissues the
//! asset, creating an amount that is explicit or opened by the posted `listissuances` entry,
//! and the posted `details` entries open the outputs that hold exactly that many new units
//! (plus the reissuance-token change).

use amphora_store::NewAssetOutput;
use elements::{AssetId, Txid};
use serde_json::Value;

use super::node_entry::{decimal_units, node_output, treasury_output, verify_output};
use super::refusal::ChainRefusal;
use super::{confirmed_tx, ChainTx};
use crate::error::ApiError;
use crate::state::AppState;

/// What a confirm call says a reissuance did.
#[derive(Debug)]
pub struct ReissuanceClaim<'a> {
    /// The platform asset.
    pub asset_uuid: &'a str,
    /// Its asset id.
    pub asset_id: AssetId,
    /// Its reissuance token.
    pub token_id: AssetId,
    /// The reissuing transaction.
    pub txid: Txid,
    /// The input carrying the reissuance.
    pub vin: u32,
    /// `gettransaction(txid).details` of the treasury node.
    pub details: &'a [Value],
    /// The treasury node's `listissuances` entries of the transaction.
    pub listissuances: &'a [Value],
}

/// A reissuance as the chain shows it.
#[derive(Debug)]
pub struct VerifiedReissuance {
    /// The transaction and its block.
    pub chain: ChainTx,
    /// Base units created.
    pub amount: i64,
    /// The new treasury outputs: the new units and the token change.
    pub outputs: Vec<NewAssetOutput>,
    /// The first output holding new units, with its address when the entry had one.
    pub destination: Option<(i64, Option<String>)>,
}

/// Checks `claim` against the platform's node; 400 for anything that does not match.
pub async fn verify(
    state: &AppState,
    claim: &ReissuanceClaim<'_>,
) -> Result<VerifiedReissuance, ApiError> {
    let chain = confirmed_tx(state, &claim.txid).await?;
    let amount = reissued_amount(&chain, claim.vin, claim.asset_id, claim.listissuances)?;
    let mut outputs: Vec<NewAssetOutput> = Vec::new();
    let mut destination = None;
    let mut new_units = 0i64;
    for entry in claim.details {
        let Some(output) = node_output("details", entry)? else {
            continue;
        };
        if (output.asset != claim.asset_id && output.asset != claim.token_id)
            || outputs.iter().any(|o| o.vout == i64::from(output.vout))
        {
            continue;
        }
        verify_output(&chain, "details", &output)?;
        let is_token = output.asset == claim.token_id;
        if !is_token {
            new_units += output.amount;
            destination.get_or_insert((i64::from(output.vout), output.address.clone()));
        }
        outputs.push(treasury_output(&chain, claim.asset_uuid, is_token, output));
    }
    if new_units != amount {
        return Err(ChainRefusal::ReissuedUnitsDiffer {
            txid: claim.txid,
            posted: new_units,
            created: amount,
        }
        .into());
    }
    Ok(VerifiedReissuance {
        chain,
        amount,
        outputs,
        destination,
    })
}

/// The amount the reissuance input creates, checked against the posted `listissuances` entry
/// when it is blinded.
fn reissued_amount(
    chain: &ChainTx,
    vin: u32,
    asset_id: AssetId,
    listissuances: &[Value],
) -> Result<i64, ApiError> {
    let txid = chain.txid;
    let input = chain
        .tx
        .input
        .get(vin as usize)
        .filter(|i| i.has_issuance() && !i.asset_issuance.asset_blinding_nonce.is_null())
        .ok_or(ChainRefusal::NotAReissuance { txid, vin })?;
    if input.issuance_ids().0 != asset_id {
        return Err(ChainRefusal::ReissuesAnotherAsset { txid, vin }.into());
    }
    let amount_field = &input.asset_issuance.amount;
    if let Some(explicit) = amount_field.explicit() {
        return i64::try_from(explicit)
            .map_err(|_| ChainRefusal::ReissuanceOutOfRange { txid, vin }.into());
    }
    let txid_text = txid.to_string();
    let entry = listissuances
        .iter()
        .find(|e| {
            e.get("txid").and_then(Value::as_str) == Some(txid_text.as_str())
                && e.get("vin").and_then(Value::as_u64) == Some(u64::from(vin))
        })
        .ok_or_else(|| {
            ApiError::field(
                "listissuances",
                format!("No entry for the blinded reissuance {txid}:{vin}."),
            )
        })?;
    let amount = entry
        .get("assetamount")
        .and_then(decimal_units)
        .filter(|a| *a > 0)
        .ok_or_else(|| {
            ApiError::field("listissuances", "The entry has no valid \"assetamount\".")
        })?;
    let blinds = entry
        .get("assetblinds")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // `amount` is positive (filtered above).
    if !amphora_core::chain::issuance_amount_opens(amount_field, asset_id, amount as u64, blinds) {
        return Err(ChainRefusal::ReissuanceNotOpened { txid, vin }.into());
    }
    Ok(amount)
}
