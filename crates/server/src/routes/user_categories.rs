//! The registered-user paths the seed tutorial lists for issuers and managers beside the
//! basic ones: `PUT /registered_users/{id}/categories/add|delete` (`{"categories": [ids]}`) and
//! `/registered_users/validate-gaid` (the GAID in the query string or a JSON body, answered as
//! `/gaids/{gaid}/validate` answers).

use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path, RawBody};
use crate::router::Routes;
use crate::routes::gaids::{validation, GaidValidation};
use crate::routes::registered_users::RegisteredUserDto;
use crate::state::AppState;

/// The paths of this module: issuers and managers.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOrManager, routes!(validate_gaid))
        .add(Rule::IssuerOrManager, routes!(add_categories))
        .add(Rule::IssuerOrManager, routes!(delete_categories))
}

/// The schemas this module adds to the OpenAPI document (its paths come from [`routes`]).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(CategoriesRequest, CategoriesBody)))]
pub struct Doc;

/// `PUT /registered_users/{id}/categories/add|delete` body (a bare array of ids is accepted
/// too, as AMP 0.1.0 allowed).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CategoriesRequest {
    /// Category ids of the caller's issuer.
    pub categories: Vec<i64>,
}

/// What `PUT /registered_users/{id}/categories/add|delete` accepts: `{"categories": [ids]}`
/// or a bare `[ids]`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CategoriesBody {
    /// `{"categories": [ids]}`.
    Wrapped(CategoriesRequest),
    /// `[ids]`, as AMP 0.1.0 allowed.
    Bare(Vec<i64>),
}

/// Reads `{"categories": [ids]}` or a bare `[ids]`.
fn category_ids(body: &[u8]) -> Result<Vec<i64>, ApiError> {
    let value: Value = extract::parse_json(body)?;
    if value.is_array() {
        return extract::from_value::<Vec<i64>>(value).map_err(|_| {
            ApiError::field("categories", "Expected a list of category ids (integers).")
        });
    }
    let request: CategoriesRequest = extract::parse_json_object(body)?;
    Ok(request.categories)
}

async fn change(
    state: &AppState,
    auth: &AuthIssuer,
    id: i64,
    body: &[u8],
    member: bool,
) -> Result<Json<RegisteredUserDto>, ApiError> {
    let store = state.store();
    store
        .registered_user(auth.issuer.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let ids = category_ids(body)?;
    store
        .change_registered_user_categories(auth.issuer.id, id, &ids, member)
        .await?;
    let user = store
        .registered_user(auth.issuer.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(user.into()))
}

/// Puts the registered user in each of the categories (all or none; idempotent).
#[utoipa::path(put, path = "/api/registered_users/{id}/categories/add", tag = "registered_users",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Registered user id")),
    request_body = CategoriesBody,
    responses(
        (status = 200, description = "The updated registered user", body = RegisteredUserDto),
        (status = 400, description = "Malformed body, or ids that are not your categories \
            (`{\"Error\": …}`; nothing changes)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such registered user"),
    ))]
pub async fn add_categories(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
    RawBody(body): RawBody,
) -> Result<Json<RegisteredUserDto>, ApiError> {
    change(&state, &auth, id, &body, true).await
}

/// Takes the registered user out of each of the categories (all or none; idempotent).
#[utoipa::path(put, path = "/api/registered_users/{id}/categories/delete", tag = "registered_users",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Registered user id")),
    request_body = CategoriesBody,
    responses(
        (status = 200, description = "The updated registered user", body = RegisteredUserDto),
        (status = 400, description = "Malformed body, or ids that are not your categories \
            (`{\"Error\": …}`; nothing changes)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such registered user"),
    ))]
pub async fn delete_categories(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
    RawBody(body): RawBody,
) -> Result<Json<RegisteredUserDto>, ApiError> {
    change(&state, &auth, id, &body, false).await
}

/// The GAID of a validate-gaid request: the query's `GAID` (or `gaid`), else the body as a
/// bare JSON string or an object with `GAID` (or `gaid`).
fn requested_gaid(uri: &Uri, body: &[u8]) -> Result<String, ApiError> {
    let query =
        axum::extract::Query::<std::collections::BTreeMap<String, String>>::try_from_uri(uri)
            .map_err(|_| ApiError::field("GAID", "Malformed query string."))?
            .0;
    if let Some(gaid) = query.get("GAID").or_else(|| query.get("gaid")) {
        return Ok(gaid.clone());
    }
    let missing = || ApiError::field("GAID", "This field is required.");
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(missing());
    }
    match extract::parse_json::<Value>(body)? {
        Value::String(gaid) => Ok(gaid),
        Value::Object(map) => match map.get("GAID").or_else(|| map.get("gaid")) {
            Some(Value::String(gaid)) => Ok(gaid.clone()),
            Some(_) => Err(ApiError::field("GAID", "Not a valid string.")),
            None => Err(missing()),
        },
        _ => Err(ApiError::field(
            "GAID",
            "Send the GAID as ?GAID=…, a JSON string or {\"GAID\": …}.",
        )),
    }
}

/// Validates a GAID given in the query (`?GAID=GA…`) or a JSON body (`"GA…"` or
/// `{"GAID": "GA…"}`); the answer is the one of `GET /gaids/{gaid}/validate`.
#[utoipa::path(method(get, post), path = "/api/registered_users/validate-gaid", tag = "registered_users",
    security(("token" = [])),
    params(("GAID" = String, Query, description = "The GAID to check (a POST may send it as its body instead: a JSON string or `{\"GAID\": …}`)")),
    responses(
        (status = 200, description = "Validation result", body = GaidValidation),
        (status = 400, description = "No GAID given"),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn validate_gaid(
    State(state): State<AppState>,
    _auth: AuthIssuer,
    uri: Uri,
    RawBody(body): RawBody,
) -> Result<Json<GaidValidation>, ApiError> {
    let gaid = requested_gaid(&uri, &body)?;
    Ok(Json(validation(&state, &gaid).await?))
}
