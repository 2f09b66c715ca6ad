//! The issuer's administration of an asset: its authorization endpoint (the one field
//! `assets/{u}/edit` changes), its registration with the Liquid Asset Registry and its
//! authorization for transfers, and its outputs with the UTXO blacklist.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde_json::{json, Value};

use super::api::Answer;
use super::figures::amount_cell;
use super::layout::{csrf, field, page, paged, respond, text, unavailable};
use super::people::with_status;
use super::{Form, Signed};

/// The asset administration routes of the console.
pub fn routes() -> Router<super::Console> {
    Router::new()
        .route("/assets/{asset_uuid}/edit", post(edit))
        .route("/assets/{asset_uuid}/registry/{action}", post(registry))
        .route("/assets/{asset_uuid}/outputs", get(outputs))
        .route("/assets/{asset_uuid}/outputs/{action}", post(blacklist))
}

/// The asset page's administration section for `asset` (the API's asset object).
pub fn section(signed: &Signed, uuid: &str, asset: &Value) -> Markup {
    let registered = asset["is_registered"].as_bool() == Some(true);
    let authorized = asset["is_authorized"].as_bool() == Some(true);
    let endpoint = text(&asset["issuer_authorization_endpoint"]);
    html! {
        section.grid {
            form.card method="post" action={ "/assets/" (uuid) "/edit" } {
                h2 { "Transfer authorization" }
                p.muted { "Every transfer the co-signer is asked to sign is also sent to this endpoint, which must approve it. Empty: the platform's rules alone decide." }
                (csrf(&signed.session))
                (field("Issuer authorization endpoint", "issuer_authorization_endpoint", "url", &endpoint, &Default::default()))
                button type="submit" { "Save the endpoint" }
            }
            div.card {
                h2 { "Registry" }
                dl.facts {
                    dt { "Registered" } dd id="is-registered" { (if registered { "yes" } else { "no" }) }
                    dt { "Authorized" } dd id="is-authorized" { (if authorized { "yes" } else { "no" }) }
                }
                @if !registered {
                    form method="post" action={ "/assets/" (uuid) "/registry/register" } {
                        (csrf(&signed.session))
                        p.muted { "Submits the contract after checking the domain proof at https://" (text(&asset["domain"])) "/.well-known/liquid-asset-proof-" (text(&asset["asset_id"])) "." }
                        button type="submit" { "Register the asset" }
                    }
                }
                @if !authorized {
                    form method="post" action={ "/assets/" (uuid) "/registry/authorize" } {
                        (csrf(&signed.session))
                        button type="submit" { "Authorize for transfers" }
                    }
                }
            }
        }
    }
}

/// `POST /assets/{uuid}/edit`: `PUT /api/assets/{uuid}/edit` with the endpoint (empty clears it).
async fn edit(signed: Signed, Path(uuid): Path<String>, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let endpoint = form.text("issuer_authorization_endpoint");
    let body = json!({ "issuer_authorization_endpoint": endpoint });
    let answer = signed
        .api
        .call(Method::PUT, &format!("/assets/{uuid}/edit"), Some(body))
        .await;
    let done = match endpoint.is_empty() {
        true => "Cleared the authorization endpoint.",
        false => "Saved the authorization endpoint.",
    };
    signed.back(&answer, &format!("/assets/{uuid}"), done)
}

/// `POST /assets/{uuid}/registry/{register|authorize}`: the API's `GET …/register` or
/// `GET …/register-authorized`.
async fn registry(
    signed: Signed,
    Path((uuid, action)): Path<(String, String)>,
    form: Form,
) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let (path, done) = match action.as_str() {
        "register" => ("register", "Registered with the asset registry."),
        "authorize" => ("register-authorized", "Authorized for transfers."),
        _ => return axum::response::IntoResponse::into_response(crate::error::ApiError::NotFound),
    };
    let answer = signed.api.get(&format!("/assets/{uuid}/{path}")).await;
    signed.back(&answer, &format!("/assets/{uuid}"), done)
}

