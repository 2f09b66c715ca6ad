//! Reissuance and burn (reference §2.11, §3.2, §3.3): the confirm files the issuer hands to
//! `amphora confirm` (or `blockstream-amp-confirm.py`), and the confirm calls that check the
//! resulting transaction on the platform's node before anything is recorded.
//!
//! Rules:
//! * `reissue-request` needs a reissuable asset whose issuance has 2 confirmations in the chain
//!   index and whose treasury holds reissuance-token outputs; the file names those outputs.
//! * `reissue-confirm` needs a transaction with 2 confirmations whose input `vin` reissues this
//!   asset, creating exactly the amount of an outstanding request (for a blinded amount, the
//!   posted `listissuances` entry must open the commitment), and `details` entries that open
//!   the commitments of outputs holding exactly that amount of new units. The new outputs and
//!   the token change become treasury outputs.
//! * `burn-request` names the oldest treasury outputs covering the amount; `burn-confirm` needs
//!   a transaction with 2 confirmations whose explicit `OP_RETURN` outputs destroy exactly the
//!   amount of an outstanding request; the posted `change_data` entries must open their
//!   outputs' commitments and become treasury outputs.
//! * A confirm repeated with the same transaction answers as the first one did; anything that
//!   does not match is a 400 and records nothing.

pub mod burn;
pub mod reissuance;
mod requests;

use amphora_store::{Asset, AssetOutput, Completion, UtxoRef};
use elements::AssetId;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::AuthIssuer;
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::state::AppState;

/// The client script version the confirm files require (reference §3).
pub const CLIENT_SCRIPT_VERSION: i64 = 2;
/// Largest amount one request may create or destroy, in base units (21 million coins).
pub const MAX_AMOUNT: i64 = amphora_core::asset::MAX_AMOUNT as i64;

/// The reissuance and burn routes (issuers only).
pub fn routes() -> Routes {
    reissuance::routes()
        .merge(burn::routes())
        .add(Rule::IssuerOnly, routes!(requests::burn_request_state))
}

/// An output named in a confirm file.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutpointDto {
    /// Transaction id.
    #[schema(schema_with = crate::schema::txid)]
    pub txid: String,
    /// Output index.
    #[schema(schema_with = crate::schema::vout)]
    pub vout: i64,
}

/// The confirming block's hash; for a row the follower completed before writing the block,
/// the chain index's block at its height.
pub(super) async fn block_hash(
    state: &AppState,
    completion: &Completion,
) -> Result<String, ApiError> {
    if !completion.block_hash.is_empty() {
        return Ok(completion.block_hash.clone());
    }
    Ok(state
        .store()
        .indexed_block(completion.height)
        .await?
        .map(|b| b.block_hash)
        .unwrap_or_default())
}

pub(super) fn iso(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(super) fn check_amount(field: &str, amount: i64) -> Result<(), ApiError> {
    if amount < 1 {
        return Err(ApiError::field(
            field,
            "Ensure this value is greater than or equal to 1.",
        ));
    }
    if amount > MAX_AMOUNT {
        return Err(ApiError::field(
            field,
            format!("Ensure this value is less than or equal to {MAX_AMOUNT}."),
        ));
    }
    Ok(())
}

/// The asset of the caller's issuer with its on-chain ids, or 404 / 400.
pub(super) async fn issued_asset(
    state: &AppState,
    auth: &AuthIssuer,
    uuid: &str,
) -> Result<(Asset, AssetId), ApiError> {
    let asset = visible_asset(state, auth, uuid).await?;
    let asset_id = asset
        .tx
        .as_ref()
        .and_then(|tx| tx.asset_id.parse::<AssetId>().ok())
        .ok_or(Refusal::NoIssuanceTx)?;
    Ok((asset, asset_id))
}

/// The treasury's live outputs of the asset (`tokens`: of its reissuance token), oldest first:
/// the chain index's treasury rule with at least one confirmation.
pub(super) async fn treasury_outputs(
    state: &AppState,
    uuid: &str,
    tokens: bool,
) -> Result<Vec<AssetOutput>, ApiError> {
    Ok(state.store().treasury_outputs(uuid, tokens, 1).await?)
}

pub(super) fn outpoints(outputs: &[AssetOutput]) -> Vec<UtxoRef> {
    outputs
        .iter()
        .map(|o| UtxoRef {
            txid: o.output.txid.clone(),
            vout: o.output.vout,
        })
        .collect()
}

pub(super) fn outpoint_dtos(utxos: &[UtxoRef]) -> Vec<OutpointDto> {
    utxos
        .iter()
        .map(|u| OutpointDto {
            txid: u.txid.clone(),
            vout: u.vout,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn amounts_are_bounded() {
        assert!(check_amount("amount", 1).is_ok());
        assert!(check_amount("amount", MAX_AMOUNT).is_ok());
        for bad in [0, -5, MAX_AMOUNT + 1] {
            let err = check_amount("amount", bad).unwrap_err();
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
            assert!(err.body()["amount"].is_array());
        }
    }
}
