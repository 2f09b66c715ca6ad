//! GAIDs: validation and lookup of the registered user holding one.

use amphora_core::gaid::Gaid;
use amphora_store::Conflict;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::{AuthIssuer, Path};
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::registered_users::RegisteredUserDto;
use crate::state::AppState;

/// The GAID routes; `registered_user` also at its legacy name `investor`.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOrManager, routes!(validate))
        .add(Rule::IssuerOnly, routes!(address))
        .merge(
            Routes::new()
                .add(Rule::IssuerOnly, routes!(registered_user))
                .with_aliases(|path| path.replace("/registered_user", "/investor")),
        )
}

/// `GET /gaids/{gaid}/validate` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct GaidValidation {
    /// Whether the GAID is well formed and belongs to a wallet registered on this platform.
    pub is_valid: bool,
    /// Why it is not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Checks that `text` is a well-formed GAID of a wallet registered on this platform; the inner
/// error is the refusal (its `Display` the message for the user).
pub async fn registered_gaid(
    state: &AppState,
    text: &str,
) -> Result<Result<Gaid, Refusal>, ApiError> {
    let gaid = match Gaid::parse(text) {
        Ok(gaid) => gaid,
        Err(e) => return Ok(Err(Refusal::Gaid(e))),
    };
    match state.store().wallet_by_gaid(gaid.as_str()).await? {
        Some(_) => Ok(Ok(gaid)),
        None => Ok(Err(Conflict::GaidNotRegistered {
            gaid: gaid.to_string(),
        }
        .into())),
    }
}

/// The validation answer for `text` (of `/gaids/{gaid}/validate` and
/// `/registered_users/validate-gaid`).
pub async fn validation(state: &AppState, text: &str) -> Result<GaidValidation, ApiError> {
    Ok(match registered_gaid(state, text).await? {
        Ok(_) => GaidValidation {
            is_valid: true,
            error: None,
        },
        Err(error) => GaidValidation {
            is_valid: false,
            error: Some(error.to_string()),
        },
    })
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
    Ok(Json(validation(&state, &gaid).await?))
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
    /// A confidential Liquid address of the wallet.
    pub address: String,
}

/// A confidential receiving address of the registered wallet with this GAID, for the issuer
/// to pay (the AMP CLI asks for any GAID). For a GAID of one of the caller's registered users,
/// a fresh address (never handed out before) on every call. For any other registered wallet
/// (e.g. another issuer's investor), the one address kept for the caller and that wallet:
/// handed out on the first call and answered again on every later one, so an issuer cannot
/// push a wallet it does not register past its gap limit; the answer reveals no more than
/// `/gaids/{gaid}/validate` (that the wallet is registered) plus one payable address.
#[utoipa::path(get, path = "/api/gaids/{gaid}/address", tag = "gaids",
    security(("token" = [])),
    params(("gaid" = String, Path, description = "The GAID of a registered wallet")),
    responses(
        (status = 200, description = "An address of the wallet", body = GaidAddress),
        (status = 400, description = "Malformed GAID (`{\"Error\": …}`)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No wallet registered on this platform has this GAID"),
    ))]
pub async fn address(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(gaid): Path<String>,
) -> Result<Json<GaidAddress>, ApiError> {
    let gaid = Gaid::parse(&gaid).map_err(Refusal::Gaid)?;
    let store = state.store();
    let own = store
        .registered_user_by_gaid(auth.issuer.id, gaid.as_str())
        .await?
        .is_some();
    if own {
        let address = crate::cosign::fresh_address(&state, gaid.as_str()).await?;
        return Ok(Json(GaidAddress { address }));
    }
    let wallet = store
        .wallet_by_gaid(gaid.as_str())
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(address) = store
        .issuer_wallet_address(auth.issuer.id, &wallet.wid)
        .await?
    {
        return Ok(Json(GaidAddress { address }));
    }
    let fresh = crate::cosign::fresh_address(&state, gaid.as_str()).await?;
    let address = store
        .keep_issuer_wallet_address(auth.issuer.id, &wallet.wid, &fresh)
        .await?;
    Ok(Json(GaidAddress { address }))
}
