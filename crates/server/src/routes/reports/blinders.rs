//! `POST /assets/{u}/update-blinders`: the issuer tells the platform the blinders of one of the
//! asset's confidential outputs. They are checked against the output on chain (the asset and
//! value commitments are recomputed from the asset id, the indexed amount and the blinders)
//! before they are stored.

use std::str::FromStr;

use amphora_core::FieldError;
use amphora_rpc::{codes, RpcError};
use axum::extract::State;
use axum::Json;
use elements::confidential::{AssetBlindingFactor, ValueBlindingFactor};
use elements::{AssetId, Txid};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::asset_ids;
use crate::error::ApiError;
use crate::extract::{parse_json_object, AuthIssuer, Path, RawBody};
use crate::refusal::{ChainRefusal, Outage};
use crate::routes::asset_access::visible_asset;
use crate::state::AppState;

/// `POST /assets/{u}/update-blinders` body: one output per call.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BlindersUpdate {
    /// Transaction id of the output.
    #[schema(schema_with = crate::schema::txid)]
    pub txid: String,
    /// Output index.
    #[schema(schema_with = crate::schema::vout)]
    pub vout: i64,
    /// Asset blinding factor (64 hex, as Elements RPC prints it).
    #[schema(schema_with = crate::schema::blinder)]
    pub asset_blinder: String,
    /// Amount (value) blinding factor (64 hex, as Elements RPC prints it).
    #[schema(schema_with = crate::schema::blinder)]
    pub amount_blinder: String,
}

/// The stored blinders.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlindersUpdated {
    /// Transaction id.
    pub txid: String,
    /// Output index.
    pub vout: i64,
    /// Asset blinder, as stored.
    pub asset_blinder: String,
    /// Amount blinder, as stored.
    pub amount_blinder: String,
}

fn is_hex64(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Field checks; the blinders must also be valid scalars.
fn validate(
    body: &BlindersUpdate,
) -> Result<(Txid, AssetBlindingFactor, ValueBlindingFactor), ApiError> {
    let mut errors = Vec::new();
    let txid = Txid::from_str(&body.txid)
        .ok()
        .filter(|_| is_hex64(&body.txid));
    if txid.is_none() {
        errors.push(FieldError::new("txid", "Expected a 64-hex transaction id."));
    }
    if crate::schema::VOUT.check(body.vout).is_err() {
        errors.push(FieldError::new("vout", "Expected an output index."));
    }
    let abf = AssetBlindingFactor::from_str(&body.asset_blinder)
        .ok()
        .filter(|_| is_hex64(&body.asset_blinder));
    if abf.is_none() {
        errors.push(FieldError::new(
            "asset_blinder",
            "Expected a 64-hex blinding factor.",
        ));
    }
    let vbf = ValueBlindingFactor::from_str(&body.amount_blinder)
        .ok()
        .filter(|_| is_hex64(&body.amount_blinder));
    if vbf.is_none() {
        errors.push(FieldError::new(
            "amount_blinder",
            "Expected a 64-hex blinding factor.",
        ));
    }
    match (txid, abf, vbf) {
        (Some(txid), Some(abf), Some(vbf)) if errors.is_empty() => Ok((txid, abf, vbf)),
        _ => Err(ApiError::Fields(errors)),
    }
}

/// Whether `abf`/`vbf` open the output's commitments for `asset_id` and `amount`.
fn opens(
    output: &elements::TxOut,
    asset_id: AssetId,
    amount: u64,
    abf: AssetBlindingFactor,
    vbf: ValueBlindingFactor,
) -> Result<bool, ApiError> {
    if !output.asset.is_confidential() || !output.value.is_confidential() {
        return Err(ChainRefusal::OutputNotConfidential.into());
    }
    Ok(amphora_core::chain::output_opens(
        output,
        asset_id,
        amount,
        &abf.to_string(),
        &vbf.to_string(),
    ))
}

/// Records the blinders of one confidential output of the asset after checking them on chain.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/update-blinders", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = BlindersUpdate,
    responses(
        (status = 200, description = "Checked against the output's commitments and stored",
            body = BlindersUpdated),
        (status = 400, description = "Malformed field; not an indexed output of this asset; \
            transaction unknown to the node; output not confidential; or blinders that do not \
            open the output's commitments"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
        (status = 503, description = "No Elements node configured, or it cannot be reached"),
    ))]
pub async fn update_blinders(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<BlindersUpdated>, ApiError> {
    let asset = visible_asset(&state, &auth, &uuid).await?;
    let body: BlindersUpdate = parse_json_object(&body)?;
    let (txid, abf, vbf) = validate(&body)?;
    let txid_hex = txid.to_string();
    let indexed = state
        .store()
        .report_outputs(&uuid)
        .await?
        .into_iter()
        .find(|o| o.output.output.txid == txid_hex && o.output.output.vout == body.vout)
        .ok_or(ChainRefusal::NotAnIndexedOutput {
            txid,
            vout: body.vout,
        })?;
    let (asset_id, token_id) = asset_ids(&asset);
    let carried = if indexed.output.output.is_token {
        token_id.unwrap_or_default()
    } else {
        asset_id
    };
    let asset_id = AssetId::from_str(&carried)
        .map_err(|e| ApiError::Internal(format!("stored asset id {carried:?}: {e}")))?;
    let amount = u64::try_from(indexed.output.output.amount)
        .map_err(|_| ApiError::Internal("negative indexed amount".to_string()))?;

    let node = state.node().ok_or(Outage::NoNode)?;
    let tx = node.get_raw_transaction(&txid).await.map_err(|e| match e {
        // "No such mempool or blockchain transaction"
        RpcError::Node { code, .. } if code == codes::INVALID_ADDRESS_OR_KEY => {
            ApiError::from(ChainRefusal::BlindersTxUnknown { txid })
        }
        other => {
            tracing::warn!(%txid, error = %other, "the platform's Elements node failed (getrawtransaction)");
            Outage::NodeFailed.into()
        }
    })?;
    let output = usize::try_from(body.vout)
        .ok()
        .and_then(|vout| tx.output.get(vout))
        .ok_or(ChainRefusal::BlindersOutputMissing {
            txid,
            vout: body.vout,
        })?;
    if !opens(output, asset_id, amount, abf, vbf)? {
        return Err(ChainRefusal::BlindersDoNotOpen.into());
    }
    let asset_blinder = body.asset_blinder.to_ascii_lowercase();
    let amount_blinder = body.amount_blinder.to_ascii_lowercase();
    state
        .store()
        .set_output_blinders(&uuid, &txid_hex, body.vout, &asset_blinder, &amount_blinder)
        .await?;
    Ok(Json(BlindersUpdated {
        txid: txid_hex,
        vout: body.vout,
        asset_blinder,
        amount_blinder,
    }))
}
