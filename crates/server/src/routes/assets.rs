//! Assets: issuance, details, the issuer's settings (authorization endpoint, lock, memo) and
//! treasury addresses.

use amphora_core::asset::{check_endpoint, validate_issuance, IssuanceInput};
use amphora_core::FieldError;
use amphora_store::Asset;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, BareJson, Path};
use crate::issuance;
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::routes::no_content;
use crate::state::AppState;

/// The asset routes: managers read the details of granted assets only.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOnly, routes!(list))
        .add(Rule::IssuerOnly, routes!(issue))
        .add(Rule::IssuerOrManagerForAsset, routes!(details))
        .add(Rule::IssuerOnly, routes!(edit))
        .add(Rule::IssuerOnly, routes!(delete))
        .add(Rule::IssuerOnly, routes!(lock))
        .add(Rule::IssuerOnly, routes!(unlock))
        .add(Rule::IssuerOnly, routes!(memo))
        .add(Rule::IssuerOnly, routes!(set_memo))
        .add(Rule::IssuerOnly, routes!(treasury_addresses))
        .add(Rule::IssuerOnly, routes!(add_treasury_addresses))
        .add(Rule::IssuerOnly, routes!(delete_treasury_addresses))
}

/// An asset as the API shows it (reference §7 `Asset`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetDto {
    /// Name.
    pub name: String,
    /// UUID of the asset on the platform.
    pub asset_uuid: String,
    /// Id of the issuer.
    pub issuer: i64,
    /// Asset id (hex).
    pub asset_id: String,
    /// Reissuance token id (hex), when reissuable.
    pub reissuance_token_id: Option<String>,
    /// Ids of the categories a holder must have.
    pub requirements: Vec<i64>,
    /// Ticker.
    pub ticker: Option<String>,
    /// Decimal places shown by the registry.
    pub precision: i64,
    /// Registry domain.
    pub domain: Option<String>,
    /// Registry issuer public key (hex).
    pub pubkey: Option<String>,
    /// Registered with the Liquid Asset Registry.
    pub is_registered: bool,
    /// Authorized for transfers through the platform.
    pub is_authorized: bool,
    /// Locked: transfers are refused.
    pub is_locked: bool,
    /// Issuer authorization callback.
    pub issuer_authorization_endpoint: Option<String>,
    /// Transfer-restricted (true) or issuer-tracked (false).
    pub transfer_restricted: bool,
}

impl From<Asset> for AssetDto {
    fn from(asset: Asset) -> Self {
        let issuance = asset.issuance;
        let tx = asset.tx;
        AssetDto {
            name: issuance.name,
            asset_uuid: issuance.uuid,
            issuer: issuance.issuer_id,
            asset_id: tx
                .as_ref()
                .map(|tx| tx.asset_id.clone())
                .unwrap_or_default(),
            reissuance_token_id: tx.and_then(|tx| tx.reissuance_token_id),
            requirements: asset.requirements,
            ticker: Some(issuance.ticker),
            precision: issuance.precision,
            domain: Some(issuance.domain),
            pubkey: Some(issuance.pubkey),
            is_registered: asset.is_registered,
            is_authorized: asset.is_authorized,
            is_locked: asset.is_locked,
            issuer_authorization_endpoint: issuance.issuer_authorization_endpoint,
            transfer_restricted: issuance.transfer_restricted,
        }
    }
}

/// `POST /assets/issue` body (reference §2.6 `Issuance`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct IssuanceRequest {
    /// Asset name.
    #[schema(schema_with = crate::schema::asset_name)]
    pub name: String,
    /// Base units to issue.
    #[schema(schema_with = crate::schema::amount)]
    pub amount: u64,
    /// Confidential address receiving the asset.
    #[schema(schema_with = crate::schema::confidential_address)]
    pub destination_address: String,
    /// Bare host name of the issuer (registry entity), e.g. `example.com`.
    #[schema(schema_with = crate::schema::domain)]
    pub domain: String,
    /// Ticker.
    #[schema(schema_with = crate::schema::ticker)]
    pub ticker: String,
    /// Issuer's compressed public key.
    #[schema(schema_with = crate::schema::pubkey)]
    pub pubkey: String,
    /// Registry precision, default 0.
    #[serde(default)]
    #[schema(schema_with = crate::schema::precision)]
    pub precision: u8,
    /// Blind the issued amounts; default false.
    #[serde(default)]
    pub is_confidential: bool,
    /// Create a reissuance token; default false.
    #[serde(default)]
    pub is_reissuable: bool,
    /// Reissuance tokens to create (required when reissuable).
    #[serde(default)]
    #[schema(schema_with = crate::schema::reissuance_amount)]
    pub reissuance_amount: u64,
    /// Confidential address receiving the token (required when reissuable, differs from
    /// `destination_address`).
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_confidential_address)]
    pub reissuance_address: Option<String>,
    /// Transfer-restricted (true) or issuer-tracked (false); default false.
    #[serde(default)]
    pub transfer_restricted: bool,
    /// Issuer authorization callback.
    #[serde(default)]
    #[schema(schema_with = crate::schema::endpoint)]
    pub issuer_authorization_endpoint: Option<String>,
}

