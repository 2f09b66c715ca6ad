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
pub mod openapi;
pub mod outbound;
mod platform;
pub mod rate_limit;
pub mod routes;
pub mod schema;
pub mod state;

use axum::extract::DefaultBodyLimit;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{delete, get, post, put};
use axum::Router;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::trace::TraceLayer;

pub use config::{Config, NodeConfig, Secret};
pub use error::ApiError;
pub use issuance::recover_pending_issuances;
pub use platform::{open_store, serve, CreatedIssuer, Platform, ServerError};
pub use state::AppState;

use routes::{
    amp2, assets, categories, gaids, info, managers, registered_users, treasury_key, user,
};

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole HTTP application: `/api/…`, `/amp2/…`, `/api/openapi.json` and its interactive
/// documentation at `/api/docs`, with an optional
/// trailing slash on every path (never a redirect) and JSON errors for unknown paths (404) and
/// methods (405). Every route is guarded by [`access::ACCESS_MATRIX`]. The issuer console's
/// pages ([`console`]) are at `/`, without sandbox extras.
pub fn app(state: AppState) -> Router {
    app_with_console(state, None)
}

/// [`app`] with the console's sandbox extras (the embedded node's treasury).
pub fn app_with_console(state: AppState, sandbox: Option<console::Sandbox>) -> Router {
    let api = Router::new()
        .route("/info", get(info::info))
        .route("/changelog", get(info::changelog))
        .route("/openapi.json", get(openapi_document))
        .route("/docs", get(docs::page))
        .route("/docs/{file}", get(docs::file))
        .route("/user/obtain_token", post(user::obtain_token))
        .route(
            "/user/refresh-token",
            get(user::refresh_token).post(user::refresh_token),
        )
        .route(
            "/user/refresh_token",
            get(user::refresh_token).post(user::refresh_token),
        )
        .route("/user/change-password", post(user::change_password))
        .route("/user/change_password", post(user::change_password))
        .merge(registered_user_routes("/registered_users"))
        .merge(registered_user_routes("/investors"))
        .route("/categories", get(categories::list))
        .route("/categories/add", post(categories::add))
        .route("/categories/{id}", get(categories::details))
        .route("/categories/{id}/edit", put(categories::edit))
        .route("/categories/{id}/delete", delete(categories::delete))
        .route(
            "/categories/{id}/registered_users/{user_id}/add",
            put(categories::add_registered_user),
        )
        .route(
            "/categories/{id}/registered_users/{user_id}/remove",
            put(categories::remove_registered_user),
        )
        .route(
            "/categories/{id}/assets/{asset_uuid}/add",
            put(categories::add_asset),
        )
        .route(
            "/categories/{id}/assets/{asset_uuid}/remove",
            put(categories::remove_asset),
        )
        .route("/assets", get(assets::list))
        .route("/assets/issue", post(assets::issue))
        .route("/assets/{asset_uuid}", get(assets::details))
        .route("/assets/{asset_uuid}/edit", put(assets::edit))
        .route("/assets/{asset_uuid}/delete", delete(assets::delete))
        .route("/assets/{asset_uuid}/lock", put(assets::lock))
        .route("/assets/{asset_uuid}/unlock", put(assets::unlock))
        .route("/assets/{asset_uuid}/memo", get(assets::memo))
        .route("/assets/{asset_uuid}/memo/set", post(assets::set_memo))
        .route(
            "/assets/{asset_uuid}/treasury-addresses",
            get(assets::treasury_addresses),
        )
        .route(
            "/assets/{asset_uuid}/treasury-addresses/add",
            post(assets::add_treasury_addresses),
        )
        .route(
            "/assets/{asset_uuid}/treasury-addresses/delete",
            delete(assets::delete_treasury_addresses),
        )
        .route(
            "/assets/{asset_uuid}/treasury-view-key",
            get(treasury_key::state).put(treasury_key::set),
        )
        .route("/gaids/{gaid}/validate", get(gaids::validate))
        .route("/gaids/{gaid}/registered_user", get(gaids::registered_user))
        .route("/gaids/{gaid}/investor", get(gaids::registered_user))
        .route("/gaids/{gaid}/address", get(gaids::address))
        .route("/managers", get(managers::list))
        .route("/managers/create", post(managers::create))
        .route("/managers/me", get(managers::me))
        .route("/managers/{id}", get(managers::details))
        .route("/managers/{id}/lock", put(managers::lock))
        .route("/managers/{id}/unlock", put(managers::unlock))
        .route(
            "/managers/{id}/change-password",
            post(managers::change_password),
        )
        .route(
            "/managers/{id}/assets/{asset_uuid}/add",
            put(managers::add_asset),
        )
        .route(
            "/managers/{id}/assets/{asset_uuid}/remove",
            put(managers::remove_asset).post(managers::remove_asset),
        )
        .route("/audit", get(audit::list))
        .merge(routes::assignments::routes())
        .merge(routes::distributions::routes())
        .merge(routes::payouts::routes())
        // Resources in their own modules, each with a `routes()` of its paths (one line each):
        .merge(routes::reissue_burn::routes())
        .merge(routes::registry::routes())
        .merge(routes::reports::routes())
        .merge(routes::gaid_balances::routes())
        .merge(routes::user_categories::routes())
        .method_not_allowed_fallback(routes::method_not_allowed);

    // The anonymous wallet endpoints are rate limited per client address before anything
    // else runs (see `rate_limit`).
    let amp2_wallets = Router::new()
        .route("/wallets/register", post(amp2::register))
        .route("/wallets/sign", post(amp2::sign))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::per_address,
        ));
    let amp2 = Router::new()
        .route("/info/xpub", get(amp2::xpub))
        .route("/info/xpub-master", get(amp2::xpub_master))
        .merge(amp2_wallets)
        .route("/info/authorizer", get(amp2::authorizer))
        .method_not_allowed_fallback(routes::method_not_allowed);

    // Every matched route passes the access matrix first (see `access`).
    let inner = Router::new()
        .nest("/api", api)
        .nest("/amp2", amp2)
        .merge(routes::health::routes())
        .merge(routes::registry::public_routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authorize,
        ))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state.clone());

    // The console's HTML pages hold no data of their own: everything they show or change is
    // an API request to `inner`, through the access matrix, with the signed-in user's token.
    // The path is normalised before either router matches it.
    Router::new()
        .merge(console::routes(inner.clone(), state, sandbox))
        .fallback_service(inner)
        .layer(NormalizePathLayer::trim_trailing_slash())
}

fn registered_user_routes(prefix: &str) -> Router<AppState> {
    Router::new()
        .route(prefix, get(registered_users::list))
        .route(&format!("{prefix}/add"), post(registered_users::add))
        .route(&format!("{prefix}/{{id}}"), get(registered_users::details))
        .route(
            &format!("{prefix}/{{id}}/edit"),
            put(registered_users::edit),
        )
        .route(
            &format!("{prefix}/{{id}}/delete"),
            delete(registered_users::delete),
        )
        .route(
            &format!("{prefix}/{{id}}/summary"),
            get(registered_users::summary),
        )
        .route(
            &format!("{prefix}/{{id}}/gaids"),
            get(registered_users::gaids),
        )
        .route(
            &format!("{prefix}/{{id}}/gaids/add"),
            post(registered_users::add_gaid),
        )
        .route(
            &format!("{prefix}/{{id}}/gaids/set-default"),
            post(registered_users::set_default_gaid),
        )
}

async fn openapi_document() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(CONTENT_TYPE, "application/json")],
        openapi::openapi_json(),
    )
}
