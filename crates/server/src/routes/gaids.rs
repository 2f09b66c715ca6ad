//! GAIDs: validation and lookup of the registered user holding one.

use amphora_core::gaid::Gaid;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::{AuthIssuer, Path};
use crate::routes::registered_users::RegisteredUserDto;
use crate::state::AppState;

/// `GET /gaids/{gaid}/validate` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct GaidValidation {
    /// Whether the GAID is well formed and belongs to a wallet registered on this platform.
    pub is_valid: bool,
    /// Why it is not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Checks that `text` is a well-formed GAID of a wallet registered on this platform; the error
/// is a message for the user.
pub async fn registered_gaid(
    state: &AppState,
    text: &str,
) -> Result<Result<Gaid, String>, ApiError> {
    let gaid = match Gaid::parse(text) {
        Ok(gaid) => gaid,
        Err(e) => return Ok(Err(e.to_string())),
    };
    match state.store().wallet_by_gaid(gaid.as_str()).await? {
        Some(_) => Ok(Ok(gaid)),
        None => Ok(Err(format!(
            "GAID {gaid} is not a wallet registered on this platform"
        ))),
    }
}

/// Validates a GAID: well formed (prefix, base58, length, checksum) and registered here.
#[utoipa::path(get, path = "/api/gaids/{gaid}/validate", tag = "gaids",
    security(("token" = [])),
    params(("gaid" = String, Path, description = "The GAID to check")),
    responses(
        (status = 200, description = "Validation result", body = GaidValidation),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn validate(
    State(state): State<AppState>,
    _auth: AuthIssuer,
    Path(gaid): Path<String>,
) -> Result<Json<GaidValidation>, ApiError> {
    Ok(Json(match registered_gaid(&state, &gaid).await? {
        Ok(_) => GaidValidation {
            is_valid: true,
            error: None,
        },
        Err(error) => GaidValidation {
            is_valid: false,
            error: Some(error),
        },
    }))
}

/// The caller's registered user holding this GAID (also `/gaids/{gaid}/investor`).
#[utoipa::path(get, path = "/api/gaids/{gaid}/registered_user", tag = "gaids",
    security(("token" = [])),
    params(("gaid" = String, Path, description = "A GAID")),
    responses(
        (status = 200, description = "The registered user", body = RegisteredUserDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No registered user of yours has this GAID"),
    ))]
pub async fn registered_user(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(gaid): Path<String>,
) -> Result<Json<RegisteredUserDto>, ApiError> {
    let user = state
        .store()
        .registered_user_by_gaid(auth.issuer.id, &gaid)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(user.into()))
}

/// `GET /gaids/{gaid}/address` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct GaidAddress {
    /// A fresh confidential Liquid address of the wallet (never handed out before).
    pub address: String,
}

/// A fresh confidential receiving address of the wallet with this GAID, which must belong to
/// one of the caller's registered users.
#[utoipa::path(get, path = "/api/gaids/{gaid}/address", tag = "gaids",
    security(("token" = [])),
    params(("gaid" = String, Path, description = "A GAID of one of your registered users")),
    responses(
        (status = 200, description = "A fresh address", body = GaidAddress),
        (status = 400, description = "Malformed GAID (`{\"Error\": …}`)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No registered user of yours has this GAID"),
    ))]
pub async fn address(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(gaid): Path<String>,
) -> Result<Json<GaidAddress>, ApiError> {
    let gaid = Gaid::parse(&gaid).map_err(|e| ApiError::Business(e.to_string()))?;
    state
        .store()
        .registered_user_by_gaid(auth.issuer.id, gaid.as_str())
        .await?
        .ok_or(ApiError::NotFound)?;
    let address = crate::cosign::fresh_address(&state, gaid.as_str()).await?;
    Ok(Json(GaidAddress { address }))
}
