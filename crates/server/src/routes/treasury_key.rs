//! `…/treasury-view-key`: the issuer hands the platform its treasury wallet's SLIP-77 master
//! blinding key (`dumpmasterblindingkey`; `amphora confirm` posts it before it pays anything),
//! so the follower opens the treasury's own confidential outputs: the change of a distribution
//! or burn and the units of a reissuance are then indexed even when no confirm call follows.
//! The key is accepted only when it opens the asset's issuance destination, and never shown
//! again.

use amphora_core::treasury_key::TreasuryViewKey;
use axum::extract::State;
use axum::Json;
use elements::secp256k1_zkp::Secp256k1;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path};
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::state::AppState;

/// The treasury view key route (read and set).
pub fn routes() -> Routes {
    Routes::new().add(Rule::IssuerOnly, routes!(state, set))
}

/// Body of `PUT …/treasury-view-key`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TreasuryViewKeyBody {
    /// The treasury wallet's master blinding key: 64 hex digits, as Elements Core's
    /// `dumpmasterblindingkey` prints it.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub view_key: String,
}

/// Whether the platform holds the asset's treasury view key (the key itself is never shown).
#[derive(Debug, Serialize, ToSchema)]
pub struct TreasuryViewKeyState {
    /// The asset.
    pub asset_uuid: String,
    /// True once a key that opens the asset's destination was recorded.
    pub registered: bool,
}

/// Whether the asset's treasury view key is recorded.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/treasury-view-key", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Whether a key is recorded", body = TreasuryViewKeyState),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn state(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<TreasuryViewKeyState>, ApiError> {
    visible_asset(&state, &auth, &uuid).await?;
    let registered = state.store().has_treasury_view_key(&uuid).await?;
    Ok(Json(TreasuryViewKeyState {
        asset_uuid: uuid,
        registered,
    }))
}

/// Records the asset's treasury view key. Idempotent: the same key again answers 200.
#[utoipa::path(put, path = "/api/assets/{asset_uuid}/treasury-view-key", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = TreasuryViewKeyBody,
    responses(
        (status = 200, description = "Recorded", body = TreasuryViewKeyState),
        (status = 400, description = "Not a key, or not the key of the wallet the asset was issued to"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn set(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    extract::Json(body): extract::Json<TreasuryViewKeyBody>,
) -> Result<Json<TreasuryViewKeyState>, ApiError> {
    let asset = visible_asset(&state, &auth, &uuid).await?;
    let key: TreasuryViewKey = body.view_key.parse().map_err(Refusal::TreasuryKey)?;
    let destination: elements::Address = asset
        .issuance
        .destination_address
        .parse()
        .map_err(|_| ApiError::Internal("stored destination address does not parse".into()))?;
    key.check_opens(&Secp256k1::new(), &destination)
        .map_err(Refusal::TreasuryKey)?;
    state
        .store()
        .set_treasury_view_key(&uuid, &key.to_hex())
        .await?;
    Ok(Json(TreasuryViewKeyState {
        asset_uuid: uuid,
        registered: true,
    }))
}