/// `201` answer of `POST /assets/issue` (reference §7 `IssuanceResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuanceResponse {
    /// Name.
    pub name: String,
    /// Base units issued.
    pub amount: i64,
    /// Address receiving the asset.
    pub destination_address: String,
    /// Registry domain.
    pub domain: String,
    /// Ticker.
    pub ticker: String,
    /// Registry issuer public key.
    pub pubkey: String,
    /// Registry precision.
    pub precision: i64,
    /// Whether the issued amounts are blinded.
    pub is_confidential: bool,
    /// Whether a reissuance token was created.
    pub is_reissuable: bool,
    /// Reissuance tokens created.
    pub reissuance_amount: i64,
    /// Address receiving the token (`""` when not reissuable).
    pub reissuance_address: String,
    /// Asset id (hex).
    pub asset_id: String,
    /// Reissuance token id (hex).
    pub reissuance_token_id: Option<String>,
    /// UUID of the asset on the platform.
    pub asset_uuid: String,
    /// Issuance transaction id.
    pub txid: String,
    /// Input carrying the issuance.
    pub vin: i64,
    /// Output paying the asset.
    pub asset_vout: i64,
    /// Output paying the reissuance token.
    pub reissuance_vout: Option<i64>,
    /// Issuer authorization callback.
    pub issuer_authorization_endpoint: Option<String>,
    /// Transfer-restricted (true) or issuer-tracked (false).
    pub transfer_restricted: bool,
    /// Asset blinding factor of the asset output (hex; zeros when unknown).
    pub issuance_assetblinder: String,
    /// Asset blinding factor of the token output (hex), when reissuable.
    pub issuance_tokenblinder: Option<String>,
}

/// What a blinder unknown to the platform reads as (the confirm script's convention).
const UNKNOWN_BLINDER: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl IssuanceResponse {
    fn new(asset: Asset) -> Result<Self, ApiError> {
        let tx = asset
            .tx
            .ok_or_else(|| ApiError::Internal("issued asset without transaction".into()))?;
        let issuance = asset.issuance;
        Ok(IssuanceResponse {
            name: issuance.name,
            amount: issuance.amount,
            destination_address: issuance.destination_address,
            domain: issuance.domain,
            ticker: issuance.ticker,
            pubkey: issuance.pubkey,
            precision: issuance.precision,
            is_confidential: issuance.is_confidential,
            is_reissuable: issuance.is_reissuable,
            reissuance_amount: issuance.reissuance_amount,
            reissuance_address: issuance.reissuance_address,
            asset_id: tx.asset_id,
            issuance_tokenblinder: tx.reissuance_token_id.as_ref().map(|_| {
                asset
                    .issuance_tokenblinder
                    .unwrap_or_else(|| UNKNOWN_BLINDER.to_string())
            }),
            reissuance_token_id: tx.reissuance_token_id,
            asset_uuid: issuance.uuid,
            txid: tx.txid,
            vin: tx.vin,
            asset_vout: tx.asset_vout,
            reissuance_vout: tx.reissuance_vout,
            issuer_authorization_endpoint: issuance.issuer_authorization_endpoint,
            transfer_restricted: issuance.transfer_restricted,
            issuance_assetblinder: asset
                .issuance_assetblinder
                .unwrap_or_else(|| UNKNOWN_BLINDER.to_string()),
        })
    }
}

