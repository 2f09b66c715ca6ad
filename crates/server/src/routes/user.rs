//! The caller's own account: tokens and password.

use amphora_core::account::check_new_password;
use amphora_core::FieldError;
use axum::extract::State;
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::audit;
use crate::credentials::{hash_password_blocking, new_token, token_hash, verify_password_blocking};
use crate::error::ApiError;
use crate::extract::{AuthIssuer, ClientAddress, JsonOrForm};
use crate::router::Routes;
use crate::state::AppState;

/// The caller's own account; `refresh_token` and `change_password` also at their legacy
/// underscore spellings.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::Anonymous, routes!(obtain_token))
        .merge(
            Routes::new()
                .add(Rule::IssuerOnly, routes!(refresh_token))
                .add(Rule::IssuerOnly, routes!(change_password))
                .with_aliases(|path| path.replace('-', "_")),
        )
}

/// `POST /user/obtain_token` body (JSON or form-encoded).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ObtainToken {
    /// Account username.
    #[schema(min_length = 1)]
    pub username: String,
    /// Account password.
    #[schema(min_length = 1)]
    pub password: String,
}

/// A token response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// API token: send it as `Authorization: token <token>`.
    pub token: String,
}

/// `POST /user/change-password` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    /// The new password.
    #[schema(schema_with = crate::schema::new_password)]
    pub password: String,
}

/// `POST /user/change-password` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePasswordResponse {
    /// Account username.
    pub username: String,
    /// The new password, echoed back as AMP does.
    pub password: String,
    /// A fresh token; every other token of the account is revoked.
    pub token: String,
}

/// Issues and stores a new token for issuer `issuer_id`, or for its manager `manager_id`.
pub(crate) async fn issue_token(
    state: &AppState,
    issuer_id: i64,
    manager_id: Option<i64>,
) -> Result<String, ApiError> {
    let token = new_token();
    let lifetime = chrono::Duration::from_std(state.token_lifetime())
        .map_err(|e| ApiError::Internal(format!("token lifetime out of range: {e}")))?;
    let hash = token_hash(&token);
    let expires_at = Utc::now() + lifetime;
    match manager_id {
        None => {
            state
                .store()
                .insert_token(issuer_id, &hash, expires_at)
                .await?
        }
        Some(manager_id) => {
            state
                .store()
                .insert_manager_token(issuer_id, manager_id, &hash, expires_at)
                .await?
        }
    };
    Ok(token)
}

/// The account a username names: an issuer, or a manager (with its issuer id).
enum Account {
    Issuer(amphora_store::Issuer),
    Manager(amphora_store::Manager),
}

impl Account {
    fn password_hash(&self) -> &str {
        match self {
            Account::Issuer(issuer) => &issuer.password_hash,
            Account::Manager(manager) => &manager.password_hash,
        }
    }
}

async fn account_by_username(
    state: &AppState,
    username: &str,
) -> Result<Option<Account>, ApiError> {
    if let Some(issuer) = state.store().issuer_by_username(username).await? {
        return Ok(Some(Account::Issuer(issuer)));
    }
    Ok(state
        .store()
        .manager_by_username(username)
        .await?
        .map(Account::Manager))
}

/// Exchanges a username and password (of an issuer or a manager) for an API token. Failed
/// logins are limited per username and per client address (429 with `Retry-After`; each
/// attempt is reserved before its password is verified); at most
/// `login_max_concurrent_verifications` passwords are verified at once (503 with `Retry-After`
/// beyond); a locked manager cannot log in.
#[utoipa::path(post, path = "/api/user/obtain_token", tag = "user",
    request_body(content(
        (ObtainToken = "application/json"),
        (ObtainToken = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "A new token", body = TokenResponse),
        (status = 400, description = "Missing fields or wrong credentials \
            (`{\"non_field_errors\": [\"Unable to log in with provided credentials.\"]}`), \
            or a locked manager account"),
        (status = 429, description = "Too many failed logins for this username or address \
            (`Retry-After` gives the seconds to wait)"),
        (status = 503, description = "As many logins as allowed are being verified now \
            (`Retry-After` gives the seconds to wait)"),
    ))]
