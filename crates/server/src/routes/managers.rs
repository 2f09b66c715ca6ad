//! Investment managers: delegated accounts an issuer creates (locked), unlocks, and grants
//! assets to. Only issuers call these, except `GET /managers/me`, a manager's own record.

use amphora_core::account::{check_new_password, Username};
use amphora_core::FieldError;
use amphora_store::Manager;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::credentials::hash_password_blocking;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path};
use crate::refusal::Denial;
use crate::router::Routes;
use crate::routes::user::{issue_token, ChangePassword, ChangePasswordResponse};
use crate::state::AppState;

/// The manager routes: issuers manage their managers; a manager reads its own record.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOnly, routes!(list))
        .add(Rule::IssuerOnly, routes!(create))
        .add(Rule::ManagerOnly, routes!(me))
        .add(Rule::IssuerOnly, routes!(details))
        .add(Rule::IssuerOnly, routes!(lock))
        .add(Rule::IssuerOnly, routes!(unlock))
        .add(Rule::IssuerOnly, routes!(change_password))
        .add(Rule::IssuerOnly, routes!(add_asset))
        .add(Rule::IssuerOnly, routes!(remove_asset))
}

/// A manager as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManagerDto {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// A locked manager can neither obtain nor use a token.
    pub is_locked: bool,
    /// UUIDs of the assets the manager may see.
    pub assets: Vec<String>,
}

impl From<Manager> for ManagerDto {
    fn from(manager: Manager) -> Self {
        ManagerDto {
            id: manager.id,
            username: manager.username,
            is_locked: manager.is_locked,
            assets: manager.assets,
        }
    }
}

/// `POST /managers/create` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ManagerCreate {
    /// Login name, unique among issuers and managers.
    #[schema(schema_with = crate::schema::username)]
    pub username: String,
    /// Password.
    #[schema(schema_with = crate::schema::new_password)]
    pub password: String,
}