/// `PUT /assets/{asset_uuid}/edit` body: only the authorization endpoint can change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssetEdit {
    /// New issuer authorization callback; `null` or `""` clears it.
    #[serde(default)]
    #[schema(schema_with = crate::schema::endpoint)]
    pub issuer_authorization_endpoint: Option<String>,
}

/// The caller's assets.
#[utoipa::path(get, path = "/api/assets", tag = "assets",
    security(("token" = [])),
    responses(
        (status = 200, description = "Assets", body = [AssetDto]),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
) -> Result<Json<Vec<AssetDto>>, ApiError> {
    let assets = state.store().assets(auth.issuer.id).await?;
    Ok(Json(assets.into_iter().map(Into::into).collect()))
}

/// Issues a new asset through the platform node.
#[utoipa::path(post, path = "/api/assets/issue", tag = "assets",
    security(("token" = [])),
    request_body = IssuanceRequest,
    responses(
        (status = 201, description = "Issued and broadcast", body = IssuanceResponse),
        (status = 400, description = "A field breaks its schema (field errors); or (`{\"Error\": …}`) the reissuance fields do not go with `is_reissuable` and `destination_address`, the public key is not a point of the curve, the endpoint is a target the outbound policy refuses, or the node refused the transaction"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 503, description = "No node configured, or the platform wallet cannot pay the fee"),
    ))]
pub async fn issue(
    State(state): State<AppState>,
    auth: AuthIssuer,
    extract::Json(body): extract::Json<IssuanceRequest>,
) -> Result<(StatusCode, Json<IssuanceResponse>), ApiError> {
    let input = IssuanceInput {
        name: body.name,
        amount: body.amount,
        destination_address: body.destination_address,
        domain: body.domain,
        ticker: body.ticker,
        pubkey: body.pubkey,
        precision: body.precision,
        is_confidential: body.is_confidential,
        is_reissuable: body.is_reissuable,
        reissuance_amount: body.reissuance_amount,
        reissuance_address: body.reissuance_address.unwrap_or_default(),
        transfer_restricted: body.transfer_restricted,
        issuer_authorization_endpoint: body.issuer_authorization_endpoint,
    };
    let issuance = validate_issuance(input, state.network())?;
    if let Some(endpoint) = &issuance.input.issuer_authorization_endpoint {
        check_endpoint_target(&state, endpoint).await?;
    }
    let asset = issuance::issue(&state, auth.issuer.id, &issuance).await?;
    Ok((StatusCode::CREATED, Json(IssuanceResponse::new(asset)?)))
}

/// One asset.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The asset", body = AssetDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn details(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<AssetDto>, ApiError> {
    Ok(Json(visible_asset(&state, &auth, &uuid).await?.into()))
}

/// Changes the asset's issuer authorization endpoint (the only editable field).
#[utoipa::path(put, path = "/api/assets/{asset_uuid}/edit", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = AssetEdit,
    responses(
        (status = 200, description = "The updated asset", body = AssetDto),
        (status = 400, description = "Invalid endpoint: not an http(s) URL, or a loopback, \
            private or link-local target (unless `allow_private_outbound`)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn edit(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    extract::Json(body): extract::Json<AssetEdit>,
) -> Result<Json<AssetDto>, ApiError> {
    let endpoint = match body.issuer_authorization_endpoint {
        Some(endpoint) => check_endpoint(&endpoint)?,
        None => None,
    };
    if let Some(endpoint) = &endpoint {
        check_endpoint_target(&state, endpoint).await?;
    }
    let asset = state
        .store()
        .set_asset_authorization_endpoint(auth.issuer.id, &uuid, endpoint.as_deref())
        .await?;
    Ok(Json(asset.into()))
}

/// Refuses an issuer authorization endpoint (of the form its schema states) the platform may
/// not call: (unless `allow_private_outbound`) a loopback, private or link-local target, a
/// deployment rule no schema states (400 `{"Error": …}` naming the field; see
/// [`crate::outbound`]).
async fn check_endpoint_target(state: &AppState, endpoint: &str) -> Result<(), ApiError> {
    state
        .outbound()
        .check_target(endpoint)
        .await
        .map_err(|e| Refusal::EndpointTarget(e).into())
}

/// Deletes the asset's platform records; the on-chain asset is untouched.
#[utoipa::path(delete, path = "/api/assets/{asset_uuid}/delete", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    state.store().delete_asset(auth.issuer.id, &uuid).await?;
    Ok(no_content())
}

