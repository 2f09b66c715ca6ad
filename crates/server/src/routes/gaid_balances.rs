//! GAID balances (reference §2.5): what a registered wallet holds of the caller's assets,
//! from the chain index. Only the caller's assets are reported, whoever the GAID belongs to.

use amphora_core::gaid::Gaid;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{AuthIssuer, Path};
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::routes::reports::asset_ids;
use crate::state::AppState;

/// The GAID balance routes (issuers only).
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOnly, routes!(balances))
        .add(Rule::IssuerOnly, routes!(balance))
}

/// A GAID's balance of one asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct GaidBalanceDto {
    /// Asset UUID.
    pub asset_uuid: String,
    /// Asset id (hex).
    pub asset_id: String,
    /// Unspent units the GAID's wallet holds, in base units.
    pub balance: i64,
}

/// A well-formed GAID, or 400.
fn parse_gaid(text: &str) -> Result<Gaid, ApiError> {
    Gaid::parse(text).map_err(|e| Refusal::BalanceGaid(e).into())
}

/// What the GAID holds of each of the caller's assets it has received (0 once spent).
#[utoipa::path(get, path = "/api/gaids/{gaid}/balance", tag = "gaids",
    security(("token" = [])),
    params(("gaid" = String, Path, description = "A GAID")),
    responses(
        (status = 200, description = "Balances per asset of the caller", body = [GaidBalanceDto]),
        (status = 400, description = "Malformed GAID"),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn balances(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(gaid): Path<String>,
) -> Result<Json<Vec<GaidBalanceDto>>, ApiError> {
    let gaid = parse_gaid(&gaid)?;
    let balances = state
        .store()
        .gaid_balances(auth.issuer.id, gaid.as_str())
        .await?;
    Ok(Json(
        balances
            .into_iter()
            .map(|b| GaidBalanceDto {
                asset_uuid: b.asset_uuid,
                asset_id: b.asset_id,
                balance: b.balance,
            })
            .collect(),
    ))
}

/// What the GAID holds of one of the caller's assets.
#[utoipa::path(get, path = "/api/gaids/{gaid}/balance/{asset_uuid}", tag = "gaids",
    security(("token" = [])),
    params(
        ("gaid" = String, Path, description = "A GAID"),
        ("asset_uuid" = String, Path, description = "Asset UUID"),
    ),
    responses(
        (status = 200, description = "The balance (0 when none)", body = GaidBalanceDto),
        (status = 400, description = "Malformed GAID"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn balance(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path((gaid, uuid)): Path<(String, String)>,
) -> Result<Json<GaidBalanceDto>, ApiError> {
    let asset = visible_asset(&state, &auth, &uuid).await?;
    let gaid = parse_gaid(&gaid)?;
    let balance = state
        .store()
        .gaid_asset_balance(&uuid, gaid.as_str())
        .await?;
    Ok(Json(GaidBalanceDto {
        asset_uuid: uuid,
        asset_id: asset_ids(&asset).0,
        balance,
    }))
}
