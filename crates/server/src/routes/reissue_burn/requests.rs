//! `GET …/burn-requests/{burn_request_id}` (an Amphora addition): one burn request's state, so
//! that `amphora confirm burn`, before it burns, can ask whether the request of its file was
//! already completed (by an earlier, interrupted run whose burn the follower or a confirm call
//! recorded) and refuse to burn a second time. The burn file names the request's id
//! (`burn_request_id`).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::{iso, outpoint_dtos, OutpointDto};
use crate::error::ApiError;
use crate::extract::{AuthIssuer, Path};
use crate::routes::asset_access::visible_asset;
use crate::state::AppState;

/// A burn request and, once completed, its transaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct BurnRequestDto {
    /// The request's id (the burn file's `burn_request_id`).
    pub burn_request_id: i64,
    /// Base units to destroy.
    pub amount: i64,
    /// `"requested"` while no burn is recorded for it, `"confirmed"` once one is.
    pub status: &'static str,
    /// The burn transaction that completed it; `null` while requested.
    pub txid: Option<String>,
    /// When the request was made.
    pub created: String,
    /// The treasury outputs the burn file named.
    pub utxos: Vec<OutpointDto>,
}

/// One burn request of the asset.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/burn-requests/{burn_request_id}",
    tag = "assets",
    security(("token" = [])),
    params(
        ("asset_uuid" = String, Path, description = "Asset UUID"),
        ("burn_request_id" = i64, Path, description = "The burn file's burn_request_id"),
    ),
    responses(
        (status = 200, description = "The request", body = BurnRequestDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset, or no such burn request of it"),
    ))]
pub async fn burn_request_state(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((uuid, id)): Path<(String, i64)>,
) -> Result<Json<BurnRequestDto>, ApiError> {
    visible_asset(&state, &auth, &uuid).await?;
    let store = state.store();
    let burn = store
        .burns(&uuid, false)
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or(ApiError::NotFound)?;
    let txid = burn.completion.map(|c| c.txid);
    Ok(Json(BurnRequestDto {
        burn_request_id: burn.id,
        amount: burn.amount,
        status: if txid.is_some() {
            "confirmed"
        } else {
            "requested"
        },
        txid,
        created: iso(burn.created_at),
        utxos: outpoint_dtos(&burn.utxos),
    }))
}