/// Locks the asset: the co-signer refuses its transfers.
#[utoipa::path(put, path = "/api/assets/{asset_uuid}/lock", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The locked asset", body = AssetDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn lock(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<AssetDto>, ApiError> {
    let asset = state
        .store()
        .set_asset_locked(auth.issuer.id, &uuid, true)
        .await?;
    Ok(Json(asset.into()))
}

/// Unlocks the asset.
#[utoipa::path(put, path = "/api/assets/{asset_uuid}/unlock", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The unlocked asset", body = AssetDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn unlock(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<AssetDto>, ApiError> {
    let asset = state
        .store()
        .set_asset_locked(auth.issuer.id, &uuid, false)
        .await?;
    Ok(Json(asset.into()))
}

/// The issuer's memo on the asset, as a bare JSON string.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/memo", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The memo", body = String, content_type = "application/json"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn memo(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<String>, ApiError> {
    Ok(Json(visible_asset(&state, &auth, &uuid).await?.memo))
}

/// Longest memo accepted.
const MEMO_MAX: usize = 65_535;

/// Replaces the memo; the body is a bare JSON string. Answers the stored memo.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/memo/set", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body(content = String, content_type = "application/json",
        description = "The memo: a bare JSON string"),
    responses(
        (status = 200, description = "The stored memo", body = String, content_type = "application/json"),
        (status = 400, description = "Not a JSON string, or too long"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn set_memo(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    BareJson(memo): BareJson<String>,
) -> Result<Json<String>, ApiError> {
    if memo.chars().count() > MEMO_MAX {
        return Err(FieldError::new(
            FieldError::NON_FIELD,
            format!("Ensure the memo has no more than {MEMO_MAX} characters."),
        )
        .into());
    }
    let asset = state
        .store()
        .set_asset_memo(auth.issuer.id, &uuid, &memo)
        .await?;
    Ok(Json(asset.memo))
}

/// The asset's treasury addresses.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/treasury-addresses", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Addresses", body = [String]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn treasury_addresses(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(
        state
            .store()
            .treasury_addresses(auth.issuer.id, &uuid)
            .await?,
    ))
}

/// Checks that every entry is a Liquid address of the platform's network.
fn parse_addresses(state: &AppState, addresses: Vec<String>) -> Result<Vec<String>, ApiError> {
    if addresses.is_empty() {
        return Err(FieldError::new(FieldError::NON_FIELD, "Give at least one address.").into());
    }
    let params = state.network().address_params();
    let mut errors = Vec::new();
    let mut valid = Vec::new();
    for address in addresses {
        let address = address.trim().to_string();
        match address.parse::<elements::Address>() {
            Ok(parsed) if parsed.params == params => valid.push(address),
            Ok(_) => errors.push(FieldError::new(
                FieldError::NON_FIELD,
                format!(
                    "{address} is not an address of the {} network.",
                    state.network()
                ),
            )),
            Err(_) => errors.push(FieldError::new(
                FieldError::NON_FIELD,
                format!("{address} is not a valid Liquid address."),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    Ok(valid)
}

/// Adds treasury addresses (a JSON array of addresses); answers the full list.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/treasury-addresses/add", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = crate::schema::AddressList,
    responses(
        (status = 200, description = "Addresses after the change", body = [String]),
        (status = 400, description = "Invalid address"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn add_treasury_addresses(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    BareJson(addresses): BareJson<Vec<String>>,
) -> Result<Json<Vec<String>>, ApiError> {
    let addresses = parse_addresses(&state, addresses)?;
    Ok(Json(
        state
            .store()
            .add_treasury_addresses(auth.issuer.id, &uuid, &addresses)
            .await?,
    ))
}

/// Removes treasury addresses (a JSON array of addresses); answers the remaining list.
#[utoipa::path(delete, path = "/api/assets/{asset_uuid}/treasury-addresses/delete", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = crate::schema::AddressList,
    responses(
        (status = 200, description = "Addresses after the change", body = [String]),
        (status = 400, description = "Invalid address"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn delete_treasury_addresses(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    BareJson(addresses): BareJson<Vec<String>>,
) -> Result<Json<Vec<String>>, ApiError> {
    let addresses = parse_addresses(&state, addresses)?;
    Ok(Json(
        state
            .store()
            .delete_treasury_addresses(auth.issuer.id, &uuid, &addresses)
            .await?,
    ))
}
