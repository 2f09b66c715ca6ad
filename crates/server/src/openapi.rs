//! The OpenAPI document, generated from the handlers' annotations and served at
//! `/api/openapi.json`.
//!
//! Its paths are those of the routes declared in [`crate::router`] (each handler registered
//! once, its annotation read there); [`ApiDoc`] adds the description, the tags, the security
//! scheme and the schemas the resource modules list beside their handlers.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, Method};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::access::Rule::Anonymous;
use crate::router::Routes;

mod errors;

/// The Amphora API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Amphora AMP API",
        description = "Self-hostable Asset Management Platform for the Liquid network, \
            wire-compatible with the Blockstream AMP API 0.1.13. Every path also accepts a \
            trailing slash. Errors: `{\"detail\": …}` for 401/403/404/405, `{\"Error\": …}` for \
            business-rule 400s, DRF field lists (`{\"field\": [\"msg\"]}`, \
            `{\"non_field_errors\": [\"msg\"]}`) for invalid input; AMP2 endpoints answer \
            `{\"error\": …}`. Legacy aliases: `/investors…` for `/registered_users…`, \
            `/gaids/{gaid}/investor`, `/user/refresh_token` (GET and POST), \
            `/user/change_password`. Access: issuers call every `/api` path except `/managers/me`; \
            investment managers (accounts an issuer creates with `/managers/create`) call only \
            `/info`, `/changelog`, `/user/obtain_token`, the registered-user paths, category \
            reads, `/gaids/{gaid}/validate`, `/managers/me`, and, for assets granted to them, \
            asset details, activities, balance, summary and assignments, and the events of those \
            assets (`/events`, `/events/stream`); anything else is 403. \
            Failed logins are limited per username and client address (429, `Retry-After`). \
            Issuers read the log of every write at `/audit`."
    ),
    modifiers(&TokenAuth),
    tags(
        (name = "general", description = "Version and changelog"),
        (name = "user", description = "The caller's account"),
        (name = "registered_users", description = "Investors an issuer keeps in its register"),
        (name = "categories", description = "Groups of registered users required by assets"),
        (name = "assets", description = "Issued assets and their settings"),
        (name = "gaids", description = "Account ids of wallets registered on the platform"),
        (name = "managers", description = "Investment managers: delegated accounts of an issuer"),
        (name = "audit", description = "The issuer's log of writes"),
        (name = "payouts", description = "Record-date payouts (dividends, coupons) to a security's holders"),
        (name = "events", description = "Every change to the issuer's data, as a feed and a Server-Sent Events stream"),
        (name = "webhooks", description = "The issuer's HTTP endpoints that receive its events, signed, at least once, in order"),
        (name = "amp2", description = "AMP2 co-signer (LWK's Amp2 client)"),
    )
)]
pub struct ApiDoc;

/// Declares the `Authorization: token <token>` scheme.
struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`token <40-hex token>` from POST /api/user/obtain_token",
            ))),
        );
    }
}

/// The whole document: [`ApiDoc`], the declared routes' paths and the schemas they reference,
/// completed with the error responses every operation can answer (see [`errors`]).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut value = serde_json::to_value(annotated()).expect("the OpenAPI document serializes");
    errors::complete(&mut value);
    serde_json::from_value(value).expect("the completed document is an OpenAPI document")
}

/// The document as the handlers' annotations describe it.
fn annotated() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for schemas in [
        crate::routes::health::Doc::openapi(),
        crate::routes::assignments::Doc::openapi(),
        crate::routes::distributions::Doc::openapi(),
        crate::routes::payouts::Doc::openapi(),
        crate::routes::user_categories::Doc::openapi(),
        crate::routes::events::Doc::openapi(),
    ] {
        doc.merge(schemas);
    }
    let table = crate::router::table();
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in table.schemas() {
        components
            .schemas
            .entry(name.clone())
            .or_insert_with(|| schema.clone());
    }
    doc.paths.merge(table.paths().clone());
    doc
}

/// The document as pretty JSON (what `/api/openapi.json` serves).
pub fn openapi_json() -> String {
    document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
}

/// `GET /api/openapi.json`: the document.
async fn serve() -> ([(HeaderName, &'static str); 1], String) {
    ([(CONTENT_TYPE, "application/json")], openapi_json())
}

/// The document's own route (anonymous, not in the document).
pub fn routes() -> Routes {
    Routes::new().add_undocumented(Anonymous, Method::GET, "/api/openapi.json", serve)
}