pub async fn obtain_token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    JsonOrForm(body): JsonOrForm<ObtainToken>,
) -> Result<Json<TokenResponse>, ApiError> {
    let mut blank = Vec::new();
    if body.username.is_empty() {
        blank.push(FieldError::new("username", "This field may not be blank."));
    }
    if body.password.is_empty() {
        blank.push(FieldError::new("password", "This field may not be blank."));
    }
    if !blank.is_empty() {
        return Err(ApiError::Fields(blank));
    }
    // A verification permit first (answered at once when none is free, so a flood of logins
    // queues no memory), then the attempt is reserved atomically: parallel attempts beyond the
    // limit are refused before any password is verified.
    let permit = state
        .login_verifications()
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::LoginsBusy(1))?;
    let reservation = state
        .login_limiter()
        .reserve(&body.username, address)
        .map_err(ApiError::TooManyRequests)?;
    let account = account_by_username(&state, &body.username).await?;
    let stored_hash = account.as_ref().map(|a| a.password_hash().to_string());
    let valid = verify_password_blocking(body.password, stored_hash).await;
    drop(permit);
    let account = match account {
        Some(account) if valid => account,
        // the reservation stays a failure
        _ => {
            return Err(ApiError::field(
                FieldError::NON_FIELD,
                "Unable to log in with provided credentials.",
            ));
        }
    };
    reservation.succeeded();
    let token = match account {
        Account::Issuer(issuer) => {
            let token = issue_token(&state, issuer.id, None).await?;
            audit::record_login(&state, &issuer, None).await?;
            tracing::info!(issuer = %issuer.username, "token issued");
            token
        }
        Account::Manager(manager) if manager.is_locked => {
            return Err(ApiError::field(
                FieldError::NON_FIELD,
                "User account is locked.",
            ))
        }
        Account::Manager(manager) => {
            let token = issue_token(&state, manager.issuer_id, Some(manager.id)).await?;
            let issuer = state
                .store()
                .issuer(manager.issuer_id)
                .await?
                .ok_or_else(|| ApiError::Internal("a manager without its issuer".to_string()))?;
            audit::record_login(&state, &issuer, Some((manager.id, &manager.username))).await?;
            tracing::info!(manager = %manager.username, "token issued");
            token
        }
    };
    Ok(Json(TokenResponse { token }))
}

/// Replaces the caller's token with a new one (GET or POST; also `/user/refresh_token`).
#[utoipa::path(method(get, post), path = "/api/user/refresh-token", tag = "user",
    security(("token" = [])),
    responses(
        (status = 200, description = "A new token; the old one is revoked", body = TokenResponse),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn refresh_token(
    State(state): State<AppState>,
    auth: AuthIssuer,
) -> Result<Json<TokenResponse>, ApiError> {
    let token = issue_token(&state, auth.issuer.id, None).await?;
    state.store().delete_token(&auth.token_hash).await?;
    Ok(Json(TokenResponse { token }))
}

/// Changes the caller's password (also `/user/change_password`). Revokes every token of the
/// account and returns a fresh one.
#[utoipa::path(post, path = "/api/user/change-password", tag = "user",
    security(("token" = [])),
    request_body = ChangePassword,
    responses(
        (status = 200, description = "Password changed", body = ChangePasswordResponse),
        (status = 400, description = "The password does not meet the rules"),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: AuthIssuer,
    crate::extract::Json(body): crate::extract::Json<ChangePassword>,
) -> Result<Json<ChangePasswordResponse>, ApiError> {
    check_new_password(&body.password)?;
    let hash = hash_password_blocking(body.password.clone()).await?;
    state
        .store()
        .set_issuer_password(auth.issuer.id, &hash)
        .await?;
    let token = issue_token(&state, auth.issuer.id, None).await?;
    tracing::info!(issuer = %auth.issuer.username, "password changed");
    Ok(Json(ChangePasswordResponse {
        username: auth.issuer.username,
        password: body.password,
        token,
    }))
}