async fn find(state: &AppState, auth: &AuthIssuer, id: i64) -> Result<Manager, ApiError> {
    state
        .store()
        .manager(auth.issuer.id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The caller's managers.
#[utoipa::path(get, path = "/api/managers", tag = "managers",
    security(("token" = [])),
    responses(
        (status = 200, description = "Managers", body = [ManagerDto]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers cannot call this"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
) -> Result<Json<Vec<ManagerDto>>, ApiError> {
    let managers = state.store().managers(auth.issuer.id).await?;
    Ok(Json(managers.into_iter().map(Into::into).collect()))
}

/// Creates a manager. It starts locked: unlock it with `PUT /managers/{id}/unlock`.
#[utoipa::path(post, path = "/api/managers/create", tag = "managers",
    security(("token" = [])),
    request_body = ManagerCreate,
    responses(
        (status = 201, description = "Created (locked)", body = ManagerDto),
        (status = 400, description = "Invalid username or password, or username taken"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers cannot call this"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthIssuer,
    extract::Json(body): extract::Json<ManagerCreate>,
) -> Result<(StatusCode, Json<ManagerDto>), ApiError> {
    let username = Username::parse(&body.username);
    let password = check_new_password(&body.password);
    let errors: Vec<FieldError> = [username.as_ref().err(), password.as_ref().err()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    let username = username.map_err(ApiError::from)?;
    let hash = hash_password_blocking(body.password).await?;
    let manager = state
        .store()
        .create_manager(auth.issuer.id, username.as_str(), &hash)
        .await?;
    tracing::info!(issuer = %auth.issuer.username, manager = %manager.username, "manager created");
    Ok((StatusCode::CREATED, Json(manager.into())))
}

/// The calling manager's own record (managers only).
#[utoipa::path(get, path = "/api/managers/me", tag = "managers",
    security(("token" = [])),
    responses(
        (status = 200, description = "The caller", body = ManagerDto),
        (status = 401, description = "Missing, invalid or expired token, or a locked manager"),
        (status = 403, description = "The caller is an issuer"),
    ))]
pub async fn me(auth: AuthIssuer) -> Result<Json<ManagerDto>, ApiError> {
    let manager = auth.manager.ok_or(Denial::NotAManager)?;
    Ok(Json(manager.into()))
}

/// One manager.
#[utoipa::path(get, path = "/api/managers/{id}", tag = "managers",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Manager id")),
    responses(
        (status = 200, description = "The manager", body = ManagerDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers cannot call this"),
        (status = 404, description = "No such manager"),
    ))]
pub async fn details(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Json<ManagerDto>, ApiError> {
    Ok(Json(find(&state, &auth, id).await?.into()))
}

/// Locks a manager: it can no longer obtain a token, and its tokens are revoked.
#[utoipa::path(put, path = "/api/managers/{id}/lock", tag = "managers",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Manager id")),
    responses(
        (status = 200, description = "The locked manager", body = ManagerDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers cannot call this"),
        (status = 404, description = "No such manager"),
    ))]
pub async fn lock(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Json<ManagerDto>, ApiError> {
    let manager = state
        .store()
        .set_manager_locked(auth.issuer.id, id, true)
        .await?;
    Ok(Json(manager.into()))
}

/// Unlocks a manager.
#[utoipa::path(put, path = "/api/managers/{id}/unlock", tag = "managers",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Manager id")),
    responses(
        (status = 200, description = "The unlocked manager", body = ManagerDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers cannot call this"),
        (status = 404, description = "No such manager"),
    ))]
pub async fn unlock(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Json<ManagerDto>, ApiError> {
    let manager = state
        .store()
        .set_manager_locked(auth.issuer.id, id, false)
        .await?;
    Ok(Json(manager.into()))
}

/// Sets a manager's password. Revokes every token of the manager and returns a fresh one
/// (usable once the manager is unlocked).
#[utoipa::path(post, path = "/api/managers/{id}/change-password", tag = "managers",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Manager id")),
    request_body = ChangePassword,
    responses(
        (status = 200, description = "Password changed", body = ChangePasswordResponse),
        (status = 400, description = "The password does not meet the rules"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers cannot call this"),
        (status = 404, description = "No such manager"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
    extract::Json(body): extract::Json<ChangePassword>,
) -> Result<Json<ChangePasswordResponse>, ApiError> {
    let manager = find(&state, &auth, id).await?;
    check_new_password(&body.password)?;
    let hash = hash_password_blocking(body.password.clone()).await?;
    state
        .store()
        .set_manager_password(auth.issuer.id, id, &hash)
        .await?;
    let token = issue_token(&state, auth.issuer.id, Some(id)).await?;
    tracing::info!(manager = %manager.username, "manager password changed");
    Ok(Json(ChangePasswordResponse {
        username: manager.username,
        password: body.password,
        token,
    }))
}

/// Lets a manager see one of the issuer's assets (and work on its assignments).
#[utoipa::path(put, path = "/api/managers/{id}/assets/{asset_uuid}/add", tag = "managers",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Manager id"),
           ("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The manager", body = ManagerDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers cannot call this"),
        (status = 404, description = "No such manager or asset"),
    ))]
pub async fn add_asset(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((id, asset_uuid)): Path<(i64, String)>,
) -> Result<Json<ManagerDto>, ApiError> {
    find(&state, &auth, id).await?;
    if !state
        .store()
        .asset_exists(auth.issuer.id, &asset_uuid)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    let manager = state
        .store()
        .add_manager_asset(auth.issuer.id, id, &asset_uuid)
        .await?;
    Ok(Json(manager.into()))
}

/// Takes an asset away from a manager (PUT, or POST as amp-rs sends it).
#[utoipa::path(method(put, post), path = "/api/managers/{id}/assets/{asset_uuid}/remove",
    tag = "managers",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Manager id"),
           ("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The manager", body = ManagerDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers cannot call this"),
        (status = 404, description = "No such manager, or the manager does not have the asset"),
    ))]
pub async fn remove_asset(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((id, asset_uuid)): Path<(i64, String)>,
) -> Result<Json<ManagerDto>, ApiError> {
    let manager = state
        .store()
        .remove_manager_asset(auth.issuer.id, id, &asset_uuid)
        .await?;
    Ok(Json(manager.into()))
}
