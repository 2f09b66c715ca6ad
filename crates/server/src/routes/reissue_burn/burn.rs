//! Burn (reference §2.11, §3.3): the burn file naming the oldest treasury outputs that cover
//! the amount, the confirm call that records a burn once [`verify::burn`] has checked it on the
//! platform's node, and the list.

use amphora_rpc::Amount;
use amphora_store::{BurnCompletion, CompletedBy};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{
    block_hash, check_amount, iso, issued_asset, outpoint_dtos, outpoints, treasury_outputs,
    OutpointDto, CLIENT_SCRIPT_VERSION,
};
use crate::access::Rule;
use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path, RawBody};
use crate::forwarded::Origin;
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::state::AppState;
use crate::verify::{self, burn::VerifiedBurn};

/// The burn routes (issuers only).
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOnly, routes!(burn_request))
        .add(Rule::IssuerOnly, routes!(burn_confirm))
        .add(Rule::IssuerOnly, routes!(burns))
}

/// `POST …/burn-request` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BurnRequestBody {
    /// Base units to destroy.
    #[schema(schema_with = crate::schema::amount)]
    pub amount: i64,
}

/// The burn file (reference §3.3), saved and passed to `amphora confirm burn -f`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BurnFile {
    /// Always `"burn"`.
    pub command: &'static str,
    /// Always 2.
    pub min_supported_client_script_version: i64,
    /// The API root, a format string ending in `/{}`.
    pub base_url: String,
    /// The asset's uuid.
    pub asset_uuid: String,
    /// The asset id.
    pub asset_id: String,
    /// Amount to burn in decimal units (base units / 1e8).
    #[schema(value_type = f64)]
    pub amount: Value,
    /// The treasury outputs the burn is expected to spend.
    pub utxos: Vec<OutpointDto>,
    /// Amphora: the request's id, for `GET …/burn-requests/{burn_request_id}` (which
    /// `amphora confirm burn` asks before it burns; the official script ignores the key).
    pub burn_request_id: i64,
}

/// `tx_data` of a burn confirm.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BurnTxDataBody {
    /// The burn transaction.
    #[schema(schema_with = crate::schema::txid)]
    pub txid: String,
}

/// `POST …/burn-confirm` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BurnConfirmBody {
    /// The transaction.
    pub tx_data: BurnTxDataBody,
    /// The treasury node's `listunspent` entries of the asset created by the transaction.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub change_data: Vec<Value>,
}

/// A confirmed burn.
#[derive(Debug, Serialize, ToSchema)]
pub struct BurnDto {
    /// The burn transaction.
    pub txid: String,
    /// Base units destroyed.
    pub amount: i64,
    /// Hash of the confirming block.
    pub confirmed_in_block: String,
    /// When the burn was confirmed.
    pub created: String,
}

/// Creates the file to burn `amount` base units of the asset from the treasury.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/burn-request", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = BurnRequestBody,
    responses(
        (status = 200, description = "The burn file", body = BurnFile),
        (status = 400, description = "Invalid amount, or the treasury holds less"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn burn_request(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    origin: Origin,
    RawBody(body): RawBody,
) -> Result<Json<BurnFile>, ApiError> {
    let (_, asset_id) = issued_asset(&state, &auth, &uuid).await?;
    let body: BurnRequestBody = extract::parse_json_object(&body)?;
    check_amount("amount", body.amount)?;
    let mut chosen = Vec::new();
    let mut total = 0i64;
    for output in treasury_outputs(&state, &uuid, false).await? {
        if total >= body.amount {
            break;
        }
        total += output.output.amount;
        chosen.push(output);
    }
    if total < body.amount {
        return Err(Refusal::BurnAboveTreasury {
            total,
            amount: body.amount,
        }
        .into());
    }
    let utxos = outpoints(&chosen);
    let created = state
        .store()
        .create_burn_request(&uuid, body.amount, &utxos)
        .await?;
    Ok(Json(BurnFile {
        command: "burn",
        min_supported_client_script_version: CLIENT_SCRIPT_VERSION,
        base_url: origin.api_base_url(),
        asset_uuid: uuid,
        asset_id: asset_id.to_string(),
        amount: Amount::from_units(body.amount).to_json(),
        utxos: outpoint_dtos(&utxos),
        burn_request_id: created.id,
    }))
}

/// Checks a burn on the platform's node and records it with the treasury's change.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/burn-confirm", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = BurnConfirmBody,
    responses(
        (status = 200, description = "Confirmed (empty body)"),
        (status = 400, description = "The transaction does not burn the amount of an \
            outstanding request, has fewer than 2 confirmations, or the change entries do not \
            open its outputs"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
        (status = 503, description = "No node configured, or the node failed"),
    ))]
pub async fn burn_confirm(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let (_, asset_id) = issued_asset(&state, &auth, &uuid).await?;
    let body: BurnConfirmBody = extract::parse_json_object(&body)?;
    let txid = verify::parse_txid("tx_data", &body.tx_data.txid)?;
    let VerifiedBurn {
        chain,
        burnt,
        outputs,
    } = verify::burn::verify(&state, &uuid, asset_id, &txid, &body.change_data).await?;

    let store = state.store();
    let request = match store.burn_of_tx(&uuid, &txid.to_string()).await? {
        Some(done) => done,
        None => store
            .pending_burn(&uuid, Some(burnt))
            .await?
            .ok_or(Refusal::NoBurnRequest { amount: burnt })?,
    };
    let completion = BurnCompletion {
        txid: txid.to_string(),
        block_hash: chain.block_hash.clone(),
        height: chain.height,
        completed_by: CompletedBy::Confirm,
    };
    amphora_core::crash::point(amphora_core::crash::BURN_CONFIRM_BEFORE_RECORD);
    store
        .complete_burn(request.id, &completion, &outputs)
        .await?;
    amphora_core::crash::point(amphora_core::crash::BURN_CONFIRM_AFTER_RECORD);
    Ok(StatusCode::OK.into_response())
}

/// The asset's confirmed burns, oldest first (an Amphora addition; AMP shows burns only in
/// activities and the summary).
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/burns", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Burns", body = [BurnDto]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn burns(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<Vec<BurnDto>>, ApiError> {
    visible_asset(&state, &auth, &uuid).await?;
    let rows = state.store().burns(&uuid, true).await?;
    let mut out = Vec::with_capacity(rows.len());
    for burn in rows {
        let completion = burn
            .completion
            .ok_or_else(|| ApiError::Internal("unconfirmed burn shown".into()))?;
        out.push(BurnDto {
            confirmed_in_block: block_hash(&state, &completion).await?,
            txid: completion.txid,
            amount: burn.amount,
            created: iso(completion.confirmed_at),
        });
    }
    Ok(Json(out))
}
