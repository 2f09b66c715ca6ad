//! `/info` and `/changelog`.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::router::Routes;

/// The general routes.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::Anonymous, routes!(info))
        .add(Rule::Anonymous, routes!(changelog))
}

/// The AMP API version Amphora implements.
pub const AMP_API_VERSION: &str = "0.1.13";

/// `GET /info` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Info {
    /// AMP API version implemented (`0.1.13`).
    pub version: &'static str,
    /// Free-text notes about this server.
    pub notes: String,
    /// Version of the Amphora server.
    pub amphora_version: &'static str,
}

/// API and server version. Needs no token.
#[utoipa::path(get, path = "/api/info", tag = "general",
    responses((status = 200, description = "Version information", body = Info)))]
pub async fn info() -> Json<Info> {
    Json(Info {
        version: AMP_API_VERSION,
        notes: format!(
            "Amphora {}: an open, self-hostable Asset Management Platform for the Liquid \
             network, wire-compatible with the Blockstream AMP API {AMP_API_VERSION}.",
            env!("CARGO_PKG_VERSION")
        ),
        amphora_version: env!("CARGO_PKG_VERSION"),
    })
}

/// The AMP API changelog: version → change note, oldest first.
pub const CHANGELOG: &[(&str, &str)] = &[
    ("0.1.0", "Version numbering reset. Assignment edit replaced by /assignments/{id}/lock and /unlock; distribution_status replaced by is_distributed; vesting_timestamp on assignment creation, vesting_datetime and has_vested in details. New /changelog. GET /gaids/{gaid}/validate replaces /investors/validate-gaid. Categories moved to /categories. New /assets/{asset_uuid}/memo and /memo/set."),
    ("0.1.1", "Asset field authorizer_endpoint renamed issuer_authorization_endpoint; it is called during transaction authorization and can change the result."),
    ("0.1.2", "precision can be set at issuance and appears in issuance and asset details."),
    ("0.1.3", "Blacklist counter in /assets/{asset_uuid}/summary."),
    ("0.1.4", "is_locked on assets; /assets/{asset_uuid}/lock and /unlock; GET /gaids/{gaid}/address."),
    ("0.1.5", "/assets/{asset_uuid}/lost-outputs; /user/refresh-token; /user/change-password; assignment edit removed; manager endpoints added."),
    ("0.1.6", "Category association endpoints replaced by /categories/{id}/registered_users/{id}/add|remove and /categories/{id}/assets/{asset_uuid}/add|remove; /gaids/{gaid}/investor."),
    ("0.1.7", "investor renamed registered_user everywhere (old paths and keys kept temporarily). Assignment creation takes a single assignment. Removed /investors/validate-gaid and the old category association endpoints."),
    ("0.1.8", "vesting_timestamp in assignment details; reissuance_token_id in asset details."),
    ("0.1.9", "amount_blinder and asset_blinder in the activities list."),
    ("0.1.10", "GET /assets/{asset_uuid}/txs and /txs/{txid}."),
    ("0.1.11", "txs: asset_id added, date format fixed, reissuance token data added."),
    ("0.1.12", "txs: unblinded_url added; new POST /assets/{asset_uuid}/update-blinders."),
    ("0.1.13", "GAID field in /assets/{asset_uuid}/assignments and /assignments/{id}."),
];

/// The AMP API changelog as an object: version string → change note. A token is accepted but
/// not required.
#[utoipa::path(get, path = "/api/changelog", tag = "general",
    responses((status = 200, description = "Version → change note",
        body = std::collections::BTreeMap<String, String>)))]
pub async fn changelog() -> Json<serde_json::Map<String, serde_json::Value>> {
    Json(
        CHANGELOG
            .iter()
            .map(|(version, note)| (version.to_string(), serde_json::Value::from(*note)))
            .collect(),
    )
}
