//! The OpenAPI document, generated from the handlers' annotations and served at
//! `/api/openapi.json`.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::audit;

mod errors;
use crate::routes::{
    amp2, assets, categories, gaids, info, managers, registered_users, treasury_key, user,
};

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
            asset details, activities, balance, summary and assignments; anything else is 403. \
            Failed logins are limited per username and client address (429, `Retry-After`). \
            Issuers read the log of every write at `/audit`."
    ),
    paths(
        info::info,
        info::changelog,
        user::obtain_token,
        user::refresh_token,
        user::change_password,
        registered_users::list,
        registered_users::add,
        registered_users::details,
        registered_users::edit,
        registered_users::delete,
        registered_users::summary,
        registered_users::gaids,
        registered_users::add_gaid,
        registered_users::set_default_gaid,
        categories::list,
        categories::add,
        categories::details,
        categories::edit,
        categories::delete,
        categories::add_registered_user,
        categories::remove_registered_user,
        categories::add_asset,
        categories::remove_asset,
        assets::list,
        assets::issue,
        assets::details,
        assets::edit,
        assets::delete,
        assets::lock,
        assets::unlock,
        assets::memo,
        assets::set_memo,
        assets::treasury_addresses,
        assets::add_treasury_addresses,
        assets::delete_treasury_addresses,
        treasury_key::state,
        treasury_key::set,
        gaids::validate,
        gaids::registered_user,
        managers::list,
        managers::create,
        managers::me,
        managers::details,
        managers::lock,
        managers::unlock,
        managers::change_password,
        managers::add_asset,
        managers::remove_asset,
        audit::list,
        amp2::xpub,
        amp2::xpub_master,
        amp2::register,
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

/// The whole document: [`ApiDoc`] plus the paths of the resource modules that describe
/// themselves in an `OpenApi` struct of their own (one `merge` line each), completed with the
/// error responses every operation can answer (see [`errors`]).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut value = serde_json::to_value(annotated()).expect("the OpenAPI document serializes");
    errors::complete(&mut value);
    serde_json::from_value(value).expect("the completed document is an OpenAPI document")
}

/// The document as the handlers' annotations describe it.
fn annotated() -> utoipa::openapi::OpenApi {
    #[allow(unused_mut)]
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::routes::reissue_burn::Doc::openapi());
    doc.merge(crate::routes::registry::Doc::openapi());
    doc.merge(crate::routes::health::Doc::openapi());
    doc.merge(crate::routes::assignments::Doc::openapi());
    doc.merge(crate::routes::distributions::Doc::openapi());
    doc.merge(crate::routes::payouts::Doc::openapi());
    doc.merge(crate::routes::reports::Doc::openapi());
    doc.merge(crate::routes::gaid_balances::Doc::openapi());
    doc.merge(crate::routes::user_categories::Doc::openapi());
    doc.merge(crate::routes::amp2::Doc::openapi());
    doc
}

/// The document as pretty JSON (what `/api/openapi.json` serves).
pub fn openapi_json() -> String {
    document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
}
