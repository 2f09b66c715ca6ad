//! The issuer's sections of an asset's page: its memo, its treasury addresses and the
//! co-signer's latest decisions with their reason codes.

use axum::extract::Path;
use axum::http::Method;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use maud::{html, Markup};
use serde_json::Value;

use super::api::Answer;
use super::layout::{csrf, text, unavailable, when};
use super::{Form, Signed};

/// The memo and treasury-address routes of the console.
pub fn routes() -> Router<super::Console> {
    Router::new()
        .route("/assets/{asset_uuid}/memo", post(set_memo))
        .route(
            "/assets/{asset_uuid}/treasury-addresses/{action}",
            post(treasury),
        )
}

/// The section: the memo form and the treasury addresses with add and remove forms. Its API
/// answers come back too (a 401 among them ends the session).
pub async fn section(signed: &Signed, uuid: &str) -> (Markup, Vec<Answer>) {
    let memo = signed.api.get(&format!("/assets/{uuid}/memo")).await;
    let addresses = signed
        .api
        .get(&format!("/assets/{uuid}/treasury-addresses"))
        .await;
    let decisions = signed
        .api
        .get(&format!(
            "/assets/{uuid}/cosign-decisions?sortcolumn=datetime&sortorder=desc&count=50"
        ))
        .await;
    let markup = html! {
        section {
            h2 { "Co-signing decisions (latest 50)" }
            @if !decisions.ok() { (unavailable(&decisions)) }
            @else if decisions.body.as_array().is_none_or(Vec::is_empty) { p.muted { "No transfer has been co-signed or refused yet." } }
            @else {
                table {
                    thead { tr { th { "When" } th { "Decision" } th { "Type" } th.num { "Amount" } th { "Reasons" } th { "Transaction" } } }
                    tbody {
                        @for row in decisions.body.as_array().into_iter().flatten() {
                            tr {
                                td { (when(&row["datetime"])) }
                                td { (if row["approved"].as_bool() == Some(true) { "approved" } else { "refused" }) }
                                td { (text(&row["type"])) }
                                td.num { (text(&row["amount"])) }
                                td.mono { (row["reasons"].as_array().map(|r| r.iter().map(text).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
                                td.mono { (text(&row["txid"])) }
                            }
                        }
                    }
                }
            }
        }
        section.grid {
            form.card method="post" action={ "/assets/" (uuid) "/memo" } {
                h2 { "Memo" }
                (csrf(&signed.session))
                @if memo.ok() {
                    div.field {
                        label for="f-memo" { "Memo (for your records)" }
                        textarea id="f-memo" name="memo" rows="3" { (text(&memo.body)) }
                    }
                    button type="submit" { "Save the memo" }
                } @else { (unavailable(&memo)) }
            }
            div.card {
                h2 { "Treasury addresses" }
                @if addresses.ok() {
                    @let list = addresses.body.as_array().cloned().unwrap_or_default();
                    @if list.is_empty() { p.muted { "None yet." } }
                    @for address in &list {
                        form method="post" action={ "/assets/" (uuid) "/treasury-addresses/delete" } {
                            (csrf(&signed.session))
                            input type="hidden" name="address" value=(text(address));
                            span.mono { (text(address)) } " "
                            button.small type="submit" { "Remove" }
                        }
                    }
                    form method="post" action={ "/assets/" (uuid) "/treasury-addresses/add" } {
                        (csrf(&signed.session))
                        div.field {
                            label for="f-treasury" { "Add an address" }
                            input id="f-treasury" name="address" type="text";
                        }
                        button type="submit" { "Add" }
                    }
                } @else { (unavailable(&addresses)) }
            }
        }
    };
    (markup, vec![memo, addresses, decisions])
}

/// `POST /assets/{uuid}/memo`: `POST /api/assets/{uuid}/memo/set` with the memo.
async fn set_memo(signed: Signed, Path(uuid): Path<String>, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let memo = form.0.get("memo").cloned().unwrap_or_default();
    let path = format!("/assets/{uuid}/memo/set");
    let answer = signed
        .api
        .call(Method::POST, &path, Some(Value::from(memo)))
        .await;
    signed.back(&answer, &format!("/assets/{uuid}"), "Saved the memo.")
}

/// `POST /assets/{uuid}/treasury-addresses/{add|delete}`: the API's `POST …/add` or
/// `DELETE …/delete` with the one address.
async fn treasury(
    signed: Signed,
    Path((uuid, action)): Path<(String, String)>,
    form: Form,
) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let (method, done) = match action.as_str() {
        "add" => (Method::POST, "Added the treasury address."),
        "delete" => (Method::DELETE, "Removed the treasury address."),
        _ => return axum::response::IntoResponse::into_response(crate::error::ApiError::NotFound),
    };
    let path = format!("/assets/{uuid}/treasury-addresses/{action}");
    let body = Value::from(vec![form.text("address").to_string()]);
    let answer = signed.api.call(method, &path, Some(body)).await;
    signed.back(&answer, &format!("/assets/{uuid}"), done)
}
