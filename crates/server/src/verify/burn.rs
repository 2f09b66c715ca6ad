//! The burn check (`…/burn-confirm`): the transaction's explicit `OP_RETURN` outputs of the
//! asset destroy an amount, and the posted `change_data` entries open the treasury's change.

use amphora_store::{NewAssetOutput, OutputOwner, UNKNOWN_BLINDER};
use elements::{AssetId, Txid};
use serde_json::Value;

use super::node_entry::{node_output, script_hex, treasury_output, verify_output};
use super::refusal::ChainRefusal;
use super::{confirmed_tx, ChainTx};
use crate::error::ApiError;
use crate::state::AppState;

/// A burn as the chain shows it.
#[derive(Debug)]
pub struct VerifiedBurn {
    /// The transaction and its block.
    pub chain: ChainTx,
    /// Base units destroyed.
    pub burnt: i64,
    /// The burn outputs and the treasury's change.
    pub outputs: Vec<NewAssetOutput>,
}

/// Checks that `txid` burns some of the asset and that `change_data` opens its change; 400
/// for anything that does not match.
pub async fn verify(
    state: &AppState,
    asset_uuid: &str,
    asset_id: AssetId,
    txid: &Txid,
    change_data: &[Value],
) -> Result<VerifiedBurn, ApiError> {
    let chain = confirmed_tx(state, txid).await?;
    let mut outputs: Vec<NewAssetOutput> = Vec::new();
    let mut burnt = 0i64;
    for (vout, txout) in chain.tx.output.iter().enumerate() {
        if !txout.script_pubkey.is_op_return() || txout.asset.explicit() != Some(asset_id) {
            continue;
        }
        let amount = txout
            .value
            .explicit()
            .and_then(|v| i64::try_from(v).ok())
            .ok_or(ChainRefusal::BurnNotExplicit { txid: *txid, vout })?;
        burnt += amount;
        outputs.push(NewAssetOutput {
            txid: txid.to_string(),
            vout: vout as i64,
            asset_uuid: asset_uuid.to_string(),
            is_token: false,
            amount,
            script_pubkey: script_hex(txout),
            owner: OutputOwner::Burn,
            asset_blinder: UNKNOWN_BLINDER.into(),
            amount_blinder: UNKNOWN_BLINDER.into(),
            height: chain.height,
        });
    }
    if burnt == 0 {
        return Err(ChainRefusal::BurnsNothing { txid: *txid }.into());
    }
    for entry in change_data {
        let Some(output) = node_output("change_data", entry)? else {
            continue;
        };
        let entry_txid = entry.get("txid").and_then(Value::as_str);
        if output.asset != asset_id || entry_txid != Some(txid.to_string().as_str()) {
            return Err(ApiError::field(
                "change_data",
                format!("Entry {entry} is not an output of the asset created by {txid}."),
            ));
        }
        if outputs.iter().any(|o| o.vout == i64::from(output.vout)) {
            continue;
        }
        verify_output(&chain, "change_data", &output)?;
        outputs.push(treasury_output(&chain, asset_uuid, false, output));
    }
    Ok(VerifiedBurn {
        chain,
        burnt,
        outputs,
    })
}
