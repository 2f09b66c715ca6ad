//! amphora-server: the AMP-compatible issuer API under `/api` and the AMP2 co-signer under
//! `/amp2`, as one axum application.
//!
//! [`app`] builds the router (used as-is by the tests); [`Platform`] prepares everything a
//! running server needs (data directory, database and migrations, first issuer, platform key)
//! and [`serve`] runs it until a shutdown signal.

pub mod access;
pub mod admin;
pub mod audit;
pub mod chain_view;
pub mod config;
pub mod console;
pub mod cosign;
pub mod credentials;
pub mod docs;
pub mod error;
pub mod extract;
pub mod forwarded;
pub mod issuance;
pub mod login_limit;
pub mod memory;
pub mod openapi;
pub mod outbound;
pub mod ownerships_cache;
mod platform;
pub mod rate_limit;
pub mod refusal;
pub mod router;
pub mod routes;
pub mod schema;
pub mod state;
pub mod verify;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::trace::TraceLayer;

pub use config::{Config, NodeConfig, Secret};
pub use error::ApiError;
pub use issuance::recover_pending_issuances;
pub use platform::{open_store, serve, CreatedIssuer, Platform, ServerError};
pub use state::AppState;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole HTTP application: `/api/…`, `/amp2/…`, `/api/openapi.json` and its interactive
/// documentation at `/api/docs`, with an optional
/// trailing slash on every path (never a redirect) and JSON errors for unknown paths (404) and
/// methods (405). Every route is declared once in [`router`], with the access rule that
/// [`access::authorize`] enforces. The issuer console's pages ([`console`]) are at `/`, without
/// sandbox extras.
pub fn app(state: AppState) -> Router {
    app_with_console(state, None)
}

/// [`app`] with the console's sandbox extras (the embedded node's treasury).
pub fn app_with_console(state: AppState, sandbox: Option<console::Sandbox>) -> Router {
    // Every matched route passes its access rule first (see `access`).
    let inner = router::api()
        .into_router(&state)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .merge(router::root().into_router(&state))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authorize,
        ))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state.clone());

    // The console's HTML pages hold no data of their own: everything they show or change is
    // an API request to `inner`, through the access rules, with the signed-in user's token.
    // The path is normalised before either router matches it.
    Router::new()
        .merge(console::routes(inner.clone(), state, sandbox))
        .fallback_service(inner)
        .layer(NormalizePathLayer::trim_trailing_slash())
}