/// `GET /assets/{uuid}/outputs`: the asset's unspent outputs (the API's `utxos`), each with
/// its blacklist switch, paged.
async fn outputs(
    signed: Signed,
    Path(uuid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let asset = signed.api.get(&format!("/assets/{uuid}")).await;
    let utxos = signed.api.get(&format!("/assets/{uuid}/utxos")).await;
    let precision = asset.body["precision"].as_u64().unwrap_or(0).min(8) as u8;
    let page_number = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let body = html! {
        p { a href={ "/assets/" (uuid) } { "← " (text(&asset.body["name"])) } }
        p.muted { "The co-signer refuses to sign any transaction that spends a blacklisted output." }
        (outputs_table(&signed, &uuid, &utxos, (&text(&asset.body["asset_id"]), precision), page_number))
    };
    with_status(
        respond(
            &[&asset, &utxos],
            page("Outputs", Some(&signed.session), body),
        ),
        if asset.ok() { &utxos } else { &asset },
    )
}

fn outputs_table(
    signed: &Signed,
    uuid: &str,
    utxos: &Answer,
    (asset_id, precision): (&str, u8),
    page_number: usize,
) -> Markup {
    let rows = utxos.body.as_array().cloned().unwrap_or_default();
    let link = format!("/assets/{uuid}/outputs");
    let (range, pager) = paged(&rows, page_number, &link, "page");
    html! {
        @if !utxos.ok() { (unavailable(utxos)) }
        @else if rows.is_empty() { p.muted { "No unspent outputs." } }
        @else {
            table {
                thead { tr { th { "Output" } th.num { "Amount" } th { "Holder" } th { "Blacklisted" } th {} } }
                tbody {
                    @for row in &rows[range] {
                        @let listed = row["blacklisted"].as_bool() == Some(true);
                        @let holder = match (row["is_treasury"].as_bool(), row["gaid"].as_str()) {
                            (Some(true), _) => "Treasury".to_string(),
                            (_, Some(gaid)) => gaid.to_string(),
                            _ => "Unregistered".to_string(),
                        };
                        tr {
                            td.mono { (text(&row["txid"])) ":" (text(&row["vout"])) }
                            td.num {
                                @if row["asset"].as_str() == Some(asset_id) { (amount_cell(row["amount"].as_i64().unwrap_or(0), precision)) }
                                @else { (text(&row["amount"])) " token" }
                            }
                            td.mono { (holder) }
                            td { (if listed { "yes" } else { "no" }) }
                            td {
                                form.inline method="post" action={ (link) "/" (if listed { "whitelist" } else { "blacklist" }) } {
                                    (csrf(&signed.session))
                                    input type="hidden" name="txid" value=(text(&row["txid"]));
                                    input type="hidden" name="vout" value=(text(&row["vout"]));
                                    button.small type="submit" { (if listed { "Remove from blacklist" } else { "Blacklist" }) }
                                }
                            }
                        }
                    }
                }
            }
            (pager)
        }
    }
}

/// `POST /assets/{uuid}/outputs/{blacklist|whitelist}`: the API's `utxos/blacklist` or
/// `utxos/whitelist` with the one output.
async fn blacklist(
    signed: Signed,
    Path((uuid, action)): Path<(String, String)>,
    form: Form,
) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let done = match action.as_str() {
        "blacklist" => "Blacklisted the output: the co-signer will not spend it.",
        "whitelist" => "Removed the output from the blacklist.",
        _ => return axum::response::IntoResponse::into_response(crate::error::ApiError::NotFound),
    };
    let vout = super::number_or_text(form.text("vout"));
    let body = json!([{ "txid": form.text("txid"), "vout": vout }]);
    let answer = signed
        .api
        .call(
            Method::POST,
            &format!("/assets/{uuid}/utxos/{action}"),
            Some(body),
        )
        .await;
    signed.back(&answer, &format!("/assets/{uuid}/outputs"), done)
}
