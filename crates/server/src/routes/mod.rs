//! The API's handlers, one module per resource.

pub mod amp2;
pub(crate) mod asset_access;
pub mod assets;
pub mod assignments;
pub mod categories;
pub(crate) mod csv_answer;
pub mod distributions;
pub mod events;
pub mod gaid_balances;
pub mod gaids;
pub mod health;
pub mod info;
pub mod managers;
pub mod payouts;
pub mod registered_users;
pub mod registry;
pub mod reissue_burn;
pub mod reports;
pub mod treasury_key;
pub mod user;
pub mod user_categories;
pub mod webhooks;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Fallback for unknown paths: `404 {"detail": "Not found."}`.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Fallback for a known path with the wrong method: `405 {"detail": …}`.
pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method)
}

/// `204 No Content` with an empty body.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
